"""`laif assess` end to end against the real embedded model and the same model behind
llama.cpp's OpenAI-compatible server."""

import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import run_laif


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    home = tmp_path_factory.mktemp("assess")
    env = {"LAIF_HOME": str(home)}
    result = run_laif("assess", "--limit", "1", "--languages", "en,lb", "--out", str(home / "out"), "--json",
                      "--quiet", env=env)
    return home, result


def test_assess_prints_the_leaderboard_row_as_json(first_run: tuple[Path, object]) -> None:
    home, result = first_run
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert set(row["categories"]) == {"LGBTIQ+", "Ageism", "Gender", "Political", "Racism", "Religious", "Xenophobia"}
    assert row["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert row["model_key"].startswith("gguf-sha256:")


def test_run_record_keeps_every_prompt_answer_and_identity(first_run: tuple[Path, object]) -> None:
    home, _ = first_run
    results = json.loads((home / "out" / "results.json").read_text())
    assert results["status"] == "complete"
    assert len(results["model"]["details"]["sha256"]) == 64
    assert results["params"]["temperature"] == 0.0
    assert len(results["suite"]["library_sha256"]) == 64
    assert len(results["exchanges"]) == results["total_prompts"] > 0
    assert all(e["response"] is not None for e in results["exchanges"])
    verdicts = {c["verdict"] for c in results["cases"]}
    assert verdicts <= {"pass", "fail", "refused", "abstained", "unparseable", "error"}
    counted = sum(v["total"] for v in results["scores"]["categories"].values())
    assert counted == len(results["cases"])


def test_html_report_has_heatmap_bars_and_drilldown(first_run: tuple[Path, object]) -> None:
    home, _ = first_run
    html = (home / "out" / "report.html").read_text()
    assert "Leaderboard row" in html and "hsl(" in html
    assert "<svg" in html and "95% CI" in html
    assert "Tests that did not pass" in html


def test_rerun_is_answered_from_the_cache(first_run: tuple[Path, object]) -> None:
    home, _ = first_run
    again = run_laif("assess", "--limit", "1", "--languages", "en,lb", "--out", str(home / "out2"), "--quiet",
                     env={"LAIF_HOME": str(home)})
    assert again.returncode == 0, again.stderr
    assert " 0 asked" in again.stderr
    first = json.loads((home / "out" / "results.json").read_text())
    second = json.loads((home / "out2" / "results.json").read_text())
    assert second["run_id"] != first["run_id"]
    assert [c["verdict"] for c in second["cases"]] == [c["verdict"] for c in first["cases"]]
    assert {e["source"] for e in second["exchanges"]} == {"cache"}


def test_leaderboard_lists_stored_runs(first_run: tuple[Path, object]) -> None:
    home, _ = first_run
    env = {"LAIF_HOME": str(home)}
    as_json = run_laif("leaderboard", "--format", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)["rows"]
    assert len(rows) == 1 and rows[0]["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    html = run_laif("leaderboard", "--format", "html", env=env)
    assert "hsl(" in html.stdout
    table = run_laif("leaderboard", env=env)
    assert "Mean score" in table.stdout


def test_openai_adapter_against_llama_cpp_server(llama_server: str, tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path)}
    result = run_laif("assess", "--model", f"openai:{llama_server}#smollm2", "--limit", "1", "--languages", "fr",
                      "--out", str(tmp_path / "out"), "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["model"]["kind"] == "openai"
    assert results["model"]["details"]["server_reports"]["id"] == "smollm2"
    assert all(e["response"] for e in results["exchanges"])
    db = sqlite3.connect(tmp_path / "laif.db")
    assert db.execute("select count(*) from response_cache").fetchone()[0] == results["total_prompts"]


def test_http_adapter_reaches_a_custom_chatbot(llama_server: str, tmp_path: Path) -> None:
    """A REST bot with its own request shape, answering with the real model behind it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    class Bot(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            question = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["question"]
            answer = httpx.post(f"{llama_server}/chat/completions", timeout=60, json={
                "model": "smollm2", "max_tokens": 32, "temperature": 0,
                "messages": [{"role": "user", "content": question}]}).json()["choices"][0]["message"]["content"]
            body = json.dumps({"data": {"answer": answer}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ask"
        result = run_laif("assess", "--model", url, "--request-template", '{"question": "{prompt}"}',
                          "--response-path", "data.answer", "--limit", "1", "--languages", "de",
                          "--out", str(tmp_path / "out"), "--quiet", env={"LAIF_HOME": str(tmp_path)})
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["model"]["kind"] == "http"
    assert all(e["response"] for e in results["exchanges"])
