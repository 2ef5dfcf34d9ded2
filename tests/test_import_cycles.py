"""laif's packages depend on each other one way only: no package imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "laif"


def _package(path: Path) -> str:
    """The package a module belongs to: its first folder under laif/, or its own name at the top."""
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """The laif packages a module imports. laif uses absolute imports only (checked below), so
    `laif.X...` names every dependency."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("laif.")}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: a relative import; write laif.X so this check sees it"
            if node.module and node.module.startswith("laif."):
                found.add(node.module.split(".")[1])
            elif node.module == "laif":
                found |= {alias.name for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        package = _package(path)
        graph.setdefault(package, set()).update(_imports(path) - {package})
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_package_imports_one_that_imports_it_back() -> None:
    assert _cycles(_graph()) == []


def test_the_check_finds_a_cycle() -> None:
    assert _cycles({"sandbox": {"suites"}, "suites": {"sandbox"}, "cli": {"suites"}}) == [["sandbox", "suites"]]


def test_the_graph_sees_the_runner_above_core_and_suites() -> None:
    graph = _graph()
    assert "core" in graph["runner"]
    assert "core" in graph["suites"]
    assert "runner" not in graph["suites"]
    assert not {"suites", "runner"} & graph["core"]


def test_the_evaluation_core_depends_on_nothing_above_it() -> None:
    """The core may use the error types and the model message types, and nothing else of laif."""
    assert _graph()["core"] <= {"errors", "models"}
