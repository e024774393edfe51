"""Quitting while a run is loading asks (issue 14, item 8): stop and quit, leave it running, or cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core import engine
from tests.waiting import pilot_wait, wait_for
from tui.app import CourierApp
from tui.screens.quit_run import QuitDuringRunScreen
from tui.screens.run_live import RunLiveScreen

from .test_runs_ui import configure_exports, live, users_csv

AppFactory = Callable[..., CourierApp]
SIZE = (80, 24)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Holds every download until the test opens the gate, so the run is surely still loading when q is pressed."""
    import core.landing

    opened = threading.Event()
    land = core.landing.land

    def held(*args: Any, **kwargs: Any) -> Any:
        opened.wait()
        return land(*args, **kwargs)

    monkeypatch.setattr(core.landing, "land", held)
    return opened


def configure(db_path: Path, s3_bucket: Any) -> None:
    """A file-pattern courier with one day's users file and no load operations (a sample-files run)."""
    s3_bucket.put("exports/users-2026-11-25.csv", users_csv(20))
    configure_exports(db_path, s3_bucket.endpoint, s3_bucket.name, {})


async def start_run(pilot: Any, app: CourierApp) -> tuple[RunLiveScreen, int]:
    await pilot.press("r", "f2")
    screen = await live(pilot)
    await pilot_wait(pilot, lambda: bool(app.runs_going), "the run's ID")
    return screen, next(iter(app.runs_going))


async def ask_to_quit(pilot: Any, *keys: str) -> None:
    """Press ``keys`` (ending with q) and wait for the question."""
    await pilot.press(*keys)
    await pilot_wait(pilot, lambda: isinstance(pilot.app.screen, QuitDuringRunScreen), "the quit question")


async def test_q_on_the_run_screen_asks_and_cancel_keeps_everything(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, gate: threading.Event
) -> None:
    configure(db_path, s3_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen, run_id = await start_run(pilot, app)
        await ask_to_quit(pilot, "q")
        await pilot.press("n")
        await pilot_wait(pilot, lambda: app.screen is screen, "the run screen again")
        assert app.return_code is None  # still running, nothing stopped
        gate.set()
        await pilot_wait(pilot, lambda: screen.live.final, "the run's end")
        assert engine.get_run(db_path, run_id).status == "Succeeded"
        await pilot.press("q")  # nothing is loading any more: q quits at once
        await pilot_wait(pilot, lambda: app.return_code is not None, "the app to quit")


async def test_stop_and_quit_stops_the_run_then_quits(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, gate: threading.Event
) -> None:
    configure(db_path, s3_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        _, run_id = await start_run(pilot, app)
        await ask_to_quit(pilot, "escape", "q")  # from the home screen too
        await pilot.press("s")
        await pilot.pause()
        assert app.return_code is None  # it waits for the run to stop
        gate.set()
        await pilot_wait(pilot, lambda: app.return_code is not None, "the app to quit")
    assert engine.get_run(db_path, run_id).status == "Stopped"


async def test_leave_running_quits_and_the_run_goes_on(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, gate: threading.Event
) -> None:
    configure(db_path, s3_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        _, run_id = await start_run(pilot, app)
        await ask_to_quit(pilot, "q")
        assert f"courier --db {db_path} runs {run_id} --follow" in str(app.screen.query("Static").last().render())
        await pilot.press("l")
        await pilot_wait(pilot, lambda: app.return_code is not None, "the app to quit")
        assert app.left_running[run_id].target == "Heap exports" and app.left_running[run_id].kind == "courier"
        gate.set()
    assert (
        wait_for(
            lambda: engine.get_run(db_path, run_id).status in ("Succeeded", "Warning", "Failed"),
            "the run left going to end",
        )
        and engine.get_run(db_path, run_id).status == "Succeeded"
    )


async def test_leave_running_hands_the_run_to_a_background_process_that_finishes_it(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's process ends; a detached ``courier run`` continues the run, followed and stopped by its ID."""
    import io

    import core.landing
    from core.run_records import stop_requested
    from tui.cli import hand_over_left_runs

    monkeypatch.setattr("core.run_records.STOP_CHECK_SECONDS", 0.0)
    configure(db_path, s3_bucket)
    ids: list[int] = []
    land = core.landing.land

    def held(*args: Any, **kwargs: Any) -> Any:
        # Downloads in the app's process wait for the stop: the run here is surely stopped, not finished.
        wait_for(lambda: bool(ids) and stop_requested(db_path, ids[0]), "the stop of the run left going")
        return land(*args, **kwargs)

    monkeypatch.setattr(core.landing, "land", held)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        _, run_id = await start_run(pilot, app)
        ids.append(run_id)
        await ask_to_quit(pilot, "q")
        await pilot.press("l")
        await pilot_wait(pilot, lambda: app.return_code is not None, "the app to quit")
        left = app.left_running
        said = io.StringIO()
        handed: dict[int, int] = {}
        handing = threading.Thread(target=lambda: handed.update(hand_over_left_runs(db_path, left, out=said)))
        handing.start()
    handing.join()
    assert engine.get_run(db_path, run_id).status == "Stopped"
    new_id = handed[run_id]
    assert new_id > run_id
    text = said.getvalue()
    assert f"goes on in the background as run {new_id}" in text
    assert f"courier --db {db_path} runs {new_id} --follow" in text and f"runs stop {new_id}" in text
    assert wait_for(
        lambda: engine.get_run(db_path, new_id).status not in ("Running", "Stopping"), "the background run to end"
    )
    finished = engine.get_run(db_path, new_id)
    assert (finished.status, finished.kind, finished.target, finished.files) == (
        "Succeeded",
        "courier",
        "Heap exports",
        1,
    )


def test_the_command_line_asks_for_the_same_window_again() -> None:
    from datetime import date

    from core.runs import RunWindow
    from tui.cli import window_options

    assert window_options(RunWindow.day(date(2026, 11, 25))) == ["--day", "2026-11-25"]
    assert window_options(RunWindow.period(date(2026, 11, 1), date(2026, 11, 8))) == [
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-08",
    ]
    assert window_options(RunWindow.all()) == ["--all"]
    assert window_options(RunWindow.new_dumps()) == []
    assert window_options(RunWindow.rebuild("Heap:Users")) == ["--rebuild", "Heap:Users"]
    assert window_options(None) is None


async def test_the_quit_question_fits_80x24_with_no_notification_over_it(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any, gate: threading.Event
) -> None:
    configure(db_path, s3_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_run(pilot, app)
        assert list(app._notifications)  # "Run started …"
        await ask_to_quit(pilot, "q")
        await pilot.pause()
        assert not list(app._notifications)
        dialog = app.screen.query_one("#quit-run-dialog")
        width, height = SIZE
        assert dialog.region.right <= width and dialog.region.bottom <= height - 1  # above the footer
        buttons = [button.region for button in app.screen.query("Button")]
        assert all(region.bottom <= dialog.region.bottom and region.right <= width for region in buttons)
        await pilot.press("n")
        gate.set()
        await pilot_wait(pilot, lambda: not app.run_workers(), "the run's end")


async def test_a_run_finishing_as_the_app_closes_refreshes_no_screen(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    """A run left going can report its end after the app's screens are gone: the refresh then does nothing.

    This raised ``ScreenStackError`` (seen in CI, in the hand-over test above) when the message
    arrived as the app closed.
    """
    configure(db_path, s3_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE):
        pass
    assert not app.screen_stack, "a closed app holds no screens"
    app._reload_sources()  # what on_run_finished does last
