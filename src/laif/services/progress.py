"""Progress: the one callback type that long work (an assessment, Slurm shards, a bundle) reports through.

A service takes `progress: Progress | None` and calls it with `ProgressEvent`s; it never prints.
Each front end consumes the same events its own way:

- the command line: `TerminalProgress`, a rich progress bar on stderr, messages printed above it;
- a log: `LogProgress`, messages at INFO, counts at DEBUG;
- a web page: `sse(event)`, one server-sent event (`event: progress`, the event as JSON data).

An event either counts work (`done` of `total`, `total` None while unknown; no message) or says
something (`message`); `heading` marks a message that opens a step (a suite, an answer mode), which a
front end may set apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Task, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

__all__ = ["LogProgress", "Progress", "ProgressEvent", "TerminalProgress", "sse"]


@dataclass(frozen=True)
class ProgressEvent:
    """One report of long work."""

    #: The step: "asking", "judging", "suite", "answer mode", "shards", "scoring", "evidence", ...
    stage: str
    #: Units of work done, and in all (None while unknown).
    done: int | None = None
    total: int | None = None
    #: Something to tell the user; empty for a count.
    message: str = ""
    #: The message opens a step (`done` of `total` steps, when counted).
    heading: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: What every service that does long work accepts.
Progress = Callable[[ProgressEvent], None]


def sse(event: ProgressEvent) -> str:
    """The event as one server-sent event, for a web page's EventSource."""
    return f"event: progress\ndata: {json.dumps(event.as_dict(), ensure_ascii=False)}\n\n"


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} prompts/s" if speed else "… prompts/s")


class TerminalProgress:
    """A rich progress bar for counts (one bar per stretch of counted work, its description the
    stage) and lines for messages. `bar=False` (the CLI's --quiet) prints the messages only.
    Call `stop()` before printing anything else, so the finished bar stays above it."""

    def __init__(self, console: Console, *, bar: bool = True) -> None:
        self.console = console
        self.bar = bar
        self._live: RichProgress | None = None
        self._task: TaskID | None = None
        self._stage: str | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.message:
            self.stop()
            if event.heading:
                counted = f" ({event.done} of {event.total})" if event.done is not None and event.total else ""
                self.console.print(f"[bold]{escape(event.message)}[/bold]{counted}")
            else:
                self.console.print(escape(event.message))
            return
        if not self.bar:
            return
        if self._live is None or self._task is None:
            self._live = RichProgress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=False,
            )
            self._live.start()
            self._task = self._live.add_task(event.stage, total=None)
            self._stage = event.stage
        elif event.stage != self._stage:
            self._live.reset(self._task, description=event.stage, total=None)
            self._stage = event.stage
        if event.done is not None:
            self._live.update(self._task, completed=event.done, total=event.total)

    @property
    def task(self) -> Task | None:
        """The bar's current task (what it shows), while a bar is running."""
        if self._live is None or self._task is None:
            return None
        return self._live.tasks[0]

    def stop(self) -> None:
        """End the current bar, leaving it on screen; the next count starts a new one."""
        if self._live is not None:
            self._live.stop()
        self._live = self._task = self._stage = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


class LogProgress:
    """Events to a logger: messages at INFO (`level`), counts at DEBUG."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger or logging.getLogger("laif.progress")
        self.level = level

    def __call__(self, event: ProgressEvent) -> None:
        counted = (f"{event.done}/{event.total if event.total is not None else '?'}"
                   if event.done is not None else "")
        if event.message:
            self.logger.log(self.level, "%s: %s%s", event.stage, event.message, f" ({counted})" if counted else "")
        else:
            self.logger.debug("%s: %s", event.stage, counted or "started")
