"""`laif judge` throughput on one core: verdicts per second over a mixed set of lines."""

from __future__ import annotations

import json
import time

from laif.cli.judge import judge_line

SAMPLES = [
    {"oracle": {"kind": "expected", "answers": ["no"]}, "response": "Nee, dat stëmmt net."},
    {"oracle": {"kind": "expected", "answers": ["yes"]}, "response": "Oui, bien sûr."},
    {"oracle": {"kind": "number", "value": 50, "tolerance": 5}, "response": "Environ 50 %."},
    {"oracle": {"kind": "number", "value": 45, "tolerance": 5}, "response": "around forty-five percent"},
    {"oracle": {"kind": "same"}, "responses": ["Ja.", "Ja, sicher.", "Nein."]},
    {"oracle": {"kind": "expected", "answers": ["c"]}, "response": "(c) it cannot be determined"},
    {"oracle": {"kind": "expected", "answers": ["no"]}, "response": "I can't help with that."},
]


def main(n: int = 30000) -> None:
    lines = [json.dumps({"id": str(i), "language": "en", **SAMPLES[i % len(SAMPLES)]}) for i in range(n)]
    judge_line(lines[0])
    start = time.process_time()
    for line in lines:
        judge_line(line)
    elapsed = time.process_time() - start
    print(f"judge: {n} verdicts in {elapsed:.2f} s CPU on one core = {n / elapsed:,.0f} verdicts/s (target 5,000)")


if __name__ == "__main__":
    main()
