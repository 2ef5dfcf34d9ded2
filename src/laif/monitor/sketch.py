"""Mergeable summaries of a stream of values: nothing here holds the values themselves.

- `Sketch` counts numbers in fixed, log-spaced bins (bin k holds the values in
  (gamma^(k-1), gamma^k], the same bins for every window and every stream). It is at once a
  histogram on fixed bins and a quantile sketch: any quantile is read back within a relative
  error of `ALPHA` (1 %), the scheme of DDSketch (Masson, Rim and Lee, VLDB 2019). Two sketches
  merge by adding their counts, so a day is the merge of its hours, in any order.
- `Categories` counts labels (a language, a model name), with at most `MAX_CATEGORIES` kept and
  the rest counted as `OTHER`, so a field full of free text cannot grow a window without bound.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
_LOG_GAMMA = math.log(GAMMA)
#: Magnitudes below this count as zero (a latency of 1e-12 s is a zero).
TINY = 1e-9
MAX_CATEGORIES = 50
OTHER = "(other)"


def bin_of(magnitude: float) -> int:
    """The bin of a positive magnitude."""
    return math.ceil(math.log(magnitude) / _LOG_GAMMA)


def bin_value(key: int) -> float:
    """The value that stands for bin `key`: within ALPHA of every value in it."""
    return 2 * GAMMA**key / (GAMMA + 1)


@dataclass
class Sketch:
    """Counts of numbers in fixed log-spaced bins, with count, sum, sum of squares, min and max."""

    pos: dict[int, int] = field(default_factory=dict)
    neg: dict[int, int] = field(default_factory=dict)
    zero: int = 0
    n: int = 0
    total: float = 0.0
    squares: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        self.squares += x * x
        if x < self.low:
            self.low = x
        if x > self.high:
            self.high = x
        if x > TINY:
            k = math.ceil(math.log(x) / _LOG_GAMMA)
            self.pos[k] = self.pos.get(k, 0) + 1
        elif x < -TINY:
            k = math.ceil(math.log(-x) / _LOG_GAMMA)
            self.neg[k] = self.neg.get(k, 0) + 1
        else:
            self.zero += 1

    def add_many(self, values: Any) -> None:
        """Add every number of a numpy array at once (the same bins as `add`, one by one)."""
        import numpy as np

        x = np.asarray(values, dtype=np.float64)
        if not len(x):
            return
        self.n += len(x)
        self.total += float(x.sum())
        self.squares += float((x * x).sum())
        self.low = min(self.low, float(x.min()))
        self.high = max(self.high, float(x.max()))
        for bins, part in ((self.pos, x[x > TINY]), (self.neg, -x[x < -TINY])):
            if len(part):
                keys, counts = np.unique(np.ceil(np.log(part) / _LOG_GAMMA).astype(np.int64), return_counts=True)
                for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
                    bins[k] = bins.get(k, 0) + c
        self.zero += int(np.count_nonzero(np.abs(x) <= TINY))

    def merge(self, other: Sketch) -> Sketch:
        """Add `other`'s counts into this sketch; returns self."""
        for mine, theirs in ((self.pos, other.pos), (self.neg, other.neg)):
            for k, c in theirs.items():
                mine[k] = mine.get(k, 0) + c
        self.zero += other.zero
        self.n += other.n
        self.total += other.total
        self.squares += other.squares
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        return self

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def std(self) -> float | None:
        if not self.n:
            return None
        mean = self.total / self.n
        return math.sqrt(max(self.squares / self.n - mean * mean, 0.0))

    def bins(self) -> list[tuple[float, int]]:
        """(value, count) of every non-empty bin, in increasing order of value."""
        out = [(-bin_value(k), self.neg[k]) for k in sorted(self.neg, reverse=True)]
        if self.zero:
            out.append((0.0, self.zero))
        out += [(bin_value(k), self.pos[k]) for k in sorted(self.pos)]
        return out

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1), within ALPHA of the true one; None when empty."""
        if not self.n:
            return None
        rank = q * (self.n - 1)
        seen = 0
        for value, count in self.bins():
            seen += count
            if seen > rank:
                return min(max(value, self.low), self.high)
        return self.high

    def to_json(self) -> dict[str, Any]:
        return {
            "pos": {str(k): c for k, c in self.pos.items()},
            "neg": {str(k): c for k, c in self.neg.items()},
            "zero": self.zero, "n": self.n, "sum": self.total, "sumsq": self.squares,
            "min": self.low if self.n else None, "max": self.high if self.n else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sketch:
        return cls(
            pos={int(k): int(c) for k, c in data["pos"].items()},
            neg={int(k): int(c) for k, c in data["neg"].items()},
            zero=int(data["zero"]), n=int(data["n"]), total=float(data["sum"]), squares=float(data["sumsq"]),
            low=math.inf if data["min"] is None else float(data["min"]),
            high=-math.inf if data["max"] is None else float(data["max"]),
        )

    @classmethod
    def of(cls, values: Iterable[float]) -> Sketch:
        sketch = cls()
        for v in values:
            sketch.add(v)
        return sketch


@dataclass
class Categories:
    """Counts per label; past MAX_CATEGORIES labels, new ones are counted as OTHER."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, count: int = 1) -> None:
        if label not in self.counts and len(self.counts) >= MAX_CATEGORIES:
            label = OTHER
        self.counts[label] = self.counts.get(label, 0) + count

    def merge(self, other: Categories) -> Categories:
        for label, count in other.counts.items():
            self.add(label, count)
        return self

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, int]:
        return dict(self.counts)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Categories:
        return cls({str(k): int(v) for k, v in data.items()})


