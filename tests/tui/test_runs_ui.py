"""Pilot tests of the live run screen and run history against the local S3 server.

Runs are real: the app's worker (or a ``courier run`` subprocess) runs the
courier against moto, and the screens follow them through the database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RichLog, Static

from core.project import apply_document
from core.runs import RunWindow, get_run, list_runs, run_courier
from core.store import Store
from tests.conftest import HEAP_TABLE_OF_FEED, heap_document
from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.run_courier import RunCourierScreen
from tui.screens.run_history import RunHistoryScreen
from tui.screens.run_live import LiveRun, RunLiveScreen, visible_lines

from .runs_tables_data import add_run_history, failed_run_id

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)
ROOT = Path(__file__).resolve().parents[2]
MISSING_FEEDS = 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float | None = None) -> None:
    """Let the app run until ``condition()`` holds (a run moves on its own clock; no deadline but a hang's)."""
    await pilot_wait(pilot, condition)


async def live(pilot: Any) -> RunLiveScreen:
    """The live run screen, once it is on top (a key's screen push is not instant on a busy machine)."""
    await pilot_wait(pilot, lambda: isinstance(pilot.app.screen, RunLiveScreen), "the live run screen")
    screen = pilot.app.screen
    assert isinstance(screen, RunLiveScreen)
    return screen


def text_of(app: CourierApp, widget_id: str) -> str:
    return str(app.screen.query_one(f"#{widget_id}", Static).render())


def log_text(screen: RunLiveScreen) -> list[str]:
    """The log's lines as shown, with wrapped lines joined again."""
    lines: list[str] = []
    for strip in screen.query_one("#run-log", RichLog).lines:
        text = strip.text.rstrip()
        if re.match(r"^((WARN|ERROR) )?\d\d:\d\d:\d\d ", text) or not lines:
            lines.append(text)
        else:
            lines[-1] += " " + text
    return lines


def users_csv(count: int, *, start: int = 1, tag: str = "a") -> bytes:
    lines = ["user_id,email,last_modified"]
    lines += [
        f"{n},user{n}-{tag}@example.com,2026-11-2{'4' if tag == 'a' else '5'}T10:00:00Z"
        for n in range(start, start + count)
    ]
    return ("\n".join(lines) + "\n").encode()


def configure_exports(db_path: Path, endpoint: str, bucket: str, operations: dict[str, Any]) -> None:
    """A file-pattern courier "Heap exports" on daily users CSV files, a Heap:Users feed."""
    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {"local": {"type": "iam-credential", "endpoint-url": endpoint, "region": "us-east-1"}},
                "feeds": {
                    "df-usersx01": {
                        "source": "Heap",
                        "name": "Users",
                        "primary-key": ["user_id"],
                        "last-updated": "last_modified",
                    }
                },
                "couriers": {
                    "Heap exports": {
                        "credential": "local",
                        "bucket": bucket,
                        "prefix": "exports/",
                        "layout": "file-pattern",
                        "entities": [
                            {
                                "object/file-pattern": "'users-'yyyy-MM-dd'.csv'",
                                "object/land-as": {
                                    "file/tag": "users",
                                    "file/content-type": "text/csv",
                                    "file/header-rows": 1,
                                },
                            }
                        ],
                        "load-operations": operations,
                    }
                },
            },
        )


def table_rows(db_path: Path, table: str) -> list[tuple[Any, ...]]:
    with Store(db_path) as store:
        return [tuple(row) for row in store.execute(f'SELECT * FROM "{table}" ORDER BY _pk')]


