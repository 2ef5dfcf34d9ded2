"""The process that holds a GGUF model for `LlamaCppModel`: `python -m laif.models._llama_worker`.

llama.cpp is native code. A build for the wrong CPU dies with SIGILL or SIGSEGV, and a
signal cannot be caught in the process it kills. In this process such a crash ends the
worker and `LlamaCppModel` reports it, while the run that asked keeps every answer.

Protocol: one JSON object per line. The worker reads its settings from argv, loads the
model and says `{"ready": true}` (or `{"error": ...}`), then answers each request line
`{"messages": [...], "params": {...}}` with `{"text": ..., "tokens": ...}` or
`{"error": ...}`, until its input closes. A request may add `"grammar"` (GBNF text: the
answer is generated under it) or be `{"messages": [...], "score": [answers]}`, answered
with `{"logprobs": [...]}`: each answer's log-probability (the sum over its tokens) as the
start of the reply to the chat-templated prompt. Only the standard library and llama_cpp are
imported here, so the worker starts fast and a broken laif module cannot break it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any


def _protocol_stream() -> IO[str]:
    """The real stdout, kept for replies; fd 1 then points at stderr, so whatever the
    native library prints cannot corrupt the protocol."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return replies


def _say(stream: IO[str], payload: dict[str, Any]) -> None:
    stream.write(json.dumps(payload, ensure_ascii=False) + "\n")
    stream.flush()


def _chat_tokens(llm: Any, messages: list[dict[str, str]]) -> list[int]:
    """The prompt as `create_chat_completion` sends it: the model's chat template, then tokens."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    vocab = llm._model  # noqa: SLF001 - the token texts the template needs
    formatter = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=vocab.token_get_text(llm.token_eos()),
        bos_token=vocab.token_get_text(llm.token_bos()),
    )
    chat: Any = messages  # plain role/content dicts, which the typed message unions describe
    result = formatter(messages=chat)
    tokens: list[int] = llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
    return tokens


def _log_softmax(logits: Any) -> Any:
    import numpy as np

    shifted = logits - np.max(logits)
    return shifted - np.log(np.sum(np.exp(shifted)))


def _score(llm: Any, messages: list[dict[str, str]], answers: list[str]) -> list[float]:
    """Log-probability of each answer as the start of the reply to the prompt.

    The prompt is evaluated once; each answer rewinds to its end (llama.cpp keeps the
    prompt's cache) and feeds its tokens one at a time, reading the next-token logits.
    The caller's answers are such that none starts another, so no end token is needed."""
    import numpy as np

    prompt = _chat_tokens(llm, messages)
    n_vocab = llm.n_vocab()

    def last_logits() -> Any:
        # Only the last position's logits are computed (logits_all is off): read them directly.
        return np.array(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)), copy=True)  # noqa: SLF001

    llm.reset()
    llm.eval(prompt)
    after_prompt = last_logits()
    scores: list[float] = []
    for answer in answers:
        tokens = llm.tokenize(answer.encode("utf-8"), add_bos=False, special=False)
        llm.n_tokens = len(prompt)
        logits, total = after_prompt, 0.0
        for index, token in enumerate(tokens):
            total += float(_log_softmax(logits)[token])
            if index < len(tokens) - 1:
                llm.eval([token])
                logits = last_logits()
        scores.append(total)
    llm.reset()
    return scores


def _answer(llm: Any, request: dict[str, Any], grammars: dict[str, Any]) -> dict[str, Any]:
    if "score" in request:
        return {"logprobs": _score(llm, request["messages"], request["score"])}
    params = request["params"]
    grammar = None
    if request.get("grammar"):
        from llama_cpp.llama_grammar import LlamaGrammar

        text = request["grammar"]
        if text not in grammars:
            grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        grammar = grammars[text]
    out: Any = llm.create_chat_completion(
        messages=request["messages"],
        temperature=params["temperature"],
        top_p=params["top_p"],
        max_tokens=params["max_tokens"],
        seed=params["seed"],
        grammar=grammar,
    )
    usage = out.get("usage") or {}
    return {"text": out["choices"][0]["message"].get("content") or "", "tokens": usage.get("completion_tokens")}


def main(argv: list[str]) -> int:
    path, n_ctx, threads = argv[0], int(argv[1]), int(argv[2])
    replies = _protocol_stream()
    try:
        from llama_cpp import Llama

        llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
    except Exception as exc:  # noqa: BLE001 - every load failure is the parent's to report
        _say(replies, {"error": f"{type(exc).__name__}: {exc}", "stage": "load"})
        return 1
    _say(replies, {"ready": True})
    grammars: dict[str, Any] = {}  # GBNF text -> compiled grammar: a suite reuses a few
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = _answer(llm, request, grammars)
        except Exception as exc:  # noqa: BLE001 - a failed request is an answer the parent turns into an error
            _say(replies, {"error": f"{type(exc).__name__}: {exc}"})
            continue
        _say(replies, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
