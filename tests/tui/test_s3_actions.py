"""Pilot tests of the editor's S3 actions against the local S3 server: preview, test, discover."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual.widgets import Static, TextArea

from core.project import apply_document, load_project
from core.store import Store
from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.run_courier import RunCourierScreen

from .conftest import wait_for_workers

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)


def configure(db_path: Path, endpoint: str, bucket: str, layout: str = "file-pattern") -> None:
    body: dict[str, Any] = {"credential": "local", "bucket": bucket, "layout": layout, "load-operations": {}}
    if layout == "file-pattern":
        body["prefix"] = "exports/"
        body["entities"] = [
            {"object/file-pattern": "'users-'yyyy-MM-dd'.avro'", "object/land-as": {"file/tag": "users"}},
            {"object/file-pattern": "'sessions-'yyyy-MM-dd'.avro'", "object/land-as": {"file/tag": "sessions"}},
        ]
    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {"local": {"type": "iam-credential", "endpoint-url": endpoint, "region": "us-east-1"}},
                "couriers": {"Heap": body},
            },
        )


def result_text(app: CourierApp) -> str:
    return str(app.screen.query_one("#action-result", Static).render())


async def test_preview_lists_the_matching_keys_for_the_day(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    s3_bucket.put_many(
        {
            "exports/users-2026-11-25.avro": b"x",
            "exports/users-2026-11-24.avro": b"x",
            "exports/other-2026-11-25.avro": b"x",
        }
    )
    configure(db_path, s3_bucket.endpoint, s3_bucket.name)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        # A pushed screen is not on top at once on a busy machine.
        await pilot_wait(pilot, lambda: isinstance(app.screen, CourierEditorScreen), "the courier editor")
        await pilot.press("f3")
        await wait_for_workers(pilot)
        assert result_text(app) == ("Files for 2026-11-25:\n  users: users-2026-11-25.avro\n  sessions: no match")


async def test_test_connection_reports_success_and_failure(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    s3_bucket.put("exports/users-2026-11-25.avro", b"x")
    configure(db_path, s3_bucket.endpoint, s3_bucket.name)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "f4")
        await wait_for_workers(pilot)
        assert result_text(app).startswith(f"Connected to s3://{s3_bucket.name}/exports/ (1 object")
        bucket = app.screen.query_one("#bucket")
        bucket.focus()
        await pilot.press("end", "z")
        await pilot.press("f4")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.screen.query_one("#action-result").has_class("-error")
        failures = [n for n in app._notifications if n.severity == "error"]
        assert failures and failures[-1].title == "Test connection failed"
        assert failures[-1].message == result_text(app)
        assert "does not exist" in result_text(app)
        assert "\n" not in result_text(app)
    # Testing a bucket that does not exist saved nothing: the stored courier still has the real bucket.
    with Store(db_path) as store:
        assert {c.bucket for c in load_project(store).couriers.values()} == {s3_bucket.name}


async def test_discover_fills_entities_and_creates_suggested_feeds(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    from core.heapgen import generate_heap_bucket

    generated = generate_heap_bucket(s3_bucket.name, users=100, pageviews=500, today=date(2026, 11, 25))
    s3_bucket.put_many({key: body for key, body in generated.objects.items() if not key.startswith("exports/")})
    configure(db_path, s3_bucket.endpoint, s3_bucket.name, layout="heap-connect")
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "f8")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        editor = app.screen_stack[-2]
        assert str(editor.query_one("#action-result", Static).render()).startswith("Discovered ")
        assert "'sync_'*'/users/part-'*'.avro'" in editor.query_one("#entities", TextArea).text
        await pilot.press("y")
        await wait_for_workers(pilot)
        operations = app.screen.query_one("#load-operations", TextArea).text
        assert "df-usersx01" in operations
        await pilot.press("f2")
        await wait_for_workers(pilot)
    with Store(db_path) as store:
        project = load_project(store)
    assert project.feeds["df-usersx01"].table_name == "Heap:Users"
    assert "df-usersx01" in project.couriers["Heap"].load_operations


async def test_sample_files_run_lands_files_then_fails_on_the_placeholder_feed(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    from core.heapgen import generate_heap_bucket

    generated = generate_heap_bucket(s3_bucket.name, users=100, pageviews=500, today=date(2026, 11, 26))
    s3_bucket.put_many(
        {
            key: body
            for key, body in generated.objects.items()
            if key.startswith("exports/users-") or key.startswith("exports/sessions-")
        }
    )
    configure(db_path, s3_bucket.endpoint, s3_bucket.name)
    with Store(db_path) as store:
        apply_document(
            store,
            {
                "couriers": {
                    "Heap": {
                        "credential": "local",
                        "bucket": s3_bucket.name,
                        "prefix": "exports/",
                        "entities": [
                            {
                                "object/file-pattern": "'users-'yyyy-MM-dd'.avro'",
                                "object/land-as": {"file/tag": "users"},
                            }
                        ],
                        "load-operations": {"df-xxxxxx": [{"type": "load", "file": "users"}]},
                    }
                }
            },
        )
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        hint = app.screen.query_one("#next-step", Static)
        assert str(hint.render()).startswith("Step 3 of 7: get sample files: run Heap for today (press r)")
        await pilot.press("r")
        assert isinstance(app.screen, RunCourierScreen)
        assert app.screen.query_one("#run-day").value == "2026-11-25"
        await pilot.press("f2")
        await wait_for_workers(pilot)
        failures = [n for n in app._notifications if n.severity == "error"]
        assert failures[-1].title == "Heap: Failed"
        assert failures[-1].message == 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'
        await pilot.press("escape")  # from the live run screen back to Sources
        await pilot.pause()
        assert str(app.screen.query_one("#next-step", Static).render()).startswith("Step 4 of 7")
    with Store(db_path) as store:
        landed = store.query("SELECT key FROM landed_files WHERE courier = 'Heap'")
    assert [row["key"] for row in landed] == ["exports/users-2026-11-25.avro"]


async def test_run_dialog_refuses_a_backwards_period(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "r", "down")  # Heap exports (file-pattern): "Load data from a specific time period"
        await pilot.press("enter")
        app.screen.query_one("#run-end").value = "2026-11-01"
        await pilot.press("f2")
        assert isinstance(app.screen, RunCourierScreen)
        assert app.screen.query_one("#run-problems").errors[0].startswith("The period ends (2026-11-01)")
        await pilot.press("escape")
        assert not app.workers


async def test_heap_connect_run_dialog_offers_new_dumps_or_a_rebuild(
    configured_db: Path, app_factory: Callable[..., CourierApp]
) -> None:
    from textual.widgets import RadioButton, Select

    from core.runs import RunWindow

    with Store(configured_db) as store:
        project = load_project(store)
    app = app_factory(configured_db)
    chosen: list[Any] = []
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunCourierScreen(project.couriers["Heap"], project), callback=chosen.append)
        await pilot.pause()
        screen = app.screen
        assert [str(button.label) for button in screen.query(RadioButton)] == [
            "Load every complete dump newer than the cursors",
            "Rebuild a table from its latest full dump",
        ]
        # No day, period or table to fill in for new dumps: Heap's manifests decide.
        assert not any(screen.query_one(row).display for row in ("#run-day-row", "#run-start-row", "#run-table-row"))
        assert "file dates do not apply" in str(screen.query_one(".dialog-note", Static).render())
        await pilot.press("f2")
        await pilot.pause()
        assert chosen == [RunWindow.new_dumps()]

        app.push_screen(RunCourierScreen(project.couriers["Heap"], project), callback=chosen.append)
        await pilot.pause()
        await pilot.press("down", "enter")  # "Rebuild a table from its latest full dump"
        screen = app.screen
        assert screen.query_one("#run-table-row").display
        table = screen.query_one("#run-table", Select)
        assert table.value == "Heap:Users"  # the active feeds the courier loads, in load-operation order
        await pilot.press("tab", "enter", "down", "enter")
        assert table.value == "Heap:Sessions"
        await pilot.press("f2")
        await pilot.pause()
        assert chosen[-1] == RunWindow.rebuild("Heap:Sessions")
