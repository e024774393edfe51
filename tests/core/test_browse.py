"""Keyset paging, jumps, read-only filters, frequencies and CSV export of domain tables (core.browse)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from core.browse import (
    FilterError,
    View,
    count_rows,
    export_csv,
    fetch_page,
    jump_to_fraction,
    jump_to_key,
    key_of,
    open_reader,
    rows_before,
)
from core.errors import CourierError
from core.profile import frequencies
from core.store import Store

TABLE = "Heap:Pageviews"
COUNTRIES = ["US", None, "FR", "DE", None, "US", "GB", "US", "FR", None]


def sqlite_order_key(value: Any) -> tuple[int, Any]:
    """How SQLite orders a column with NULLs, numbers and text (NULLs first)."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, value)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with a 23-row domain table: ``_pk`` event ids, a country column with NULLs."""
    path = tmp_path / "courier.db"
    with Store(path) as store:
        store.execute(
            f'CREATE TABLE "{TABLE}" (_pk NOT NULL, event_id INTEGER, country TEXT, page_title TEXT, _updated)'
        )
        store.execute(f'CREATE UNIQUE INDEX "{TABLE}:_pk" ON "{TABLE}" (_pk)')
        with store.atomic():
            for number in range(23):
                event_id = 1000 + number * 7
                store.execute(
                    f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?)',
                    (
                        event_id,
                        event_id,
                        COUNTRIES[number % len(COUNTRIES)],
                        "delete account" if number == 4 else f"Page {number}",
                        "2026-11-25",
                    ),
                )
    return path


@pytest.fixture
def conn(db: Path) -> sqlite3.Connection:
    connection = open_reader(db)
    yield connection
    connection.close()


def all_rows(db: Path, order: str) -> list[tuple[Any, ...]]:
    with Store(db) as store:
        return [tuple(row) for row in store.execute(f'SELECT * FROM "{TABLE}" ORDER BY {order}')]


def walk_forward(conn: sqlite3.Connection, view: View, limit: int) -> tuple[list[tuple[Any, ...]], list[Any]]:
    page = fetch_page(conn, view, limit=limit)
    rows, pages = list(page.rows), [page]
    assert not page.has_before
    while page.has_after:
        page = fetch_page(conn, view, after=page.last_key, limit=limit)
        assert page.has_before
        rows += page.rows
        pages.append(page)
    return rows, pages


def walk_backward(conn: sqlite3.Connection, view: View, limit: int) -> list[tuple[Any, ...]]:
    page = fetch_page(conn, view, last=True, limit=limit)
    rows = list(page.rows)
    assert not page.has_after
    while page.has_before:
        page = fetch_page(conn, view, before=page.first_key, limit=limit)
        assert page.has_after
        rows = page.rows + rows
    return rows


@pytest.mark.parametrize("limit", [1, 4, 5, 23, 100])
def test_key_order_pages_forward_and_back_visit_every_row_once(db: Path, conn: sqlite3.Connection, limit: int) -> None:
    view = View(TABLE)
    expected = all_rows(db, "_pk")
    forward, pages = walk_forward(conn, view, limit)
    assert forward == expected
    assert all(len(page.rows) == limit for page in pages[:-1])
    assert walk_backward(conn, view, limit) == expected


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [2, 3, 7])
def test_sorted_pages_keep_nulls_in_sqlite_order_both_ways(
    db: Path, conn: sqlite3.Connection, descending: bool, limit: int
) -> None:
    view = View(TABLE, sort="country", descending=descending)
    direction = "DESC" if descending else "ASC"
    expected = all_rows(db, f"country {direction}, _pk {direction}")
    # NULLs first ascending, last descending, as SQLite sorts them.
    assert (expected[0][2] is None) != descending and (expected[-1][2] is None) == descending
    forward, _ = walk_forward(conn, view, limit)
    assert forward == expected
    assert walk_backward(conn, view, limit) == expected


