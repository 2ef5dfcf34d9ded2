"""Errors a user can meet, each with the exit code the CLI documents.

| code | meaning |
| ---- | ------- |
| 0 | success |
| 1 | the assessment ran but a threshold gate failed (later issues) |
| 2 | bad input: a malformed library, spec, model string or JSONL line |
| 3 | the model could not be reached after retries; answered prompts are kept |
| 130 | interrupted (Ctrl-C, or end of input at a prompt) |
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130


class LaifError(Exception):
    """An error with a message meant for the user and an exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInput(LaifError):
    """The user gave us something we cannot use; the message says where."""

    exit_code = EXIT_BAD_INPUT

    @classmethod
    def at(cls, where: str, line: int | None, message: str, hint: str | None = None) -> BadInput:
        place = f"{where}:{line}" if line is not None else where
        return cls(f"{place}: {message}", hint=hint)


class ModelUnreachable(LaifError):
    """The model did not answer after all retries."""

    exit_code = EXIT_UNREACHABLE


class Interrupted(LaifError):
    """The user stopped a command that had nothing to keep (e.g. a questionnaire at a prompt)."""

    exit_code = EXIT_INTERRUPTED
