"""What `laif doctor` checks, as typed results a command or a web page can show.

`diagnose()` runs every check and returns a `Diagnosis`: `ok` is true when the default path works
(the embedded model generates, the database answers, the llama.cpp build uses no CPU feature this
CPU lacks). Slurm, WeasyPrint and the pseudonymiser's C fast path are optional: when missing they
are warnings with what to do, never failures.

    >>> d = diagnose()
    >>> d.ok, [(c.name, c.status) for c in d.checks]

The generation runs in a child process (`laif.doctor_probe`), and so does the first import of
llama.cpp: a build made for another CPU kills the process that loads it, and the doctor must
live to say so.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from laif.doctor_probe import MARKER
from laif.store import default_url

Status = Literal["ok", "warning", "FAIL"]
Build = Literal["portable", "native", "unknown"]

#: The /proc/cpuinfo flags that decide which llama.cpp code paths a CPU can run.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
#: llama.cpp's name for a CPU feature compiled in -> the /proc/cpuinfo flag a CPU needs to run it.
NEEDS_FLAG = {"SSE3": "pni", "SSSE3": "ssse3", "SSE42": "sse4_2", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c",
              "FMA": "fma", "BMI2": "bmi2", "AVX_VNNI": "avx_vnni", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
              "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8",
              "AMX_TILE": "amx_tile"}
#: What the portable build compiles in: every x86-64 CPU since about 2015 has these (x86-64-v3).
BASELINE = frozenset({"SSE3", "SSSE3", "SSE42", "AVX", "AVX2", "F16C", "FMA", "BMI2"})
LLAMA_VERSION = "0.3.36"  # what pyproject.toml pins; the fix names the installed version when known
RECORD_FILE = "laif-llama-build.json"


@dataclass(frozen=True)
class Check:
    """One finding: `fix` says what to do when the status is not ok."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Cpu:
    model: str
    arch: str
    cores: int
    #: CPU_FLAGS -> present; empty when the flags cannot be read (not Linux).
    features: dict[str, bool]
    flags: frozenset[str] = field(default=frozenset(), repr=False)


@dataclass(frozen=True)
class LlamaBuild:
    version: str | None
    build: Build
    #: From llama_print_system_info(): CPU features as booleans ("AVX2": True), other settings as text.
    compiled_features: dict[str, bool | str]
    cmake_args: str | None
    #: The build record the Makefile writes into the venv, if there is one.
    record: dict[str, Any] | None


@dataclass(frozen=True)
class Probe:
    """What the generation child reported, and how it ended."""

    stages: dict[str, dict[str, Any]]
    returncode: int | None  # None: it ran past the timeout and was killed
    stderr_tail: str


@dataclass(frozen=True)
class Diagnosis:
    checks: list[Check]
    cpu: Cpu
    llama_cpp: LlamaBuild
    tokens_per_s: float | None

    @property
    def ok(self) -> bool:
        return all(c.status != "FAIL" for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        cpu = {"model": self.cpu.model, "arch": self.cpu.arch, "cores": self.cpu.cores, "features": self.cpu.features}
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "cpu": cpu,
                "llama_cpp": asdict(self.llama_cpp), "generation": {"tokens_per_s": self.tokens_per_s}}


def portable_fix(version: str | None) -> str:
    return ("rebuild llama-cpp-python portable: `make setup` from a fresh venv (rm -rf .venv first), or "
            'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
            f"pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python=={version or LLAMA_VERSION}")


# --- CPU ---------------------------------------------------------------------------------------

def read_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> Cpu:
    """The CPU's model name, architecture, usable cores and feature flags (flags from /proc/cpuinfo)."""
    model, flags = "", frozenset[str]()
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    features = {name: name in flags for name in CPU_FLAGS} if flags else {}
    return Cpu(model=model or platform.processor() or "unknown", arch=platform.machine(), cores=cores,
               features=features, flags=flags)


def cpu_check(cpu: Cpu) -> Check:
    where = f"{cpu.model} ({cpu.arch}, {cpu.cores} cores)"
    if not cpu.features:
        return Check("cpu", "warning", f"{where}; feature flags unknown (no /proc/cpuinfo)",
                     "none needed if generation works; the llama.cpp check cannot compare features here")
    present = [name for name, has in cpu.features.items() if has]
    return Check("cpu", "ok", f"{where}: {' '.join(present) or 'none of ' + ' '.join(CPU_FLAGS)}")