def test_sorted_by_a_number_column_with_a_filter(db: Path, conn: sqlite3.Connection) -> None:
    view = View(TABLE, where="country IS NOT NULL", sort="event_id", descending=True)
    expected = [row for row in all_rows(db, "event_id DESC") if row[2] is not None]
    assert walk_forward(conn, view, 4)[0] == expected
    assert walk_backward(conn, view, 4) == expected
    assert count_rows(conn, view) == len(expected)


def test_one_row_scrolls_and_the_page_at_a_key(db: Path, conn: sqlite3.Connection) -> None:
    view = View(TABLE, sort="country")
    first = fetch_page(conn, view, limit=5)
    down = fetch_page(conn, view, after=first.first_key, limit=5)
    assert down.rows[:4] == first.rows[1:]
    up = fetch_page(conn, view, before=down.last_key, limit=5)
    assert up.rows == first.rows
    at = fetch_page(conn, view, at=key_of(first, first.rows[2], view), limit=5)
    assert at.rows[:3] == first.rows[2:] and at.has_before


def test_rows_before_counts_the_position_of_a_page(db: Path, conn: sqlite3.Connection) -> None:
    for view in (View(TABLE), View(TABLE, sort="country", descending=True), View(TABLE, where="country = 'US'")):
        _, pages = walk_forward(conn, view, 4)
        seen = 0
        for page in pages:
            assert rows_before(conn, view, page.first_key) == seen
            seen += len(page.rows)
        assert seen == count_rows(conn, view)


def test_jump_to_key_finds_the_row_or_the_next_one_and_stops_at_the_end(db: Path, conn: sqlite3.Connection) -> None:
    view = View(TABLE)
    assert jump_to_key(conn, view, "1070", limit=3).rows[0][0] == 1070
    assert jump_to_key(conn, view, " 1071 ", limit=3).rows[0][0] == 1077
    page = jump_to_key(conn, view, "1070", limit=3)
    assert page.has_before and page.has_after
    past = jump_to_key(conn, view, "999999", limit=3)
    assert [row[0] for row in past.rows] == [1140, 1147, 1154] and not past.has_after and past.has_before
    first = jump_to_key(conn, view, "0", limit=3)
    assert first.rows[0][0] == 1000 and not first.has_before


def test_jump_uses_the_sort_column_and_text_keys(db: Path, conn: sqlite3.Connection) -> None:
    page = jump_to_key(conn, View(TABLE, sort="country"), "FR", limit=50)
    assert page.rows[0][2] == "FR" and page.has_before
    assert [row[2] for row in page.rows][:3] == ["FR", "FR", "FR"]
    descending = jump_to_key(conn, View(TABLE, sort="country", descending=True), "GB", limit=50)
    assert descending.rows[0][2] == "GB"
    assert all(row[2] is None or row[2] <= "GB" for row in descending.rows)


