"""The evaluation core: what every suite, the runner and the reports share, and which
depends on nothing above it (only `laif.errors` and the model message types).

- `suite`: the Suite protocol a suite implements, its cases (`Case`) and prompts (`PromptSpec`);
- `oracles`: how an answer is judged (expected, same, reference, number, stable, guard) into a `Verdict`;
- `parsing`: reading yes/no, options, numbers, refusals and hedges out of free text, in four languages;
- `scoring`: verdicts into scores; `stats`: Wilson intervals and means;
- `langid`: which language an answer is written in.

Plugin suites import from here (see docs/writing-a-suite.md).
"""
