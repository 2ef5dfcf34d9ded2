"""The monitoring spec: one YAML file says how a system in production is watched.

It names the stream, cuts it into windows (by time or by count), picks the reference, says
which record fields are identifiers (pseudonymised at intake) and what is kept, and gives the
alert rules in the sandbox spec's threshold language (`{min: ..., max: ...}`), one for the
warning state and one for the alert state. The Art. 72 plan is written from it (`plan.py`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from laif._yaml import load_spec_file
from laif.configurator.spec import Threshold
from laif.core.strict import Strict, canonical_sha256
from laif.monitor.summary import SIGNALS

_SIZE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Window(Strict):
    by: Literal["time", "count"] = Field("time", description="Cut the stream by time or by number of calls.")
    size: str = Field("1h", description="For time: 30m, 1h, 1d. For count: a number of calls, e.g. 1000.")

    @field_validator("size", mode="before")
    @classmethod
    def _whole_number_as_text(cls, value: Any) -> Any:
        """`size: 1000` in YAML is a number: read it as the text "1000" (a bool is not a size)."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _size(self) -> Window:
        if self.by == "time" and not _SIZE.match(self.size):
            raise ValueError(f"size {self.size!r}: for windows by time write a number and s, m, h or d, e.g. 1h")
        if self.by == "count" and not (self.size.isdigit() and int(self.size) > 0):
            raise ValueError(f"size {self.size!r}: for windows by count write a number of calls, e.g. 1000")
        return self

    @property
    def seconds(self) -> int:
        m = _SIZE.match(self.size)
        assert m is not None and self.by == "time"
        return int(m.group(1)) * _UNITS[m.group(2)]

    @property
    def length(self) -> int:
        """The size as a number: calls for windows by count, seconds for windows by time."""
        return int(self.size) if self.by == "count" else self.seconds

    def describe(self) -> str:
        return f"{self.size} of time" if self.by == "time" else f"{self.size} calls"


class Reference(Strict):
    """The windows the others are compared with: the first N, or those starting in [start, end)."""

    windows: int | None = Field(24, ge=1, description="The first N windows of the stream.")
    start: datetime | None = None
    end: datetime | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Reference:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both `start` and `end`, or neither")
        if self.start is not None:
            self.windows = None
            if self.start.tzinfo is None or self.end is None or self.end.tzinfo is None:
                raise ValueError("`start` and `end` need a time zone, e.g. 2026-11-23T00:00:00Z")
            if self.end <= self.start:
                raise ValueError("`end` must come after `start`")
        return self

    def describe(self) -> str:
        if self.start is not None and self.end is not None:
            return f"the windows starting from {self.start.isoformat()} until {self.end.isoformat()}"
        return f"the first {self.windows} window(s) of the stream"


class Rule(Strict):
    """Thresholds of one signal; with neither, only the reference band judges it."""

    warning: Threshold | None = None
    alert: Threshold | None = None


#: Rules every stream gets unless its spec says otherwise (documented in docs/monitoring.md).
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "error_rate": {"warning": {"max": 0.02}, "alert": {"max": 0.05}},
    "timeout_rate": {"warning": {"max": 0.02}, "alert": {"max": 0.05}},
    "empty_rate": {"warning": {"max": 0.02}, "alert": {"max": 0.05}},
    "refusal_rate": {"warning": {"max": 0.10}, "alert": {"max": 0.20}},
    "language_fidelity": {"warning": {"min": 0.90}, "alert": {"min": 0.80}},
    "pii_rate": {"warning": {"max": 0.01}, "alert": {"max": 0.05}},
}


