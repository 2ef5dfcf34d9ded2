"""Pseudonymisation throughput on the file path against the bare HMAC loop, side by side.

- bare: `hmac.digest(key, identifier, "sha256")` over identifiers already in memory, the
  simplest correct loop this machine runs;
- file path: `laif ipms pseudonymise`'s code on a CSV of the same identifiers (read, parse,
  canonicalise, pseudonymise, write, hash the output), one core: the C kernel when it was
  built, and the Python path beside it (their outputs are checked to be the same bytes).

Target: at least 1,000,000 identifiers per second per core on the file path. Prints both
rates and their ratio; the ratio is what carries over to another machine.

Run: .venv/bin/python benchmarks/bench_ipms.py [ROWS]
"""

from __future__ import annotations

import hmac
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from laif.ipms.files import _fastpath, pseudonymise_csv
from laif.ipms.pseudonyms import Pseudonymiser, domain_key


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7)
    ids = [f"{rng.randrange(10**12, 10**13)}" for _ in range(rows)]
    key = domain_key(b"benchmark master secret, not a real one", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.csv"
        source.write_text("matricule\n" + "\n".join(ids) + "\n", encoding="utf-8")
        encoded = [i.encode() for i in ids]
        figures = []
        for _ in range(3):  # alternate, so drift on a shared machine hits both alike
            started = time.perf_counter()
            for identifier in encoded:
                hmac.digest(key, identifier, "sha256")
            bare = time.perf_counter() - started
            timings = [bare]
            for fast in (True, False):
                started = time.perf_counter()
                outcome = pseudonymise_csv(source, Path(tmp) / f"out-{fast}.csv", {"matricule": "id"}, "bench",
                                           Pseudonymiser(key), fast=fast)
                timings.append(time.perf_counter() - started)
                assert outcome.values == rows
            assert (Path(tmp) / "out-True.csv").read_bytes() == (Path(tmp) / "out-False.csv").read_bytes()
            figures.append(timings)
    bare, path, python = (min(f[i] for f in figures) for i in range(3))
    result = {
        "identifiers": rows,
        "c_kernel_built": _fastpath is not None,
        "bare_hmac_per_s": round(rows / bare),
        "file_path_per_s": round(rows / path),
        "file_path_over_bare": round(bare / path, 3),
        "python_file_path_per_s": round(rows / python),
        "python_file_path_over_bare": round(bare / python, 3),
        "target_per_s": 1_000_000,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