# --- llama.cpp build ---------------------------------------------------------------------------

def parse_system_info(text: str) -> dict[str, bool | str]:
    """`llama_print_system_info()` ("CPU : SSE3 = 1 | AVX512 = 0 | ...") as a dict.

    CPU features are keyed by name and read as booleans; another backend's settings are keyed
    "BACKEND.NAME" ("CUDA.ARCHS": "890") so that they never pass for a CPU feature.
    """
    features: dict[str, bool | str] = {}
    backend = "CPU"
    for part in text.split("|"):
        if ":" in part:
            backend, _, part = part.partition(":")
            backend = backend.strip()
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            continue
        key = name if backend == "CPU" else f"{backend}.{name}"
        features[key] = value == "1" if value in ("0", "1") else value
    return features


def read_build_record(prefix: Path | None = None) -> dict[str, Any] | None:
    """The record `make setup` writes into the venv ({"llama_cpp_python", "cmake_args", "portable"}), if any."""
    path = (prefix or Path(sys.prefix)) / RECORD_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def classify_build(version: str | None, features: dict[str, bool | str], record: dict[str, Any] | None,
                   cpu: Cpu) -> tuple[LlamaBuild, Check]:
    """Portable or native, from the build record and the features compiled in; FAIL on a feature this CPU lacks."""
    cmake_args = str(record["cmake_args"]) if record and "cmake_args" in record else None
    compiled = sorted(name for name, on in features.items() if on is True and name in NEEDS_FLAG)
    beyond = [name for name in compiled if name not in BASELINE]
    # With runtime dispatch (GGML_CPU_ALL_VARIANTS) the features shown are the variant picked for this CPU.
    dispatches = bool(record and record.get("portable") is True and "GGML_CPU_ALL_VARIANTS=ON" in (cmake_args or ""))
    x86 = cpu.arch.lower() in ("x86_64", "amd64")
    build: Build
    if (record and record.get("portable") is False) or "GGML_NATIVE=ON" in (cmake_args or "") \
            or (x86 and beyond and not dispatches):
        build = "native"
    elif (record and record.get("portable") is True) or (x86 and compiled):
        build = "portable"
    else:
        build = "unknown"
    info = LlamaBuild(version=version, build=build, compiled_features=features, cmake_args=cmake_args, record=record)
    fix = portable_fix(version)
    shown = f"llama-cpp-python {version}, {build} build, compiled: {' '.join(compiled) or 'unknown'}"
    source = f"; flags: {cmake_args}" if cmake_args else "; no build record (not installed by make setup)"
    lacking = [f"{name} (needs {NEEDS_FLAG[name]})" for name in compiled
               if cpu.flags and NEEDS_FLAG[name] not in cpu.flags and x86]
    if version is None:
        return info, Check("llama.cpp build", "FAIL", "llama-cpp-python is not installed",
                           f"make setup, or pip install laif; {fix}")
    if lacking:
        return info, Check("llama.cpp build", "FAIL",
                           f"{shown}; this CPU lacks {', '.join(lacking)}: it would stop with SIGILL", fix)
    if build == "native":
        return info, Check("llama.cpp build", "warning",
                           f"{shown}{source}; a native build is tied to this CPU and may crash on another "
                           "(a venv shared by Slurm nodes, a copied image)", fix)
    if build == "unknown":
        return info, Check("llama.cpp build", "warning", f"{shown}{source}; cannot tell whether it is portable",
                           f"if generation fails or the venv moves between machines: {fix}")
    return info, Check("llama.cpp build", "ok", shown + source)


def installed_llama_version() -> str | None:
    """The installed llama-cpp-python's version, read from its metadata without importing it."""
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None


# --- generation in a child -----------------------------------------------------------------------

def run_probe(model: Path, timeout: float) -> Probe:
    """`python -m laif.doctor_probe MODEL`: each stage it reached, its exit status, its last error line."""
    try:
        done = subprocess.run([sys.executable, "-m", "laif.doctor_probe", str(model)],
                              capture_output=True, text=True, timeout=timeout)
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout, stderr, code = _text(exc.stdout), _text(exc.stderr), None
    stages: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        try:
            stage = json.loads(line.removeprefix(MARKER)) if line.startswith(MARKER) else None
        except ValueError:  # a line cut short by the child's death
            stage = None
        if isinstance(stage, dict) and "stage" in stage:
            stages[str(stage["stage"])] = stage
    errors = [line.strip() for line in stderr.splitlines() if line.strip()]
    return Probe(stages=stages, returncode=code, stderr_tail=errors[-1][:300] if errors else "")


