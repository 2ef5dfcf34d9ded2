"""The factory's service catalogue: stages and the services of each, with their partners
(`data/services.yaml`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from laif._yaml import load_file

SERVICES_FILE = Path(__file__).with_name("data") / "services.yaml"


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    summary: str


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    stage: str
    title: str
    partner: str
    summary: str
    #: The laif service that delivers it, where there is one.
    laif: str | None = None


class ServiceCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[Stage]
    services: list[Service]

    @model_validator(mode="after")
    def _known_stages(self) -> ServiceCatalogue:
        stages = {s.id for s in self.stages}
        for service in self.services:
            if service.stage not in stages:
                raise ValueError(f"service {service.id!r} names an unknown stage {service.stage!r}")
        return self

    def by_stage(self) -> list[tuple[Stage, list[Service]]]:
        return [(stage, [s for s in self.services if s.stage == stage.id]) for stage in self.stages]

    def get(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


@cache
def service_catalogue() -> ServiceCatalogue:
    return load_file(ServiceCatalogue, SERVICES_FILE, "the service catalogue")
