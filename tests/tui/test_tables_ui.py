"""Pilot tests of the domain tables browser and the table view: paging, jump, filter, sort, frequencies,
full values, copy and CSV export."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import DataTable, Input, Static

from core.store import Store
from tests.waiting import palette_wait, pilot_wait
from tui.app import CourierApp
from tui.screens.cell_value import CellValueScreen
from tui.screens.frequencies import FrequenciesScreen
from tui.screens.prompt import PromptScreen
from tui.screens.row_detail import RowDetailScreen
from tui.screens.table_view import TableViewScreen, default_export_path
from tui.screens.tables import TablesScreen

from .runs_tables_data import PAGEVIEWS, build_pageviews

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)


@pytest.fixture
def tables_db(db_path: Path) -> Path:
    build_pageviews(db_path)
    return db_path


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float | None = None) -> None:
    await pilot_wait(pilot, condition)


async def paste(pilot: Any, text: str) -> None:
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def query(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with Store(db_path) as store:
        return [tuple(row) for row in store.execute(sql)]


def shown_ids(screen: TableViewScreen) -> list[int]:
    """The event ids of the rows on screen (the first column)."""
    grid = screen.grid
    return [int(str(grid.get_row_at(index)[0])) for index in range(grid.row_count)]


def status(screen: TableViewScreen) -> str:
    return str(screen.query_one("#table-status", Static).render())


async def open_table(pilot: Any, app: CourierApp) -> TableViewScreen:
    await pilot.press("t")
    await wait_until(pilot, lambda: isinstance(app.screen, TablesScreen))  # a pushed screen is not instant under load
    tables = app.screen
    assert isinstance(tables, TablesScreen)
    await wait_until(pilot, lambda: bool(tables.tables) and tables.counted)  # counts fill in after the names
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, TableViewScreen))
    screen = app.screen
    assert isinstance(screen, TableViewScreen)
    await wait_until(pilot, lambda: screen.page is not None and screen.position_counted and screen.total is not None)
    return screen


async def settle(pilot: Any, screen: TableViewScreen) -> None:
    """Wait for queued page requests and the row count of the page shown."""
    await wait_until(pilot, lambda: not screen._busy and not screen._queue)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await wait_until(pilot, lambda: screen.total is not None and screen.position_counted)


async def test_browser_lists_tables_and_pages_by_key(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        tables = app.screen
        assert isinstance(tables, TablesScreen)
        await wait_until(pilot, lambda: bool(tables.tables) and tables.counted)  # names first, counts after
        row = tables.query_one("#tables-table", DataTable).get_row_at(0)
        assert [str(cell) for cell in row] == [PAGEVIEWS, "table", "250", "df-pagevi01", "2026-11-25 16:35 UTC"]
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, TableViewScreen)
        await settle(pilot, screen)
        size = screen.page_rows
        assert size == 26  # the rows that fit: never the whole table
        assert shown_ids(screen) == list(range(1, size + 1))
        assert status(screen).startswith(f"rows 1–{size} of 250 · key order · col 1/9")
        await pilot.press("pagedown")
        await settle(pilot, screen)
        assert shown_ids(screen) == list(range(size + 1, 2 * size + 1))
        assert status(screen).startswith(f"rows {size + 1}–{2 * size} of 250")
        await pilot.press("pagedown", "pagedown", "pageup")
        await settle(pilot, screen)
        assert shown_ids(screen)[0] == 2 * size + 1
        await pilot.press("end")
        await settle(pilot, screen)
        assert shown_ids(screen) == list(range(250 - size + 1, 251))
        assert status(screen).startswith(f"rows {250 - size + 1}–250 of 250")
        assert screen.grid.cursor_row == size - 1
        await pilot.press("down")  # nothing after the last row
        await settle(pilot, screen)
        assert shown_ids(screen)[-1] == 250
        await pilot.press("home")
        await settle(pilot, screen)
        assert shown_ids(screen)[0] == 1 and screen.grid.cursor_row == 0
        await pilot.press("up")  # nothing before the first
        await settle(pilot, screen)
        assert shown_ids(screen)[0] == 1
        screen.grid.move_cursor(row=size - 1)
        await pilot.press("down", "down")  # scrolls one row at a time past the bottom edge
        await settle(pilot, screen)
        assert shown_ids(screen) == list(range(3, size + 3)) and screen.grid.cursor_row == size - 1
        assert status(screen).startswith(f"rows 3–{size + 2} of 250")
        screen.grid.move_cursor(row=0)
        await pilot.press("up")
        await settle(pilot, screen)
        assert shown_ids(screen)[0] == 2
        await pilot.press("j")
        assert isinstance(app.screen, PromptScreen)
        await paste(pilot, "100")
        await pilot.press("enter")
        await settle(pilot, screen)
        assert shown_ids(screen)[0] == 100
        assert status(screen).startswith(f"rows 100–{99 + size} of 250")
        await pilot.press("escape")
        assert isinstance(app.screen, TablesScreen)


async def test_a_late_answer_from_an_older_listing_is_ignored(tables_db: Path, app_factory: AppFactory) -> None:
    # Mount and resume both list the tables, in threads that may finish in any order on a busy
    # machine. An older listing's names arriving after the newest listing counted every row once
    # reset the list to "counting" for ever.
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TablesScreen))
        tables = app.screen
        assert isinstance(tables, TablesScreen)
        await wait_until(pilot, lambda: bool(tables.tables) and tables.counted)
        newest = tables._listing
        tables.post_message(TablesScreen.TablesListed([], newest - 1))
        tables.post_message(TablesScreen.RowsCounted(newest - 1, PAGEVIEWS, 7))
        await pilot.pause()
        await pilot.pause()
        assert tables.counted
        row = tables.query_one("#tables-table", DataTable).get_row_at(0)
        assert str(row[2]) == "250"


async def test_filter_applies_and_refuses_writes_with_a_message(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        spain = [
            row[0]
            for row in query(tables_db, f"SELECT event_id FROM \"{PAGEVIEWS}\" WHERE country = 'Spain' ORDER BY _pk")
        ]
        await pilot.press("w")
        field = screen.query_one("#filter-input", Input)
        assert field.has_focus
        await paste(pilot, "country = 'Spain'")
        await pilot.press("enter")
        await settle(pilot, screen)
        assert screen.view.where == "country = 'Spain'"
        assert shown_ids(screen) == spain[: screen.page_rows]
        assert status(screen).startswith(
            f"rows 1–{min(len(spain), screen.page_rows)} of {len(spain)} · key order · WHERE country = 'Spain'"
        )
        error = screen.query_one("#filter-error", Static)
        for where, word in (
            (f'1 = 1; DELETE FROM "{PAGEVIEWS}"', "DELETE"),
            ("country = 'x'; UPDATE x SET country = NULL", "UPDATE"),
            (f'DROP TABLE "{PAGEVIEWS}"', "DROP"),
        ):
            await pilot.press("w")
            field.value = ""
            await paste(pilot, where)
            await pilot.press("enter")
            await settle(pilot, screen)
            assert error.display
            assert str(error.render()).startswith(f"Filters are read-only conditions (found {word})")
            assert field.has_focus and screen.view.where == "country = 'Spain'"
            await pilot.press("escape")
            assert not error.display and screen.grid.has_focus
        await pilot.press("w")
        field.value = ""
        await paste(pilot, "nope = 1")
        await pilot.press("enter")
        await settle(pilot, screen)
        assert str(error.render()) == "Filter error: no such column: nope"
        field.value = ""
        await pilot.press("enter")  # empty: no filter
        await settle(pilot, screen)
        assert screen.view.where is None and screen.total == 250
        assert not screen.query_one("#filter-bar").display
    assert query(tables_db, f'SELECT COUNT(*) FROM "{PAGEVIEWS}"') == [(250,)]


async def test_sort_frequencies_value_and_copy(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        await pilot.press("right", "right")
        assert screen.current_column() == "country"
        await pilot.press("o")
        await settle(pilot, screen)
        expected = [row[0] for row in query(tables_db, f'SELECT event_id FROM "{PAGEVIEWS}" ORDER BY country, _pk')]
        assert shown_ids(screen) == expected[: screen.page_rows]
        assert str(screen.grid.ordered_columns[2].label) == "country ▲"
        assert "sorted by country ▲" in status(screen)
        await pilot.press("o")
        await settle(pilot, screen)
        expected = [
            row[0] for row in query(tables_db, f'SELECT event_id FROM "{PAGEVIEWS}" ORDER BY country DESC, _pk DESC')
        ]
        assert shown_ids(screen) == expected[: screen.page_rows]
        await pilot.press("pagedown")
        await settle(pilot, screen)
        assert shown_ids(screen) == expected[screen.page_rows : 2 * screen.page_rows]
        await pilot.press("o")
        await settle(pilot, screen)
        assert screen.view.sort is None and shown_ids(screen)[0] == 1

        await pilot.press("F")
        modal = app.screen
        assert isinstance(modal, FrequenciesScreen)
        await wait_until(pilot, lambda: bool(modal.values))
        counts = query(
            tables_db, f'SELECT country, COUNT(*) AS n FROM "{PAGEVIEWS}" GROUP BY country ORDER BY n DESC, country'
        )
        assert modal.values == counts
        table = modal.query_one("#frequencies-table", DataTable)
        assert [str(table.get_row_at(0)[i]) for i in range(3)] == [
            str(counts[0][0]),
            str(counts[0][1]),
            f"{100 * counts[0][1] / 250:.1f}",
        ]
        assert str(modal.query_one("#frequencies-note", Static).render()).startswith(
            f"{len(counts)} distinct values in 250 rows"
        )
        await pilot.press("enter")
        await settle(pilot, screen)
        assert screen.view.where == f"\"country\" = '{counts[0][0]}'"
        assert screen.total == counts[0][1]

        screen.grid.move_cursor(row=1, column=5)  # title
        await pilot.pause()
        value = query(
            tables_db, f"SELECT title FROM \"{PAGEVIEWS}\" WHERE country = '{counts[0][0]}' ORDER BY _pk LIMIT 2"
        )[1][0]
        await pilot.press("c")
        assert app.clipboard == value
        await pilot.press("v")
        assert isinstance(app.screen, CellValueScreen)
        assert str(app.screen.query_one("#cell-value", Static).render()) == value
        await pilot.press("escape")
        await pilot.press("enter")  # Enter opens the whole row (tests/tui/test_table_review.py)
        assert isinstance(app.screen, RowDetailScreen)
        await pilot.press("escape")
        assert app.screen is screen


async def test_export_writes_the_current_view_with_progress(
    tables_db: Path, app_factory: AppFactory, tmp_path: Path
) -> None:
    target = tmp_path / "exports" / "spain.csv"
    target.parent.mkdir()
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        await pilot.press("w")
        await paste(pilot, "country = 'Spain' OR country IS NULL")
        await pilot.press("enter")
        await settle(pilot, screen)
        await pilot.press("right", "o", "o")  # by time, descending
        await settle(pilot, screen)
        await pilot.press("E")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        field = prompt.query_one("#prompt-input", Input)
        assert field.value == "~/Heap_Pageviews.csv"
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and target.exists())
        await pilot.pause()
    with target.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    expected = query(
        tables_db,
        f"SELECT * FROM \"{PAGEVIEWS}\" WHERE country = 'Spain' OR country IS NULL ORDER BY time DESC, _pk DESC",
    )
    columns = [row[1] for row in query(tables_db, f'PRAGMA table_info("{PAGEVIEWS}")')]
    assert lines[0] == columns
    assert lines[1:] == [["" if value is None else str(value) for value in row] for row in expected]
    assert sorted(p.name for p in target.parent.iterdir()) == ["spain.csv"]
    notes = [n for n in app._notifications if n.title == "Exported"]
    assert notes and notes[-1].message == f"{len(expected):,} rows written to {target}"


async def test_palette_opens_tables_and_a_table(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        await paste(pilot, "Open table Heap:Pageviews")
        await palette_wait(pilot, "Open table Heap:Pageviews")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TableViewScreen))
        assert app.screen.table_name == PAGEVIEWS


def test_export_path_is_the_table_name_made_safe() -> None:
    assert default_export_path("Heap:Users") == "~/Heap_Users.csv"
    assert default_export_path("Heap:Checkout Complete Order:resolved") == "~/Heap_Checkout_Complete_Order_resolved.csv"
    assert default_export_path("../x") == "~/x.csv"