#: How many embeddings a window keeps: a uniform sample, enough for the MMD test (stats.mmd_test).
EMBEDDING_SAMPLE = 200


@dataclass
class EmbeddingSample:
    """A uniform sample of at most `size` vectors that merges: each vector gets a key from a hash
    of its values, and the `size` smallest keys are kept (a bottom-k sample). The merge of two
    windows' samples is then exactly the sample of their union, in any order."""

    size: int = EMBEDDING_SAMPLE
    dim: int | None = None
    n: int = 0
    kept: dict[float, list[float]] = field(default_factory=dict)

    @staticmethod
    def key(vector: list[float]) -> float:
        digest = hashlib.blake2b(struct.pack(f"<{len(vector)}d", *vector), digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2**64

    def add(self, vector: list[float]) -> None:
        if self.dim is None:
            self.dim = len(vector)
        elif len(vector) != self.dim:
            raise ValueError(f"an embedding of {len(vector)} numbers where this stream's have {self.dim}")
        self.n += 1
        self._offer(self.key(vector), vector)

    def _offer(self, key: float, vector: list[float]) -> None:
        if len(self.kept) < self.size:
            self.kept[key] = vector
            return
        worst = max(self.kept)
        if key < worst:
            del self.kept[worst]
            self.kept[key] = vector

    def merge(self, other: EmbeddingSample) -> EmbeddingSample:
        if other.dim is not None and self.dim is not None and other.dim != self.dim:
            raise ValueError(f"embeddings of {other.dim} and {self.dim} numbers cannot be compared")
        self.dim = self.dim if self.dim is not None else other.dim
        self.n += other.n
        for key, vector in other.kept.items():
            self._offer(key, vector)
        return self

    def vectors(self) -> list[list[float]]:
        return [self.kept[k] for k in sorted(self.kept)]

    def to_json(self) -> dict[str, Any]:
        keys = sorted(self.kept)
        return {"size": self.size, "dim": self.dim, "n": self.n, "keys": keys,
                "vectors": [[float(f"{v:.6g}") for v in self.kept[k]] for k in keys]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmbeddingSample:
        sample = cls(size=int(data["size"]), dim=data["dim"], n=int(data["n"]))
        sample.kept = {float(k): [float(v) for v in vec] for k, vec in zip(data["keys"], data["vectors"], strict=True)}
        return sample
