"""The process a plugin suite runs in (see isolation.py): one call, pickles in and out."""

from __future__ import annotations

import importlib
import pickle
import sys
import traceback
from typing import Any


def _load(entry: str) -> Any:
    module, _, attr = entry.partition(":")
    target: Any = importlib.import_module(module)
    for part in attr.split("."):
        target = getattr(target, part)
    return target()


def main() -> None:
    entry, method, args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by laif, the parent
    result_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever the plugin prints must not mix with the result
    try:
        suite = _load(entry)
        if method == "meta":
            result: Any = {
                "name": suite.name, "version": suite.version, "categories": list(suite.categories),
                "languages": list(suite.languages), "score_over": getattr(suite, "score_over", None),
                "has_metrics": callable(getattr(suite, "metrics", None)),
                "title": getattr(suite, "title", None), "declared_metrics": getattr(suite, "declared_metrics", None),
            }
        else:
            result = getattr(suite, method)(*args)
        payload = pickle.dumps(("ok", result))
    except MemoryError:
        payload = pickle.dumps(("error", "ran out of memory (its memory limit)"))
    except BaseException as exc:  # the plugin's own error, handed back as text
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}{where}"))
    result_out.write(payload)
    result_out.flush()


if __name__ == "__main__":
    main()
