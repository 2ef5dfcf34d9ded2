"""The AI Act: from a system's description to the evidence its provider keeps.

- `qualify`: the qualification questionnaire (scope, AI system, prohibited, high-risk,
  transparency, general-purpose models, roles) and its result, with `ai_act` (the texts the
  questions offer) and `dates` (when each obligation binds);
- `obligations`: the obligations catalogue, each obligation's controls and the verdicts that
  sandbox runs and answered controls give it;
- `drafts`: drafts of the documents the Act asks for (Annex IV technical documentation, the
  Annex V declaration, the fundamental rights impact assessment, a regulatory sandbox plan);
- `evidence`: signed evidence bundles; `exports`: OSCAL assessment results, CycloneDX model cards.

Front ends call `laif.services.aiact` and `laif.services.evidence`. The AI Act's regulatory
sandbox is a setting the factory offers; laif's evaluation sandbox is `laif.core` and `laif.suites`.
"""
