"""Language identification of many texts at once: py3langid's model, numpy's speed.

py3langid walks its byte automaton one byte at a time in Python, most of the intake's time. Here
the automaton takes one step of every text of a batch at once (numpy), which gives the same
states, hence the same n-gram counts and scores, in a few hundred numpy steps for the batch. `detect_many` returns the language
`laif.core.langid.detect` returns for each text (tests/test_monitor_speed.py compares them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from laif.core.langid import _identifier


def _depth(nextmove: np.ndarray[Any, Any], rowbase: np.ndarray[Any, Any]) -> int:
    """The automaton's deepest state (its longest n-gram), breadth first from the start: in an
    Aho-Corasick automaton the shortest path to a state spells the n-gram it stands for."""
    seen = np.zeros(len(rowbase), dtype=bool)
    seen[0] = True
    frontier, depth = np.array([0]), 0
    reached = np.zeros(len(rowbase), dtype=bool)
    while True:
        reached[:] = False
        for block in range(0, len(frontier), 1024):  # 1,024 states x 256 bytes at a time: a few MB
            reached[nextmove[rowbase[frontier[block: block + 1024]][:, None] + np.arange(256)]] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not len(frontier):
            return depth
        seen[frontier] = True
        depth += 1


@lru_cache(maxsize=1)
def _model() -> tuple[Any, ...]:
    ident = _identifier()
    nextmove = np.frombuffer(ident.tk_nextmove, dtype=np.dtype(ident.tk_nextmove.typecode)).astype(np.int32)
    rowbase = np.asarray(ident._rowbase, dtype=np.int64)
    output = np.asarray(ident.tk_output, dtype=np.int32)
    table = np.asarray(ident.nb_ptc, dtype=np.float64)
    prior = np.asarray(ident.nb_pc, dtype=np.float64)
    return ident, nextmove, rowbase, output, _depth(nextmove, rowbase), table, prior


def detect_many(texts: list[str]) -> list[str]:
    """The language of each text, as `laif.core.langid.detect` gives it ("und" without letters)."""
    if not texts:
        return []
    ident, nextmove, rowbase, output, _, table, prior = _model()
    encoded = [ident._encode(t) for t in texts]
    if not any(encoded):
        return ["und"] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))  # longest first: active texts are a prefix
    longest = len(encoded[order[0]])
    lengths = np.fromiter((len(encoded[i]) for i in order), dtype=np.int64, count=len(texts))
    # the bytes of all texts in one buffer, then a row per byte position, a column per text (zeros past its end)
    buf = np.frombuffer(b"".join([encoded[i] for i in order]) + b"\0", dtype=np.uint8)
    at = np.cumsum(lengths) - lengths
    step = np.arange(longest)
    grid = buf[np.where(step[:, None] < lengths, at + step[:, None], len(buf) - 1)]
    active = np.searchsorted(-lengths, -np.arange(longest), side="left")  # how many texts are longer than j
    states = np.zeros(len(texts), dtype=np.int64)
    rows, found = [], []
    for j in range(longest):  # one byte of every text still going, at once
        n = int(active[j])
        states[:n] = nextmove[rowbase[states[:n]] + grid[j, :n]]
        f = output[states[:n]]
        hit = np.flatnonzero(f >= 0)
        rows.append(hit)
        found.append(f[hit])
    text = np.concatenate(rows)
    width = len(table)
    # (text, feature) pairs counted: sorted as one number (32 bits where they fit, twice as fast), runs counted
    kind: Any = np.int32 if len(texts) * width < 2**31 else np.int64
    keys = text.astype(kind) * kind(width) + np.concatenate(found).astype(kind)
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys)))
    keys = keys[starts].astype(np.int64)
    text, feature = keys // width, keys % width
    weight = np.log1p(counts.astype(np.float64))
    scores = np.stack([np.bincount(text, weights=weight * table[feature, c], minlength=len(texts))
                       for c in range(table.shape[1])], axis=1) + prior
    best = scores.argmax(axis=1)
    best[np.bincount(text, minlength=len(texts)) == 0] = 0  # no n-gram at all: py3langid's scores are all equal
    labels = ident.nb_classes
    out = [""] * len(texts)
    for row, i in enumerate(order):
        out[i] = str(labels[best[row]]) if any(ch.isalpha() for ch in texts[i]) else "und"
    return out
