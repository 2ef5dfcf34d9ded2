"""Tables of model inputs and outputs in Parquet: read a row group at a time, the same pipeline as
CSV (a shifted column alerts on that column alone); bad files, row groups, columns and rows are
named, exit 2, and the rows before a bad one are kept and not counted twice."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from laif.errors import BadInput
from laif.monitor import parquet
from laif.monitor.alerts import REFERENCE, evaluate
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Reference, Window
from laif.monitor.store import MonitorStore
from laif.monitor.summary import WindowSummary
from tests.conftest import run_laif
from tests.test_monitor_speed import _same

START = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _columns(rows: int, shift_from: int) -> dict[str, list[Any]]:
    rng = random.Random(4)
    cols: dict[str, list[Any]] = {"time": [], "income_eur": [], "region": [], "score": [], "approved": []}
    for i in range(rows):
        cols["time"].append(START + timedelta(seconds=i))
        cols["income_eur"].append(rng.gauss(5200 if i >= shift_from else 4000, 900))
        cols["region"].append(rng.choice(["north", "centre", "south"]))
        cols["score"].append(rng.random())
        cols["approved"].append(rng.random() < 0.6)
    return cols


def _write(path: Path, cols: dict[str, list[Any]], group: int = 500, time_type: Any = None) -> Path:
    fields = {"time": time_type or pa.timestamp("us", tz="UTC"), "income_eur": pa.float64(),
              "region": pa.dictionary(pa.int8(), pa.string()), "score": pa.float32(), "approved": pa.bool_()}
    table = pa.table({k: pa.array(v, type=fields.get(k)) for k, v in cols.items()})
    pq.write_table(table, path, row_group_size=group)
    return path


def _spec() -> MonitorSpec:
    return MonitorSpec(name="credit", window=Window(by="count", size="200"), reference=Reference(windows=5), min_window=50)


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


def test_a_shifted_column_alerts_on_that_column_only(tmp_path: Path, store: MonitorStore) -> None:
    path = _write(tmp_path / "t.parquet", _columns(3000, shift_from=2000))
    assert pq.ParquetFile(path).num_row_groups == 6
    result = ingest(store, _spec(), path, form="parquet")
    assert result.calls == 3000 and result.lines == 3000
    ev = evaluate(store, "credit")
    states = [w.state for w in ev.windows]
    assert states[:5] == [REFERENCE] * 5 and len(states) == 15
    assert "alert" not in states[5:10]
    assert states[10:] == ["alert"] * 5
    fired = {rule for rule, r in ev.windows[10].rules.items() if r["state"] == "alert"}
    assert fired == {"drift.features.income_eur"}
    summary = store.windows("credit")[0].summary
    assert set(summary["labels"]) == {"features.region", "features.approved"}
    assert set(WindowSummary.from_json(summary).labels["features.approved"].counts) == {"true", "false"}
    assert {"features.income_eur", "features.score"} <= set(summary["numbers"])


def test_same_rows_as_csv_give_the_same_summaries(tmp_path: Path) -> None:
    """Parquet is summarised a column at a time, CSV a row at a time: the same bins and counts."""
    cols = _columns(600, shift_from=999)
    a = MonitorStore(f"sqlite:///{tmp_path / 'a.db'}")
    b = MonitorStore(f"sqlite:///{tmp_path / 'b.db'}")
    ingest(a, _spec(), _write(tmp_path / "t.parquet", cols, group=128), form="parquet")
    lines = ["time,income_eur,region,score,approved"] + [
        f"{t.isoformat()},{x!r},{r},{float(pa.scalar(s, pa.float32()).as_py())!r},{str(ok).lower()}"
        for t, x, r, s, ok in zip(*cols.values(), strict=True)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(b, _spec(), tmp_path / "t.csv", form="csv")
    assert _same([w.summary for w in a.windows("credit")], [w.summary for w in b.windows("credit")])


def test_times_as_text_or_seconds(tmp_path: Path, store: MonitorStore) -> None:
    cols = _columns(300, shift_from=999)
    cols["time"] = [t.isoformat() for t in cols["time"]]
    ingest(store, _spec(), _write(tmp_path / "a.parquet", cols, time_type=pa.string()), form="parquet")
    cols["time"] = [datetime.fromisoformat(t).timestamp() for t in cols["time"]]
    ingest(store, _spec(), _write(tmp_path / "b.parquet", cols, time_type=pa.float64()), form="parquet")
    windows = store.windows("credit")
    assert [w.n for w in windows] == [200, 200, 200]


@pytest.mark.parametrize("batch", [16_384, 37])  # rows of a row group read at a time
def test_a_bad_row_is_named_kept_before_and_resumed_after_the_fix(tmp_path: Path, store: MonitorStore, batch: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "BATCH_ROWS", batch)
    cols = _columns(1000, shift_from=9999)
    cols["time"] = [t.isoformat() for t in cols["time"]]
    cols["time"][612] = "23/11/2026 08:10"
    path = _write(tmp_path / "t.parquet", cols, group=250, time_type=pa.string())
    with pytest.raises(BadInput, match=r"t\.parquet: row group 2, row 613 of the file, column 'time': not an ISO "
                                       r"8601 time: '23/11/2026 08:10'"):
        ingest(store, _spec(), path, form="parquet", flush_every=100)
    assert sum(w.n for w in store.windows("credit")) == 612
    cols["time"][612] = (START + timedelta(seconds=612)).isoformat()
    _write(path, cols, group=250, time_type=pa.string())
    result = ingest(store, _spec(), path, form="parquet")
    assert (result.resumed_at, result.calls) == (612, 388)
    assert sum(w.n for w in store.windows("credit")) == 1000
    assert ingest(store, _spec(), path, form="parquet").calls == 0  # nothing counted twice
    cols["income_eur"][3] = 1.0  # a row already taken in changes: refused
    _write(path, cols, group=250, time_type=pa.string())
    with pytest.raises(BadInput, match=r"t\.parquet: changed in its first 1000 rows"):
        ingest(store, _spec(), path, form="parquet")


def test_an_empty_time_is_named(tmp_path: Path, store: MonitorStore) -> None:
    cols = _columns(100, shift_from=999)
    cols["time"][40] = None
    with pytest.raises(BadInput, match=r"row group 0, row 41 of the file, column 'time': empty"):
        ingest(store, _spec(), _write(tmp_path / "t.parquet", cols), form="parquet")


@pytest.mark.parametrize(("change", "message"), [
    ({"time": pa.array([1, 2], type=pa.timestamp("s"))},
     r"row group 0, column 'time': timestamps without a time zone"),
    ({"time": pa.array([True, False])}, r"row group 0, column 'time': type bool is not a time"),
    ({"when": pa.array(["2026-11-23T08:00:00Z"] * 2)}, r"t\.parquet: no 'time' column; the columns are when"),
    ({"time": pa.array(["2026-11-23T08:00:00Z"] * 2), "tags": pa.array([["a"], ["b"]])},
     r"row group 0, column 'tags': type list<element: string> cannot be a drift feature"),
])
def test_bad_columns_are_named(tmp_path: Path, store: MonitorStore, change: dict[str, Any], message: str) -> None:
    pq.write_table(pa.table(change), tmp_path / "t.parquet")
    with pytest.raises(BadInput, match=message):
        ingest(store, _spec(), tmp_path / "t.parquet", form="parquet")
    assert store.windows("credit") == []


def test_a_file_that_is_not_parquet_or_is_cut_short(tmp_path: Path, store: MonitorStore) -> None:
    (tmp_path / "t.parquet").write_text("time,x\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"t\.parquet: not a Parquet file"):
        ingest(store, _spec(), tmp_path / "t.parquet", form="parquet")
    path = _write(tmp_path / "u.parquet", _columns(1000, shift_from=9999), group=250)
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata.row_group(2).column(1)
    start = meta.data_page_offset
    data[start: start + 64] = b"\xff" * 64  # a damaged page in row group 2
    path.write_bytes(bytes(data))
    with pytest.raises(BadInput, match=r"u\.parquet: row group 2: cannot be read"):
        ingest(store, _spec(), path, form="parquet")
    assert sum(w.n for w in store.windows("credit")) == 500  # the two row groups before it are kept


def test_cli_parquet_and_a_bad_one_exit_2(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    path = _write(tmp_path / "t.parquet", _columns(300, shift_from=999))
    r = run_laif("monitor", "ingest", str(path), "--stream", "credit", "--format", "parquet", env=env)
    assert r.returncode == 0, r.stderr
    assert "300 lines, 300 calls" in r.stderr
    pq.write_table(pa.table({"when": pa.array([1])}), tmp_path / "bad.parquet")
    r = run_laif("monitor", "ingest", str(tmp_path / "bad.parquet"), "--stream", "credit", "--format", "parquet", env=env)
    assert r.returncode == 2 and "bad.parquet: no 'time' column; the columns are when" in r.stderr
    assert "Traceback" not in r.stderr


def test_nulls_nan_and_blank_labels_are_left_out(tmp_path: Path, store: MonitorStore) -> None:
    times = [START + timedelta(seconds=i) for i in range(6)]
    table = pa.table({"time": pa.array(times, type=pa.timestamp("ms", tz="UTC")),
                      "x": pa.array([1.0, None, float("nan"), float("inf"), 2.0, 3.0]),
                      "n": pa.array([1, 2, None, 4, 5, 6], type=pa.int32()),
                      "label": pa.array(["a", None, " ", "b", "a", "a"])})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=4)
    ingest(store, _spec(), tmp_path / "t.parquet", form="parquet")
    summary = WindowSummary.from_json(store.windows("credit")[0].summary)
    assert summary.counts["n"] == 6
    assert summary.numbers["features.x"].n == 3 and summary.numbers["features.x"].total == 6.0
    assert summary.numbers["features.n"].n == 5
    assert summary.labels["features.label"].counts == {"a": 3, "b": 1}


def test_a_file_cut_shorter_than_what_was_taken_in_is_refused(tmp_path: Path, store: MonitorStore) -> None:
    cols = _columns(600, shift_from=9999)
    path = _write(tmp_path / "t.parquet", cols, group=200)
    ingest(store, _spec(), path, form="parquet")
    _write(path, {k: v[:300] for k, v in cols.items()}, group=200)
    with pytest.raises(BadInput, match=r"t\.parquet: has 300 rows, fewer than the 600 stream 'credit' already took in"):
        ingest(store, _spec(), path, form="parquet")
