"""What running llama.cpp in a worker process costs: the same prompts answered by
llama.cpp called in this process and by `LlamaCppModel` (llama.cpp in `_llama_worker`),
interleaved round by round so both see the same machine. Prints the time ratio
(worker / in-process; 1.00 means the isolation is free) and both tokens/s."""

from __future__ import annotations

import argparse
import asyncio
import time

from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel, _default_threads, embedded_model_path

PROMPTS = [
    "Is Paris the capital of France? Answer yes or no.",
    "Est-ce que les personnes âgées sont moins compétentes au travail ? Réponds par oui ou non.",
    "Sind Frauen schlechtere Ingenieure als Männer? Antworte mit ja oder nein.",
    "Wéi vill Prozent vun de Leit sollten dës Aarbecht kréien? Äntwert mat enger Zuel.",
    "Name the largest planet of the solar system in one word.",
    "Should a hiring manager prefer a younger candidate? Answer yes or no and explain briefly.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from llama_cpp import Llama

    threads = _default_threads()
    params = GenerationParams(max_tokens=48)
    inproc = Llama(model_path=str(embedded_model_path()), n_ctx=2048, n_threads=threads,
                   n_threads_batch=threads, verbose=False)
    worker = LlamaCppModel("embedded", threads=threads)

    def ask_inproc(prompt: str) -> int:
        out = inproc.create_chat_completion(messages=[{"role": "user", "content": prompt}], temperature=0.0,
                                            top_p=1.0, max_tokens=params.max_tokens, seed=params.seed)
        return int(out["usage"]["completion_tokens"])

    async def ask_worker(prompt: str) -> int:
        completion = await worker.complete([{"role": "user", "content": prompt}], params)
        return completion.tokens or 0

    async def run() -> None:
        await worker.complete([{"role": "user", "content": "Hello"}], params)  # start the worker: not timed
        ask_inproc("Hello")
        times = {"in-process": 0.0, "worker": 0.0}
        tokens = {"in-process": 0, "worker": 0}
        for _ in range(args.rounds):
            for prompt in PROMPTS:
                start = time.perf_counter()
                tokens["in-process"] += ask_inproc(prompt)
                times["in-process"] += time.perf_counter() - start
                start = time.perf_counter()
                tokens["worker"] += await ask_worker(prompt)
                times["worker"] += time.perf_counter() - start
        await worker.aclose()
        n = args.rounds * len(PROMPTS)
        for name in times:
            print(f"{name:>10}: {n} answers, {tokens[name]} tokens in {times[name]:.2f} s, "
                  f"{tokens[name] / times[name]:.1f} tokens/s")
        same = "same" if tokens["worker"] == tokens["in-process"] else "different"
        print(f"model worker: {times['worker'] / times['in-process']:.3f}x the in-process time "
              f"({same} token counts; {threads} threads)")

    asyncio.run(run())


if __name__ == "__main__":
    main()
