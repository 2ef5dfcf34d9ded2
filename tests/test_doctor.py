"""`laif doctor` on the real installation: the real llama.cpp build, a real generation with the embedded
model in a child process, real SQLite and PostgreSQL. Crashes and hangs of the child are injected
(LAIF_DOCTOR_PROBE_FAULT), in addition to the real run, to prove they are reported, not fatal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from laif.doctor import CPU_FLAGS, Cpu, classify_build, database_check, parse_system_info, read_build_record
from laif.doctor_probe import FAULT_ENV
from tests.conftest import free_port, run_laif

WIDE = {"COLUMNS": "1000"}  # the table unwrapped, so that a phrase is not split across lines


def doctor_json(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = run_laif("doctor", "--json", *args, env=env, timeout=400)
    assert "Traceback" not in done.stderr + done.stdout
    return done, json.loads(done.stdout)


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["name"] == name)
    return found


def test_the_installed_build_is_portable_and_generates(laif_home: Path) -> None:
    done, report = doctor_json()
    assert done.returncode == 0, done.stdout
    assert report["ok"] is True
    assert check(report, "generation")["status"] == "ok"
    assert report["generation"]["tokens_per_s"] > 0
    llama = report["llama_cpp"]
    compiled = {name for name, on in llama["compiled_features"].items() if on is True}
    assert "AVX2" in compiled  # the baseline is there, so the features were read from the real library
    assert not [name for name in compiled if name.startswith(("AVX512", "AMX"))], compiled
    assert llama["build"] == "portable"
    assert check(report, "llama.cpp build")["status"] == "ok"
    assert check(report, "database")["status"] == "ok"
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    assert report["cpu"]["features"] == {name: name in flags.split(":")[1].split() for name in CPU_FLAGS}


def test_make_setup_records_a_portable_build() -> None:
    record = read_build_record()
    if record is None:
        pytest.skip("this venv was not made by `make setup`, which writes the build record")
    assert record["portable"] is True
    assert "GGML_NATIVE=OFF" in record["cmake_args"]


def test_an_unreachable_database_fails_with_the_password_masked(laif_home: Path) -> None:
    url = f"postgresql+psycopg://laif:Sup3rSecretPw@127.0.0.1:{free_port()}/laif"
    done, report = doctor_json("--db", url)
    assert done.returncode == 1
    database = check(report, "database")
    assert database["status"] == "FAIL"
    assert "laif:***@127.0.0.1" in database["detail"] and "cannot connect" in database["detail"]
    assert "(from --db)" in database["detail"]
    assert "Sup3rSecretPw" not in done.stdout + done.stderr


def test_the_table_names_the_failed_check_and_masks_the_url_from_the_environment(laif_home: Path) -> None:
    url = f"postgresql+psycopg://laif:Sup3rSecretPw@127.0.0.1:{free_port()}/laif"
    done = run_laif("doctor", env={"LAIF_DB_URL": url, **WIDE}, timeout=400)
    assert done.returncode == 1
    assert "not ready: database failed" in done.stdout
    assert "(from LAIF_DB_URL)" in done.stdout
    assert "Sup3rSecretPw" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_real_postgresql_answers(laif_home: Path, pg_url: str) -> None:
    done, report = doctor_json("--db", pg_url)
    assert check(report, "database")["status"] == "ok", check(report, "database")
    assert done.returncode == 0


def test_a_model_process_killed_by_sigsegv_is_a_finding_with_the_fix(laif_home: Path) -> None:
    done, report = doctor_json(env={FAULT_ENV: "SIGSEGV"})
    assert done.returncode == 1
    generation = check(report, "generation")
    assert generation["status"] == "FAIL"
    assert "SIGSEGV" in generation["detail"]
    assert "GGML_NATIVE=OFF" in generation["fix"] and "make setup" in generation["fix"]
    # llama.cpp was imported before the crash, so the build is still described.
    assert report["llama_cpp"]["compiled_features"]


def test_the_table_reports_the_crash_and_the_verdict(laif_home: Path) -> None:
    done = run_laif("doctor", env={FAULT_ENV: "SIGILL", **WIDE}, timeout=400)
    assert done.returncode == 1
    assert "killed by SIGILL" in done.stdout
    assert "not ready: generation failed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_the_doctor_process_never_loads_llama_cpp_itself(laif_home: Path) -> None:
    # A build for another CPU kills whoever imports it: only the child may.
    script = ("import sys; from laif.doctor import diagnose; d = diagnose(); "
              "print(d.checks[2].status, 'llama_cpp' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=400,
                          env={**os.environ, FAULT_ENV: "SIGSEGV"})
    assert done.stdout.split() == ["FAIL", "False"], done.stdout + done.stderr


def test_a_model_process_that_hangs_is_stopped_at_the_timeout(laif_home: Path) -> None:
    done, report = doctor_json("--timeout", "5", env={FAULT_ENV: "SIGSTOP"})
    assert done.returncode == 1
    generation = check(report, "generation")
    assert generation["status"] == "FAIL"
    assert "no answer within 5 s" in generation["detail"] and "--timeout" in generation["fix"]


def test_without_sbatch_slurm_is_a_warning_and_the_default_path_passes(laif_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done, report = doctor_json(env={"PATH": str(empty)})
    slurm = check(report, "slurm")
    assert slurm["status"] == "warning"
    assert "sbatch" in slurm["detail"] and slurm["fix"]
    assert report["ok"] is True
    assert done.returncode == 0


def test_a_timeout_below_one_second_is_a_usage_error() -> None:
    done = run_laif("doctor", "--timeout", "0")
    assert done.returncode == 2
    assert "--timeout" in done.stderr
    assert "Traceback" not in done.stderr


# --- the findings from given inputs (no child process) --------------------------------------------

XEON_WITHOUT_AVX512 = Cpu(model="a Haswell", arch="x86_64", cores=2, features={},
                          flags=frozenset({"pni", "ssse3", "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}))


def test_system_info_is_read_in_both_formats_and_other_backends_are_kept_apart() -> None:
    old = parse_system_info("AVX = 1 | AVX2 = 1 | AVX512 = 0 | FMA = 1 | ")
    assert old == {"AVX": True, "AVX2": True, "AVX512": False, "FMA": True}
    new = parse_system_info("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : SSE3 = 1 | AVX2 = 1 | OPENMP = 1 | ")
    assert new["CUDA.ARCHS"] == "890" and new["CUDA.USE_GRAPHS"] is True
    assert new["AVX2"] is True and "USE_GRAPHS" not in new


def test_a_build_with_a_feature_this_cpu_lacks_fails_before_it_crashes() -> None:
    build, finding = classify_build("0.3.36", {"AVX2": True, "AVX512": True, "AVX512_VNNI": True}, None,
                                    XEON_WITHOUT_AVX512)
    assert build.build == "native"
    assert finding.status == "FAIL"
    assert "SIGILL" in finding.detail and "AVX512 (needs avx512f)" in finding.detail
    assert "GGML_NATIVE=OFF" in finding.fix and "llama-cpp-python==0.3.36" in finding.fix


def test_a_native_build_within_this_cpus_features_is_a_warning() -> None:
    record = {"llama_cpp_python": "0.3.36", "cmake_args": "-DGGML_NATIVE=ON", "portable": False}
    build, finding = classify_build("0.3.36", {"AVX2": True, "FMA": True}, record, XEON_WITHOUT_AVX512)
    assert build.build == "native" and build.cmake_args == "-DGGML_NATIVE=ON"
    assert finding.status == "warning" and "tied to this CPU" in finding.detail


def test_a_baseline_build_without_a_record_is_portable() -> None:
    build, finding = classify_build("0.3.36", {"AVX": True, "AVX2": True, "FMA": True, "F16C": True}, None,
                                    XEON_WITHOUT_AVX512)
    assert (build.build, finding.status) == ("portable", "ok")
    assert "no build record" in finding.detail


def test_a_sqlite_file_answers_and_a_bad_url_is_named(tmp_path: Path) -> None:
    path = tmp_path / "laif.db"
    path.touch()
    assert database_check(f"sqlite:///{path}").status == "ok"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, but sixteen-plus bytes of something else" * 20)
    damaged = database_check(f"sqlite:///{junk}")
    assert damaged.status == "FAIL" and str(junk) in damaged.detail and "not a database" in damaged.detail
    bad = database_check("no-such-scheme://user:pa%40ss@host/db")
    assert bad.status == "FAIL" and "not a usable database URL" in bad.detail
    assert "pa%40ss" not in bad.detail and "pa@ss" not in bad.detail
