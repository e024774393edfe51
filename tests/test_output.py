"""The command-line value printer: NULL and '' told apart, control characters escaped, exact CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tui import cli
from tui.output import render, table_cell

COLUMNS = ["id", "text", "n", "x", "blob"]
ROWS: list[tuple[Any, ...]] = [
    (1, None, 1.5, 7, b"\x00\xff"),
    (2, "", float("inf"), -(2**63), None),
    (3, "tab\there\nnew line", 0.1, None, b""),
    (4, "NULL", -0.0, 0, None),
    (5, 'quote " and , comma', 1e300, 1, None),
    (6, " padded ", 2.5, 2, None),
    (7, "\x1b[31mred", 3.0, 3, None),
    (8, "émile 名前 \\", 4.0, 4, None),
]


def _render(fmt: str, rows: list[tuple[Any, ...]] = ROWS, columns: list[str] = COLUMNS) -> str:
    out = io.StringIO()
    render(columns, rows, fmt, out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "NULL"),
        ("", "''"),
        ("NULL", "'NULL'"),
        ("a\tb", "a\\tb"),
        ("a\nb", "a\\nb"),
        ("\x1b[0m", "\\x1b[0m"),
        (" x", "' x'"),
        ("it's", "it's"),
        ("'q", "'''q'"),
        (b"\x00\xff", "x'00ff'"),
        (1.0, "1.0"),
        (7, "7"),
        ("x" * 50, "x" * 39 + "…"),
    ],
)
def test_table_cells_are_unambiguous(value: Any, shown: str) -> None:
    assert table_cell(value) == shown


def test_table_format_keeps_one_line_per_row() -> None:
    lines = _render("table").splitlines()

    assert len(lines) == 2 + len(ROWS)
    assert "NULL" in lines[2] and "''" in lines[3]


def test_json_and_jsonl_parse_back_to_the_exact_values() -> None:
    expected = [
        {name: ({"hex": value.hex()} if isinstance(value, bytes) else value) for name, value in zip(COLUMNS, row)}
        for row in ROWS
    ]

    assert json.loads(_render("json")) == expected
    assert [json.loads(line) for line in _render("jsonl").splitlines()] == expected
    assert json.loads(_render("json", [])) == []


def test_csv_parses_back_to_the_exact_text() -> None:
    parsed = list(csv.reader(io.StringIO(_render("csv"), newline="")))

    assert parsed[0] == COLUMNS
    for row, back in zip(ROWS, parsed[1:]):
        assert back[1] == ("" if row[1] is None else row[1])
        assert float(back[2]) == row[2]
        assert back[3] == ("" if row[3] is None else str(row[3]))
    assert '2,"",inf' in _render("csv")  # an empty string is quoted; NULL is an empty field


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        _render("xml")


def test_courier_table_prints_each_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.models import quote_identifier
    from core.store import Store

    db = tmp_path / "c.db"
    with Store(db) as store:
        store.execute(f"CREATE TABLE {quote_identifier('S:T')} (_pk, t TEXT, _updated)")
        store.conn.executemany(
            f"INSERT INTO {quote_identifier('S:T')} VALUES (?, ?, ?)", [(1, "a\tb", "u"), (2, None, "u"), (3, "", "u")]
        )
        store.execute("INSERT INTO domain_tables (name) VALUES ('S:T')")
    monkeypatch.delenv("COURIER_DB", raising=False)

    assert cli.main(["--db", str(db), "table", "S:T", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["t"] for line in lines] == ["a\tb", None, ""]

    assert cli.main(["--db", str(db), "table", "S:T"]) == 0
    out = capsys.readouterr().out
    assert "a\\tb" in out and "NULL" in out and "''" in out

    assert cli.main(["--db", str(db), "rejects", "99"]) == 2
    assert capsys.readouterr().err.startswith("courier: There is no run 99")
