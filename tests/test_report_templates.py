"""A user's own templates (a folder named by LAIF_TEMPLATES) override laif's by name, fall back
to laif's for the rest, and can extend laif's own as "default:NAME", the way datasette does."""

from __future__ import annotations

from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.reports.html import render_leaderboard, render_template

ROW = {"model": "m", "languages": ["en"], "limit": None, "categories": {"A": 50.0}, "intervals": {"A": [20.0, 80.0]},
       "mean": 50.0, "run_id": "r1"}


def test_a_users_template_overrides_ours_and_the_rest_fall_back(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_style.html.j2").write_text("<style>body { font-family: 'Our House Font'; }</style>")
    monkeypatch.setenv("LAIF_TEMPLATES", str(tmp_path))
    html = render_leaderboard([ROW], ["A"], "bias")
    assert "Our House Font" in html  # the user's style
    assert "<h1>Leaderboard: bias</h1>" in html and "50%" in html  # laif's page around it


def test_a_users_template_can_extend_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_style.html.j2").write_text('{% include "default:_style.html.j2" %}<style>h1 { color: teal; }</style>')
    monkeypatch.setenv("LAIF_TEMPLATES", str(tmp_path))
    html = render_leaderboard([ROW], ["A"], "bias")
    assert "h1 { color: teal; }" in html
    assert html.count("<style") == 2  # ours, then the user's


def test_without_the_setting_our_templates_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAIF_TEMPLATES", raising=False)
    assert "Our House Font" not in render_leaderboard([ROW], ["A"], "bias")


def test_a_templates_folder_that_is_not_there_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAIF_TEMPLATES", str(tmp_path / "nowhere"))
    with pytest.raises(BadInput, match=r"LAIF_TEMPLATES=.*nowhere: no such folder"):
        render_template("leaderboard.html.j2", rows=[], categories=[], suite="bias", metrics=[])
