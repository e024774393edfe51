"""Pilot tests: drive the app by keys and check what it stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Select, Static, TextArea

from core.project import load_project
from core.store import Store
from tests.waiting import palette_wait
from tui.app import CourierApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.credential import CredentialScreen
from tui.screens.help import HelpScreen
from tui.screens.sources import SourcesScreen
from tui.widgets import ProblemList

from .conftest import ROLE_ARN, wait_for_workers

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)


def stored(db_path: Path) -> Any:
    with Store(db_path) as store:
        return load_project(store)


def problems(app: CourierApp, widget_id: str) -> ProblemList:
    return app.screen.query_one(f"#{widget_id}", ProblemList)


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def paste(pilot: Any, text: str) -> None:
    """Paste into the focused widget, as a terminal's bracketed paste does."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def replace_editor_text(pilot: Any, text: str) -> None:
    """Select everything in the focused TextArea (F7) and paste over it."""
    await pilot.press("f7")
    await paste(pilot, text)


async def test_create_credential_and_courier_by_keys(db_path: Path, app_factory: AppFactory) -> None:
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.focused is app.screen.query_one("#courier-name")
        await type_text(pilot, "Heap")
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#credential")
        # The only option is "Create new credential…", below the prompt.
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CredentialScreen)
        await type_text(pilot, "heap-s3")
        await pilot.press("tab", "enter", "down", "enter")  # iam-role-to-role, one below iam-credential
        assert app.screen.query_one("#credential-type", Select).value == "iam-role-to-role"
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#credential-role-arn")
        await paste(pilot, ROLE_ARN)
        await pilot.press("tab")
        await paste(pilot, "acme-heap-7")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.screen.query_one("#credential", Select).value == "heap-s3"
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#bucket")
        await paste(pilot, "heap-rs3-acme")
        await pilot.press("ctrl+s")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
        table = app.screen.query_one("#couriers-table", DataTable)
        assert table.get_row_at(0)[0] == "Heap"
    project = stored(db_path)
    assert project.credentials["heap-s3"].role_arn == ROLE_ARN
    assert project.credentials["heap-s3"].external_id == "acme-heap-7"
    courier = project.couriers["Heap"]
    assert (courier.credential, courier.bucket, courier.layout) == ("heap-s3", "heap-rs3-acme", "file-pattern")
    assert courier.entities is not None and courier.entities[0].tag == "users"
    assert courier.load_operations == {}


async def test_invalid_json_in_entities_is_shown_and_nothing_is_saved(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await type_text(pilot, "Broken")
        await pilot.press("tab", "tab")
        await paste(pilot, "heap-rs3-acme")
        app.screen.query_one("#entities", TextArea).focus()
        await pilot.press("x")  # "x[" is not JSON
        await pilot.pause()
        entity_problems = problems(app, "entities-problems")
        assert entity_problems.display
        assert entity_problems.errors == ["invalid JSON at line 1, column 1: Expecting value"]
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CourierEditorScreen)
    assert "Broken" not in stored(configured_db).couriers


