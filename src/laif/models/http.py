"""A custom REST chatbot: a JSON request template and a path to the answer."""

from __future__ import annotations

import json
from typing import Any

import httpx

from laif.errors import BadInput
from laif.models._http import api_key_from_env, dig, post_json
from laif.models.base import BadResponse, Completion, GenerationParams, Message, Model, ModelIdentity

DEFAULT_TEMPLATE = '{"message": "{prompt}"}'
DEFAULT_RESPONSE_PATH = "reply"


def fill_template(node: Any, values: dict[str, str]) -> Any:
    """Replace `{prompt}` and `{system}` inside string values of a JSON template.

    Substitution happens after parsing, so quotes and newlines in a prompt can
    never break the JSON.
    """
    if isinstance(node, str):
        for name, value in values.items():
            node = node.replace("{" + name + "}", value)
        return node
    if isinstance(node, list):
        return [fill_template(item, values) for item in node]
    if isinstance(node, dict):
        return {key: fill_template(item, values) for key, item in node.items()}
    return node


class HttpChatbot(Model):
    """`http:URL` with `--request-template` and `--response-path`.

    Example: a bot that takes `{"question": "..."}` and answers
    `{"data": {"answer": "..."}}` is
    `--model http://bot.local/ask --request-template '{"question": "{prompt}"}' --response-path data.answer`.
    """

    queues_requests = False

    def __init__(
        self,
        url: str,
        *,
        request_template: str | None = None,
        response_path: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        max_concurrency: int = 4,
    ) -> None:
        self.url = url
        self.spec = f"http:{url}"
        self.max_concurrency = max_concurrency
        raw = request_template or DEFAULT_TEMPLATE
        try:
            self.template = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadInput(f"--request-template: not JSON ({exc.msg} at column {exc.colno})") from exc
        if "{prompt}" not in raw:
            raise BadInput("--request-template: it must contain {prompt} where the question goes")
        self.response_path = response_path or DEFAULT_RESPONSE_PATH
        headers = {}
        key = api_key_from_env(api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def identity(self) -> ModelIdentity:
        return ModelIdentity(
            kind="http",
            name=self.url,
            key=f"http:{self.url}|{json.dumps(self.template, sort_keys=True)}|{self.response_path}",
            details={"url": self.url, "request_template": self.template, "response_path": self.response_path},
        )

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        prompt = "\n".join(m["content"] for m in messages if m["role"] != "system")
        payload = fill_template(self.template, {"prompt": prompt, "system": system})
        body = await post_json(self._client, self.url, payload)
        text = dig(body, self.response_path)
        if not isinstance(text, str):
            raise BadResponse(f"{self.response_path} is a {type(text).__name__}, not text")
        return Completion(text=text.strip())

    async def aclose(self) -> None:
        await self._client.aclose()
