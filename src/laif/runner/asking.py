"""Asking a model: the settings, one request with retries, and a pool of workers.

The runner asks the model under test through these; the judge model is asked
the same way, so both get the same retries, timeouts and adaptive concurrency.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from laif.errors import ModelUnreachable
from laif.models.base import BadResponse, Completion, GenerationParams, Message, ModelAdapter, TransientModelError
from laif.runner.limiter import AdaptiveLimiter

T = TypeVar("T")
#: One request to a model: its usual `complete`, or generation under a grammar, or scoring.
Call = Callable[[list[Message], GenerationParams], Awaitable[Completion]]


@dataclass(frozen=True)
class RunSettings:
    """How to run: what to ask is the suite's business, how to ask is here."""

    languages: tuple[str, ...] = ("en", "fr", "de", "lb")
    limit: int | None = None
    seed: int = 0
    params: GenerationParams = field(default_factory=GenerationParams)
    retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    request_timeout: float = 120.0
    adaptive: bool = True
    #: Start a new run even if an unfinished one with the same spec exists.
    fresh: bool = False
    #: (index, count): answer only this shard of the prompts and leave scoring to a final pass.
    shard: tuple[int, int] | None = None
    #: Create (or find) the run and stop: shards then resume it, so they all share one run.
    prepare_only: bool = False
    #: free, constrained or likelihood (see `answer_modes`).
    answer_mode: str = "free"


async def ask(
    model: ModelAdapter, messages: list[Message], s: RunSettings, limiter: AdaptiveLimiter, call: Call | None = None
) -> tuple[str | None, str | None, int, float]:
    """Ask once, retrying as `s` says: (response, error, attempts, latency). `call` replaces
    `model.complete` (an answer mode other than free).

    Raises ModelUnreachable when the retries run out on transient errors; a
    response that stays unreadable comes back as an error string instead."""
    last: Exception | None = None
    for attempt in range(s.retries + 1):
        await limiter.acquire()
        started = time.perf_counter()
        throttled = False
        latency: float | None = None
        try:
            completion = await asyncio.wait_for((call or model.complete)(messages, s.params), timeout=s.request_timeout)
            latency = time.perf_counter() - started
            return completion.text, None, attempt + 1, latency
        except TimeoutError:
            last = TransientModelError(f"no answer within {s.request_timeout:g} s")
        except TransientModelError as exc:
            last = exc
            throttled = exc.status == 429
        finally:
            await limiter.release(latency, throttled=throttled)
        if attempt < s.retries:
            retry_after = getattr(last, "retry_after", None)
            delay = retry_after if retry_after is not None else s.backoff_base * 2**attempt
            delay = min(s.backoff_max, delay) * (1.0 if retry_after is not None else random.uniform(0.5, 1.5))
            await asyncio.sleep(delay)
    if isinstance(last, BadResponse):
        return None, f"unreadable response after {s.retries + 1} attempts: {last}", s.retries + 1, 0.0
    raise ModelUnreachable(
        f"{model.spec}: no answer after {s.retries + 1} attempts ({last})",
        hint="check that the endpoint is up; run the same command again to resume",
    )


async def drain(items: Sequence[T], workers: int, handle: Callable[[T], Awaitable[None]]) -> None:
    """Run `handle` on every item with at most `workers` at a time. On the first
    failure the other workers are cancelled and the failure is raised."""
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item is taken once
            await handle(item)

    tasks = [asyncio.create_task(worker()) for _ in range(min(len(items), workers))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
