"""Concurrency that adapts to the endpoint.

Hosted APIs refuse with 429 when pushed too hard; local servers (llama.cpp,
vLLM, ollama) never refuse, they queue, and latency grows with every request in
flight. The limiter watches latency: when it rises above the best seen, the
extra requests are only waiting in the server's queue, so the limit shrinks
towards what the server actually runs in parallel (a gradient rule:
limit * best/recent + a small queue allowance). A 429 halves the limit.
"""

from __future__ import annotations

import asyncio
import math


class AdaptiveLimiter:
    def __init__(self, max_limit: int, *, adaptive: bool = True, initial: int | None = None) -> None:
        self.max_limit = max(1, max_limit)
        self.adaptive = adaptive
        self.limit = float(min(self.max_limit, initial or self.max_limit))
        self._in_flight = 0
        self._cond = asyncio.Condition()
        self._best: float | None = None
        self._recent: float | None = None

    @property
    def current(self) -> int:
        return max(1, int(self.limit))

    async def acquire(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self._in_flight < self.current)
            self._in_flight += 1

    async def release(self, latency: float | None = None, *, throttled: bool = False) -> None:
        async with self._cond:
            self._in_flight -= 1
            if self.adaptive:
                if throttled:
                    self.limit = max(1.0, self.limit / 2)
                elif latency is not None and latency > 0:
                    self._update(latency)
            self._cond.notify_all()

    def _update(self, latency: float) -> None:
        self._best = latency if self._best is None else min(self._best, latency)
        self._recent = latency if self._recent is None else 0.8 * self._recent + 0.2 * latency
        gradient = max(0.5, min(1.0, self._best / self._recent))
        target = self.limit * gradient + math.sqrt(self.limit)
        self.limit = max(1.0, min(float(self.max_limit), 0.8 * self.limit + 0.2 * target))
