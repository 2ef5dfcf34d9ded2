"""The one interface every model adapter implements."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Self, runtime_checkable


@dataclass(frozen=True)
class GenerationParams:
    """What shapes an answer. Part of every cache key and every run record."""

    temperature: float = 0.0
    max_tokens: int = 64
    seed: int = 0
    top_p: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelIdentity:
    """Who answered: enough for an auditor to know which model it was.

    `key` is what the response cache is keyed on: the weights' hash for a local
    file, the endpoint and model name for a served one. Connection settings
    (timeouts, concurrency, credentials) are never part of it.
    """

    kind: str
    name: str
    key: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "key": self.key, "details": self.details}


Message = dict[str, str]


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int | None = None


class TransientModelError(Exception):
    """A failure worth retrying: 429, 5xx, a timeout, a dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class BadResponse(TransientModelError):
    """The endpoint answered, but not with anything we can read (garbage JSON, no text)."""


@runtime_checkable
class ModelAdapter(Protocol):
    """A model that answers chat messages. Adapters are async; local ones use a thread.

    A model owns its lifetime: use it as an async context manager and it closes itself
    (its worker process, its HTTP connections), whatever happens inside::

        async with open_model("embedded") as model:
            answer = await model.complete([{"role": "user", "content": "Hi"}], GenerationParams())

    Subclass `Model` to get `__aenter__` and `__aexit__` from `aclose`.
    """

    spec: str
    #: Upper bound on requests in flight; the runner adapts below it for local servers.
    max_concurrency: int
    #: True for servers that queue rather than refuse (llama.cpp, vLLM, ollama).
    queues_requests: bool

    async def identity(self) -> ModelIdentity: ...

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...


class Model:
    """What every adapter shares: `async with` closes it.

    An adapter subclasses it and writes `aclose`; plugins' adapters do the same."""

    async def aclose(self) -> None:
        """Release what the adapter holds (a worker process, connections). Safe to call twice."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@runtime_checkable
class ConstrainedAdapter(Protocol):
    """A model that can generate under a GBNF grammar (`--answer-mode constrained`)."""

    async def complete_constrained(self, messages: list[Message], params: GenerationParams, grammar: str) -> Completion: ...


@runtime_checkable
class ScoringAdapter(Protocol):
    """A model that can score given answers by log-probability (`--answer-mode likelihood`)."""

    async def score_answers(self, messages: list[Message], answers: list[str]) -> list[float]: ...


def cache_key(
    identity: ModelIdentity, params: GenerationParams, messages: list[Message], answering: dict[str, Any] | None = None
) -> str:
    """Content address of one question to one model under given parameters.

    `answering` (the answer mode and its allowed answers) is left out for free answers,
    so that the keys of every answer stored before answer modes existed stay valid."""
    request: dict[str, Any] = {"model": identity.key, "params": params.as_dict(), "messages": messages}
    if answering:
        request["answering"] = answering
    payload = json.dumps(
        request,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
