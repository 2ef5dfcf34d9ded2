"""Tables of model inputs and outputs (CSV): every column but `time` a drift feature; a shift in
one column is an alert on that column alone; bad rows named by file and line, nothing lost."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.monitor.alerts import REFERENCE, evaluate
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Reference, Window
from laif.monitor.store import MonitorStore
from tests.conftest import run_laif


def _table(path: Path, rows: int, shift_from: int, delimiter: str = ",") -> Path:
    rng = random.Random(4)
    lines = [delimiter.join(["time", "income_eur", "region", "score"])]
    for i in range(rows):
        shifted = i >= shift_from
        income = rng.gauss(5200 if shifted else 4000, 900)
        region = rng.choice(["north", "centre", "south"])
        lines.append(delimiter.join([f"2026-11-23T08:00:{i % 60:02d}Z", f"{income:.2f}", region,
                                     f"{rng.random():.4f}"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _spec() -> MonitorSpec:
    return MonitorSpec(name="credit", window=Window(by="count", size="200"), reference=Reference(windows=5), min_window=50)


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_shifted_column_alerts_on_that_column_only(tmp_path: Path, store: MonitorStore, delimiter: str) -> None:
    ingest(store, _spec(), _table(tmp_path / "t.csv", 3000, shift_from=2000, delimiter=delimiter), form="csv")
    ev = evaluate(store, "credit")
    states = [w.state for w in ev.windows]
    assert states[:5] == [REFERENCE] * 5 and len(states) == 15
    assert "alert" not in states[5:10]
    assert states[10:] == ["alert"] * 5
    fired = {rule for rule, r in ev.windows[10].rules.items() if r["state"] == "alert"}
    assert fired == {"drift.features.income_eur"}
    assert ev.windows[10].signals["empty_rate"]["value"] is None  # no text to read in a table


def test_a_bad_row_is_named_and_the_rows_before_it_are_kept(tmp_path: Path, store: MonitorStore) -> None:
    path = _table(tmp_path / "t.csv", 30, shift_from=99)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[10] = "2026-11-23T08:00:10Z,4000"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"t\.csv:11: 2 cells for 4 columns"):
        ingest(store, _spec(), path, form="csv")
    assert sum(w.n for w in store.windows("credit")) == 9
    lines[10] = "2026-11-23T08:00:10Z,4000,north,0.5"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest(store, _spec(), path, form="csv").calls == 21
    assert sum(w.n for w in store.windows("credit")) == 30


def test_cli_a_table_without_a_time_column_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("when,income\n2026-11-23T08:00:00Z,1\n", encoding="utf-8")
    r = run_laif("monitor", "ingest", str(path), "--stream", "credit", "--format", "csv",
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "t.csv:1: no 'time' column; the header has when, income" in r.stderr