class MonitorSpec(Strict):
    version: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                      description="The stream's name: 1-64 letters, digits, '-', '_', starting with a letter or digit.")
    system: str = Field("", description="The AI system in production, as its documentation names it.")
    provider: str = Field("", description="Who places it on the market (Art. 3(3)).")
    contact: str = Field("", description="Who answers for post-market monitoring.")
    window: Window = Field(default_factory=lambda: Window.model_validate({}))
    reference: Reference = Field(default_factory=lambda: Reference.model_validate({}))
    min_window: int = Field(100, ge=1, description="Windows with fewer calls are shown but not judged.")
    identifiers: list[str] = Field(default_factory=lambda: ["user_id", "session_id"],
                                   description="Record fields that identify people: pseudonymised at intake.")
    keep: Literal["none", "pseudonymised", "raw"] = Field(
        "none", description="none: only window summaries; pseudonymised: each call too, identifiers as pseudonyms "
                            "and personal data in the text masked; raw: each call as it came.")
    key_env: str = Field("LAIF_IPMS_SECRET", description="Variable holding the IPMS master secret (for keep: pseudonymised).")
    language_every: int = Field(1, ge=1, description="Identify the languages of every Nth call only: language "
                                                     "identification is most of the intake's time (1: every call).")
    correction: Literal["bh", "bonferroni"] = Field("bh", description="Correction of KS/chi-squared p-values for many features.")
    band_sd: float = Field(3.0, gt=0, description="Reference band: the reference windows' mean +- this many standard deviations.")
    alerts: dict[str, Rule] = Field(default_factory=lambda: {k: Rule.model_validate(v) for k, v in DEFAULT_RULES.items()},
                                    description="signal -> warning/alert thresholds ({min, max}).")
    retention_days: int = Field(183, ge=183, description="How long logs and summaries are kept (Arts. 19, 26(6): "
                                                         "at least six months).")

    @field_validator("alerts")
    @classmethod
    def _signals(cls, v: dict[str, Rule]) -> dict[str, Rule]:
        unknown = sorted(set(v) - set(SIGNALS))
        if unknown:
            raise ValueError(f"unknown signal(s) {', '.join(unknown)}; known: {', '.join(SIGNALS)}")
        return v

    def spec_hash(self) -> str:
        """SHA-256 of the spec as validated (laif.core.strict.canonical_sha256), named in the monitoring plan."""
        return canonical_sha256(self)

    def window_of(self, when: datetime, seq: int) -> int:
        """The index of the window a call at `when`, the `seq`-th of the stream (from 0), falls in."""
        if self.window.by == "count":
            return seq // int(self.window.size)
        return int(when.timestamp()) // self.window.seconds

    def window_bounds(self, index: int) -> tuple[datetime, datetime] | None:
        """Start and end of a time window; None for windows by count (their times are what was seen)."""
        if self.window.by == "count":
            return None
        start = datetime.fromtimestamp(index * self.window.seconds, tz=UTC)
        return start, start + timedelta(seconds=self.window.seconds)


def load_monitor_spec(path: Path) -> MonitorSpec:
    return load_spec_file(MonitorSpec, path, "monitoring spec", "name, window, reference, alerts", "laif monitor init")


EXAMPLE = """\
# How laif watches a system in production. Check it: `laif monitor ingest --spec monitor.yaml ...`
version: 1
name: banking-chatbot               # the stream: windows, alerts and incidents are kept under it
system: Banking assistant v3
provider: Example Bank S.A.
contact: ai-monitoring@example.lu

window: {by: time, size: 1h}        # or {by: count, size: 1000}
reference: {windows: 24}            # the first 24 windows; or {start: 2026-11-23T00:00:00Z, end: 2026-11-24T00:00:00Z}
min_window: 100                     # windows with fewer calls are shown but not judged

identifiers: [user_id, session_id]  # pseudonymised at intake (IPMS), never stored raw
keep: none                          # none | pseudonymised | raw: whether each call is kept besides the summaries
key_env: LAIF_IPMS_SECRET           # the IPMS master secret, for keep: pseudonymised
language_every: 1                   # identify languages of every Nth call only (language is the slowest part of the intake)
correction: bh                      # bh (Benjamini-Hochberg) or bonferroni, for KS/chi-squared over many features
band_sd: 3                          # reference band of each signal: mean +- 3 standard deviations

alerts:                             # signal: {warning: {min, max}, alert: {min, max}}
  error_rate: {warning: {max: 0.02}, alert: {max: 0.05}}
  timeout_rate: {warning: {max: 0.02}, alert: {max: 0.05}}
  empty_rate: {warning: {max: 0.02}, alert: {max: 0.05}}
  refusal_rate: {warning: {max: 0.10}, alert: {max: 0.20}}
  language_fidelity: {warning: {min: 0.90}, alert: {min: 0.80}}
  pii_rate: {warning: {max: 0.01}, alert: {max: 0.05}}
  latency_p95_s: {warning: {max: 4}, alert: {max: 8}}

retention_days: 183                 # Arts. 19 and 26(6): logs kept at least six months
"""
