"""The post-market monitoring plan (AI Act Art. 72(3), part of the Annex IV documentation),
written from the monitoring spec: what is collected, how it is cut and compared, which
thresholds raise a warning or an alert, what follows an alert, and the Art. 73 deadlines.
Every figure in it comes from the spec or from laif's documented defaults, so the plan and the
monitoring that runs cannot disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from laif import __version__
from laif.monitor import stats
from laif.monitor.incidents import CATEGORIES, WIDESPREAD_DAYS, WIDESPREAD_RULE
from laif.monitor.sketch import EMBEDDING_SAMPLE
from laif.monitor.spec import MonitorSpec
from laif.monitor.summary import SIGNALS
from laif.reports.html import render_template

SIGNAL_TEXT = {
    "refusal_rate": "share of answers that decline to answer (refusal patterns in English, French, German, Luxembourgish)",
    "empty_rate": "share of empty answers among calls that did not fail",
    "truncated_rate": "share of answers cut at the token limit",
    "error_rate": "share of calls that failed",
    "timeout_rate": "share of calls that timed out",
    "language_fidelity": "share of answers in the language of the question (py3langid, answers of 3+ words)",
    "pii_rate": "share of answers holding checked personal data (IPMS detection: LU national numbers, IBANs, VAT, "
                "e-mails, phones)",
    "feedback_positive": "share of positive ratings among calls users rated",
    "latency_p50_s": "median latency, seconds",
    "latency_p95_s": "95th percentile of latency, seconds",
    "input_tokens_mean": "mean input tokens per call",
    "output_tokens_mean": "mean output tokens per call",
}


def _bound(t: object) -> str:
    if t is None:
        return "–"
    low, high = getattr(t, "min", None), getattr(t, "max", None)
    parts = ([f"below {low:g}"] if low is not None else []) + ([f"above {high:g}"] if high is not None else [])
    return " or ".join(parts)


def render_plan(spec: MonitorSpec) -> str:
    signals = []
    for name in SIGNALS:
        rule = spec.alerts.get(name)
        warning = _bound(rule.warning) if rule and rule.warning else ""
        signals.append({"name": name, "text": SIGNAL_TEXT[name],
                        "warning": f"{warning} or outside the reference band" if warning else "outside the reference band",
                        "alert": _bound(rule.alert) if rule and rule.alert else "–"})
    deadlines = [{"category": key, "point": c.point, "what": c.what, "days": c.days, "rule": c.rule}
                 for key, c in CATEGORIES.items()]
    return render_template("monitor_plan.html.j2",
        spec=spec, signals=signals, deadlines=deadlines, widespread=(WIDESPREAD_DAYS, WIDESPREAD_RULE),
        psi=(stats.PSI_WARNING, stats.PSI_ALERT), p_value=stats.P_VALUE, distance=stats.DISTANCE_ALERT,
        distance_n=stats.DISTANCE_MIN_N, mmd=(EMBEDDING_SAMPLE, stats.MMD_PERMUTATIONS, stats.MMD_ALERT),
        version=__version__, spec_hash=spec.spec_hash(),
        made=datetime.now(UTC).date().isoformat(),
    )
