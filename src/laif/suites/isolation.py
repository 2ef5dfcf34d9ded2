"""Suites from plugins run in a process of their own, with a time limit, a memory limit and
only the environment they need.

A plugin's code (its factory, `cases`, `describe`, `library_hash`, `metrics`) runs in a
fresh Python (`laif.suites._worker`) whose environment holds only PATH, locale, Python's
import settings and the variables named in `LAIF_PLUGIN_ENV`: never the platform's secrets
or the rest of the caller's environment. Each call gets `LAIF_PLUGIN_SECONDS` of wall time
(default 120) and `LAIF_PLUGIN_MEMORY_MB` of address space (default 4096); a call past
either is stopped and named. Judging stays in laif: cases carry oracles, not code.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import resource
import subprocess
import sys
import tempfile
from typing import Any

from laif.core.suite import Case, CaseRecord, Metric
from laif.errors import LaifError

BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHASHSEED")


#: What a plugin's answer may be made of: laif's case and oracle classes and plain data. A
#: pickle naming anything else (a function, os.system, ...) is refused, so the plugin's
#: process cannot run code in laif's by way of its result.
_ALLOWED = {"laif.core.suite": {"Case", "PromptSpec", "CaseRecord", "Metric"},
            "builtins": {"set", "frozenset", "complex", "bytearray"},
            "collections": {"OrderedDict"}, "datetime": {"date", "datetime", "timedelta", "timezone"}}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED.get(module, set())
        if module == "laif.core.oracles" and name.endswith("Oracle"):
            allowed = {name}
        if name not in allowed:
            raise pickle.UnpicklingError(f"a plugin's result may not contain {module}.{name}")
        found = super().find_class(module, name)
        if not isinstance(found, type):
            raise pickle.UnpicklingError(f"{module}.{name} is not a data class")
        return found


def safe_loads(data: bytes) -> Any:
    import io

    return _SafeUnpickler(io.BytesIO(data)).load()


class PluginFailed(LaifError):
    """A plugin suite failed, ran past its limits or could not be loaded."""

    exit_code = 2


def _limits() -> tuple[float, int]:
    seconds = float(os.environ.get("LAIF_PLUGIN_SECONDS") or 120)
    memory_mb = int(os.environ.get("LAIF_PLUGIN_MEMORY_MB") or 4096)
    return seconds, memory_mb


def plugin_env() -> dict[str, str]:
    """The whole environment a plugin sees."""
    wanted = list(BASE_ENV) + [v.strip() for v in os.environ.get("LAIF_PLUGIN_ENV", "").split(",") if v.strip()]
    env = {k: os.environ[k] for k in wanted if k in os.environ}
    env["HOME"] = env["TMPDIR"] = tempfile.gettempdir()
    return env


def checked_metric(suite: str, metric: Metric) -> Metric:
    """A plugin's declared metric built again through its checks, which unpickling bypasses."""
    try:
        return Metric(**{f.name: getattr(metric, f.name) for f in dataclasses.fields(Metric)})
    except Exception as exc:  # noqa: BLE001 - whatever the plugin's object holds, it is refused by name
        raise PluginFailed(f"suite {suite}: a declared metric is not valid ({exc})") from None


class IsolatedSuite:
    """A plugin suite seen from laif: the Suite interface, every call in the plugin's own process."""

    def __init__(self, name: str, entry: str) -> None:
        self._name, self._entry = name, entry
        self._memo: dict[Any, Any] = {}
        meta = self._call("meta")
        self.name: str = meta["name"]
        self.version: str = meta["version"]
        self.categories: list[str] = meta["categories"]
        self.languages: list[str] = meta["languages"]
        if meta["score_over"] is not None:
            self.score_over = meta["score_over"]
        if meta["has_metrics"]:
            self.metrics = self._metrics
        if isinstance(meta.get("title"), str):
            self.title: str = meta["title"]
        self.declared_metrics = [checked_metric(name, m) for m in meta.get("declared_metrics") or ()
                                 if isinstance(m, Metric)]

    def _call(self, method: str, *args: Any) -> Any:
        seconds, memory_mb = _limits()

        def limit_memory() -> None:  # in the child, before the plugin is imported
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        try:
            done = subprocess.run(
                [sys.executable, "-m", "laif.suites._worker"], input=pickle.dumps((self._entry, method, args)),
                capture_output=True, timeout=seconds, env=plugin_env(), preexec_fn=limit_memory,  # noqa: PLW1509
            )
        except subprocess.TimeoutExpired:
            raise PluginFailed(f"suite {self._name}: {method}() ran past its time limit of {seconds:g} s and was "
                               "stopped", hint="LAIF_PLUGIN_SECONDS raises the limit") from None

        def died() -> PluginFailed:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            return PluginFailed(f"suite {self._name}: {method}() died ({tail[0]}); memory limit {memory_mb} MB",
                                hint="LAIF_PLUGIN_MEMORY_MB raises the limit")

        if not done.stdout and done.returncode != 0:
            raise died()
        try:
            status, result = safe_loads(done.stdout)
        except pickle.UnpicklingError as exc:
            raise PluginFailed(f"suite {self._name}: {method}() answered with something laif will not load ({exc})") \
                from None
        except Exception:  # noqa: BLE001 - a child that died without a result
            raise died() from None
        if status != "ok":
            raise PluginFailed(f"suite {self._name}: {method}() failed: {result}")
        return result

    def _memoised(self, key: Any, method: str, *args: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = self._call(method, *args)
        return self._memo[key]

    def library_hash(self) -> str:
        return str(self._memoised("library_hash", "library_hash"))

    def cases(self, languages: list[str], limit: int | None, seed: int) -> list[Case]:
        return list(self._memoised(("cases", tuple(languages), limit, seed), "cases", list(languages), limit, seed))

    def describe(self) -> dict[str, Any]:
        return dict(self._memoised("describe", "describe"))

    def _metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
        return dict(self._call("metrics", records))
