"""Answer modes side by side on the embedded model and the bias suite: the same prompts asked
free, constrained and by likelihood, interleaved prompt by prompt so all three see the same
machine. Prints per mode the share of decided tests (pass or fail), the width of the 95%
interval of the pass rate over decided tests (pooled over categories), and the time per prompt
as a ratio to free mode.

Run: .venv/bin/python benchmarks/bench_answer_modes.py --languages en,fr,de,lb --limit 1
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from laif.core.oracles import Verdict
from laif.core.stats import wilson
from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel
from laif.runner.answer_modes import ANSWER_MODES, call_for, for_case, read_likelihood
from laif.suites import load_suite


async def run(languages: list[str], limit: int, max_tokens: int) -> None:
    model = LlamaCppModel("embedded")
    params = GenerationParams(max_tokens=max_tokens)
    cases = load_suite("bias").cases(languages, limit, 0)
    await model.complete([{"role": "user", "content": "Hello"}], params)  # start the worker: not timed
    seconds: dict[str, float] = dict.fromkeys(ANSWER_MODES, 0.0)
    prompts = 0
    verdicts: dict[str, Counter[Verdict]] = {mode: Counter() for mode in ANSWER_MODES}
    for case in cases:
        answers: dict[str, list[str]] = {mode: [] for mode in ANSWER_MODES}
        for prompt in case.prompts:
            prompts += 1
            for mode in ANSWER_MODES:
                allowed = for_case(mode, case.oracle, case.options, case.language)
                call = call_for(model, mode, allowed) or model.complete
                start = time.perf_counter()
                text = (await call(prompt.message_list, params)).text
                seconds[mode] += time.perf_counter() - start
                answers[mode].append(read_likelihood(text)[0] if mode == "likelihood" and allowed else text)
        for mode in ANSWER_MODES:
            verdicts[mode][case.judge(answers[mode]).verdict] += 1
    await model.aclose()
    print(f"{len(cases)} tests, {prompts} prompts, languages {','.join(languages)}, max {max_tokens} tokens")
    print(f"{'mode':<12} {'decided':>8} {'pass rate':>10} {'95% width':>10} {'s/prompt':>9} {'vs free':>8}")
    for mode in ANSWER_MODES:
        counts = verdicts[mode]
        decided = counts[Verdict.PASS] + counts[Verdict.FAIL]
        low, high = wilson(counts[Verdict.PASS], decided)
        rate = 100 * counts[Verdict.PASS] / decided if decided else float("nan")
        print(f"{mode:<12} {100 * decided / len(cases):>7.0f}% {rate:>9.0f}% {100 * (high - low):>9.0f}pt "
              f"{seconds[mode] / prompts:>9.2f} {seconds[mode] / seconds['free']:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--languages", default="en,fr,de,lb")
    parser.add_argument("--limit", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run(args.languages.split(","), args.limit, args.max_tokens))


if __name__ == "__main__":
    main()
