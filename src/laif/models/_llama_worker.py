"""The process that holds a GGUF model for `LlamaCppModel`: `python -m laif.models._llama_worker`.

llama.cpp is native code. A build for the wrong CPU dies with SIGILL or SIGSEGV, and a
signal cannot be caught in the process it kills. In this process such a crash ends the
worker and `LlamaCppModel` reports it, while the run that asked keeps every answer.

Protocol: one JSON object per line. The worker reads its settings from argv, loads the
model and says `{"ready": true}` (or `{"error": ...}`), then answers each request line
`{"messages": [...], "params": {...}}` with `{"text": ..., "tokens": ...}` or
`{"error": ...}`, until its input closes. Only the standard library and llama_cpp are
imported here, so the worker starts fast and a broken laif module cannot break it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any


def _protocol_stream() -> IO[str]:
    """The real stdout, kept for replies; fd 1 then points at stderr, so whatever the
    native library prints cannot corrupt the protocol."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return replies


def _say(stream: IO[str], payload: dict[str, Any]) -> None:
    stream.write(json.dumps(payload, ensure_ascii=False) + "\n")
    stream.flush()


def main(argv: list[str]) -> int:
    path, n_ctx, threads = argv[0], int(argv[1]), int(argv[2])
    replies = _protocol_stream()
    try:
        from llama_cpp import Llama

        llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
    except Exception as exc:  # noqa: BLE001 - every load failure is the parent's to report
        _say(replies, {"error": f"{type(exc).__name__}: {exc}", "stage": "load"})
        return 1
    _say(replies, {"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        params = request["params"]
        try:
            out: Any = llm.create_chat_completion(
                messages=request["messages"],
                temperature=params["temperature"],
                top_p=params["top_p"],
                max_tokens=params["max_tokens"],
                seed=params["seed"],
            )
        except Exception as exc:  # noqa: BLE001 - a failed request is an answer the parent turns into an error
            _say(replies, {"error": f"{type(exc).__name__}: {exc}"})
            continue
        usage = out.get("usage") or {}
        _say(replies, {"text": out["choices"][0]["message"].get("content") or "",
                       "tokens": usage.get("completion_tokens")})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
