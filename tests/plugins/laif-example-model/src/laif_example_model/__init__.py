"""A laif model adapter plugin: a deterministic model that answers by rule.

It sums the two numbers of a question like "What is 7 plus 5?" and otherwise picks one
of a few short answers by a hash of the question, so every run gives the same answers.
laif finds it through the `laif.models` entry point in pyproject.toml; the model string
`myadapter:NAME` reaches `open_adapter("NAME", options)`.
"""

from __future__ import annotations

import hashlib
import re

from laif.errors import BadInput
from laif.models import Completion, EndpointOptions, GenerationParams, Message, Model, ModelIdentity

RULES_VERSION = "1"
SUM = re.compile(r"(\d+)\s*(?:plus|\+)\s*(\d+)")
ANSWERS = ["Yes.", "No.", "a", "I don't know.", "Luxembourg"]


class RuleModel(Model):
    """Answers by rule; `name` only tells runs apart (and goes into the model's identity)."""

    queues_requests = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.spec = f"myadapter:{name}"
        self.max_concurrency = 4
        self.closed = False

    async def identity(self) -> ModelIdentity:
        key = hashlib.sha256(f"laif-example-model/{RULES_VERSION}/{self.name}".encode()).hexdigest()
        return ModelIdentity(kind="rule", name=self.spec, key=key, details={"rules": RULES_VERSION})

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        question = messages[-1]["content"]
        found = SUM.search(question)
        if found:
            return Completion(str(int(found.group(1)) + int(found.group(2))))
        pick = int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16) % len(ANSWERS)
        return Completion(ANSWERS[pick])

    async def aclose(self) -> None:
        self.closed = True


def open_adapter(address: str, options: EndpointOptions) -> RuleModel:
    """The provider laif calls: `address` is what follows `myadapter:`."""
    if not address:
        raise BadInput("--model myadapter: expected myadapter:NAME, e.g. myadapter:rules")
    return RuleModel(address)
