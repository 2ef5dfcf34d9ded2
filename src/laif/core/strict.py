"""What laif's pydantic models share: one strict base and one way to fingerprint a spec.

`Strict` refuses fields it does not know (a misspelt key in a spec, a catalogue or a library is an
error with its path, never silently ignored); `Frozen` is a `Strict` that cannot be changed once
read (libraries, question banks, rules). `canonical_sha256` is the SHA-256 of a model as
validated, that is of the JSON of its fields with the defaults filled in and the keys sorted: two
files that say the same thing in a different order or with different comments have the same one.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A pydantic model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Frozen(Strict):
    """A strict pydantic model whose instances cannot be changed (and so can be hashed)."""

    model_config = ConfigDict(frozen=True)


def canonical_sha256(model: BaseModel, exclude: set[str] | None = None) -> str:
    """SHA-256 of the model's JSON, defaults filled in, keys sorted (see the module docstring);
    `exclude` leaves fields out (a field added later, at its default, keeps older hashes)."""
    return hashlib.sha256(json.dumps(model.model_dump(mode="json", exclude=exclude), sort_keys=True).encode()).hexdigest()
