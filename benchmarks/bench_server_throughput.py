"""Harness throughput against a llama.cpp server on loopback, divided by the throughput of a
bare load generator sending the same requests at the same concurrency (target: at least 0.95).
Both run in this one process, one after the other, against the same server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from laif.models import EndpointOptions, GenerationParams, open_model
from laif.models.llamacpp import embedded_model_path
from laif.runner import Runner, RunSettings
from laif.store import Store
from laif.suites.bias import BiasSuite

CONCURRENCY = 2
PARAMS = GenerationParams(max_tokens=32)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bare(base: str, prompts: list[list[dict[str, str]]]) -> float:
    sem = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(messages: list[dict[str, str]]) -> None:
            async with sem:
                r = await client.post(f"{base}/chat/completions", json={
                    "model": "smollm2", "messages": messages, "temperature": 0.0, "top_p": 1.0,
                    "max_tokens": PARAMS.max_tokens, "seed": PARAMS.seed})
                r.json()["choices"][0]["message"]["content"]

        start = time.perf_counter()
        await asyncio.gather(*(one(m) for m in prompts))
        return time.perf_counter() - start


def main() -> None:
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()),
                               "--host", "127.0.0.1", "--port", str(port), "--model_alias", "smollm2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        settings = RunSettings(languages=("en",), limit=1, params=PARAMS, adaptive=False, fresh=True)
        suite = BiasSuite()
        cases = suite.cases(list(settings.languages), settings.limit, settings.seed)
        prompts = list({p.prompt_id: p.message_list for c in cases for p in c.prompts}.values())
        asyncio.run(bare(base, prompts[:4]))  # warm-up
        bare_s = asyncio.run(bare(base, prompts))
        with tempfile.TemporaryDirectory() as tmp:
            model = open_model(f"openai:{base}#smollm2", EndpointOptions(max_concurrency=CONCURRENCY))
            start = time.perf_counter()
            outcome = asyncio.run(Runner(Store(f"sqlite:///{tmp}/b.db"), model, suite, settings).run())
            harness_s = time.perf_counter() - start
        n = len(prompts)
        print(f"server throughput: {n} requests at concurrency {CONCURRENCY}: bare {n / bare_s:.2f} req/s, "
              f"harness {outcome.asked / harness_s:.2f} req/s, ratio {(outcome.asked / harness_s) / (n / bare_s):.3f} "
              f"(target 0.95)")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
