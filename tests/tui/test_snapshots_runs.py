"""SVG snapshots of the run and table screens at 80×24 and 120×40 (update with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from core.browse import View
from core.store import Store
from tests.waiting import pilot_wait
from tests.waiting import settle as settle_app
from tui.app import CourierApp
from tui.screens.cell_value import CellValueScreen
from tui.screens.export import ExportScreen
from tui.screens.frequencies import FrequenciesScreen
from tui.screens.run_history import RunHistoryScreen
from tui.screens.run_live import RunLiveScreen
from tui.screens.table_view import TableViewScreen
from tui.screens.tables import TablesScreen

from .runs_tables_data import PAGEVIEWS, add_run_history, build_pageviews, failed_run_id

AppFactory = Callable[..., CourierApp]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def history_db(configured_db: Path) -> Path:
    """The sample configuration, finished runs of every status, one running run, a pageviews table."""
    add_run_history(configured_db)
    build_pageviews(configured_db)
    with Store(configured_db) as store:
        cursor = store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, window_start, window_end, status, started_at, "
            "files, rows_read, rows_inserted, rows_updated, phase, units_planned, units_done, files_to_land, "
            "files_landed, files_planned, files_done, current_table, current_file) VALUES ('courier', 'Heap', "
            "'schedule', 'period', '2026-11-24', '2026-11-25', 'Running', '2026-11-25T17:26:18.000000Z', 2, 3000, "
            "2900, 100, 'loading', 5, 2, 5, 5, 5, 2, 'Heap:Pageviews', 'part-00001.avro')"
        )
        running = cursor.lastrowid
        for at, stage, message, file in (
            (
                "17:26:18",
                "Courier run request",
                "Run Heap for 2026-11-24 to 2026-11-25 (end exclusive) (schedule)",
                None,
            ),
            ("17:26:19", "Waiting for source data", "Found 3 completed dumps (latest sync_1020)", None),
            (
                "17:26:20",
                "Ingest started",
                "Heap:Pageviews (df-pagevi01) from Heap table pageviews: 5 files in dump sync_1020",
                None,
            ),
            (
                "17:26:25",
                "Ingest files progress",
                "part-00000.avro (1/5): 1,500 rows read, 0 rejected",
                "part-00000.avro",
            ),
            (
                "17:26:27",
                "Ingest files progress",
                "part-00001.avro (2/5): 1,500 rows read, 0 rejected",
                "part-00001.avro",
            ),
            ("17:26:27", "Committing domain transactions", "Committing Heap:Pageviews", None),
        ):
            store.execute(
                "INSERT INTO run_events (run_id, at, level, stage, message, file) VALUES (?, ?, 'info', ?, ?, ?)",
                (running, f"2026-11-25T{at}.000000Z", stage, message, file),
            )
    return configured_db


async def until(pilot: Any, condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition()`` holds, then let it draw."""
    await pilot_wait(pilot, condition)
    await pilot.pause()


async def open_history(pilot: Any) -> None:
    await pilot.press("h")
    screen = pilot.app.screen
    assert isinstance(screen, RunHistoryScreen)
    await until(pilot, lambda: bool(screen.runs))


async def open_live(pilot: Any, screen: RunLiveScreen) -> None:
    await until(pilot, lambda: screen.live.run is not None and bool(screen.live.lines) and not screen._polling)


async def open_table(pilot: Any, *keys: str) -> None:
    await pilot.press("t")
    tables = pilot.app.screen
    assert isinstance(tables, TablesScreen)
    await until(pilot, lambda: bool(tables.tables) and tables.counted)  # counts fill in after the names
    await pilot.press("enter")
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
        await settle(pilot)
        await workers_done(pilot)


async def workers_done(pilot: Any) -> None:
    """Wait until the top screen's workers (a modal's counting, say) have finished and their answers are shown."""
    from textual.worker import WorkerState

    top = pilot.app.screen
    await until(pilot, lambda: not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in top.workers))
    await settle_app(pilot)


