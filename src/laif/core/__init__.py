"""The evaluation core: what every suite, the runner and the reports share, and which
depends on nothing above it (only `laif.errors` and the model message types).

- `suite`: the Suite protocol a suite implements, its cases (`Case`) and prompts (`PromptSpec`);
- `oracles`: how an answer is judged (expected, same, reference, number, stable, guard) into a `Verdict`;
- `parsing`: reading yes/no, options, numbers, refusals and hedges out of free text, in four languages;
- `scoring`: verdicts into scores; `stats`: Wilson intervals and means;
- `langid`: which language an answer is written in;
- `summary`: the typed run summary and results.json, with readers for older record layouts;
- `figures`: a figure read at a path in a summary (`*` included) and the one threshold rule
  (`Bound`) that spec gates, the obligations catalogue and the reports hold figures to;
- `strict`: the strict pydantic base every spec, catalogue and library model derives from.

Plugin suites import from here (see docs/writing-a-suite.md).
"""
