"""Drafts and the legal view from a qualification: a draft only where its obligation applies,
"not tested" when no run was bundled, the exit report framed as the participant's input to the
authority's report (Art. 57(7)); the legal view shows the evaluation date, the scope conclusion,
the dates, the coverage of each article and what is self-assessed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from laif.compliance.drafts import SystemDescription, all_drafts
from laif.compliance.obligations import Answers, ControlAnswer, assess, load_catalogue, resolve_scope
from laif.compliance.qualify import check_answers, qualify
from laif.reports.audience import context, render_audience

BASE: dict[str, Any] = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["annex-iii.4.a"], "annex_iii.exception": "none",
    "annex_iii.profiling": "no", "transparency.interacts": "no", "transparency.generates": "no",
    "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no", "gpai.model": "no",
}
SYSTEM = SystemDescription(name="Screening assistant", provider="Example HR S.A.")
ABOUT = {"date": "2026-12-01"}


def build(answers: dict[str, Any], controls: Answers | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    qualification = qualify(check_answers(BASE | answers, Path("answers.yaml")))
    ids, scope = resolve_scope(qualification, None, "provider")
    return qualification, assess(load_catalogue(), ids, [], controls, scope)


def test_a_provider_gets_annex_iv_and_v_but_no_fria_and_not_tested_without_runs() -> None:
    qualification, assessment = build({})
    drafts = all_drafts(SYSTEM, qualification, assessment, [], ABOUT)
    assert set(drafts) == {"drafts/annex-iv-technical-documentation.md", "drafts/annex-v-declaration-of-conformity.md",
                           "drafts/art-58-sandbox-plan.md", "drafts/art-58-sandbox-exit-report.md"}
    annex_iv = drafts["drafts/annex-iv-technical-documentation.md"]
    for point in range(1, 10):
        assert f"## {point}. " in annex_iv
    assert "not tested (no sandbox run was bundled)" in annex_iv and "none found" not in annex_iv
    assert "Example HR S.A." in annex_iv and "[TO COMPLETE:" in annex_iv
    declaration = drafts["drafts/annex-v-declaration-of-conformity.md"]
    assert "sole responsibility of the provider" in declaration and "Do not sign" in declaration
    exit_input = drafts["drafts/art-58-sandbox-exit-report.md"]
    assert exit_input.startswith("# Participant's input to the sandbox exit report")
    assert "it is not the exit report itself" in exit_input and "Not tested" in exit_input


def test_a_deployer_gets_no_annex_iv_or_v_and_a_fria_only_where_article_27_applies() -> None:
    qualification, assessment = build({"role": "deployer", "deployer.public_service": "yes"})
    drafts = all_drafts(SYSTEM, qualification, assessment, [], ABOUT)
    assert "drafts/annex-iv-technical-documentation.md" not in drafts
    assert "drafts/annex-v-declaration-of-conformity.md" not in drafts
    fria = drafts["drafts/art-27-fundamental-rights-impact-assessment.md"]
    assert "Not tested: no sandbox run was bundled" in fria and "found no group" not in fria
    qualification, assessment = build({"role": "deployer", "deployer.public_service": "no"})
    assert "drafts/art-27-fundamental-rights-impact-assessment.md" not in all_drafts(SYSTEM, qualification,
                                                                                     assessment, [], ABOUT)


def test_legal_view_shows_date_scope_coverage_and_what_is_self_assessed(tmp_path: Path) -> None:
    controls = Answers(tmp_path / "c.yaml", {"ai-literacy": ControlAnswer(score=4),
                                             "ce-marking": ControlAnswer(done=True, evidence=["ce.jpg"])},
                       {"ce-marking": {"ce.jpg": b"photo"}})
    qualification, assessment = build({"transparency.interacts": "yes"}, controls)
    html = render_audience("legal", context(assessment, [], qualification, "Screening assistant", []))
    assert f"Qualification at {qualification['evaluation_date']}" in html
    assert "In scope</b>: it is placed on the market or put into service in the Union" in html
    assert "4 of 8 listed duties of the article checked" in html  # art-9
    assert "not checked by laif" in html and "art-9.2.b" in html
    assert "self-assessed" in html and "score 4 of 5" in html and "done; ce.jpg" in html
    assert "2026-08-02" in html and "art-113" in html and "COM(2025) 836" in html  # dates, their rule, the proposal