async def settle(pilot: Any) -> None:
    """Wait until the table view shows its page and its position (or a modal has its data)."""
    screen = next(s for s in reversed(pilot.app.screen_stack) if isinstance(s, TableViewScreen))
    await until(
        pilot,
        lambda: (
            screen.page is not None
            and not screen._busy
            and not screen._queue
            and screen.total is not None
            and screen.position_counted
            and screen.page_rows == screen._fitting_rows() == len(screen.page.rows)
        ),
    )
    modal = pilot.app.screen
    if isinstance(modal, FrequenciesScreen):
        await until(pilot, lambda: bool(modal.values))


@pytest.mark.parametrize("size", SIZES)
def test_run_history(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(history_db), run_before=open_history, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_run_live_failed(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def open_failed(pilot: Any) -> None:
        screen = RunLiveScreen(failed_run_id(history_db))
        pilot.app.push_screen(screen)
        await open_live(pilot, screen)

    assert snap_compare(app_factory(history_db), run_before=open_failed, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_run_live_running_search(
    snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def open_running(pilot: Any) -> None:
        await open_history(pilot)
        await pilot.press("enter")
        await open_live(pilot, pilot.app.screen)
        await pilot.press("slash", *"part")
        # The footer recomposes after the focus moves to the search field (help becomes f1).
        await until(pilot, lambda: any(key.key_display == "f1" for key in pilot.app.screen.query(FooterKey)))

    assert snap_compare(app_factory(history_db), run_before=open_running, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_domain_tables(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def open_tables(pilot: Any) -> None:
        await pilot.press("t")
        tables = pilot.app.screen
        await until(pilot, lambda: bool(tables.tables) and tables.counted)

    assert snap_compare(app_factory(history_db), run_before=open_tables, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_table_view(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def sorted_page(pilot: Any) -> None:
        await open_table(pilot, "right", "right", "o", "pagedown")

    assert snap_compare(app_factory(history_db), run_before=sorted_page, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_table_filter_refused(
    snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def refused(pilot: Any) -> None:
        from textual import events

        await open_table(pilot)
        await pilot.press("w")
        pilot.app.post_message(events.Paste(f'1 = 1; DELETE FROM "{PAGEVIEWS}"'))
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query_one("#filter-error").display)
        await settle(pilot)

    assert snap_compare(app_factory(history_db), run_before=refused, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_frequencies(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def frequencies(pilot: Any) -> None:
        await open_table(pilot, "right", "right", "F")

    assert snap_compare(app_factory(history_db), run_before=frequencies, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_cell_value(snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def cell(pilot: Any) -> None:
        await open_table(pilot)
        value = (
            '{"cart": {"items": [{"sku": "RSJ-001", "name": "Rain Shell Jacket", "qty": 1, "price": 129.0}, '
            '{"sku": "MW-SOCK-3", "name": "Merino Wool Socks (3 pack)", "qty": 2, "price": 24.5}], '
            '"coupon": "WELCOME10", "currency": "USD"}}'
        )
        pilot.app.push_screen(CellValueScreen(f"{PAGEVIEWS} · properties · key 42", value))
        await pilot.pause()

    assert snap_compare(app_factory(history_db), run_before=cell, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_export_prompt_and_progress(
    snap_compare: Any, history_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def exporting(pilot: Any) -> None:
        await open_table(pilot, "E")
        if size[0] > 100:
            # The wide snapshot shows the progress dialog instead: its worker is held back.
            await pilot.press("escape")
            screen = ExportScreen(history_db, View(PAGEVIEWS, "country IS NOT NULL"), Path("~/Heap_Pageviews.csv"))
            screen._export = lambda: None  # type: ignore[method-assign]
            pilot.app.push_screen(screen)
            await pilot.pause()
            screen.post_message(ExportScreen.Progressed(120_000, 214_000))
            await pilot.pause()

    assert snap_compare(app_factory(history_db), run_before=exporting, terminal_size=size)
