"""A window's size in a monitoring spec, written as YAML people write it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from laif.monitor.spec import MonitorSpec, Window


def test_a_count_window_may_be_written_as_a_number(tmp_path: Path) -> None:
    # YAML reads `size: 1000` as a number; it used to be refused as "not a valid string"
    spec = MonitorSpec.model_validate({"name": "bank-bot", "window": {"by": "count", "size": 1000}})
    assert spec.window.size == "1000" and spec.window.describe() == "1000 calls"
    assert Window(by="count", size="250").size == "250"


@pytest.mark.parametrize("size", [True, 0, -5, 1.5, "ten"])
def test_a_count_window_still_needs_a_whole_number_of_calls(size: object) -> None:
    with pytest.raises(ValidationError):
        Window.model_validate({"by": "count", "size": size})


def test_a_time_window_given_a_bare_number_is_refused_with_the_units() -> None:
    with pytest.raises(ValidationError, match="number and s, m, h or d"):
        Window.model_validate({"by": "time", "size": 3600})
