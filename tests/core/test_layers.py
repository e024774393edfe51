"""``core``'s import graph has no cycle, counting imports inside functions too.

A cycle hidden by an in-function import (config → schedule → runs → project →
config used to be one) still couples the modules both ways; the shared types
live at the bottom instead (``core.windows``, ``core.vocab``).
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def core_imports(path: Path) -> set[str]:
    """Every ``core.X`` module this file imports, at any depth (``TYPE_CHECKING`` blocks included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("core.")}
    return found - {path.stem}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_core_import_graph_is_acyclic() -> None:
    graph = {path.stem: core_imports(path) for path in CORE.glob("*.py") if path.stem != "__init__"}
    assert "runs" in graph["groups"] or "run_records" in graph["groups"]
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_the_cycle_check_can_fail() -> None:
    assert find_cycle({"config": {"schedule"}, "schedule": {"runs"}, "runs": {"project"}, "project": {"config"}}) == [
        "config",
        "schedule",
        "runs",
        "project",
        "config",
    ]


def test_bottom_modules_import_nothing_above_them() -> None:
    assert core_imports(CORE / "vocab.py") == set()
    assert core_imports(CORE / "windows.py") <= {"errors", "vocab"}


def test_no_core_module_imports_a_private_name_from_another() -> None:
    offenders = []
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core."):
                offenders += [f"{path.stem}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []
