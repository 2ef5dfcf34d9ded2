"""Tokens/s of the portable llama.cpp build (the venv's) against a native (-march=native)
build of the same llama-cpp-python, side by side in one run: each round asks both the same
prompts, each build in a child process of its own, alternating. `make bench-native` builds
the native wheel into a folder of its own and runs this with `--native FOLDER`.

On a CPU with AVX-512 the native build also compiles the AVX-512 (and AMX) paths; the
portable build stops at AVX2/FMA/F16C. The ratio is what the portability costs here."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from laif.models.llamacpp import _default_threads, embedded_model_path

CHILD = r"""
import json, sys, time
import llama_cpp
from llama_cpp import Llama
path, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
info = llama_cpp.llama_print_system_info().decode()
llm = Llama(model_path=path, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
prompts = ["Write two sentences about the river Alzette.", "List five European capitals.",
           "Explain in three sentences what a confidence interval is."]
llm.create_chat_completion(messages=[{"role": "user", "content": "Hello"}], max_tokens=8)
tokens = 0
start = time.perf_counter()
for _ in range(rounds):
    for p in prompts:
        out = llm.create_chat_completion(messages=[{"role": "user", "content": p}], temperature=0.0,
                                         max_tokens=96, seed=0)
        tokens += out["usage"]["completion_tokens"]
print(json.dumps({"tokens": tokens, "seconds": time.perf_counter() - start, "lib": llama_cpp.__file__,
                  "features": info}))
"""


def measure(site: Path | None, threads: int, rounds: int) -> dict[str, object]:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", CHILD, str(embedded_model_path()), str(threads), str(rounds)],
                         capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        return {"failed": f"exit {out.returncode}: {out.stderr.strip()[-300:]}"}
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def features(info: str) -> str:
    on = [part.split("=")[0].strip() for part in info.split("|") if part.strip().endswith("= 1")]
    return " ".join(on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--native", type=Path, required=True, help="folder holding the native llama_cpp package")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per build")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    print(f"CPU: {cpu}; avx512f: {'avx512f' in flags.split()}; amx_tile: {'amx_tile' in flags.split()}")
    threads = _default_threads()
    totals = {"portable": [0, 0.0], "native": [0, 0.0]}
    for _ in range(args.rounds):
        for name, site in (("portable", None), ("native", args.native)):
            result = measure(site, threads, 1)
            if "failed" in result:
                print(f"{name} build failed on this CPU: {result['failed']}")
                return
            totals[name][0] += int(str(result["tokens"]))
            totals[name][1] += float(str(result["seconds"]))
            if _ == 0:
                print(f"{name:>8}: {result['lib']}\n          compiled: {features(str(result['features']))}")
    rate = {name: tokens / seconds for name, (tokens, seconds) in totals.items()}
    for name, value in rate.items():
        print(f"{name:>8}: {totals[name][0]} tokens in {totals[name][1]:.2f} s, {value:.1f} tokens/s")
    print(f"portable / native tokens/s: {rate['portable'] / rate['native']:.3f} ({threads} threads, "
          f"{args.rounds} alternating rounds)")


if __name__ == "__main__":
    main()
