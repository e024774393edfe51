"""Issue 10 in the TUI: a busy or full database is one notification naming the cause, never a crash.

The app keeps reading (WAL readers are never blocked by the writer), refuses the write with the
engine's own line, and nothing is changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from core.project import load_project
from core.store import Store
from tests.waiting import pilot_wait, settle
from tui.app import CourierApp
from tui.screens.run_history import RunHistoryScreen
from tui.screens.sources import SourcesScreen
from tui.screens.tables import TablesScreen

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)


def couriers(db_path: Path) -> set[str]:
    with Store(db_path) as store:
        return set(load_project(store).couriers)


def messages(app: CourierApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def delete_heap_exports(pilot: Any, app: CourierApp) -> None:
    assert isinstance(app.screen, SourcesScreen)
    assert app.screen.query_one("#couriers-table", DataTable).row_count == 2  # it opened and read
    await pilot.press("down", "d", "y")  # "Heap exports", Delete, confirm
    # The delete may fail (that is what some tests check): wait for it to end either way, and for the
    # app to have reported it. (``workers.wait_for_complete`` raises for a worker that failed, but only
    # when it is still listed, which depends on how fast the machine is.)
    await pilot_wait(pilot, lambda: all(worker.is_finished for worker in app.workers), "the delete")
    await settle(pilot)


async def test_a_write_while_another_program_holds_the_lock_is_one_notification(
    configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURIER_BUSY_TIMEOUT", "0.2")
    holder = sqlite3.connect(configured_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE runs SET message = message WHERE 0")
    try:
        app = app_factory(configured_db)
        async with app.run_test(size=SIZE) as pilot:
            await delete_heap_exports(pilot, app)
            assert isinstance(app.screen, SourcesScreen)
            assert (
                f"The Courier database {configured_db} is busy: another program holds its write lock (e.g. an "
                "sqlite3 shell with an open transaction); close it and retry"
            ) in messages(app)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert couriers(configured_db) == {"Heap", "Heap exports"}


async def test_a_full_database_still_opens_and_reads(
    configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 10, item 5: with the disk full, the TUI still opens and shows what is there. (A write
    # that needs a new page then fails with "the disk holding … is full"; the CLI fault tests show it.)
    conn = sqlite3.connect(configured_db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    monkeypatch.setenv("COURIER_DB_MAX_BYTES", str(size))
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, SourcesScreen)
        assert app.screen.query_one("#couriers-table", DataTable).row_count == 2
        await pilot.press("h")
        await pilot_wait(pilot, lambda: isinstance(app.screen, RunHistoryScreen) and bool(app.screen.runs))
        assert isinstance(app.screen, RunHistoryScreen)
        assert [run.status for run in app.screen.runs.values()] == ["Succeeded"]
        await pilot.press("escape", "t")
        await pilot_wait(pilot, lambda: isinstance(app.screen, TablesScreen) and app.screen.counted)
        assert not [message for message in messages(app) if "full" in message or "failed" in message]
