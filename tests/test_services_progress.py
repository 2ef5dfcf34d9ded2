"""One progress callback type: the terminal bar, a log and a web page (server-sent events) consume
the same events, each its own way."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rich.console import Console

from laif.services.progress import LogProgress, ProgressEvent, TerminalProgress, sse

EVENTS = [
    ProgressEvent("suite", 1, 2, "suite bias", heading=True),
    ProgressEvent("asking"),
    ProgressEvent("asking", 0, 4),
    ProgressEvent("asking", 3, 4),
    ProgressEvent("judging"),
    ProgressEvent("judging", 1, 2),
    ProgressEvent("shards", message="shard 1/2 done (job 7_0): 3 asked [sic]"),
]


def _console() -> tuple[Console, io.StringIO]:
    sink = io.StringIO()
    return Console(file=sink, width=120, force_terminal=False, color_system=None), sink


def test_the_terminal_bar_and_the_log_consume_the_same_events(caplog: pytest.LogCaptureFixture) -> None:
    console, sink = _console()
    seen = []
    with TerminalProgress(console) as bar:
        for event in EVENTS[:6]:
            bar(event)
            task = bar.task
            seen.append(None if task is None else (task.description, task.completed))
            if event.total is not None and not event.message:
                assert task is not None and task.total == event.total
        bar(EVENTS[6])
        assert bar.task is None  # a message ends the bar, so the line goes below it
    assert seen == [None, ("asking", 0), ("asking", 0), ("asking", 3), ("judging", 0), ("judging", 1)]
    text = sink.getvalue()
    assert "suite bias (1 of 2)" in text
    assert "shard 1/2 done (job 7_0): 3 asked [sic]" in text  # printed as written, not read as markup
    assert text.index("suite bias") < text.index("shard 1/2")

    caplog.set_level(logging.DEBUG, logger="laif.progress")
    log = LogProgress()
    for event in EVENTS:
        log(event)
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert lines == [
        (logging.INFO, "suite: suite bias (1/2)"),
        (logging.DEBUG, "asking: started"),
        (logging.DEBUG, "asking: 0/4"),
        (logging.DEBUG, "asking: 3/4"),
        (logging.DEBUG, "judging: started"),
        (logging.DEBUG, "judging: 1/2"),
        (logging.INFO, "shards: shard 1/2 done (job 7_0): 3 asked [sic]"),
    ]

    streamed = [sse(event) for event in EVENTS]
    assert all(s.startswith("event: progress\ndata: ") and s.endswith("\n\n") for s in streamed)
    assert [ProgressEvent(**json.loads(s.split("data: ", 1)[1])) for s in streamed] == EVENTS


def test_quiet_prints_the_messages_and_no_bar() -> None:
    console, sink = _console()
    with TerminalProgress(console, bar=False) as bar:
        for event in EVENTS:
            bar(event)
            assert bar.task is None
    text = sink.getvalue()
    assert "suite bias (1 of 2)" in text and "shard 1/2 done" in text
    assert "asking" not in text and "judging" not in text