async def test_a_run_from_the_dialog_is_followed_live_to_succeeded(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any, heap_data: Any
) -> None:
    with Store(db_path) as store:
        apply_document(store, heap_document(heap_bucket.endpoint, heap_bucket.name))
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        assert isinstance(app.screen, RunCourierScreen)
        await pilot.press("f2")
        screen = await live(pilot)
        await wait_until(pilot, lambda: screen.live.final)
        await pilot.pause()
        run = screen.live.run
        assert run is not None and run.status == "Succeeded", run.message if run else None
        inserted = sum(heap_data.summary[table] for table in HEAP_TABLE_OF_FEED.values())
        assert run.rows_inserted == inserted and run.rows_rejected == 0
        state = text_of(app, "run-state")
        assert re.fullmatch(r"Succeeded · Completed · \d+ minutes? \d+ seconds? elapsed", state)
        assert text_of(app, "run-counts") == (
            f"Files {run.files:,} · read {run.rows_read:,} · inserted {inserted:,} · "
            f"updated {run.rows_updated:,} · rejected 0"
        )
        assert text_of(app, "overall-label") == f"{run.files:,} of {run.files:,} files loaded"
        lines = log_text(screen)
        stages = [line.split(" ", 1)[1].split(":", 1)[0] for line in lines if " " in line]
        for stage in (
            "Courier run request",
            "Waiting for source data",
            "Loading data",
            "Ingest files progress",
            "Committing domain transactions",
            "Domain transaction closed",
            "Completed",
        ):
            assert stage in stages
        assert any(re.search(r" Completed: Completed in \d+ minutes? \d+ seconds?$", line) for line in lines)
        assert not screen.query_one("#run-failure").display
        assert app.screen.check_action("stop", ()) is None
        await pilot.press("escape")
        assert not isinstance(app.screen, RunLiveScreen)


