"""Evidence bundles: a zip of run records and reports, the qualification, and a manifest with
the SHA-256 of every file, signed with Ed25519.

- The signing key is the builder's: `$LAIF_HOME/evidence/signing.key` (PEM, mode 0600),
  made on first use; its public half travels in the bundle (`signer.pub`), and its
  fingerprint (SHA-256 of the raw public key) is printed so a reader can pin it
  (`laif evidence verify --signer FINGERPRINT`). Without pinning, verification proves the
  bundle is intact and self-consistent, not who made it.
- Verification names every file that was changed, is missing or was added, and a manifest
  whose signature does not match.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from laif import __version__
from laif._files import laif_home
from laif.errors import BadInput

MANIFEST, SIGNATURE, SIGNER = "manifest.json", "manifest.sig", "signer.pub"
_CONTROL = {MANIFEST, SIGNATURE, SIGNER}


def signing_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The builder's Ed25519 key, made (mode 0600) the first time."""
    path = path or laif_home() / "evidence" / "signing.key"
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            raise BadInput(f"{path}: not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput(f"{path}: not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return key


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def build(files: dict[str, bytes], out: Path, key: Ed25519PrivateKey, about: dict[str, Any]) -> dict[str, Any]:
    """Write the bundle to `out` (whole or not at all); returns its manifest."""
    bad = [name for name in files if name in _CONTROL or name.startswith("/") or ".." in name.split("/")]
    if bad:
        raise BadInput(f"cannot bundle {', '.join(bad)}: reserved or unsafe name")
    manifest = {
        "laif_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "about": about,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr(MANIFEST, manifest_bytes)
        zf.writestr(SIGNATURE, base64.b64encode(key.sign(manifest_bytes)) + b"\n")
        zf.writestr(SIGNER, public)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, out)
    return manifest


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    signer: str | None
    files: int


def verify(path: Path, expected_signer: str | None = None) -> Verification:
    """Check the signature, then every file against the manifest; every problem names its file."""
    if not path.is_file():
        raise BadInput(f"{path}: no such bundle")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return Verification(False, [f"{path}: not a zip archive (damaged or not a bundle)"], None, 0)
    problems: list[str] = []
    with zf:
        names = zf.namelist()
        duplicates = sorted({n for n in names if names.count(n) > 1})
        problems += [f"{n}: appears more than once in the archive" for n in duplicates]
        contents: dict[str, bytes] = {}
        unreadable: set[str] = set()
        for name in set(names):
            try:
                contents[name] = zf.read(name)
            except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:  # a damaged member
                problems.append(f"{name}: cannot be read ({exc})")
                unreadable.add(name)
    missing_control = [n for n in (MANIFEST, SIGNATURE, SIGNER) if n not in contents]
    if missing_control:
        return Verification(False, problems + [f"{n}: missing" for n in missing_control], None, 0)
    try:
        public = serialization.load_pem_public_key(contents[SIGNER])
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("not Ed25519")
        signer = fingerprint(public)
    except ValueError:
        return Verification(False, problems + [f"{SIGNER}: not an Ed25519 public key"], None, 0)
    if expected_signer and signer != expected_signer:
        problems.append(f"{SIGNER}: signed by {signer[:16]}…, not by the expected {expected_signer[:16]}…")
    try:
        public.verify(base64.b64decode(contents[SIGNATURE].strip()), contents[MANIFEST])
    except (InvalidSignature, ValueError):
        problems.append(f"{MANIFEST}: its signature does not match (the manifest or the signature was changed)")
    try:
        listed = json.loads(contents[MANIFEST])["files"]
    except (ValueError, KeyError, TypeError):
        return Verification(False, problems + [f"{MANIFEST}: not a laif manifest"], signer, 0)
    for name in sorted(listed):
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            problems.append(f"{name}: unsafe name in the manifest")
    for name, entry in sorted(listed.items()):
        if name in unreadable:
            continue
        if name not in contents:
            problems.append(f"{name}: missing")
        elif hashlib.sha256(contents[name]).hexdigest() != entry.get("sha256"):
            problems.append(f"{name}: changed (its SHA-256 is not the one in the manifest)")
    for name in sorted(set(contents) - set(listed) - _CONTROL):
        problems.append(f"{name}: added (not in the manifest)")
    return Verification(not problems, problems, signer, len(listed))
