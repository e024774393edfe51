"""Item 11: filters and sorts run under a budget; any SQLite error in them is the filter's own one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.browse import FilterError, View, count_rows, export_csv, fetch_page, open_reader, query_limit
from core.profile import frequencies
from core.store import Store

# A read-only condition that would run for a very long time: a recursive count to 10^12.
ENDLESS = (
    "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000000) "
    "SELECT COUNT(*) FROM n) > 0"
)
# Valid SQL that fails only while rows are read: abs() of the smallest integer overflows.
FAILS_WHILE_READING = "abs(-9223372036854775807 - user_id) > 0"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    with Store(path) as store:
        store.execute('CREATE TABLE "Heap:Users" (_pk, user_id, email, _updated)')
        store.conn.executemany(
            'INSERT INTO "Heap:Users" VALUES (?, ?, ?, NULL)', [(n, n, f"u{n}@example.com") for n in range(1, 301)]
        )
    return path


def _everywhere(conn: object, view: View, tmp_path: Path) -> list[str]:
    messages = []
    for action in (
        lambda: fetch_page(conn, view),
        lambda: count_rows(conn, view),  # type: ignore[arg-type]
        lambda: frequencies(conn, view, "email"),  # type: ignore[arg-type]
        lambda: export_csv(conn, view, tmp_path / "out.csv"),
    ):  # type: ignore[arg-type]
        with pytest.raises(FilterError) as caught:
            action()
        messages.append(str(caught.value))
    return messages


def test_a_filter_that_would_run_for_ever_is_stopped_in_paging_counting_and_export(db: Path, tmp_path: Path) -> None:
    conn = open_reader(db, steps=2_000_000)

    messages = _everywhere(conn, View("Heap:Users", where=ENDLESS), tmp_path)

    assert set(messages) == {
        "Filter stopped: it ran for more than 2,000,000 SQLite steps; narrow it (e.g. a "
        "condition on the key or a shorter time range)"
    }
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.part").exists()
    # The connection is usable afterwards, and the same budget lets ordinary filters through.
    assert count_rows(conn, View("Heap:Users", where="user_id > 100")) == 200


def test_an_sqlite_error_while_reading_is_the_filters_one_line(db: Path, tmp_path: Path) -> None:
    conn = open_reader(db)

    messages = _everywhere(conn, View("Heap:Users", where=FAILS_WHILE_READING, sort="email"), tmp_path)

    assert set(messages) == {"Filter error: integer overflow"}
    assert not (tmp_path / "out.csv").exists()


def test_query_limit_is_reusable_with_its_own_label(db: Path) -> None:
    conn = open_reader(db)

    with pytest.raises(FilterError) as caught, query_limit(conn, steps=10_000, label="Query"):
        conn.execute(f"SELECT {ENDLESS}").fetchall()

    assert str(caught.value).startswith("Query stopped: it ran for more than 10,000 SQLite steps")
    assert conn.execute('SELECT COUNT(*) FROM "Heap:Users"').fetchone() == (300,)
