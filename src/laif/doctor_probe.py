"""The child process of `laif doctor`: load llama.cpp, then the embedded model, and generate once.

It runs apart from the doctor because a llama.cpp built for another CPU dies on import or on
the first matrix product (SIGILL, SIGSEGV), and the doctor must live to report that. It prints
one line per stage, each `laif-probe <json>`, flushed at once, so the parent knows how far the
child got even when the child is killed::

    python -m laif.doctor_probe /path/to/model.gguf
    laif-probe {"stage": "import", "version": "0.3.36", "system_info": "CPU : SSE3 = 1 | ..."}
    laif-probe {"stage": "generate", "tokens": 12, "load_s": 0.4, "generate_s": 0.3, "reply": "Hello!"}

Only the standard library and llama_cpp are imported here, so a broken laif module cannot be
mistaken for a broken llama.cpp.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

MARKER = "laif-probe "
#: Names a signal (SIGSEGV, SIGILL, ...) that the child sends itself after importing llama.cpp:
#: the tests use it to prove that a crash is reported, in addition to the real generation test.
FAULT_ENV = "LAIF_DOCTOR_PROBE_FAULT"
PROMPT = "Say hello in one short sentence."


def _say(stage: str, **fields: Any) -> None:
    print(MARKER + json.dumps({"stage": stage, **fields}), flush=True)


def main(model_path: str) -> None:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    _say("import", version=llama_cpp.__version__,
         system_info=info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info))
    fault = os.environ.get(FAULT_ENV, "")
    if fault:
        os.kill(os.getpid(), signal.Signals[fault])
    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=model_path, n_ctx=512, verbose=False)
    loaded = time.perf_counter()
    reply: Any = llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}], max_tokens=16, temperature=0.0, seed=0,
    )
    done = time.perf_counter()
    _say("generate", tokens=int(reply["usage"]["completion_tokens"]), load_s=round(loaded - started, 3),
         generate_s=round(done - loaded, 3), reply=str(reply["choices"][0]["message"]["content"] or ""))


if __name__ == "__main__":
    main(sys.argv[1])
