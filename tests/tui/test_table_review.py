"""Pilot tests of the table review actions: row detail, column jump, search, profile, SQL pane, identity."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, OptionList, Static

from core.identity import refresh_identity_views
from core.store import Store
from tui.screens.column_jump import ColumnJumpScreen, matching_columns
from tui.screens.profile import ProfileScreen, day_chart
from tui.screens.query import QueryScreen, complete
from tui.screens.row_detail import RowDetailScreen
from tui.screens.sort_index import SortIndexScreen
from tui.screens.table_view import TableViewScreen
from tui.screens.user_rows import UserRowsScreen

from .runs_tables_data import PAGEVIEWS, build_pageviews
from .test_tables_ui import AppFactory, open_table, paste, query, settle, shown_ids, status, wait_until

SIZE = (80, 24)


@pytest.fixture
def tables_db(db_path: Path) -> Path:
    build_pageviews(db_path)
    build_pageviews(db_path, 30, table="Heap:Sessions")
    with Store(db_path) as store:
        store.execute(
            "INSERT INTO identity_map (source, from_user_id, to_user_id) "
            f"SELECT 'Heap', user_id, 1 FROM \"{PAGEVIEWS}\" WHERE event_id = 2"
        )
        refresh_identity_views(store, "Heap", [PAGEVIEWS, "Heap:Sessions"])
    return db_path


def text_of(screen: Any, selector: str) -> str:
    """What a Static shows, as plain text (Rich tables rendered at 100 columns)."""
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(screen.query_one(selector, Static).content)
    return console.export_text()


async def test_enter_opens_row_detail_and_up_down_move(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        await pilot.press("down", "enter")
        detail = app.screen
        assert isinstance(detail, RowDetailScreen)
        await wait_until(pilot, lambda: detail.detail is not None)
        values = dict(zip(detail.detail.columns, detail.detail.values))
        assert values["event_id"] == 2
        fields = text_of(detail, "#row-fields")
        title = query(tables_db, f'SELECT title FROM "{PAGEVIEWS}" WHERE event_id = 2')[0][0]
        assert title in fields and "country" in fields and "_updated" in fields
        await pilot.press("down")
        await wait_until(pilot, lambda: detail.detail.values[0] == 3)
        await pilot.press("up", "up")
        await wait_until(pilot, lambda: detail.detail.values[0] == 1)
        await pilot.press("up")
        await wait_until(pilot, lambda: "no more rows" in text_of(detail, "#row-status"))
        # Row 7 has a NULL country: it shows as NULL, and copying gives every column.
        for _ in range(6):
            await pilot.press("down")
        await wait_until(pilot, lambda: detail.detail.values[0] == 7 and not detail.loading)
        await pilot.press("c")
        assert "country: NULL" in app.clipboard and app.clipboard.count("\n") == len(detail.detail.columns) - 1
        await pilot.press("escape")
        assert app.screen is screen


async def test_column_jump_by_typing(tables_db: Path, app_factory: AppFactory) -> None:
    assert matching_columns(["event_id", "time", "country", "city"], "ti") == ["time"]
    assert matching_columns(["event_id", "user_id", "city"], "id") == ["event_id", "user_id"]
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        await pilot.press("g")
        assert isinstance(app.screen, ColumnJumpScreen)
        await pilot.press(*"use")
        options = app.screen.query_one("#column-jump-list", OptionList)
        assert options.option_count == 1
        await pilot.press("enter")
        assert app.screen is screen and screen.current_column() == "user_id"
        assert "col 7/9" in status(screen)


async def test_slash_searches_the_current_column(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        screen.grid.move_cursor(column=4)  # path
        await pilot.pause()
        assert screen.current_column() == "path"
        path = query(tables_db, f'SELECT path FROM "{PAGEVIEWS}" ORDER BY _pk LIMIT 1')[0][0]
        needle = path[1:5].upper()
        await pilot.press("slash")
        await paste(pilot, needle)
        await pilot.press("enter")
        expected = [
            row[0]
            for row in query(
                tables_db, f"SELECT event_id FROM \"{PAGEVIEWS}\" WHERE path LIKE '%{needle}%' ORDER BY _pk"
            )
        ]
        await wait_until(pilot, lambda: screen.view.where is not None and screen.total == len(expected))
        await settle(pilot, screen)
        assert shown_ids(screen) == expected[: len(shown_ids(screen))]
        assert "LIKE" in status(screen)
        await pilot.press("slash")
        await paste(pilot, "no such path anywhere")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.total == 0)
        await settle(pilot, screen)
        assert status(screen).startswith("no rows match the filter ·")


async def test_profile_shows_counts_top_values_and_days(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        screen.grid.move_cursor(column=2)  # country
        await pilot.pause()
        await pilot.press("P")
        profile = app.screen
        assert isinstance(profile, ProfileScreen)
        await wait_until(pilot, lambda: profile.profile is not None)
        nulls = query(tables_db, f'SELECT COUNT(*) FROM "{PAGEVIEWS}" WHERE country IS NULL')[0][0]
        top = query(
            tables_db,
            f'SELECT country, COUNT(*) AS n FROM "{PAGEVIEWS}" WHERE country IS NOT NULL '
            "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1",
        )[0]
        assert profile.profile.nulls == nulls and profile.profile.top[0] == top
        assert "exact, all 250 rows" in text_of(profile, "#profile-basis")
        assert top[0] in text_of(profile, "#profile-top") and "█" in text_of(profile, "#profile-top")
        await pilot.press("escape")
        assert app.screen is screen
        screen.grid.move_cursor(column=1)  # time
        await pilot.pause()
        await pilot.press("P")
        profile = app.screen
        await wait_until(pilot, lambda: profile.profile is not None)
        assert profile.profile.kind == "datetime" and "Rows per day" in text_of(profile, "#profile-days")


async def test_profile_estimate_first_then_refined_to_exact_and_stop(
    tables_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.profile

    monkeypatch.setattr(core.profile, "ESTIMATE_ABOVE", 100)
    monkeypatch.setattr(core.profile, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(
        core.profile.profile_column, "__kwdefaults__", {**core.profile.profile_column.__kwdefaults__, "sample_rows": 50}
    )
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        screen.grid.move_cursor(column=2)
        await pilot.pause()
        await pilot.press("P")
        profile = app.screen
        assert isinstance(profile, ProfileScreen)
        # The estimate comes first, then the exact pass replaces it by itself.
        await wait_until(pilot, lambda: profile.profile is not None and profile.profile.exact and not profile.running)
        assert profile.shown == [
            "estimate from 50 sampled rows of 250 (10 runs of consecutive rows spread evenly over the table)",
            "exact, all 250 rows",
        ]
        assert "exact, all 250 rows" in text_of(profile, "#profile-basis")
        # Esc while a profile runs stops it (the profile shown stays); Esc again closes. The stop is
        # asked for before the worker reads its first rows, so it cannot finish first.
        profile.running = True
        profile._stop.set()
        profile._compute(True)
        await wait_until(pilot, lambda: not profile.running)
        assert "Stopped" in text_of(profile, "#profile-note") and profile.profile.exact
        await pilot.press("escape")
        assert app.screen is screen


async def test_frequency_estimate_first_then_exact_counts_and_stop(
    tables_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.profile
    from tui.screens.frequencies import FrequenciesScreen

    monkeypatch.setattr(core.profile, "ESTIMATE_ABOVE", 100)
    monkeypatch.setattr(
        core.profile.frequencies, "__kwdefaults__", {**core.profile.frequencies.__kwdefaults__, "sample_rows": 50}
    )
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        screen.grid.move_cursor(column=2)
        await pilot.pause()
        column = screen.current_column()
        await pilot.press("F")
        counts = app.screen
        assert isinstance(counts, FrequenciesScreen)
        # The estimate comes first, then the exact counts replace it by themselves; the basis line says which.
        await wait_until(pilot, lambda: counts.result is not None and counts.result.exact and not counts.running)
        assert counts.shown == [
            "estimate from 50 sampled rows of 250 (10 runs of consecutive rows spread evenly over the table)",
            "exact, all 250 rows",
        ]
        assert text_of(counts, "#frequencies-basis").strip() == "exact, all 250 rows"
        expected = query(
            tables_db, f'SELECT "{column}", COUNT(*) AS n FROM "{PAGEVIEWS}" GROUP BY 1 ORDER BY n DESC, 1 LIMIT 100'
        )
        assert counts.values == expected
        # Esc while counting stops it (the counts shown stay); Esc again closes. The stop is asked for
        # before the worker starts, so it cannot finish first.
        counts.running = True
        counts._stop.set()
        counts._count(True)
        await wait_until(pilot, lambda: not counts.running)
        assert "Stopped" in text_of(counts, "#frequencies-note") and counts.values == expected
        await pilot.press("escape")
        assert app.screen is screen


async def test_sql_pane_runs_pages_refuses_writes_and_remembers(tables_db: Path, app_factory: AppFactory) -> None:
    assert complete('SELECT * FROM "Heap:Pa', ["Heap:Pageviews"], ["country"]) == 'SELECT * FROM "Heap:Pageviews"'
    assert complete("SELECT coun", ["Heap:Pageviews"], ["country"]) == "SELECT country"
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        await pilot.press("S")
        pane = app.screen
        assert isinstance(pane, QueryScreen)
        field = pane.query_one("#query-input", Input)
        field.value = ""
        await paste(pilot, f'DELETE FROM "{PAGEVIEWS}"')
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.error is not None)
        assert "read-only" in text_of(pane, "#query-error")
        field.value = ""
        await paste(pilot, f'SELECT event_id, country FROM "{PAGEVIEWS}" ORDER BY event_id')
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.page is not None and not pane.running)
        grid = pane.query_one("#query-grid", DataTable)
        rows = grid.row_count
        assert rows == len(pane.page.rows) > 3 and str(grid.get_row_at(0)[0]) == "1"
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: pane.page.offset == rows and not pane.running)
        assert str(grid.get_row_at(0)[0]) == str(rows + 1)
        assert f"rows {rows + 1}–" in text_of(pane, "#query-status")
        await pilot.press("escape")  # back to the field; Up recalls the last query
        field.value = ""
        await pilot.press("up")
        assert field.value.startswith("SELECT event_id, country")
        await pilot.press("escape")
        assert app.screen is screen
    assert query(tables_db, f'SELECT COUNT(*) FROM "{PAGEVIEWS}"')[0][0] == 250
    assert query(tables_db, "SELECT sql FROM recent_queries")[0][0].startswith("SELECT event_id, country")


async def test_identity_toggle_and_this_users_rows(tables_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        assert screen.table_name == PAGEVIEWS
        await pilot.press("I")
        await wait_until(pilot, lambda: screen.table_name == f"{PAGEVIEWS}:resolved" and not screen._busy)
        assert "resolved_user_id" in screen.columns
        await pilot.press("I")
        await wait_until(pilot, lambda: screen.table_name == PAGEVIEWS and not screen._busy)
        await pilot.press("down", "u")  # event 2: its user was merged into user 1
        rows = app.screen
        assert isinstance(rows, UserRowsScreen)
        await wait_until(pilot, lambda: rows.result is not None)
        assert rows.result.resolved_user_id == 1
        counts = dict(rows.result.counts)
        assert set(counts) == {f"{PAGEVIEWS}:resolved", "Heap:Sessions:resolved"}
        await pilot.press("enter")
        opened = app.screen
        assert isinstance(opened, TableViewScreen) and opened is not screen
        await wait_until(pilot, lambda: opened.total is not None and opened.page is not None)
        assert opened.table_name == f"{PAGEVIEWS}:resolved" and opened.total == counts[opened.table_name]
        assert opened.view.where == '"resolved_user_id" = 1'


def test_day_chart_fits_the_width() -> None:
    days = [(f"2026-11-{day:02d}", day) for day in range(1, 31)]
    lines = day_chart(days, 76, height=4)
    assert len(lines) == 5 and lines[0].endswith("█") and lines[-1].startswith("2026-11-01")
    assert lines[-1].endswith("2026-11-30") or "highest 30" in lines[-1]
    narrow = day_chart(days, 12, height=2)
    assert max(len(line) for line in narrow[:-1]) <= 12 and "3 days a column" in narrow[-1]


async def test_sorting_offers_an_index_which_builds_serves_and_drops(
    tables_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import engine
    from tui.screens import table_view

    monkeypatch.setattr(table_view, "INDEX_ADVICE_ROWS", 100)  # the 250-row table counts as large
    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_table(pilot, app)
        screen.grid.move_cursor(column=2)  # country
        await pilot.pause()
        await pilot.press("o")
        await wait_until(pilot, lambda: screen.view.sort == "country" and screen.sort_support is not None)
        assert screen.sort_support.indexed is False and "sorted by country ▲ (no index: i)" in status(screen)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, SortIndexScreen))
        dialog = app.screen
        assert isinstance(dialog, SortIndexScreen)
        await wait_until(pilot, lambda: dialog.indexes is not None)
        assert "b builds an index on country" in text_of(dialog, "#sort-index-advice")
        await pilot.press("b")
        await wait_until(pilot, lambda: dialog.changed and not dialog.building and bool(dialog.indexes))
        assert [index.column for index in engine.sort_indexes(tables_db, PAGEVIEWS)] == ["country"]
        assert "Built the index on country" in text_of(dialog, "#sort-index-note")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen and screen.sort_support is not None)
        await wait_until(pilot, lambda: screen.sort_support.indexed is True)
        assert "(no index" not in status(screen)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, SortIndexScreen))
        dialog = app.screen
        assert isinstance(dialog, SortIndexScreen)
        await wait_until(pilot, lambda: bool(dialog.indexes))
        await pilot.press("d")
        await wait_until(pilot, lambda: dialog.indexes == [] and not dialog.building)
        assert engine.sort_indexes(tables_db) == [] and "Dropped the index on country" in text_of(
            dialog, "#sort-index-note"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen and screen.sort_support is not None)
        await wait_until(pilot, lambda: screen.sort_support.indexed is False)


async def test_a_cancelled_index_build_leaves_nothing(tables_db: Path, app_factory: AppFactory) -> None:
    from core import engine

    app = app_factory(tables_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_table(pilot, app)
        dialog = SortIndexScreen(tables_db, PAGEVIEWS, "country")
        app.push_screen(dialog)
        await wait_until(pilot, lambda: dialog.indexes is not None)
        # Esc while building sets the stop; asked before the worker starts, so it cannot finish first.
        dialog.building = True
        dialog._stop.set()
        dialog._build("country")
        await wait_until(pilot, lambda: not dialog.building)
        assert "cancelled; nothing was built" in text_of(dialog, "#sort-index-note")
        assert engine.sort_indexes(tables_db) == [] and not dialog.changed
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog)


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "NULL"),
        ("", "''"),
        ("  ", "'  '"),
        ("NULL", "'NULL'"),
        ("null ", "'null '"),
        ("it's", "it's"),
        (" it's", "' it''s'"),
        ("plain", "plain"),
        (0, "0"),
    ],
)
def test_empty_blank_and_null_looking_text_is_quoted_so_it_differs_from_null(value: Any, shown: str) -> None:
    from tui.screens.cell_value import full_text
    from tui.screens.table_view import cell_text

    assert cell_text(value).plain == shown
    assert full_text(value) == shown
    # Only a missing value is drawn dim and italic.
    assert ("italic" in str(cell_text(value).style)) == (value is None)
