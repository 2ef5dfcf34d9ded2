"""Any OpenAI-compatible chat endpoint: vLLM, ollama, llama.cpp's server, hosted APIs.

Answer modes beyond free (see `laif.runner.answer_modes`) use what the endpoint offers,
found by asking it before the run: a constrained answer is generated under llama.cpp's
`grammar` field, vLLM's `guided_choice` or a JSON-schema `response_format`, tried in that
order, and the first the endpoint honours (its answer is one of two unlikely words) is kept.
A likelihood answer forces each allowed answer the same way with `logprobs` on and sums the
log-probabilities of the tokens generated. An endpoint that honours none of them is refused
before the run (exit 2), never answered free in their place.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from laif.errors import BadInput, ModelUnreachable
from laif.models._http import ModelRejected, api_key_from_env, dig, post_json
from laif.models.base import BadResponse, Completion, GenerationParams, Message, Model, ModelIdentity, TransientModelError

#: The ways of keeping an endpoint to given answers, in the order they are tried.
CONSTRAINTS = ("grammar", "guided_choice", "json_schema", "json_object")
#: What the check before a run asks for: words no model says on its own to this prompt.
_PROBE_ANSWERS = ["Quokka", "Zebrafink"]
_PROBE = [{"role": "user", "content": "Say hello."}]
#: Alternatives asked for at each position of a likelihood answer (OpenAI and vLLM allow up to 20).
TOP_LOGPROBS = 20


def constraint_fields(way: str, answers: list[str]) -> dict[str, Any]:
    """The request fields that keep a chat completion to `answers` in one of `CONSTRAINTS`."""
    if way == "grammar":  # llama.cpp's servers (C++ and llama-cpp-python): GBNF text
        return {"grammar": "root ::= " + " | ".join(json.dumps(a, ensure_ascii=False) for a in answers) + "\n"}
    if way == "guided_choice":  # vLLM
        return {"guided_choice": answers}
    schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": answers}},
              "required": ["answer"], "additionalProperties": False}
    if way == "json_schema":  # OpenAI's structured output
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema,
                                                                           "strict": True}}}
    return {"response_format": {"type": "json_object", "schema": schema}}  # llama-cpp-python, Anyscale


def constrained_text(way: str, text: str) -> str:
    """The answer inside what an endpoint wrote under `way` (a JSON object for the schema ways)."""
    if way in ("json_schema", "json_object"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadResponse(f"a {way} answer is not JSON: {text[:80]!r}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
            raise BadResponse(f"a {way} answer has no text field 'answer': {text[:80]!r}")
        return str(data["answer"])
    return text.strip()


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
        #: The first of `CONSTRAINTS` this endpoint honours, once `prepare_answer_mode` has found it.
        self.constraint: str | None = None
        self._logprobs_checked = False
        self._tokenized: dict[str, list[int] | None] = {}

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

    async def _chat(self, messages: list[Message], params: GenerationParams, **extra: Any) -> tuple[Any, str]:
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
        } | extra
        body = await post_json(self._client, f"{self.base_url}/chat/completions", payload)
        text = dig(body, "choices.0.message.content")
        if not isinstance(text, str):
            raise BadResponse("choices[0].message.content is not text")
        return body, text

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        body, text = await self._chat(messages, params)
        tokens = None
        if isinstance(body, dict) and isinstance(body.get("usage"), dict):
            tokens = body["usage"].get("completion_tokens")
        return Completion(text=text.strip(), tokens=tokens)

    def _way(self) -> str:
        if self.constraint is None:
            raise BadInput(f"{self.spec}: constrained answers were asked before the endpoint was checked",
                           hint="call prepare_answer_mode first (laif assess does)")
        return self.constraint

    async def complete_choice(self, messages: list[Message], params: GenerationParams, answers: list[str]) -> Completion:
        """An answer the endpoint can only choose among `answers` (`--answer-mode constrained`)."""
        way = self._way()
        body, text = await self._chat(messages, params, **constraint_fields(way, answers))
        return Completion(text=constrained_text(way, text))

    async def _tokens(self, answer: str) -> list[int] | None:
        """`answer`'s tokens as the server splits it (llama-cpp-python's /extras/tokenize, llama.cpp's
        and vLLM's /tokenize), remembered; None when the server does not say."""
        if answer not in self._tokenized:
            root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
            found: list[int] | None = None
            for path, body in (("/extras/tokenize", {"input": answer, "model": self.model}),
                               ("/tokenize", {"content": answer, "add_special": False, "model": self.model,
                                              "prompt": answer, "add_special_tokens": False})):
                try:
                    resp = await self._client.post(f"{root}{path}", json=body)
                    tokens = resp.json().get("tokens") if resp.status_code == 200 else None
                except (httpx.HTTPError, ValueError, AttributeError):
                    tokens = None
                if isinstance(tokens, list) and tokens and all(isinstance(t, int) for t in tokens):
                    found = tokens
                    break
            self._tokenized[answer] = found
        return self._tokenized[answer]

    async def _forced(self, messages: list[Message], answer: str) -> float:
        """The log-probability of `answer` as the reply: generated under a constraint that admits only it.

        Greedy under the constraint alone, the tokens need not be the answer's own (an "N" then
        "on" where the vocabulary has "Non"), so where the server tokenizes, a logit bias puts the
        answer's own tokens first: the logprobs reported are the model's, before any bias, and the
        sum is what llama.cpp in process scores. Elsewhere, where the first position's top
        alternatives hold the whole answer as one token, the better of the two is taken."""
        way = self._way()
        params = GenerationParams(max_tokens=32)
        extra = constraint_fields(way, [answer])
        tokens = await self._tokens(answer) if way in ("grammar", "guided_choice") else None
        if tokens:  # the constraint then lets the answer's own tokens through; a bias moves no logprob
            extra["logit_bias"] = {str(t): 100 for t in tokens}
        body, text = await self._chat(messages, params, logprobs=True, top_logprobs=TOP_LOGPROBS, **extra)
        if constrained_text(way, text) != answer:
            raise BadResponse(f"forced to answer {answer!r}, the endpoint wrote {text[:80]!r}")
        content = dig(body, "choices.0.logprobs.content")
        if not isinstance(content, list) or not content:
            raise BadResponse("choices[0].logprobs.content holds no tokens")
        try:
            path = sum(float(token["logprob"]) for token in content)
            first = content[0].get("top_logprobs") or [] if way in ("grammar", "guided_choice") else []
            whole = [float(alt["logprob"]) for alt in first if alt.get("token") == answer]
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise BadResponse(f"a token in choices[0].logprobs.content has no logprob: {exc}") from exc
        return max([path, *whole])

    async def score_answers(self, messages: list[Message], answers: list[str]) -> list[float]:
        """Each answer's log-probability as the reply to `messages` (`--answer-mode likelihood`).

        One request per answer, forced under the endpoint's constraint: the sum of the logprobs of
        the tokens generated. Under a grammar or guided choice those are the answer's tokens; under a
        JSON schema they include the same object around every answer."""
        self._way()
        if not self._logprobs_checked:
            raise BadInput(f"{self.spec}: likelihood answers were asked before the endpoint was checked",
                           hint="call prepare_answer_mode first (laif assess does)")
        return [await self._forced(messages, answer) for answer in answers]

    def _unreachable(self, exc: TransientModelError) -> ModelUnreachable | None:
        """A check that got no HTTP answer at all is the endpoint's absence (exit 3), not its refusal."""
        if isinstance(exc, BadResponse) or exc.status is not None:
            return None
        return ModelUnreachable(f"{self.spec}: could not reach the endpoint to check what it can answer ({exc})",
                                hint="check that the endpoint is up")

    async def _honours(self, way: str) -> bool:
        """Whether the endpoint keeps to the probe's answers under `way`; unreachable raises."""
        try:
            _, text = await self._chat(_PROBE, GenerationParams(max_tokens=16), **constraint_fields(way, _PROBE_ANSWERS))
            return constrained_text(way, text) in _PROBE_ANSWERS
        except ModelRejected:
            return False  # an HTTP 4xx: it refused the field
        except TransientModelError as exc:  # an HTTP 5xx is a field that broke the request
            unreachable = self._unreachable(exc)
            if unreachable is not None:
                raise unreachable from exc
            return False

    async def prepare_answer_mode(self, mode: str) -> None:
        """Find how the endpoint can answer in `mode`, by asking it; refuse (exit 2) a mode it cannot do."""
        if mode == "free":
            return
        if self.constraint is None:
            for way in CONSTRAINTS:
                if await self._honours(way):
                    self.constraint = way
                    break
            else:
                raise BadInput(
                    f"--answer-mode {mode}: {self.spec} does not keep its answers to given ones: it ignored or "
                    "refused llama.cpp's grammar, vLLM's guided_choice and a JSON-schema response_format",
                    hint="run it with --answer-mode free, or serve the model with llama.cpp's server or vLLM",
                )
        if mode == "likelihood" and not self._logprobs_checked:
            try:
                await self._forced(_PROBE, _PROBE_ANSWERS[0])
            except (ModelRejected, TransientModelError) as exc:
                unreachable = self._unreachable(exc) if isinstance(exc, TransientModelError) else None
                if unreachable is not None:
                    raise unreachable from exc
                raise BadInput(
                    f"--answer-mode likelihood: {self.spec} gives no log-probabilities of its tokens ({exc})",
                    hint="run it with --answer-mode free or constrained; llama-cpp-python's server gives them "
                    "unless started with --logits_all false, vLLM up to its --max-logprobs",
                ) from exc
            self._logprobs_checked = True

    async def aclose(self) -> None:
        await self._client.aclose()
