"""Where laif keeps its files, and writing files so that they are either whole or absent: never half-written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def laif_home() -> Path:
    """laif's own folder: `$LAIF_HOME`, else `~/.laif` (database, keys, signing key)."""
    return Path(os.environ.get("LAIF_HOME") or Path.home() / ".laif")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@contextmanager
def atomic_output(path: Path, newline: str | None = None) -> Iterator[TextIO]:
    """A text handle on a temporary file beside `path`, renamed to `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    with atomic_output(path) as fh:
        fh.write(text)
