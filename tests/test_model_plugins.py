"""Model adapters are found by name in the `laif.models` entry-point group, laif's own the same
way as a plugin's: a plugin adapter installed from tests/plugins answers through `laif assess`,
an unknown name is a usage error listing the installed ones, and a model closes itself when
used with `async with`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.models import available_providers, open_model
from laif.models.http import HttpChatbot
from laif.models.providers import BUILTIN

from .conftest import run_laif

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example model adapter and the example suite, installed with pip from tests/plugins."""
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(PLUGINS / "laif-example-model"), str(PLUGINS / "laif-example-suite")],
                   check=True, capture_output=True, text=True)
    assert list(target.glob("laif_example_model-*.dist-info/entry_points.txt"))
    return target


def _env(*paths: Path, home: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")]),
            "LAIF_HOME": str(home)}


def test_a_plugin_adapter_answers_through_assess(site: Path, tmp_path: Path) -> None:
    done = run_laif("assess", "--model", "myadapter:rules", "--suite", "example-arithmetic", "-l", "en,fr,de,lb",
                    "--quiet", "--json", "--out", str(tmp_path / "out"), env=_env(site, home=tmp_path))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["model"]["spec"] == "myadapter:rules"
    assert results["model"]["kind"] == "rule"
    # The adapter sums the two numbers of each question: its answers are stored and judged.
    for case in results["cases"]:
        a, b = case["template_id"].split("+")
        assert case["exchanges"][0]["response"] == str(int(a) + int(b))
        assert case["verdict"] == "pass"
    assert len(results["cases"]) == 24
    assert json.loads(done.stdout)["mean"] == 100.0


def test_an_unknown_model_name_is_a_usage_error_listing_the_installed_ones(site: Path, tmp_path: Path) -> None:
    done = run_laif("assess", "--model", "gguf:/models/x.gguf", "--quiet", env=_env(site, home=tmp_path))
    assert done.returncode == 2
    assert "unknown model string" in done.stderr and "Traceback" not in done.stderr
    assert "myadapter" in done.stderr and "embedded" in done.stderr and "openai" in done.stderr


def test_the_plugins_own_refusal_is_a_usage_error(site: Path, tmp_path: Path) -> None:
    done = run_laif("assess", "--model", "myadapter:", "--suite", "example-arithmetic", "--quiet",
                    env=_env(site, home=tmp_path))
    assert done.returncode == 2
    assert "expected myadapter:NAME" in done.stderr and "Traceback" not in done.stderr


def test_a_provider_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken-site"
    info = broken / "laif_broken_model-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: laif-broken-model\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[laif.models]\nbroken = laif_broken_model_missing:open_adapter\n")
    done = run_laif("assess", "--model", "broken:x", "--quiet", env=_env(broken, home=tmp_path))
    assert done.returncode == 2
    assert "'broken'" in done.stderr and "could not be loaded" in done.stderr and "ModuleNotFoundError" in done.stderr


def test_laifs_own_providers_are_registered_as_entry_points() -> None:
    registered = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["laif.models"]
    assert {name: value.split(":")[1] for name, value in registered.items()} == {
        name: provider.__name__ for name, provider in BUILTIN.items()}
    assert set(BUILTIN) <= set(available_providers())


def test_a_model_closes_itself_at_the_end_of_async_with() -> None:
    async def use() -> HttpChatbot:
        async with open_model("http:http://127.0.0.1:9/chat") as model:
            assert isinstance(model, HttpChatbot)
            assert not model._client.is_closed
        return model

    assert asyncio.run(use())._client.is_closed


def test_a_model_closes_itself_when_the_block_fails() -> None:
    model = open_model("http:http://127.0.0.1:9/chat")

    async def fail() -> None:
        async with model:
            raise BadInput("stop")

    with pytest.raises(BadInput):
        asyncio.run(fail())
    assert isinstance(model, HttpChatbot) and model._client.is_closed
