"""The monitoring report's charts: round ticks in the signal's unit, a tick per day on the time
axis, thresholds labelled, and a page for any stream (windows by count, nothing judged yet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from laif.monitor.alerts import evaluate
from laif.monitor.intake import ingest
from laif.monitor.report import _scale, change_text, fmt_value, render, signal_chart, time_ticks
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import MonitorStore


def _log(path: Path, hours: int, per_hour: int = 12) -> Path:
    path.write_text("".join(json.dumps({"time": f"2026-11-{23 + h // 24:02d}T{h % 24:02d}:{m * 60 // per_hour:02d}:00Z",
                                        "prompt": "How do I block my card?", "answer": "In the app, under cards.",
                                        "latency_s": 0.5 + 0.01 * (m % 5)}) + "\n"
                            for h in range(hours) for m in range(per_hour)), encoding="utf-8")
    return path


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


def test_rates_start_at_zero_on_round_ticks_in_percent() -> None:
    low, high, ticks = _scale("refusal_rate", [0.0035, 0.17, 0.2])
    assert (low, high) == (0.0, 0.2) and ticks == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    low, high, ticks = _scale("latency_p95_s", [1.16, 2.2])
    assert low <= 1.16 and high >= 2.2 and all(round(t / 0.5, 9).is_integer() for t in ticks)
    low, high, _ = _scale("error_rate", [0.0, 0.0])
    assert low == 0.0 and high > 0
    assert fmt_value("refusal_rate", 0.1136) == "11.4 %" and fmt_value("latency_p50_s", 1.39) == "1.39 s"
    assert fmt_value("output_tokens_mean", 96.8) == "96.8" and fmt_value("pii_rate", None) == "–"


def test_hourly_windows_get_a_tick_per_day_and_labelled_thresholds(store: MonitorStore, tmp_path: Path) -> None:
    ingest(store, MonitorSpec(name="bot", min_window=5, reference={"windows": 6}), _log(tmp_path / "l.jsonl", 72))
    ev = evaluate(store, "bot")
    ticks = time_ticks(ev.windows)
    assert [label for _, label, _ in ticks] == ["23 Nov", "24 Nov", "25 Nov"] and all(day for *_, day in ticks)
    chart = str(signal_chart("refusal_rate", ev))
    assert "alert 20 %" in chart and "warning 10 %" in chart and ">reference<" in chart
    html = render(ev, store.alerts("bot"), store.canaries("bot"))
    assert "Each window at a glance" in html and "Refusals" in html and "reference band" in html


def test_windows_by_count_and_a_stream_not_yet_judged_still_give_a_page(store: MonitorStore, tmp_path: Path) -> None:
    ingest(store, MonitorSpec(name="counted", window={"by": "count", "size": "20"}, min_window=5,
                              reference={"windows": 2}), _log(tmp_path / "c.jsonl", 8))
    ev = evaluate(store, "counted")
    assert len(time_ticks(ev.windows)) >= 2
    assert "<svg" in render(ev, [], [])
    ingest(store, MonitorSpec(name="young", min_window=5), _log(tmp_path / "y.jsonl", 3))
    html = render(evaluate(store, "young"), [], [])
    assert "No window judged yet" in html


def test_a_drift_change_does_not_repeat_its_number() -> None:
    kept = "4.605 (PSI 4.605, KS p 2.23e-150 (corrected), Wasserstein / sd 2.849)"
    assert change_text("drift.answer_chars", kept) == "PSI 4.605, KS p 2.23e-150 (corrected), Wasserstein / sd 2.849"
    rounded = "0.2775 (PSI 0.278, chi-squared p 2.04e-16 (corrected), Jensen-Shannon 0.222)"
    assert change_text("drift.answer_language", rounded).startswith("PSI 0.278, chi-squared")
    assert change_text("signal.pii_rate", "0.01509 (outside the warning threshold)") == "0.01509 (outside the warning threshold)"