def _text(output: str | bytes | None) -> str:
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output or ""


def generation_check(probe: Probe, timeout: float, version: str | None) -> tuple[Check, float | None]:
    """The probe's outcome as a finding, and tokens per second when it generated."""
    done = probe.stages.get("generate")
    if probe.returncode == 0 and done:
        rate = round(done["tokens"] / done["generate_s"], 1) if done["generate_s"] > 0 else 0.0
        return Check("generation", "ok",
                     f"embedded model: {done['tokens']} tokens in {done['generate_s']:.2f} s ({rate:.1f} tokens/s), "
                     f"loaded in {done['load_s']:.2f} s; reply: {done['reply'][:60]}"), rate
    where = "while loading the model or generating" if "import" in probe.stages else "while loading llama.cpp"
    if probe.returncode is None:
        return Check("generation", "FAIL", f"no answer within {timeout:.0f} s ({where})",
                     f"run again with --timeout 600 on a busy machine; if it still hangs, {portable_fix(version)}"), None
    if probe.returncode < 0:
        name = _signal_name(-probe.returncode)
        if name == "SIGKILL":
            return Check("generation", "FAIL", f"the model process was killed by SIGKILL {where}",
                         "the system killed it, most often for lack of memory: free memory and run again"), None
        return Check("generation", "FAIL", f"the model process was killed by {name} {where} "
                     "(a llama.cpp build made for another CPU dies this way)", portable_fix(version)), None
    return Check("generation", "FAIL", f"the model process exited with {probe.returncode} {where}: "
                 f"{probe.stderr_tail or 'no message'}", f"make setup, or {portable_fix(version)}"), None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --- database ----------------------------------------------------------------------------------

def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001 - unparsable: find it by hand so that it is masked all the same
        found = re.search(r"://[^:/@]*:([^@]*)@", url)
        return found.group(1) if found else None


def scrub(text: str, url: str) -> str:
    """`text` with the URL's password, as given or percent-encoded, replaced by ***."""
    password = _password(url)
    for secret in {password, quote(password, safe="")} if password else ():
        text = text.replace(secret, "***")
    return text


