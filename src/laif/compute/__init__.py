"""Executors: where a sandbox spec's assessment runs (here, or on Slurm)."""

from __future__ import annotations

from laif.configurator.spec import SandboxSpec
from laif.models import EndpointOptions, GenerationParams
from laif.runner.asking import RunSettings
from laif.secrets import ENDPOINT_KEY_VAR


def run_settings(spec: SandboxSpec, shard: tuple[int, int] | None = None, prepare_only: bool = False) -> RunSettings:
    """The same settings on every executor, so a spec gives the same run wherever it runs."""
    return RunSettings(
        languages=tuple(spec.languages), limit=spec.limit, seed=spec.seed,
        params=GenerationParams(temperature=0.0, max_tokens=spec.max_tokens, seed=spec.seed),
        shard=shard, prepare_only=prepare_only,
    )


def endpoint(spec: SandboxSpec) -> EndpointOptions:
    """A stored credential reaches the adapter through one variable, set only while the run lasts
    (laif.secrets.credential); Slurm hands it to the shards' environment for their lifetime."""
    if spec.system.api_key_secret:
        return EndpointOptions(api_key_env=ENDPOINT_KEY_VAR)
    return EndpointOptions(api_key_env=spec.system.api_key_env)
