"""How an organisation compares: percentiles among the assessments stored here when its
sector x size cell holds at least ten organisations, else Eurostat's published rate of AI use
for its size class (`data/eurostat.yaml`), with year and source.

Only scores leave the cell: no organisation is named. Each organisation counts once, by its
latest assessment (the one just taken included). The percentile rank of a score x among n peers
is 100 x (number below x + half the number equal to x) / n; the peer band on the radar runs from
the 25th to the 75th percentile (quartiles by linear interpolation, `statistics.quantiles`
'inclusive').
"""

from __future__ import annotations

from functools import cache
from statistics import quantiles
from typing import Any

from pydantic import BaseModel, ConfigDict

from laif._yaml import validate
from laif.readiness.bank import data_file
from laif.readiness.store import AssessmentRow

MIN_CELL = 10


class Eurostat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    indicator: str
    dataset: str
    source: str
    latest: int
    rates: dict[int, dict[str, float]]
    nearest_class: dict[str, str]


@cache
def load_eurostat() -> Eurostat:
    data, _raw, where = data_file("eurostat.yaml")
    return validate(Eurostat, data, where)


def percentile_rank(value: float, values: list[float]) -> float:
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    return round(100.0 * (below + 0.5 * equal) / len(values), 1)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = quantiles(values, n=4, method="inclusive")
    return round(q1, 1), round(q2, 1), round(q3, 1)


def compare(sector: str, size: str, cell: list[AssessmentRow], dimensions: dict[str, float],
            overall: float) -> dict[str, Any]:
    """Percentiles in the cell when it is large enough, else the published Eurostat rate."""
    if len(cell) >= MIN_CELL:
        per_dim = {}
        for d, mine in dimensions.items():
            values = [float(row.dimensions.get(d, 0.0)) for row in cell]
            p25, p50, p75 = _quartiles(values)
            per_dim[d] = {"p25": p25, "p50": p50, "p75": p75, "percentile": percentile_rank(mine, values)}
        overall_values = [row.overall for row in cell]
        return {"kind": "percentiles", "sector": sector, "size": size, "organisations": len(cell),
                "overall_percentile": percentile_rank(overall, overall_values),
                "overall_median": _quartiles(overall_values)[1], "dimensions": per_dim}
    ref = load_eurostat()
    size_class = ref.nearest_class.get(size, size)
    rates = ref.rates[ref.latest]
    note = (f"Eurostat's survey covers enterprises of 10 or more persons; the rate shown is that of "
            f"{size_class} enterprises." if size_class != size else "")  # for JSON readers; the report words its own
    return {"kind": "eurostat", "sector": sector, "size": size, "organisations": len(cell),
            "needed": MIN_CELL, "size_class": size_class, "rate": rates.get(size_class, rates["all"]),
            "all_enterprises": rates["all"], "year": ref.latest, "indicator": ref.indicator,
            "dataset": ref.dataset, "source": ref.source, "note": note}