def test_jump_to_the_middle(db: Path, conn: sqlite3.Connection) -> None:
    expected = all_rows(db, "_pk")
    page = jump_to_fraction(conn, View(TABLE), 0.5, limit=3)
    assert page.rows[0] == expected[len(expected) // 2]
    assert page.has_before and page.has_after


def test_a_filter_narrows_the_view_and_strings_may_say_delete(db: Path, conn: sqlite3.Connection) -> None:
    page = fetch_page(conn, View(TABLE, where="page_title = 'delete account' OR country = 'GB'"), limit=50)
    assert {row[3] for row in page.rows} == {"delete account", "Page 6", "Page 16"}


@pytest.mark.parametrize(
    "where, word",
    [
        (f'1 = 1; DELETE FROM "{TABLE}"', "DELETE"),
        ("country = 'US'; UPDATE x SET a = 1", "UPDATE"),
        ("DROP TABLE users", "DROP"),
        ("1) OR (SELECT 1 FROM (INSERT INTO x VALUES (1)))", "INSERT"),
        ("ATTACH 'x.db' AS x", "ATTACH"),
        ("1; SELECT 1", ";"),
    ],
)
def test_write_words_in_a_filter_are_refused_with_one_line(
    db: Path, conn: sqlite3.Connection, where: str, word: str
) -> None:
    with pytest.raises(FilterError) as caught:
        fetch_page(conn, View(TABLE, where=where))
    message = str(caught.value)
    assert message.startswith(f"Filters are read-only conditions (found {word})")
    assert "\n" not in message
    assert count_rows(conn, View(TABLE)) == 23


def test_bad_filters_and_sorts_are_one_line_errors(conn: sqlite3.Connection) -> None:
    with pytest.raises(FilterError, match=r"^Filter error: no such column: nope$"):
        fetch_page(conn, View(TABLE, where="nope = 1"))
    with pytest.raises(FilterError, match="^Filter error: .*syntax error"):
        count_rows(conn, View(TABLE, where="country = "))
    with pytest.raises(FilterError, match='no column "nope"'):
        fetch_page(conn, View(TABLE, sort="nope"))


def test_the_reader_connection_refuses_every_write(db: Path, conn: sqlite3.Connection) -> None:
    for statement in (
        f'DELETE FROM "{TABLE}"',
        f'UPDATE "{TABLE}" SET country = NULL',
        f'DROP TABLE "{TABLE}"',
        "CREATE TABLE x (a)",
        "PRAGMA journal_mode = DELETE",
        "ATTACH DATABASE ':memory:' AS other",
    ):
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(statement)
    # Reading other tables in a filter is allowed; it is still only reading.
    page = fetch_page(
        conn, View(TABLE, where="event_id IN (SELECT event_id FROM \"Heap:Pageviews\" WHERE country = 'DE')"), limit=50
    )
    assert {row[2] for row in page.rows} == {"DE"}
    assert len(all_rows(db, "_pk")) == 23


def test_frequencies_count_values_and_nulls_in_the_view(conn: sqlite3.Connection) -> None:
    result = frequencies(conn, View(TABLE), "country")
    counts = dict(result.values)
    assert counts == {None: 7, "US": 7, "FR": 5, "DE": 2, "GB": 2}
    assert result.values[0][1] == 7 and result.total == 23 and result.distinct == 5
    filtered = frequencies(conn, View(TABLE, where="country IS NOT NULL"), "country")
    assert filtered.distinct == 4 and filtered.total == 16
    with pytest.raises(FilterError):
        frequencies(conn, View(TABLE), "nope")


def test_export_writes_the_view_in_its_order_with_progress(db: Path, conn: sqlite3.Connection, tmp_path: Path) -> None:
    view = View(TABLE, where="country IS NOT NULL", sort="country", descending=True)
    seen: list[tuple[int, int]] = []
    target = tmp_path / "out" / "pageviews.csv"
    target.parent.mkdir()
    written = export_csv(conn, view, target, progress=lambda done, total: seen.append((done, total)), chunk=5)
    with target.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    expected = [row for row in all_rows(db, "country DESC, _pk DESC") if row[2] is not None]
    assert written == len(expected) == 16
    assert lines[0] == ["_pk", "event_id", "country", "page_title", "_updated"]
    assert lines[1:] == [[str(value) for value in row] for row in expected]
    assert seen[-1] == (16, 16) and seen[0] == (5, 16)
    assert list(target.parent.iterdir()) == [target]


def test_a_stopped_or_failed_export_leaves_no_file_and_keeps_the_old_one(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "pageviews.csv"
    target.write_text("old export\n")
    with pytest.raises(CourierError, match="Export stopped; no file was written"):
        export_csv(conn, View(TABLE), target, should_stop=lambda: True, chunk=5)
    assert target.read_text() == "old export\n"
    assert sorted(p.name for p in folder.iterdir()) == ["pageviews.csv"]
    with pytest.raises(CourierError, match="^Cannot write"):
        export_csv(conn, View(TABLE), folder / "missing" / "x.csv")
    with pytest.raises(FilterError):
        export_csv(conn, View(TABLE, where="DROP TABLE x"), target)
    assert target.read_text() == "old export\n"


def test_open_reader_on_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CourierError, match="^Cannot read the Courier database"):
        open_reader(tmp_path / "nope.db")
