"""The embedded model runs in a worker process: a native crash there ends the run with
exit 3 and advice, keeps every answer, and the same command then resumes and completes."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel, ModelCrashed

from .conftest import LAIF

ASSESS = ["assess", "--suite", "bias", "--languages", "en", "--limit", "1", "--max-tokens", "24", "--quiet", "--json"]


def _answers(db: Path) -> dict[str, str]:
    """Every stored answer of the (only) run: prompt id -> response."""
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute("SELECT prompt_id, response FROM exchanges WHERE response IS NOT NULL").fetchall()
        except sqlite3.OperationalError:  # the tables are not made yet
            return {}
    return {pid: response for pid, response in rows}


def _worker_of(pid: int) -> int | None:
    """The llama.cpp worker among the children of process `pid`."""
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # the worker is started from a thread
        try:
            children += (task / "children").read_text().split()
        except OSError:
            continue
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"_llama_worker.py" in cmdline:
            return int(child)
    return None


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "LAIF_HOME": str(home)}
    env.pop("LAIF_DB_URL", None)
    return env


def _assess_then(tmp_path: Path, answers: int, strike: Callable[[subprocess.Popen[str]], None]) -> tuple[int, str]:
    """Start `laif assess`, wait until `answers` answers are stored, `strike` it; (exit code, stderr)."""
    proc = subprocess.Popen([*LAIF, *ASSESS], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while len(_answers(tmp_path / "laif.db")) < answers and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        strike(proc)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stderr


def _segfault_the_worker(proc: subprocess.Popen[str]) -> None:
    worker = _worker_of(proc.pid)
    assert worker is not None, "no llama.cpp worker found under laif assess"
    os.kill(worker, signal.SIGSEGV)  # what a CPU-incompatible llama.cpp build does to itself


@pytest.mark.slow
def test_a_segfault_in_the_worker_ends_the_run_with_exit_3_and_loses_no_answer(tmp_path: Path) -> None:
    db = tmp_path / "laif.db"
    code, stderr = _assess_then(tmp_path, 3, _segfault_the_worker)
    assert code == 3, stderr
    assert "SIGSEGV" in stderr
    assert "laif doctor" in stderr
    assert "kept" in stderr
    assert "Traceback" not in stderr
    kept = _answers(db)
    assert len(kept) >= 3

    rerun = subprocess.run([*LAIF, *ASSESS], env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(kept)} already answered" in rerun.stderr
    final = _answers(db)
    assert all(final[pid] == answer for pid, answer in kept.items())  # nothing lost or changed
    with sqlite3.connect(db) as conn:
        rows, distinct, total = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT e.prompt_id), r.total_prompts FROM exchanges e JOIN runs r ON r.id = e.run_id"
        ).fetchone()
    assert rows == distinct == total  # every prompt answered exactly once


def _ask(model: LlamaCppModel) -> str:
    async def go() -> str:
        completion = await model.complete([{"role": "user", "content": "Say yes."}], GenerationParams(max_tokens=4))
        return completion.text

    return asyncio.run(go())


@pytest.mark.slow
def test_a_dead_worker_is_reported_with_its_signal() -> None:
    model = LlamaCppModel("embedded", threads=1)
    try:
        assert _ask(model)  # the worker starts and answers
        pid = model.worker_pid
        assert pid is not None and pid != os.getpid()
        os.kill(pid, signal.SIGILL)  # an instruction this CPU lacks
        time.sleep(0.5)
        with pytest.raises(ModelCrashed, match="SIGILL") as caught:
            _ask(model)
        assert caught.value.exit_code == 3
        assert caught.value.hint is not None and "laif doctor" in caught.value.hint
    finally:
        asyncio.run(model.aclose())
    assert model.worker_pid is None


def test_a_file_that_is_not_gguf_is_bad_input(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model at all" * 100)
    model = LlamaCppModel(str(bogus), threads=1)
    with pytest.raises(BadInput, match="could not load"):
        _ask(model)
    asyncio.run(model.aclose())


@pytest.mark.slow
def test_ctrl_c_exits_130_and_keeps_the_answers(tmp_path: Path) -> None:
    code, stderr = _assess_then(tmp_path, 2, lambda proc: proc.send_signal(signal.SIGINT))
    assert code == 130, stderr
    assert "interrupted" in stderr and "kept" in stderr
    assert "Traceback" not in stderr
    assert len(_answers(tmp_path / "laif.db")) >= 2