async def test_a_run_started_by_another_process_is_followed_from_history(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any, heap_data: Any
) -> None:
    with Store(db_path) as store:
        apply_document(store, heap_document(heap_bucket.endpoint, heap_bucket.name))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    courier = Path(sys.executable).with_name("courier")
    process = subprocess.Popen(
        [str(courier), "--db", str(db_path), "run", "Heap", "--all"],  # noqa: ASYNC220
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        app = app_factory(db_path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("h")
            history = app.screen
            assert isinstance(history, RunHistoryScreen)
            await wait_until(pilot, lambda: bool(history.runs), timeout=30)
            run_id = next(iter(history.runs))
            assert history.runs[run_id].pid == process.pid
            await pilot.press("enter")
            screen = await live(pilot)
            assert screen.run_id == run_id
            await wait_until(pilot, lambda: screen.live.final, timeout=30)
            await pilot.pause()
            assert screen.live.status == "Succeeded"
            with Store(db_path) as store:
                stored = get_run(store, run_id)
            assert text_of(app, "run-counts") == (
                f"Files {stored.files:,} · read {stored.rows_read:,} · inserted {stored.rows_inserted:,} · "
                f"updated {stored.rows_updated:,} · rejected 0"
            )
            assert stored.rows_inserted == sum(heap_data.summary[t] for t in HEAP_TABLE_OF_FEED.values())
            assert any("Completed in" in line for line in log_text(screen))
            # Events came from the database: every stored event is in the log, once, in order.
            assert len(screen.live.lines) == len([line for line in log_text(screen) if line[:2].isdigit()])
    finally:
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines()[-1].startswith(f"Run {run_id} Succeeded")


async def test_stopping_a_load_goes_stopping_then_stopped_and_leaves_the_table_unchanged(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.load import TableWriter

    s3_bucket.put_many(
        {"exports/users-2026-11-24.csv": users_csv(50), "exports/users-2026-11-25.csv": users_csv(5000, tag="b")}
    )
    configure_exports(
        db_path,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"df-usersx01": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
    )
    from datetime import date

    first = run_courier(db_path, "Heap exports", RunWindow.day(date(2026, 11, 24)))
    assert first.status == "Succeeded", first.message
    before = table_rows(db_path, "Heap:Users")
    assert len(before) == 50

    upsert = TableWriter.upsert_staged
    released = threading.Event()

    def held_upsert(self: TableWriter, columns: list[str], source: str) -> tuple[int, int]:
        # The file's upsert waits until the stop has been asked for, so the stop always lands mid-file.
        released.wait(timeout=60)
        return upsert(self, columns, source)

    monkeypatch.setattr(TableWriter, "upsert_staged", held_upsert)
    # The run looks for the stop flag at every check, so it sees it on the first one after the release.
    monkeypatch.setattr("core.run_records.STOP_CHECK_SECONDS", 0.0)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r", "f2")
        screen = await live(pilot)
        await wait_until(pilot, lambda: screen.live.progress is not None)
        assert screen.live.status == "Running"
        assert re.fullmatch(r"users-2026-11-25\.csv · [\d,]+ of 5,000 rows", text_of(app, "file-label"))
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.live.stop_requested)
        released.set()
        if not screen.live.final:
            assert text_of(app, "run-state").startswith("Stopping · ")
        await wait_until(pilot, lambda: screen.live.final)
        await pilot.pause()
        assert screen.live.status == "Stopped"
        assert text_of(app, "run-state").startswith("Stopped · Stopped · ")
        assert text_of(app, "run-failure") == "Stopped by request; the file being loaded was rolled back"
        assert any("Stopping: Stop requested: rolling back the file being loaded" in line for line in log_text(screen))
        assert app.screen.check_action("stop", ()) is None
    assert table_rows(db_path, "Heap:Users") == before


async def test_a_failed_run_shows_amperitys_messages_and_the_log_filters(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    s3_bucket.put("exports/users-2026-11-25.csv", users_csv(5))
    configure_exports(db_path, s3_bucket.endpoint, s3_bucket.name, {"df-xxxxxx": [{"type": "load", "file": "users"}]})
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r", "f2")
        screen = await live(pilot)
        await wait_until(pilot, lambda: screen.live.final)
        await pilot.pause()
        assert screen.live.status == "Failed"
        assert text_of(app, "run-state").startswith("Failed · ")
        failure = screen.query_one("#run-failure", Static)
        assert failure.display and failure.has_class("-error")
        assert str(failure.render()) == MISSING_FEEDS
        await pilot.press("3")
        errors = log_text(screen)
        assert [line.split(" ", 2)[2] for line in errors] == [
            "Loading data: Error running load-operations task",
            'Loading data: Cannot find required feeds: "df-xxxxxx"',
        ]
        assert errors[0].startswith("ERROR ")
        await pilot.press("1")
        assert len(log_text(screen)) > 2
        await pilot.press("slash")
        await pilot.press(*"landed")
        await pilot.pause()
        matching = log_text(screen)
        assert len(matching) == 1 and "Landed exports/users-2026-11-25.csv" in matching[0]
        assert 'matching "landed"' in text_of(app, "log-status")
        await pilot.press("escape")
        assert screen.search == "" and len(log_text(screen)) > 2
        await pilot.press("escape")
        assert not isinstance(app.screen, RunLiveScreen)
    # The app's own notification says the same thing.
    failures = [n for n in app._notifications if n.severity == "error"]
    assert failures and failures[-1].message == MISSING_FEEDS


async def test_history_filters_opens_a_log_and_reruns(db_path: Path, app_factory: AppFactory, s3_bucket: Any) -> None:
    s3_bucket.put("exports/users-2026-11-25.csv", users_csv(5))
    configure_exports(db_path, s3_bucket.endpoint, s3_bucket.name, {"df-xxxxxx": [{"type": "load", "file": "users"}]})
    add_run_history(db_path)
    failed = failed_run_id(db_path)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        history = app.screen
        assert isinstance(history, RunHistoryScreen)
        await wait_until(pilot, lambda: len(history.runs) == 5)
        assert list(history.runs) == [5, 4, 3, 2, 1]
        await pilot.press("s", "s", "s")  # all → Running → Succeeded → Failed
        await wait_until(pilot, lambda: list(history.runs) == [failed])
        assert text_of(app, "history-filters").startswith("Status: Failed (s) · Courier or group: all (c) · 1 run")
        await pilot.press("s", "s", "s", "c")  # back to every status; first courier
        await wait_until(pilot, lambda: history.target_filter == ("courier", "Heap") and len(history.runs) == 3)
        await pilot.press("c", "c")  # Heap exports, then the group Heap daily
        await wait_until(pilot, lambda: list(history.runs) == [2])
        assert "Courier or group: Heap daily (group)" in text_of(app, "history-filters")
        await pilot.press("c")
        await wait_until(pilot, lambda: len(history.runs) == 5)
        assert history.selected_run().id == 2  # the cursor stays on the run it was on
        await pilot.press("ctrl+home", "down", "enter")
        screen = await live(pilot)
        assert screen.run_id == failed
        await wait_until(pilot, lambda: screen.live.final and len(screen.live.lines) == 7)
        assert str(screen.query_one("#run-failure", Static).render()) == MISSING_FEEDS
        await pilot.press("escape")
        assert app.screen is history
        await pilot.press("r")
        rerun = await live(pilot)
        await wait_until(pilot, lambda: rerun.live.final)
        assert rerun.live.run is not None and rerun.live.run.id > 5
        assert rerun.live.run.target == "Heap exports"
        assert rerun.live.run.window == RunWindow.day(__import__("datetime").date(2026, 11, 25))
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(history.runs) == 6)
        await pilot.press("ctrl+home", "down", "r")  # run 5: the courier "Heap" is not in this database
        gone = await live(pilot)
        await wait_until(pilot, lambda: gone.start_error is not None)
        assert text_of(app, "run-failure").startswith('The run did not start: There is no courier named "Heap"')
        assert text_of(app, "run-state").startswith("Failed · ")
    with Store(db_path) as store:
        assert list_runs(store, limit=1)[0].status == "Failed"


def test_live_state_counts_files_from_typed_progress_and_filters_lines() -> None:
    from core.run_records import Progress, RunEvent, RunProgress, RunSummary

    def summary(progress: Progress) -> RunSummary:
        return RunSummary(
            9,
            "courier",
            "Heap exports",
            "manual",
            RunWindow.all(),
            "Running",
            "2026-11-25T17:00:00.000000Z",
            None,
            1,
            10,
            10,
            0,
            0,
            None,
            progress=progress,
        )

    state = LiveRun(run=summary(Progress(phase="planning")))
    events = [
        RunEvent(1, 9, "2026-11-25T17:00:00.000000Z", "info", "Ingest started", "words that say nothing of files"),
        RunEvent(
            2, 9, "2026-11-25T17:00:01.000000Z", "info", "Ingest files progress", "users-1.csv done", "users-1.csv"
        ),
        RunEvent(3, 9, "2026-11-25T17:00:02.000000Z", "warning", "Ingest feed progress", "2 rows rejected"),
    ]
    assert len(state.add_events(events)) == 3
    assert state.add_events(events[:2]) == []
    assert state.overall() is None  # still planning: the total is not known yet
    state.run = summary(
        Progress(
            phase="landing",
            files_to_land=4,
            files_landed=2,
            files_planned=4,
            units_planned=1,
            current_file="users-2.csv",
        )
    )
    assert state.overall() == (2.0, 8.0, "2 of 4 files landed")
    assert state.current_file() == (None, 0.0, "users-2.csv (row progress shows for runs started in this app)")
    state.run = summary(
        Progress(phase="loading", files_to_land=4, files_landed=4, files_planned=4, files_done=1, units_planned=1)
    )
    assert state.overall() == (5.0, 8.0, "1 of 4 files loaded")
    # In this process the file being loaded counts by its rows; the bar never goes back.
    state.progress = RunProgress(9, "users-3.csv", 3, 4, 50, 100, 2.5)
    assert state.overall() == (6.5, 8.0, "1 of 4 files loaded")
    state.progress = None
    assert state.overall() == (6.5, 8.0, "1 of 4 files loaded")
    state.progress = RunProgress(9, "users-3.csv", 3, 4, 50, 100, 2.5)
    assert state.current_file() == (50.0, 100.0, "users-3.csv · 50 of 100 rows")
    assert [line.id for line in visible_lines(state.lines, ("warning", "error"), "")] == [3]
    assert [line.id for line in visible_lines(state.lines, ("info", "warning", "error"), "USERS-1")] == [2]


def test_live_state_of_a_group_prefixes_its_couriers_lines() -> None:
    from core.runs import RunEvent, RunSummary

    def summary(run_id: int, kind: str, target: str, parent: int | None) -> RunSummary:
        return RunSummary(
            run_id,
            kind,
            target,
            "schedule",
            RunWindow.all(),
            "Running",
            "2026-11-25T17:00:00.000000Z",
            None,
            0,
            0,
            0,
            0,
            0,
            None,
            parent_id=parent,
        )

    state = LiveRun(run=summary(10, "group", "Heap daily", None), children={11: summary(11, "courier", "Heap", 10)})
    state.add_events(
        [
            RunEvent(
                5, 11, "2026-11-25T17:00:02.000000Z", "info", "Waiting for source data", "Found 4 completed dumps"
            ),
            RunEvent(4, 10, "2026-11-25T17:00:01.000000Z", "info", "Courier group run request", "Run Heap daily"),
        ]
    )
    assert [line.text for line in state.lines] == [
        "17:00:01 Courier group run request: Run Heap daily",
        "17:00:02 [Heap] Waiting for source data: Found 4 completed dumps",
    ]
    assert state.run_ids == {10, 11} and state.stage == "Waiting for source data"


async def test_the_rows_a_run_rejected_are_listed_from_its_run_view(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    from datetime import date

    from textual.widgets import DataTable

    from tui.screens.rejects import RejectsScreen

    # Row 2's email is not UTF-8: that row is rejected (1 of 100, within the 1% threshold), the rest load.
    body = users_csv(100).replace(b"user2-a@", b"user2-\xff@")
    s3_bucket.put("exports/users-2026-11-24.csv", body)
    configure_exports(db_path, s3_bucket.endpoint, s3_bucket.name, {"df-usersx01": [{"type": "load", "file": "users"}]})
    run = run_courier(db_path, "Heap exports", RunWindow.day(date(2026, 11, 24)))
    assert (run.status, run.rows_rejected) == ("Warning", 1), run.message
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunLiveScreen(run.id))
        screen = await live(pilot)
        await wait_until(pilot, lambda: screen.live.final)
        assert screen.check_action("rejects", ()) is True
        await pilot.press("j")
        await wait_until(
            pilot, lambda: isinstance(app.screen, RejectsScreen) and app.screen.query_one(DataTable).row_count == 1
        )
        row = app.screen.query_one(DataTable).get_row_at(0)
        assert row[:4] == ["users-2026-11-24.csv", 2, "2", "email"]
        assert "not valid UTF-8" in row[4]
        await pilot.press("escape")
        assert isinstance(app.screen, RunLiveScreen)


@pytest.mark.usefixtures("reworded_messages")
async def test_reworded_messages_leave_the_live_screen_counts_right_and_the_bar_never_goes_back(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any, heap_data: Any
) -> None:
    from textual.widgets import ProgressBar

    with Store(db_path) as store:
        apply_document(store, heap_document(heap_bucket.endpoint, heap_bucket.name))
    app = app_factory(db_path)
    shown: list[float] = []

    def overall_then_final(screen: RunLiveScreen) -> bool:
        bar = screen.query_one("#overall-progress", ProgressBar)
        if bar.percentage is not None and screen.live.run is not None:
            shown.append(bar.percentage)
        return screen.live.final

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r", "f2")
        screen = await live(pilot)
        await wait_until(pilot, lambda: overall_then_final(screen))
        await pilot.pause()
        run = screen.live.run
        assert run is not None and run.status == "Succeeded", run.message if run else None
        assert all("worded differently" in line for line in log_text(screen))
        inserted = sum(heap_data.summary[table] for table in HEAP_TABLE_OF_FEED.values())
        assert run.files > 1 and run.rows_inserted == inserted
        assert text_of(app, "overall-label") == f"{run.files:,} of {run.files:,} files loaded"
        assert text_of(app, "run-counts") == (
            f"Files {run.files:,} · read {run.rows_read:,} · inserted {inserted:,} · "
            f"updated {run.rows_updated:,} · rejected 0"
        )
        assert screen.query_one("#overall-progress", ProgressBar).percentage == 1.0
    assert shown == sorted(shown), shown
