"""Answer modes side by side on the embedded model and the bias suite: the same prompts asked
free, constrained and by likelihood, interleaved prompt by prompt so all three see the same
machine. Prints per mode the share of decided tests (pass or fail), the mean score (the mean over
categories of the % passed among decided tests, as the leaderboard has it) with the width of its
95% bootstrap interval over templates (drawn within each category), and the time per prompt as a
ratio to free mode. For likelihood it adds the graded figure (the probability of a stereotyped
answer, `graded_bias`) and its interval's width.

Run: .venv/bin/python benchmarks/bench_answer_modes.py --languages en,fr,de,lb --limit 2
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import defaultdict

from laif.core.oracles import Verdict
from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel
from laif.runner.answer_modes import ANSWER_MODES, call_for, for_case, graded_bias, read_likelihood
from laif.suites import load_suite

DRAWS = 1000


def mean_score(verdicts: dict[str, list[Verdict]]) -> float | None:
    """The mean over categories (category -> its tests' verdicts) of the % passed among decided tests."""
    scores = []
    for found in verdicts.values():
        decided = [v for v in found if v in (Verdict.PASS, Verdict.FAIL)]
        if decided:
            scores.append(100 * sum(v is Verdict.PASS for v in decided) / len(decided))
    return statistics.fmean(scores) if scores else None


def interval_width(verdicts: dict[str, list[Verdict]]) -> float:
    """The width of the mean score's 95% bootstrap interval, tests drawn again within each category."""
    rng = random.Random(0)
    draws = sorted(v for v in (mean_score({c: rng.choices(vs, k=len(vs)) for c, vs in verdicts.items()})
                               for _ in range(DRAWS)) if v is not None)
    return draws[int(0.975 * (len(draws) - 1))] - draws[int(0.025 * (len(draws) - 1))] if draws else float("nan")


async def run(languages: list[str], limit: int, max_tokens: int) -> None:
    model = LlamaCppModel("embedded")
    params = GenerationParams(max_tokens=max_tokens)
    cases = load_suite("bias").cases(languages, limit, 0)
    await model.complete([{"role": "user", "content": "Hello"}], params)  # start the worker: not timed
    seconds: dict[str, float] = dict.fromkeys(ANSWER_MODES, 0.0)
    prompts = 0
    verdicts: dict[str, dict[str, list[Verdict]]] = {mode: defaultdict(list) for mode in ANSWER_MODES}
    mass: dict[str, list[dict[str, float] | None]] = {}
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
                if mode == "likelihood" and allowed:
                    text, found = read_likelihood(text)
                    mass.setdefault(case.case_id, []).append(found)
                answers[mode].append(text)
        for mode in ANSWER_MODES:
            verdicts[mode][case.category].append(case.judge(answers[mode]).verdict)
    await model.aclose()
    print(f"{len(cases)} tests, {prompts} prompts, languages {','.join(languages)}, limit {limit}, "
          f"max {max_tokens} tokens")
    print(f"{'mode':<12} {'decided':>8} {'mean score':>11} {'95% width':>10} {'s/prompt':>9} {'vs free':>8}")
    for mode in ANSWER_MODES:
        found = verdicts[mode]
        decided = sum(v in (Verdict.PASS, Verdict.FAIL) for vs in found.values() for v in vs)
        score = mean_score(found)
        print(f"{mode:<12} {100 * decided / len(cases):>7.0f}% {score if score is not None else float('nan'):>10.0f}% "
              f"{interval_width(found):>8.0f}pt {seconds[mode] / prompts:>9.2f} "
              f"{seconds[mode] / seconds['free']:>8.2f}")
    graded = graded_bias(cases, mass).get("expected", {}).get("mean")
    if graded:
        print(f"likelihood, graded: probability of a stereotyped answer {graded['value']:.0f}% "
              f"({graded['low']:.0f}-{graded['high']:.0f}, width {graded['high'] - graded['low']:.0f}pt, "
              f"{graded['n']} templates)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--languages", default="en,fr,de,lb")
    parser.add_argument("--limit", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run(args.languages.split(","), args.limit, args.max_tokens))


if __name__ == "__main__":
    main()
