"""Drift of embeddings: MMD with a permutation test (numpy only), on a mergeable sample per window.

Checked against values worked by hand and pair by pair, for its level (the share of p < 0.05
without drift is about 0.05), and end to end: a stream whose embeddings shift at a known window
alerts from that window and not before, and calm windows give no alert."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from laif.errors import BadInput
from laif.monitor import stats
from laif.monitor.alerts import REFERENCE, evaluate
from laif.monitor.intake import ingest
from laif.monitor.sketch import EmbeddingSample
from laif.monitor.spec import MonitorSpec, Reference, Window
from laif.monitor.store import MonitorStore


def _pairwise_mmd2(x: np.ndarray, y: np.ndarray, gamma: float) -> float:
    """Unbiased MMD² with the kernel exp(-gamma d²), written out pair by pair."""
    def k(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.exp(-gamma * np.sum((u - v) ** 2)))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_mmd2_by_hand_and_pair_by_pair() -> None:
    # x = {0, 1}, y = {0, 2}, kernel exp(-d²): xx = e^-1, yy = e^-4, xy = (1 + e^-4 + 2 e^-1) / 4
    pooled = np.array([[0.0], [1.0], [0.0], [2.0]])
    kernel = np.exp(-(pooled - pooled.T) ** 2)
    z = np.array([[1.0, 1.0, 0.0, 0.0]])
    by_hand = math.exp(-1) + math.exp(-4) - 2 * (1 + math.exp(-4) + 2 * math.exp(-1)) / 4
    assert stats._mmd2(kernel, z)[0] == pytest.approx(by_hand)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(9, 3)), rng.normal(0.5, 1.0, size=(7, 3))
    both = np.vstack([x, y])
    d2 = ((both[:, None, :] - both[None, :, :]) ** 2).sum(-1)
    median = float(np.median(d2[np.triu_indices(16, k=1)]))
    expected = _pairwise_mmd2(x, y, 1 / median)
    assert stats.mmd_test(x, y).statistic == pytest.approx(math.sqrt(max(expected, 0.0)))
    z = np.zeros((1, 16))
    z[0, :9] = 1
    assert stats._mmd2(stats._gaussian_kernel(both), z)[0] == pytest.approx(expected)


def test_mmd_test_properties() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(25, 4))
    a, b = stats.mmd_test(x, y, permutations=99), stats.mmd_test(y, x, permutations=99)
    assert a.statistic == pytest.approx(b.statistic)
    assert 0.01 <= a.p_value <= 1.0
    assert stats.mmd_test(x, x + 3.0, permutations=99).p_value == pytest.approx(0.01)  # the smallest p of 99
    with pytest.raises(ValueError, match="same length"):
        stats.mmd_test(x, y[:, :3])
    with pytest.raises(ValueError, match="at least two"):
        stats.mmd_test(x[:1], y)


def test_level_without_drift_and_power_with_it() -> None:
    rng = np.random.default_rng(11)
    p_calm = [stats.mmd_test(rng.normal(size=(40, 6)), rng.normal(size=(40, 6)), permutations=99, seed=i).p_value
              for i in range(200)]
    false_alarms = sum(p < stats.P_VALUE for p in p_calm) / len(p_calm)
    assert 0.01 <= false_alarms <= 0.10  # the test's level, 0.05, within sampling error (sd 0.015)
    shifted = [stats.mmd_test(rng.normal(size=(40, 6)), rng.normal(0.6, 1.0, size=(40, 6)), permutations=99,
                              seed=i).p_value for i in range(50)]
    assert sum(p < stats.P_VALUE for p in shifted) >= 45


def test_a_sample_merges_into_the_sample_of_the_union() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(700, 5)).tolist()
    whole, left, right = EmbeddingSample(size=50), EmbeddingSample(size=50), EmbeddingSample(size=50)
    for i, v in enumerate(vectors):
        whole.add(v)
        (left if i % 3 else right).add(v)
    merged = right.merge(left)
    assert merged.n == whole.n == 700 and sorted(merged.kept) == sorted(whole.kept)
    again = EmbeddingSample.from_json(json.loads(json.dumps(merged.to_json())))
    assert sorted(again.kept) == sorted(merged.kept) and again.dim == 5
    with pytest.raises(ValueError, match="an embedding of 4 numbers where this stream's have 5"):
        whole.add([1.0, 2.0, 3.0, 4.0])


def _stream(path: Path, windows: int, per_window: int, shift_at: int | None, seed: int) -> Path:
    """Calls whose embeddings mix three topics; from window `shift_at` a fourth topic appears."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 16)) * 2
    with path.open("w", encoding="utf-8") as fh:
        for w in range(windows):
            for i in range(per_window):
                topics = 4 if shift_at is not None and w >= shift_at else 3
                share = [0.3, 0.3, 0.2, 0.2] if topics == 4 else [0.4, 0.35, 0.25]
                vector = centres[rng.choice(topics, p=share)] + rng.normal(size=16)
                fh.write(json.dumps({"time": 1795420800 + w * 3600 + i, "prompt": "Wéi spären ech meng Kaart?",
                                     "answer": "An der App.", "embedding": [round(v, 4) for v in vector]}) + "\n")
    return path


def _spec() -> MonitorSpec:
    return MonitorSpec(name="emb", window=Window(by="count", size="150"), reference=Reference(windows=4), min_window=50)


def test_embedding_drift_alerts_in_its_window_and_not_before(tmp_path: Path) -> None:
    store = MonitorStore(f"sqlite:///{tmp_path / 'e.db'}")
    ingest(store, _spec(), _stream(tmp_path / "e.jsonl", 16, 150, shift_at=10, seed=3))
    ev = evaluate(store, "emb")
    states = [w.features.get("embedding", {}).get("state") for w in ev.windows]
    assert [w.state for w in ev.windows[:4]] == [REFERENCE] * 4
    assert "alert" not in states[4:10]
    assert states[10:] == ["alert"] * 6
    assert ev.windows[10].rules["drift.embedding"]["why"].startswith("MMD permutation p ")


def test_calm_embeddings_raise_no_alert(tmp_path: Path) -> None:
    store = MonitorStore(f"sqlite:///{tmp_path / 'e.db'}")
    ingest(store, _spec(), _stream(tmp_path / "e.jsonl", 44, 150, shift_at=None, seed=8))
    results = [w.features["embedding"] for w in evaluate(store, "emb").windows[4:]]
    assert len(results) == 40 and all(r["state"] != "alert" for r in results)
    assert sum(r["state"] == "warning" for r in results) <= 6  # corrected p < 0.05: about 5 % at most
    assert max(r["mmd"] for r in results) < stats.MMD_ALERT


def test_a_bad_embedding_is_named_by_line(tmp_path: Path) -> None:
    store = MonitorStore(f"sqlite:///{tmp_path / 'e.db'}")
    path = tmp_path / "e.jsonl"
    good = {"time": 1795420800, "prompt": "Hi there", "answer": "Hello to you", "embedding": [0.1, 0.2, 0.3]}
    path.write_text("\n".join([json.dumps(good), json.dumps(good | {"embedding": [0.1, 0.2]}),
                               json.dumps(good)]) + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"e\.jsonl:2: field 'embedding': 2 numbers where the lines before have 3"):
        ingest(store, _spec(), path)
    path.write_text(json.dumps(good | {"embedding": [0.1, "x"]}) + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"e\.jsonl:1: field 'embedding': expected a list of two or more numbers"):
        ingest(store, MonitorSpec(name="other"), path)
