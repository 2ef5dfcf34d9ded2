"""Endpoint credentials: encrypted at rest, masked in listings, rotated, and handed to a real
llama.cpp server that demands the key, through `system.api_key_secret` of a sandbox spec."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet, InvalidToken

from laif.configurator.spec import EXAMPLE
from laif.secrets import SecretRow, SecretStore
from tests.conftest import LAIF, llama_server_process, run_laif

VALUE = "sk-test-0123456789-abcdefghij-wxyz"


def _set(env: dict[str, str], name: str, value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAIF, "secrets", "set", name], input=value, capture_output=True, text=True,
                          env={**os.environ, **env})


def test_secrets_are_encrypted_masked_and_rotated(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path)}
    r = _set(env, "mistral-api", VALUE)
    assert r.returncode == 0 and VALUE not in r.stdout + r.stderr, r.stderr
    db = tmp_path / "laif.db"
    assert VALUE.encode() not in db.read_bytes()
    keys = tmp_path / "secrets.keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    r = run_laif("secrets", "list", env=env)
    assert r.returncode == 0 and "mistral-api" in r.stdout and "••••wxyz" in r.stdout and VALUE not in r.stdout

    old_key = keys.read_text().split()[0]
    store_env = dict(os.environ)
    os.environ["LAIF_HOME"] = str(tmp_path)
    try:
        store = SecretStore()
        with store._sessions() as s:
            before = s.get(SecretRow, "mistral-api").token  # type: ignore[union-attr]
        r = run_laif("secrets", "rotate", env=env)
        assert r.returncode == 0 and "re-encrypted 1 secret(s)" in r.stderr
        new_key = keys.read_text().split()
        assert new_key != [old_key] and len(new_key) == 1
        with store._sessions() as s:
            after = s.get(SecretRow, "mistral-api").token  # type: ignore[union-attr]
        assert after != before
        with pytest.raises(InvalidToken):
            Fernet(old_key.encode()).decrypt(after.encode())
        assert SecretStore().get("mistral-api") == VALUE
    finally:
        os.environ.clear()
        os.environ.update(store_env)

    r = run_laif("secrets", "list", env={**env, "LAIF_SECRETS_KEYS": Fernet.generate_key().decode()})
    assert r.returncode == 2 and "cannot be decrypted" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*LAIF, "secrets", "set", "bad name"], input="x", capture_output=True, text=True,
                       env={**os.environ, **env})
    assert r.returncode == 2 and "secret name" in r.stderr
    assert run_laif("secrets", "delete", "mistral-api", env=env).returncode == 0
    assert run_laif("secrets", "delete", "mistral-api", env=env).returncode == 2


@pytest.mark.slow
def test_a_stored_credential_reaches_an_endpoint_that_demands_it(tmp_path: Path, model_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    assert _set(env, "local-llm", VALUE).returncode == 0
    other = {"LAIF_HOME": str(tmp_path / "other")}  # a store of its own: no cached answers to fall back on
    assert _set(other, "local-llm", "sk-not-the-right-key-at-all").returncode == 0
    with llama_server_process(model_path, tmp_path / "server.log", "--api_key", VALUE) as base:
        spec = yaml.safe_load(EXAMPLE)
        spec.update(system={"model": f"openai:{base}#smollm2", "api_key_secret": "local-llm"},
                    suites=["factual"], languages=["en"], limit=1, thresholds={})
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / "out"), "--quiet", env=env)
        assert r.returncode == 0, r.stderr
        assert VALUE not in r.stdout + r.stderr
        r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / "out2"), "--quiet", env=other)
        assert r.returncode not in (0, 1) and "Traceback" not in r.stderr, r.stderr
        assert "sk-not-the-right-key" not in r.stdout + r.stderr
    assert VALUE not in (tmp_path / "out" / "results.json").read_text(encoding="utf-8")
