"""Suites that misbehave on purpose: laif must stop, limit or refuse each of them."""

from __future__ import annotations

import os
import time
from typing import Any

from laif.core.oracles import ExpectedOracle
from laif.core.suite import Case, PromptSpec


class _Base:
    name = "hostile"
    version = "1"
    categories = ["Misbehaviour"]
    languages = ["en"]

    def library_hash(self) -> str:
        return "hostile"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "categories": self.categories,
                "languages": self.languages, "counts": {}}

    def cases(self, languages: list[str], limit: int | None, seed: int) -> list[Case]:
        prompt = PromptSpec(messages=(("user", "Is the sky above Luxembourg blue on a clear day? Answer yes or no."),))
        oracle = ExpectedOracle(kind="expected", answers=["yes"])
        return [Case("h1", self.name, "Misbehaviour", "en", "t1", oracle, (prompt,))]


class Sleepy(_Base):
    name = "hostile-sleepy"

    def cases(self, languages: list[str], limit: int | None, seed: int) -> list[Case]:
        time.sleep(3600)
        return []


class Hungry(_Base):
    name = "hostile-hungry"

    def cases(self, languages: list[str], limit: int | None, seed: int) -> list[Case]:
        hoard = [bytearray(256 * 1024 * 1024) for _ in range(64)]  # 16 GiB, far past any limit
        return [] if hoard else []


class Nosy(_Base):
    name = "hostile-nosy"

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"seen_env": sorted(os.environ)}


class Sneaky(_Base):
    name = "hostile-sneaky"

    def library_hash(self) -> Any:
        class Evil:
            def __reduce__(self) -> Any:
                return (os.system, ("touch /tmp/laif-sneaky-was-here",))

        return Evil()
