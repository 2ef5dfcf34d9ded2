"""A finished assessment re-run from the response cache, against the same assessment run
first: wall-time ratio measured side by side (target: at least 50x)."""

from __future__ import annotations

import asyncio
import tempfile
import time

from laif.models import open_model
from laif.runner import Runner, RunSettings
from laif.store import Store
from laif.suites.bias import BiasSuite


def timed(store: Store, fresh: bool) -> tuple[float, int]:
    settings = RunSettings(languages=("en", "fr"), limit=1, fresh=fresh)
    runner = Runner(store, open_model("embedded"), BiasSuite(), settings)
    start = time.perf_counter()
    outcome = asyncio.run(runner.run())
    return time.perf_counter() - start, outcome.asked


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        first, asked_first = timed(store, fresh=True)
        again, asked_again = timed(store, fresh=True)
    print(f"cache: first run {first:.2f} s ({asked_first} prompts asked), re-run {again:.3f} s "
          f"({asked_again} asked): {first / again:.0f}x faster (target 50x)")


if __name__ == "__main__":
    main()
