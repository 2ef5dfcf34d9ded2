"""Figures in a run summary, read at a path, and the one threshold rule they are held to.

Spec gates (`laif sandbox run`) and the obligations catalogue (`laif obligations`) read figures
here (`read_figures`; a report that shows what a run has uses `find_figures`, which never fails),
so a path means the same thing in a sandbox spec and in a catalogue, for a built-in suite as for
a plugin suite. Spec gates, the catalogue and monitoring alerts judge them with one `Bound`.

A **path** is dotted keys into the summary (`mean`, `metrics.overall.accuracy`); `*` stands for
every key of a mapping but `kind` (`categories.*`, `metrics.by_language.*.accuracy`).

A **figure** is what a path may end on:

- a number, or null (nothing was measured): `mean`, `metrics.gap_to_english.fr`;
- a rate, a mapping with `value` (a percentage with its Wilson 95% `low` and `high`, `k` of `n`):
  `metrics.overall.accuracy`;
- a category score, a mapping with `score` (and `low`, `high`, `decided`): `categories.Gender`.

A **bound** (`Bound`) is "at least" (direction `higher`) or "at most" (`lower`) a number, judged
on the point value or on the 95% interval. On the interval a figure is `met` when the whole
interval is on the good side (the bound itself counts as good), `not met` when the whole interval
is on the bad side, and `inconclusive` when it straddles the bound; a figure without an interval
is judged on its value, and one without a value is `not assessed`.

Where the three readers this replaces disagreed, the documented rule was kept:

- a mapping with `score` is read at its score everywhere (the obligations rule; a spec gate on
  `bias.categories.Gender` used to stop with "not a number but dict");
- `*` now works in spec thresholds too; each figure it reaches is gated on its own, one row each;
- a path that names a missing key is an error naming the path, where it stopped and the nearest
  keys there (a spec gate stops with exit 2, as before; an obligation is `not assessed`, as before);
  under `*`, a branch without the key is skipped, and it is an error only if no branch has it;
- under `*`, what is not a figure (text, lists, a group of figures) is skipped; the obligations
  reader used to count a group as a figure without a value (`not assessed`);
- spec gates keep judging the point value against `min`/`max` (both inclusive); the catalogue
  judges the interval. Both are the one `Bound`, with `on="value"` or `on="interval"`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from laif.core.summary import RunSummary
from laif.errors import BadInput

Shape = Literal["number", "rate", "score"]
Judged = Literal["met", "not met", "inconclusive", "not assessed"]
#: Keys a `*` never stands for: a summary's labels, not its entries.
NOT_ENTRIES = frozenset({"kind"})


@dataclass(frozen=True)
class Figure:
    """One figure as stored: its concrete path, value (int or float as written; None when nothing was
    measured), 95% interval if it has one, and `k` of `n` (a category's `passed` of `decided`)."""

    path: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    shape: Shape = "number"
    #: The keys `*` stood for, in order.
    matched: tuple[str, ...] = ()
    k: int | None = None


class FigureError(BadInput):
    """No figure at a path: `path` as asked, `missing` the key that is not there (None when the
    path ends on something that is not a figure), `found` the part of the path that was found,
    `keys` the keys there and `nearest` those closest to the missing one."""

    def __init__(self, message: str, *, path: str, found: str, missing: str | None, keys: Sequence[str],
                 nearest: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.path, self.found, self.missing, self.keys, self.nearest = path, found, missing, list(keys), list(nearest)


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def as_figure(node: Any, path: str = "", matched: tuple[str, ...] = ()) -> Figure | None:
    """The figure `node` is (see the module docstring), or None if it is not one."""
    if node is None or _number(node):
        return Figure(path, node, shape="number", matched=matched)
    if not isinstance(node, Mapping) or not ("value" in node or "score" in node):
        return None
    shape: Shape = "rate" if "value" in node else "score"
    value, low, high = node.get("value", node.get("score")), node.get("low"), node.get("high")
    if any(x is not None and not _number(x) for x in (value, low, high)):
        return None
    n, k = node.get("n", node.get("decided")), node.get("k", node.get("passed"))
    return Figure(path, value, low, high, _count(n), shape, matched, _count(k))


def _count(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _tree(summary: RunSummary | Mapping[str, Any]) -> Mapping[str, Any]:
    return summary.as_json() if isinstance(summary, RunSummary) else summary


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _listing(keys: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(keys[:most])
    return (shown + f", … ({len(keys)} in all)" if len(keys) > most else shown) or "none"


def find_figures(summary: RunSummary | Mapping[str, Any], path: str) -> list[Figure]:
    """Every figure at `path`, as `read_figures`, but none rather than an error when nothing is
    there: for a report that shows what a run has."""
    try:
        return read_figures(summary, path)
    except FigureError:
        return []


def read_figures(summary: RunSummary | Mapping[str, Any], path: str) -> list[Figure]:
    """Every figure at `path` in a run summary (one without `*`, as many as match with it), in the
    summary's order; FigureError when nothing is there (see the module docstring)."""
    parts = path.split(".")
    if not path or "" in parts:
        raise FigureError(f"{path!r} is not a path: give dotted keys, e.g. metrics.overall.accuracy",
                          path=path, found="", missing=None, keys=[])
    found: list[Figure] = []
    misses: list[tuple[str, str, list[str]]] = []  # (where, missing key, keys there)
    groups: list[tuple[str, list[str], list[str]]] = []  # (where, keys, keys of figures) of non-figures

    def walk(node: Any, i: int, at: str, matched: tuple[str, ...]) -> None:
        if i == len(parts):
            figure = as_figure(node, at, matched)
            if figure is not None:
                found.append(figure)
            elif isinstance(node, Mapping):
                groups.append((at, [str(k) for k in node],
                               [str(k) for k, child in node.items() if as_figure(child) is not None]))
            else:
                groups.append((at, [], []))
            return
        part = parts[i]
        if not isinstance(node, Mapping):
            misses.append((at, part, []))
            return
        if part == "*":
            for key, child in node.items():
                if key not in NOT_ENTRIES:
                    walk(child, i + 1, _join(at, str(key)), (*matched, str(key)))
        elif part in node:
            walk(node[part], i + 1, _join(at, part), matched)
        else:
            misses.append((at, part, [str(k) for k in node]))

    walk(_tree(summary), 0, "", ())
    if found or (not misses and not groups):  # `*` over an empty mapping: no figure, and no error
        return found
    if misses:
        at, key, keys = misses[0]
        near = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
        where = f"at {at}" if at else "at the top"
        hint = f"; nearest: {', '.join(near)}" if near else ""
        raise FigureError(f"no figure at {path}: there is no {key!r} {where} (keys there: {_listing(keys)}){hint}",
                          path=path, found=at, missing=key, keys=keys, nearest=near)
    at, keys, inside = groups[0]
    what = (f"a group of figures ({_listing(inside)}); name one, e.g. {path}.{inside[0]}" if inside
            else f"not a figure (a number, or a mapping with value or score); keys there: {_listing(keys)}")
    raise FigureError(f"{path}: {at} is {what}", path=path, found=at, missing=None, keys=keys)


def read_figure(summary: RunSummary | Mapping[str, Any], path: str) -> Figure:
    """The one figure at `path` (no `*`); FigureError when there is none."""
    if "*" in path.split("."):
        raise FigureError(f"{path}: `*` reaches many figures; read them with read_figures", path=path, found="",
                          missing=None, keys=[])
    return read_figures(summary, path)[0]


@dataclass(frozen=True)
class Bound:
    """At least (`higher`) or at most (`lower`) `limit`, judged on the figure's value or on its 95%
    interval (see the module docstring)."""

    direction: Literal["higher", "lower"]
    limit: float
    on: Literal["value", "interval"] = "interval"

    def judge(self, value: float | None, low: float | None = None, high: float | None = None) -> Judged:
        if value is None:
            return "not assessed"
        lo = value if low is None or self.on == "value" else low
        hi = value if high is None or self.on == "value" else high
        if self.direction == "higher":
            return "met" if lo >= self.limit else "not met" if hi < self.limit else "inconclusive"
        return "met" if hi <= self.limit else "not met" if lo > self.limit else "inconclusive"

    def judge_figure(self, figure: Figure) -> Judged:
        return self.judge(figure.value, figure.low, figure.high)

    def text(self) -> str:
        """`at least 60`, `at most 5`: the bound in words; the caller adds the unit."""
        return f"{'at least' if self.direction == 'higher' else 'at most'} {self.limit:g}"
