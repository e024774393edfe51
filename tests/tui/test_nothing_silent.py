"""Nothing silent (issue 14, item 4): a refused save or a disabled key says why, results show where the user
looks at 80×24, and a field the user has not touched yet shows no error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import Static

from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.screens.courier_editor import CourierEditorScreen
from tui.widgets import ProblemList

from .conftest import wait_for_workers
from .test_s3_actions import configure

AppFactory = Callable[..., CourierApp]
SIZE = (80, 24)


def on_screen(app: CourierApp, widget: Widget) -> bool:
    """Whether some cell of the 80×24 screen (above the footer) shows ``widget``."""
    width, height = SIZE
    for y in range(height - 1):
        for x in range(0, width, 4):
            try:
                found, _ = app.screen.get_widget_at(x, y)
            except Exception:  # noqa: BLE001 - no widget under that cell
                continue
            if found is widget:
                return True
    return False


def notices(app: CourierApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def open_courier(pilot: Any, app: CourierApp, name: str) -> CourierEditorScreen:
    app.action_edit_courier(name)
    await pilot_wait(pilot, lambda: isinstance(app.screen, CourierEditorScreen), "the courier editor")
    await pilot.pause()
    assert isinstance(app.screen, CourierEditorScreen)
    return app.screen


async def test_f2_with_an_invalid_entities_list_says_why_and_focuses_it(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_courier(pilot, app, "Heap exports")
        entities = editor.query_one("#entities")
        entities.focus()
        await pilot.press("ctrl+a", "x")  # ctrl+a selects all: the list becomes "x", not JSON
        editor.query_one("#courier-name").focus()
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen is editor  # not saved
        assert app.focused is entities
        problems = editor.query_one("#entities-problems", ProblemList)
        assert problems.display and problems.errors[0].startswith("invalid JSON at line 1")
        assert any(text.startswith("Not saved: entities: invalid JSON at line 1") for text in notices(app))
        await pilot.pause()
        assert on_screen(app, problems)


async def test_a_disabled_key_says_why_when_pressed(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_courier(pilot, app, "Heap exports")  # a file-pattern courier
        await pilot.press("f8")  # Discover
        await pilot.pause()
        assert app.screen is editor
        result = editor.query_one("#action-result", Static)
        assert str(result.render()).startswith("Discover reads Heap Connect manifests")
        assert result.has_class("-error")
        await pilot.pause()
        assert on_screen(app, result)


async def test_preview_and_test_connection_results_show_at_80x24(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    s3_bucket.put_many({"exports/users-2026-11-25.avro": b"x"})
    configure(db_path, s3_bucket.endpoint, s3_bucket.name)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_courier(pilot, app, "Heap")
        result = editor.query_one("#action-result", Static)
        for key, start in (("f3", "Files for 2026-11-25:"), ("f4", "Connected to s3://")):
            editor.query_one("#courier-name").focus()
            await pilot.press(key)
            await wait_for_workers(pilot)
            assert str(result.render()).startswith(start)
            await pilot_wait(pilot, lambda: on_screen(app, result), f"the {key} result in view")
            # All of it, not only its first line (the preview lists a file per line).
            region = result.region
            assert region.y >= 0 and region.bottom <= SIZE[1] - 1, (key, region)


async def test_a_new_courier_shows_no_error_until_a_field_is_touched_or_saved(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        editor = app.screen
        assert isinstance(editor, CourierEditorScreen)
        name = editor.query_one("#name-problems", ProblemList)
        bucket = editor.query_one("#bucket-problems", ProblemList)
        assert editor.check.errors["name"] and editor.check.errors["bucket"]  # the form knows
        assert not name.display and not bucket.display  # but says nothing before the user has typed
        await pilot.press("x", "backspace")  # typed and erased: the name is required now
        await pilot.pause()
        assert name.display and name.errors == ["is required, e.g. Heap"]
        assert not bucket.display
        await pilot.press("f2")
        await pilot.pause()
        assert bucket.display  # a save shows every problem
        assert app.focused is editor.query_one("#courier-name")


async def test_the_credential_modal_waits_for_a_touch_too(configured_db: Path, app_factory: AppFactory) -> None:
    from tui.screens.credential import CredentialScreen

    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CredentialScreen())
        await pilot_wait(pilot, lambda: isinstance(app.screen, CredentialScreen), "the credential modal")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, CredentialScreen)
        name = modal.query_one("#credential-name-problems", ProblemList)
        assert modal.check.errors["name"] and not name.display
        modal.query_one("#credential-region").focus()
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen is modal and name.display
        assert app.focused is modal.query_one("#credential-name")
        assert "Not saved: name: is required, e.g. heap-s3" in notices(app)
        await pilot.press("tab", "enter", "down", "enter")  # iam-role-to-role, one key from iam-credential
        assert modal.query_one("#credential-role-arn-problems", ProblemList).errors == [
            "role-arn: is required for an iam-role-to-role credential"
        ]


async def test_keys_that_cannot_act_now_say_why(configured_db: Path, app_factory: AppFactory) -> None:
    from textual.widgets import DataTable

    from tui.screens.group_editor import GroupEditorScreen
    from tui.screens.sources import SourcesScreen

    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, SourcesScreen)
        app.screen.query_one("#feeds-table", DataTable).focus()
        await pilot.pause()
        await pilot.press("r")  # Run, on a feed
        await pilot.pause()
        assert notices(app)[-1] == (
            "Not now: Run works on a courier: select one in the Couriers table first (Tab moves between tables)."
        )
        await pilot.press("g")
        await pilot_wait(pilot, lambda: isinstance(app.screen, GroupEditorScreen), "the group editor")
        await pilot.press("f5")  # Run now, on a group not saved yet
        await pilot.pause()
        assert notices(app)[-1] == "Not now: Save the group first (F2): Run now runs a stored courier group."


@pytest.mark.parametrize(
    ("editor_name", "problems", "touched", "keys", "touched_problems", "first"),
    [
        (
            "feed",
            "#feed-name-problems",
            "#feed-threshold",
            ("backspace", "x"),
            "#feed-error-threshold-problems",
            "#feed-name",
        ),
        ("group", "#name-problems", "#schedule", ("end", "x"), "#schedule-problems", "#group-name"),  # "30 8 * * *x"
    ],
)
async def test_a_new_feed_or_group_shows_no_error_until_a_field_is_touched_or_saved(
    configured_db: Path,
    app_factory: AppFactory,
    editor_name: str,
    problems: str,
    touched: str,
    keys: Any,
    touched_problems: str,
    first: str,
) -> None:
    """The same rule as the courier editor's, from the editors' shared base: the untouched name stays quiet,
    a touched field speaks, and F2 shows every problem and puts the cursor on the first."""
    from tui.screens.feed_editor import FeedEditorScreen
    from tui.screens.group_editor import GroupEditorScreen

    kind = FeedEditorScreen if editor_name == "feed" else GroupEditorScreen
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        app.action_add_feed() if editor_name == "feed" else app.action_add_group()
        await pilot_wait(pilot, lambda: isinstance(app.screen, kind), f"the {editor_name} editor")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, FeedEditorScreen | GroupEditorScreen)
        name = editor.query_one(problems, ProblemList)
        shown = editor.query_one(touched_problems, ProblemList)
        assert editor.check.errors["name"] and not name.display  # the form knows, the screen waits
        editor.query_one(touched).focus()
        await pilot.press(*keys)  # that field is touched and wrong: its error shows, the name's does not
        await pilot.pause()
        assert shown.display and shown.errors and not name.display
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen is editor and name.display  # a save shows every problem
        assert app.focused is editor.query_one(first)  # the first one, in screen order
        if editor_name == "feed":
            result = str(editor.query_one("#feed-result", Static).render())
            assert result.startswith("Not saved: name: must not be empty (and ")
        else:
            assert "Not saved: name: is required, e.g. Heap daily (and 1 more marked ✗)" in notices(app)


async def test_editing_a_stored_object_shows_its_problems_at_once(configured_db: Path, app_factory: AppFactory) -> None:
    """Untouched fields hide their errors only while adding: a stored object's problems are the user's to fix."""
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_courier(pilot, app, "Heap exports")
        assert editor.show_all and not editor.touched
