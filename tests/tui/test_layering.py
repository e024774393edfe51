"""The TUI reaches data only through ``core.engine``: no Store, SQL or sqlite3 anywhere in ``tui/``.

An AST scan rather than a grep, so comments and docstrings may still talk about
the database. It fails on importing ``sqlite3`` or ``core.store.Store``, on a
``.store`` attribute, and on a string literal that is an SQL statement.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|REPLACE|WITH)\s")
ALLOWED_STORE_NAMES = {"default_db_path", "DB_ENV"}
"""What the CLI may still take from core.store: where the database lives, not what is in it."""


def offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [
                f"{where} imports {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "sqlite3" or a.name == "core.store"
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module == "sqlite3":
                found.append(f"{where} imports from sqlite3")
            if module == "core.store":
                found += [
                    f"{where} imports core.store.{a.name}" for a in node.names if a.name not in ALLOWED_STORE_NAMES
                ]
        elif isinstance(node, ast.Attribute) and node.attr in ("store", "execute", "executemany"):
            found.append(f"{where} uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if SQL.match(node.value):
                found.append(f"{where} has SQL: {node.value[:40]!r}")
    return found


def test_tui_has_no_store_sql_or_sqlite3() -> None:
    problems = [problem for path in sorted(TUI.rglob("*.py")) for problem in offences(path)]
    assert problems == []


def test_the_scan_sees_each_kind_of_offence(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        '"""SELECT in a docstring is fine."""\nimport sqlite3\nfrom core.store import Store\n'
        'x = app.store\nrows = conn.execute("SELECT 1")\nlabel = "Select a file"\n',
        encoding="utf-8",
    )
    assert len(offences(sample)) == 5
