"""The Art. 72 post-market monitoring plan covers every way the monitoring judges the system:
the signals, the drift of features and of embeddings, and the canaries (quality without labels),
with the figures the code uses."""

from __future__ import annotations

from laif.monitor import stats
from laif.monitor.plan import render_plan
from laif.monitor.sketch import EMBEDDING_SAMPLE
from laif.monitor.spec import MonitorSpec


def test_the_plan_names_embeddings_and_canaries_with_their_thresholds() -> None:
    html = " ".join(render_plan(MonitorSpec(name="bot")).split())
    assert f"at most {EMBEDDING_SAMPLE} of the window's vectors" in html
    assert f"{stats.MMD_PERMUTATIONS}-permutation test" in html and f"above {stats.MMD_ALERT}" in html
    assert "6. Quality without labels: canaries" in html and "laif monitor canary" in html
    assert "Fisher's exact test" in html and "the two intervals do not overlap" in html
    assert "8. Serious-incident deadlines (Art. 73)" in html
    assert "OpenTelemetry GenAI spans" in html and "CSV or Parquet table" in html  # every intake, not JSON lines only
