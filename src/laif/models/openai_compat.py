"""Any OpenAI-compatible chat endpoint: vLLM, ollama, llama.cpp's server, hosted APIs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from laif.models._http import api_key_from_env, dig, post_json
from laif.models.base import BadResponse, Completion, GenerationParams, Message, Model, ModelIdentity


class OpenAIModel(Model):
    """`openai:BASE_URL#MODEL`, e.g. `openai:http://127.0.0.1:8080/v1#smollm2`.

    The key, when one is needed, is read from the environment variable the user
    names with `--api-key-env`; it lives only in this object's request headers.
    """

    queues_requests = True

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        max_concurrency: int = 8,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.spec = f"openai:{self.base_url}#{model}"
        self.max_concurrency = max_concurrency
        headers = {}
        key = api_key_from_env(api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            timeout=timeout,
            headers=headers,
            limits=httpx.Limits(max_connections=max_concurrency * 2),
        )
        self._identity: ModelIdentity | None = None

    async def identity(self) -> ModelIdentity:
        if self._identity is None:
            details: dict[str, Any] = {"base_url": self.base_url, "model": self.model}
            try:
                resp = await self._client.get(f"{self.base_url}/models")
                if resp.status_code == 200:
                    listed = [m for m in resp.json().get("data", []) if m.get("id") == self.model]
                    details["server_reports"] = listed[0] if listed else resp.json().get("data", [])[:3]
                else:
                    details["server_reports"] = f"GET /models answered HTTP {resp.status_code}"
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                details["server_reports"] = f"GET /models failed: {type(exc).__name__}"
            slots = await self._server_slots()
            if slots:
                details["server_slots"] = slots
            host = urlsplit(self.base_url).netloc
            self._identity = ModelIdentity(
                kind="openai", name=self.model, key=f"openai:{host}{urlsplit(self.base_url).path}#{self.model}",
                details=details,
            )
        return self._identity

    async def _server_slots(self) -> int | None:
        """llama.cpp's own server reports its parallel slots at /props."""
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        try:
            resp = await self._client.get(f"{root}/props", timeout=5.0)
            if resp.status_code == 200:
                slots = resp.json().get("total_slots")
                return int(slots) if slots else None
        except (httpx.HTTPError, ValueError, AttributeError, TypeError):
            return None
        return None

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        }
        body = await post_json(self._client, f"{self.base_url}/chat/completions", payload)
        text = dig(body, "choices.0.message.content")
        if not isinstance(text, str):
            raise BadResponse("choices[0].message.content is not text")
        tokens = None
        if isinstance(body, dict) and isinstance(body.get("usage"), dict):
            tokens = body["usage"].get("completion_tokens")
        return Completion(text=text.strip(), tokens=tokens)

    async def aclose(self) -> None:
        await self._client.aclose()