async def test_unknown_feed_id_warns_but_saves(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await type_text(pilot, "Exports")
        await pilot.press("tab", "tab")
        await paste(pilot, "heap-rs3-acme")
        app.screen.query_one("#load-operations", TextArea).focus()
        await replace_editor_text(pilot, '{"df-abcdef12": [{"type": "load", "file": "users"}]}')
        await pilot.pause()
        warnings = problems(app, "load-operations-problems")
        assert warnings.errors == []
        assert warnings.warnings[0].startswith("load-operations.df-abcdef12: no feed has this ID yet")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
    courier = stored(configured_db).couriers["Exports"]
    assert list(courier.load_operations) == ["df-abcdef12"]


async def test_invalid_bucket_is_shown_and_nothing_is_saved(db_path: Path, app_factory: AppFactory) -> None:
    with Store(db_path) as store:
        from core.project import apply_document

        apply_document(store, {"credentials": {"heap-s3": {"type": "iam-role-to-role", "role-arn": ROLE_ARN}}})
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await type_text(pilot, "Heap")
        await pilot.press("tab", "tab")
        await paste(pilot, "Heap_Bucket")
        await pilot.pause()
        bucket = problems(app, "bucket-problems")
        assert bucket.errors and bucket.errors[0].startswith('bucket: "Heap_Bucket" is not valid')
        await pilot.press("ctrl+s")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.focused is app.screen.query_one("#bucket")
    assert stored(db_path).couriers == {}


async def test_bad_credential_input_is_shown_and_nothing_is_saved(db_path: Path, app_factory: AppFactory) -> None:
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "tab", "enter", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CredentialScreen)
        await type_text(pilot, "heap-s3")
        await pilot.press("tab", "enter", "down", "enter", "tab")  # iam-role-to-role, then its role ARN
        await paste(pilot, "arn:aws:iam::12:role/x")
        await pilot.pause()
        arn = problems(app, "credential-role-arn-problems")
        assert arn.errors and "is not valid" in arn.errors[0]
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CredentialScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.screen.query_one("#credential", Select).is_blank()
    assert stored(db_path).credentials == {}


async def test_edit_renames_courier_and_keeps_group(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is app.screen.query_one("#couriers-table")
        await pilot.press("e")
        assert isinstance(app.screen, CourierEditorScreen)
        assert app.screen.query_one("#courier-name", Input).value == "Heap"
        await pilot.press("end")
        await type_text(pilot, " web")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
    project = stored(configured_db)
    assert "Heap" not in project.couriers and "Heap web" in project.couriers
    assert project.groups["Heap daily"].couriers[0].courier == "Heap web"


async def test_back_with_changes_asks_first(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await type_text(pilot, "x")
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, CourierEditorScreen)
        await pilot.press("escape", "y")
        assert isinstance(app.screen, SourcesScreen)
    assert "Heapx" not in stored(configured_db).couriers


async def test_delete_asks_for_confirmation(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")  # "Heap exports"
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await wait_for_workers(pilot)
        assert "Heap exports" in stored(configured_db).couriers
        await pilot.press("d", "y")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
        table = app.screen.query_one("#couriers-table", DataTable)
        assert table.row_count == 1
    assert "Heap exports" not in stored(configured_db).couriers


async def test_delete_of_a_referenced_courier_is_refused_with_the_reason(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", "y")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
        messages = [notification.message for notification in app._notifications]
        assert 'Cannot delete courier "Heap": courier group Heap daily still uses it' in messages
    assert "Heap" in stored(configured_db).couriers


async def test_help_lists_the_keys_of_the_screen(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table", DataTable)
        rows = {tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)}
        assert ("a", "Add courier") in rows
        assert ("d / del", "Delete") in rows
        assert ("q / ^q", "Quit") in rows
        assert ("R / f5", "Refresh") in rows
        assert ("? / f1", "Help") in rows
        await pilot.press("escape", "enter", "f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table", DataTable)
        editor_rows = {tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)}
        assert ("f2 / ^s", "Save") in editor_rows


async def test_command_palette_opens_with_colon_and_adds_a_courier(db_path: Path, app_factory: AppFactory) -> None:
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "add courier")
        await palette_wait(pilot, "Add courier")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CourierEditorScreen)


async def test_sources_show_status_next_run_and_next_step(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE):
        screen = app.screen
        couriers = screen.query_one("#couriers-table", DataTable)
        assert [str(cell) for cell in couriers.get_row_at(0)] == [
            "Heap",
            "heap-connect",
            "heap-rs3-acme",
            "Succeeded",
            "2026-11-25 08:30 UTC",
        ]
        assert str(couriers.get_row_at(1)[3]) == "never run"
        groups = screen.query_one("#groups-table", DataTable)
        assert groups.get_row_at(0)[2] == "Thu 2026-11-26 08:30 PST"
        hint = str(screen.query_one("#next-step", Static).render())
        assert hint.startswith("Step 3 of 7: get sample files: run Heap exports")
