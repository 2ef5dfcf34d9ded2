"""The service layer: plain, typed functions that every front end calls.

The command line (`laif.cli`), the Slurm shards (`laif.compute`) and the web portal call these
and nothing below them, so that an assessment, a qualification or a dataset request means the
same thing whichever way it was started. One module per service:

- `assessment`: run an assessment from a spec or from options, score a stored run;
- `evidence`: build and verify an evidence bundle;
- `aiact`: qualify a system, assess obligations;
- `datasets`: publish, search and request datasets;
- `pseudonymise`: pseudonymise a file, detect personal data, link holders, check anonymity;
- `readiness`: the AI readiness assessment, its report and an organisation's history;
- `monitoring`: take in production logs, judge windows, report, canaries, serious incidents;
- `progress`: the one callback type that long work reports progress through.
"""
