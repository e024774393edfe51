"""``courier table --where/--columns``, ``courier profile`` and ``courier query`` (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.store import Store
from tests.test_cli import assert_one_error_line, run
from tests.tui.runs_tables_data import build_pageviews

TABLE = "Heap:Pageviews"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "never-used-by-default.db"))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    build_pageviews(path, 60)
    return path


def test_table_where_and_columns(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(
        capsys,
        "--db",
        str(db),
        "table",
        TABLE,
        "--where",
        "country IS NULL",
        "--columns",
        "event_id,country",
        "--limit",
        "3",
    )
    assert code == 0 and err == []
    assert out == ["event_id  country", "--------  -------", "7         NULL", "14        NULL", "21        NULL"]
    code, out, err = run(
        capsys,
        "--db",
        str(db),
        "table",
        TABLE,
        "--where",
        "event_id = 7",
        "--columns",
        "event_id,country",
        "--format",
        "jsonl",
    )
    assert code == 0 and out == ['{"event_id": 7, "country": null}']


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--where", "1; DELETE FROM x"], "read-only"),
        (["--where", "nope = 1"], "no such column: nope"),
        (["--columns", "event_id,nope"], 'no column "nope"'),
        (["--columns", "event_id,,time"], "--columns takes names"),
        (["--limit", "0"], "--limit must be 1 or more"),
        (["--limit", "99999999999999999999"], "--limit must be at most 1,000,000,000"),
        (["--limit", "ten"], "--limit takes a whole number, not 'ten'"),
    ],
)
def test_table_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], db: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--db", str(db), "table", TABLE, *argv)
    assert code == 2 and out == []
    assert message in assert_one_error_line(err)


def test_profile_prints_counts_bars_and_days(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    with Store(db) as store:
        nulls = store.query(f'SELECT COUNT(*) AS n FROM "{TABLE}" WHERE country IS NULL')[0]["n"]
        days = store.query(f'SELECT COUNT(DISTINCT substr(time, 1, 10)) AS n FROM "{TABLE}" WHERE event_id <= 30')[0][
            "n"
        ]
    code, out, err = run(capsys, "--db", str(db), "profile", TABLE, "country")
    assert code == 0 and err == []
    assert out[0] == f"{TABLE} · country (text; exact, all 60 rows)"
    assert out[2].startswith(f"NULL      {nulls:,} (")
    assert out[6] == "top values" and "█" in out[7]
    code, out, err = run(capsys, "--db", str(db), "profile", TABLE, "time", "--where", "event_id <= 30")
    assert code == 0 and "datetime" in out[0] and "WHERE event_id <= 30" in out[0]
    assert len(out) - out.index("rows per day") - 1 == days


def test_profile_bad_input(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "profile", TABLE, "nope")
    assert code == 2 and 'no column "nope"' in assert_one_error_line(err)
    code, out, err = run(capsys, "--db", str(db), "profile", "Heap:Nope", "country")
    assert code == 2 and 'no domain table "Heap:Nope"' in assert_one_error_line(err)


def test_query_prints_rows_and_refuses_writes(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(
        capsys, "--db", str(db), "query", f'SELECT COUNT(*) AS n, COUNT(country) AS known FROM "{TABLE}"'
    )
    assert code == 0 and err == [] and out[0].split() == ["n", "known"] and out[2].split()[0] == "60"
    code, out, err = run(
        capsys,
        "--db",
        str(db),
        "query",
        f"SELECT event_id, '' AS e FROM \"{TABLE}\" ORDER BY 1",
        "--limit",
        "2",
        "--format",
        "csv",
    )
    assert code == 0 and out == ["event_id,e", '1,""', '2,""'] and "first 2 rows" in err[0]
    code, out, err = run(capsys, "--db", str(db), "query", f'DROP TABLE "{TABLE}"')
    assert code == 2 and out == [] and "read-only" in assert_one_error_line(err)
    code, out, err = run(capsys, "--db", str(db), "query", "SELECT 1", "--limit", "99999999999999999999")
    assert code == 2 and out == [] and "--limit must be at most" in assert_one_error_line(err)
    with Store(db) as store:
        assert store.query(f'SELECT COUNT(*) AS n FROM "{TABLE}"')[0]["n"] == 60


def test_index_builds_lists_and_drops_a_sort_index(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "index", "--list")
    assert (code, out, err) == (0, ["No sort indexes: build one with courier index NAME COLUMN"], [])
    code, out, err = run(capsys, "--db", str(db), "index", TABLE, "country")
    assert (
        code == 0
        and err == []
        and out == ["Built the sort index on Heap:Pageviews (country); sorting by country reads it"]
    )
    code, out, err = run(capsys, "--db", str(db), "index", TABLE, "country")
    assert code == 0 and out[0].startswith("Already built: the sort index on Heap:Pageviews (country)")
    code, out, err = run(capsys, "--db", str(db), "index", "--list", TABLE)
    assert code == 0 and out[0].split() == [TABLE, "country", "courier-sort:Heap:Pageviews:country"]
    code, out, err = run(capsys, "--db", str(db), "index", TABLE, "country", "--drop")
    assert (code, out) == (0, ["Dropped the sort index on Heap:Pageviews (country)"])
    code, out, err = run(capsys, "--db", str(db), "index", "--list")
    assert out == ["No sort indexes: build one with courier index NAME COLUMN"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([TABLE, "nope"], 'There is no column "nope" in Heap:Pageviews (columns: _pk'),
        (["Heap:Nope", "country"], 'There is no domain table "Heap:Nope"'),
        ([TABLE, "country", "--drop"], "Heap:Pageviews has no sort index on country (sort indexes: none)"),
        ([TABLE], "name a table and a column, e.g. courier index Heap:Pageviews time (or --list)"),
        (["--list", TABLE, "country"], "--list takes at most a table name"),
        ([TABLE, "_pk"], "already in key order"),
    ],
)
def test_index_bad_input_is_one_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: Path, arguments: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--db", str(db), "index", *arguments)
    assert code == 2 and out == [] and message in assert_one_error_line(err)
    with Store(db) as store:
        assert not store.query("SELECT 1 FROM sqlite_master WHERE name LIKE 'courier-sort:%'")


def test_a_command_that_meets_a_sort_index_build_waits_for_it_and_says_so(db: Path) -> None:
    """Another process builds (its marker, a live pid, holds the write lock): the CLI waits, says so, then writes."""
    import os
    import sqlite3
    import subprocess
    import sys

    from core.store import index_build_marker

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    index_build_marker(db).write_text(f"{os.getpid()} on {TABLE} (time)", encoding="utf-8")
    environment = {**os.environ, "COURIER_BUSY_TIMEOUT": "0.05", "COURIER_DB": str(db)}
    command = [sys.executable, "-m", "tui.cli", "index", TABLE, "country"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    try:
        assert process.stderr is not None
        said = process.stderr.readline()  # blocks until the command says it waits (or ends)
        assert said.startswith(f"courier: waiting: Courier is building the sort index on {TABLE} (time) (pid ")
        assert process.poll() is None  # still waiting, well past its 0.05 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        index_build_marker(db).unlink()
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert out.strip() == f"Built the sort index on {TABLE} (country); sorting by country reads it"
