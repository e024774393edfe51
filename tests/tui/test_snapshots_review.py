"""SVG snapshots of the table review screens at 80×24 and 120×40: row detail, column jump, profile, SQL pane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui.app import CourierApp
from tui.screens.profile import ProfileScreen
from tui.screens.query import QueryScreen
from tui.screens.row_detail import RowDetailScreen
from tui.screens.sort_index import SortIndexScreen

from .runs_tables_data import PAGEVIEWS
from .test_snapshots_runs import SIZES, history_db, open_table, until  # noqa: F401  (history_db: a fixture)

AppFactory = Callable[..., CourierApp]


@pytest.mark.parametrize("size", SIZES)
def test_row_detail(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def detail(pilot: Any) -> None:
        await open_table(pilot, "down", "enter")
        screen = pilot.app.screen
        assert isinstance(screen, RowDetailScreen)
        await until(pilot, lambda: screen.detail is not None)

    assert snap_compare(app_factory(history_db), run_before=detail, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_column_jump(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def jump(pilot: Any) -> None:
        await open_table(pilot, "g")
        await pilot.press("c")
        await pilot.pause()

    assert snap_compare(app_factory(history_db), run_before=jump, terminal_size=size)


@pytest.mark.parametrize("column", ["country", "time"])
@pytest.mark.parametrize("size", SIZES)
def test_profile(
    snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int], column: str
) -> None:
    async def profile(pilot: Any) -> None:
        await open_table(pilot, *(["right"] * (2 if column == "country" else 1)), "P")
        screen = pilot.app.screen
        assert isinstance(screen, ProfileScreen)
        await until(pilot, lambda: screen.profile is not None and not screen.running)

    assert snap_compare(app_factory(history_db), run_before=profile, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_sql_pane(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def grouped(pilot: Any) -> None:
        from textual.widgets import Input

        await open_table(pilot, "S")
        screen = pilot.app.screen
        assert isinstance(screen, QueryScreen)
        screen.query_one(
            "#query-input", Input
        ).value = f'SELECT country, COUNT(*) AS pageviews FROM "{PAGEVIEWS}" GROUP BY 1 ORDER BY 2 DESC, 1'
        await pilot.press("enter")
        await until(pilot, lambda: screen.page is not None and not screen.running)

    assert snap_compare(app_factory(history_db), run_before=grouped, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_sort_index(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    from core.store import Store

    # One index listed (made as a build makes it: history_db has a running run, so a build would wait for it);
    # the dialog offers one on country.
    with Store(history_db) as store:
        store.execute(f'CREATE INDEX "courier-sort:{PAGEVIEWS}:time" ON "{PAGEVIEWS}" (time, _pk)')

    async def offer(pilot: Any) -> None:
        from tui.screens.table_view import TableViewScreen

        await open_table(pilot, "right", "right", "o")
        table = pilot.app.screen
        assert isinstance(table, TableViewScreen)
        await until(pilot, lambda: table.view.sort == "country" and table.sort_support is not None)
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, SortIndexScreen)
        await until(pilot, lambda: screen.indexes is not None)

    assert snap_compare(app_factory(history_db), run_before=offer, terminal_size=size)
