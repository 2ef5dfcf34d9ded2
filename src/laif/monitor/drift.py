"""A window against the reference, feature by feature.

Numbers (latency, tokens, lengths, numeric features) are compared on their sketches' fixed
bins: KS and Wasserstein on the fine bins, PSI on ten bins cut at the reference's deciles.
Labels (languages, model, finish reason, text features) are compared on their counts: PSI,
chi-squared and Jensen-Shannon. Which result gives which state is in `feature_state`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from laif.monitor import stats
from laif.monitor.sketch import Categories, EmbeddingSample, Sketch
from laif.monitor.summary import WindowSummary

PSI_BINS = 10


def _decile_bins(reference: list[int], bins: int = PSI_BINS) -> np.ndarray[Any, np.dtype[np.intp]]:
    """For each fine bin, the coarse bin it joins: coarse bins hold about a tenth of the reference each."""
    e = np.asarray(reference, dtype=np.float64)
    before = (np.cumsum(e) - e) / e.sum()
    coarse: np.ndarray[Any, np.dtype[np.intp]] = np.minimum((before * bins).astype(np.intp), bins - 1)
    return coarse


def compare_numbers(reference: Sketch, current: Sketch) -> dict[str, Any]:
    ref, cur = dict(reference.bins()), dict(current.bins())
    values = sorted(set(ref) | set(cur))
    e = [ref.get(v, 0) for v in values]
    a = [cur.get(v, 0) for v in values]
    coarse = _decile_bins(e)
    ks = stats.ks(e, a)
    w = stats.wasserstein(values, e, a)
    std = reference.std or 0.0
    normed = w / std if std > 0 else (0.0 if w == 0 else math.inf)
    return {
        "kind": "number", "n_reference": reference.n, "n": current.n,
        "psi": stats.psi(np.bincount(coarse, weights=e, minlength=PSI_BINS), np.bincount(coarse, weights=a, minlength=PSI_BINS)),
        "ks": ks.statistic, "p_value": ks.p_value, "test": "KS",
        "distance": normed, "distance_name": "Wasserstein / sd",
        "reference_median": reference.quantile(0.5), "median": current.quantile(0.5),
    }


def compare_labels(reference: Categories, current: Categories) -> dict[str, Any]:
    labels = sorted(set(reference.counts) | set(current.counts))
    e = [reference.counts.get(k, 0) for k in labels]
    a = [current.counts.get(k, 0) for k in labels]
    test = stats.chi2(e, a)
    top_ref = max(reference.counts, key=lambda k: reference.counts[k])
    return {
        "kind": "label", "n_reference": reference.n, "n": current.n,
        "psi": stats.psi(e, a), "chi2": test.statistic, "p_value": test.p_value, "test": "chi-squared",
        "distance": stats.jensen_shannon(e, a), "distance_name": "Jensen-Shannon",
        "reference_top": top_ref, "reference_top_share": reference.counts[top_ref] / reference.n,
        "top_share": current.counts.get(top_ref, 0) / current.n,
    }


def compare_embeddings(reference: EmbeddingSample, current: EmbeddingSample) -> dict[str, Any]:
    """The two windows' samples of embeddings (at most 200 each) by MMD with a permutation test."""
    test = stats.mmd_test(reference.vectors(), current.vectors())
    return {
        "kind": "embedding", "n_reference": reference.n, "n": current.n, "dim": current.dim,
        "sampled": (len(reference.kept), len(current.kept)),
        "psi": None, "mmd": test.statistic, "p_value": test.p_value, "test": "MMD permutation",
        "distance": test.statistic, "distance_name": "MMD",
    }


def feature_state(result: dict[str, Any]) -> str:
    """Drift needs both a significant test and a size that matters:
    warning: the corrected p-value < 0.05;
    alert: that, and PSI > 0.25 or a distance > 0.1 (the distance when both windows hold 1,000+ values);
    for embeddings, that and an MMD > 0.1 (on samples of 200, the MMD without drift stays near 0.05).
    PSI alone is not enough on small windows: its noise is about (bins - 1)(1/n1 + 1/n2), 0.06 at 160 calls."""
    if result["p_adjusted"] >= stats.P_VALUE:
        return "ok"
    if result["kind"] == "embedding":  # MMD: the alert needs a change larger than a sample's noise
        return "alert" if result["distance"] > stats.MMD_ALERT else "warning"
    large = min(result["n_reference"], result["n"]) >= stats.DISTANCE_MIN_N
    if result["psi"] > stats.PSI_ALERT or (large and result["distance"] > stats.DISTANCE_ALERT):
        return "alert"
    return "warning"


def compare(reference: WindowSummary, current: WindowSummary, correction: str = "bh") -> dict[str, dict[str, Any]]:
    """Every feature both windows have, with its statistics, corrected p-value and state."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(reference.numbers) & set(current.numbers)):
        if reference.numbers[name].n and current.numbers[name].n:
            out[name] = compare_numbers(reference.numbers[name], current.numbers[name])
    for name in sorted(set(reference.labels) & set(current.labels)):
        if reference.labels[name].n and current.labels[name].n:
            out[name] = compare_labels(reference.labels[name], current.labels[name])
    ref_e, cur_e = reference.embeddings, current.embeddings
    if ref_e is not None and cur_e is not None and len(ref_e.kept) >= 2 and len(cur_e.kept) >= 2 and ref_e.dim == cur_e.dim:
        out["embedding"] = compare_embeddings(ref_e, cur_e)
    adjusted = stats.CORRECTIONS[correction]([r["p_value"] for r in out.values()])
    for result, p in zip(out.values(), adjusted, strict=True):
        result["p_adjusted"] = p
        result["state"] = feature_state(result)
    return out
