"""Monitoring a system in production: what it answered, how that drifts, and what to report.

- `spec`: the monitoring spec (windows, reference, identifiers, alert rules), in YAML.
- `sketch`: mergeable summaries of a stream (log-spaced fixed bins that give histograms and
  quantiles, and category counts), so no window has to fit in memory.
- `summary`: one window's summary of LLM exchanges and the signals read from it.
- `intake`: JSONL exchanges, streamed line by line, pseudonymised at intake, into window summaries.
- `stats`: PSI, KS, chi-squared, Jensen-Shannon, Wasserstein and the corrections for many tests.
- `drift`: a window against the reference: per feature statistics and per signal values.
- `alerts`: rules with states (ok, warning, alert) and their history.
- `store`: the tables that keep streams, windows, alerts and incidents.
- `incidents`: serious incidents, their Art. 73 deadlines, versions and signed snapshots.
- `plan`: the Art. 72 post-market monitoring plan written from the spec.
- `report`: the HTML report with time series against the reference band.
"""