def mask_url(url: str) -> str:
    """The URL as safe to print: its password, if any, is ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is masked by hand
        return scrub(url, url)


def database_check(db_url: str | None) -> Check:
    """Connect to the database laif would use (--db, else LAIF_DB_URL, else SQLite under $LAIF_HOME); SELECT 1."""
    url = db_url or default_url()
    origin = "--db" if db_url else "LAIF_DB_URL" if os.environ.get("LAIF_DB_URL") else "default"
    shown = f"{mask_url(url)} (from {origin})"
    fix = "start the database server or correct the URL (--db, LAIF_DB_URL); without either laif uses SQLite under $LAIF_HOME"
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(str(parsed.database)).expanduser()
            if not path.exists():
                # Connecting would create the file; say whether laif can, and leave it to the first run.
                folder = next(p for p in path.parents if p.exists())
                if os.access(folder, os.W_OK):
                    return Check("database", "ok", f"{shown}: not created yet; laif creates it at first use")
                return Check("database", "FAIL", f"{shown}: cannot be created, {folder} is not writable",
                             "set LAIF_HOME to a writable folder, or give --db")
        engine = create_engine(parsed, connect_args={"connect_timeout": 5} if backend == "postgresql" else {})
    except ImportError as exc:
        return Check("database", "FAIL", f"{shown}: its driver is not installed ({exc})",
                     "for PostgreSQL: pip install 'laif[postgres]'")
    except Exception as exc:  # noqa: BLE001 - any unusable URL is a finding
        return Check("database", "FAIL", f"{shown}: not a usable database URL ({scrub(str(exc), url)})", fix)
    # SQLite answers SELECT 1 without reading the file; its catalogue proves the file is a database.
    query = "SELECT count(*) FROM sqlite_master" if backend == "sqlite" else "SELECT 1"
    if backend == "sqlite":
        fix = "move the file away (laif creates a new one) or give another --db"
    try:
        with engine.connect() as connection:
            connection.execute(text(query)).scalar_one()
    except Exception as exc:  # noqa: BLE001 - refused, unknown host, bad password, not a database: all findings
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return Check("database", "FAIL", f"{shown}: cannot connect: {scrub(reason, url)}"[:400], fix)
    finally:
        engine.dispose()
    return Check("database", "ok", f"{shown}: connected, {query} answered")


# --- optional parts ----------------------------------------------------------------------------

def slurm_check() -> Check:
    missing = [tool for tool in ("sbatch", "squeue") if shutil.which(tool) is None]
    if missing:
        return Check("slurm", "warning", f"{' and '.join(missing)} not on PATH",
                     "needed only for `executor: slurm` sandbox specs: run on a node with Slurm's client "
                     "commands (often `module load slurm`)")
    return Check("slurm", "ok", f"sbatch at {shutil.which('sbatch')}, squeue at {shutil.which('squeue')}")


def weasyprint_check() -> Check:
    from laif.reports.audience import to_pdf

    try:
        pdf = to_pdf("<h1>laif doctor</h1><p>A one-page test.</p>")
    except Exception as exc:  # noqa: BLE001 - OSError for a missing Pango, anything else is reported too
        return Check("weasyprint", "warning", f"cannot render a PDF: {type(exc).__name__}: {exc}"[:300],
                     "install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0); "
                     "HTML reports work without it")
    if not pdf.startswith(b"%PDF"):
        return Check("weasyprint", "warning", "WeasyPrint returned something that is not a PDF",
                     "reinstall WeasyPrint: pip install --force-reinstall weasyprint")
    return Check("weasyprint", "ok", f"renders PDFs (WeasyPrint {importlib.metadata.version('weasyprint')}, "
                 f"{len(pdf)} bytes for one page)")


def fastpath_check() -> Check:
    try:
        module = importlib.import_module("laif.ipms._fastpath")
    except ImportError as exc:
        return Check("ipms fast path", "warning",
                     f"the C pseudonymiser is not built ({exc}); files are pseudonymised by the Python path "
                     "(same output, slower)",
                     "install a C compiler and OpenSSL's headers (Debian: apt-get install gcc libssl-dev), "
                     "then reinstall laif (in a checkout: .venv/bin/pip install --no-deps -e .)")
    return Check("ipms fast path", "ok", f"loaded from {module.__file__}")


def guarded(name: str, status: Status, check: Callable[[], Check]) -> Check:
    """`check()`, or a finding with `status` if the check itself raised: the doctor never stops half-way."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - any failure is a finding here
        return Check(name, status, f"the check could not run: {type(exc).__name__}: {exc}"[:300],
                     "report this as a bug in laif doctor")


def diagnose(db_url: str | None = None, timeout: float = 120.0) -> Diagnosis:
    """Every check, in the order a person fixes them: CPU, llama.cpp, generation, database, optional parts."""
    from laif.errors import LaifError
    from laif.models.llamacpp import embedded_model_path

    cpu = read_cpu()
    version = installed_llama_version()
    try:
        probe: Probe | None = run_probe(embedded_model_path(), timeout)
        missing_model = None
    except LaifError as exc:
        probe, missing_model = None, Check("generation", "FAIL", exc.message, exc.hint or "make setup")
    imported = probe.stages.get("import", {}) if probe else {}
    features = parse_system_info(str(imported.get("system_info", "")))
    llama, build_check = classify_build(imported.get("version") or version, features, read_build_record(), cpu)
    if probe is not None:
        generated, rate = generation_check(probe, timeout, llama.version)
    else:
        generated, rate = missing_model or Check("generation", "FAIL", "not run"), None
    checks = [cpu_check(cpu), build_check, generated,
              guarded("database", "FAIL", lambda: database_check(db_url)),
              guarded("slurm", "warning", slurm_check),
              guarded("weasyprint", "warning", weasyprint_check),
              guarded("ipms fast path", "warning", fastpath_check)]
    return Diagnosis(checks=checks, cpu=cpu, llama_cpp=llama, tokens_per_s=rate)


__all__ = ["Check", "Cpu", "Diagnosis", "LlamaBuild", "Probe", "classify_build", "diagnose", "parse_system_info",
           "read_build_record", "read_cpu", "run_probe"]
