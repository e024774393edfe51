"""Pilot tests of the courier group editor and the time-zone picker, driven by keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import DataTable, Input, OptionList, Select, Static

from core.models import Courier, Project
from core.project import apply_document, load_project
from core.store import Store
from tests.waiting import palette_wait, pilot_wait
from tui.app import CourierApp, make_app
from tui.messages import RunFinished
from tui.screens.confirm import ConfirmScreen
from tui.screens.group_editor import (
    GroupEditorScreen,
    GroupForm,
    MemberForm,
    check_group_form,
    preview_group,
)
from tui.screens.run_live import RunLiveScreen
from tui.screens.sources import SourcesScreen
from tui.screens.zone_picker import ZonePickerScreen
from tui.widgets import ProblemList

from .conftest import wait_for_workers

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)


def stored(db_path: Path) -> Any:
    with Store(db_path) as store:
        return load_project(store)


def problems(app: CourierApp, field_name: str) -> ProblemList:
    return app.screen.query_one(f"#{field_name}-problems", ProblemList)


def preview(app: CourierApp) -> list[list[str]]:
    table = app.screen.query_one("#group-preview", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def replace_text(pilot: Any, text: str) -> None:
    """Clear the focused input (End, then Ctrl+U) and type ``text`` key by key."""
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, text)


async def fill(pilot: Any, text: str) -> None:
    """Clear the focused input and paste ``text``, as a terminal's bracketed paste does."""
    await pilot.press("end", "ctrl+u")
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def settle(pilot: Any) -> None:
    """Let the debounced preview catch up with the fields (however loaded the machine is)."""
    await pilot_wait(pilot, lambda: getattr(pilot.app.screen, "preview_current", True), "the schedule preview")
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def focus_moves_to(pilot: Any, selector: str) -> None:
    """Wait until ``selector`` has the focus: adding or removing a courier row is an async action (it awaits the
    row's mount), which a settled key press does not wait for."""
    screen = pilot.app.screen

    def there() -> bool:
        found = screen.query(selector)
        return bool(found) and pilot.app.focused is found.first()

    await pilot_wait(pilot, there, f"the focus on {selector}")


async def open_group(pilot: Any, row: int = 0) -> None:
    """From Sources: Tab to the courier groups table and press Enter on a row."""
    for _ in range(3):
        if pilot.app.focused.id == "groups-table":
            break
        await pilot.press("tab")
    assert pilot.app.focused.id == "groups-table"
    await pilot.press(*["down"] * row, "enter")
    assert isinstance(pilot.app.screen, GroupEditorScreen)


async def test_create_a_group_by_keys(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        assert isinstance(app.screen, GroupEditorScreen)
        assert app.focused is app.screen.query_one("#group-name")
        await type_text(pilot, "Hourly")
        await pilot.press("tab")
        await fill(pilot, "15 * * * 1-5")
        assert "Monday through Friday" in str(app.screen.query_one("#schedule-description", Static).render())
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#timezone")
        await fill(pilot, "Europe/Berlin")
        await pilot.press("tab", "tab", "space")  # the zone button, then "file dates in zone"
        await pilot.press("tab", "tab")  # enabled stays on; the first courier row (Heap exports is chosen)
        assert app.focused is app.screen.query_one("#member-1-courier")
        await pilot.press("tab")
        await fill(pilot, "30m")
        await pilot.press("tab")
        await fill(pilot, "13h")
        await pilot.press("tab", "space")  # notify when missing
        await pilot.press("ctrl+n")  # a second row, with the courier not in the group yet
        await focus_moves_to(
            pilot, "#member-2-courier"
        )  # the row mounts in an async action the press does not wait for
        assert app.screen.query_one("#member-2-courier", Select).value == "Heap"
        await pilot.press("tab", "tab")
        await fill(pilot, "1d")
        await pilot.press("tab", "tab", "space")  # stop when missing
        assert app.focused is app.screen.query_one("#member-2-stop")
        await pilot.press("ctrl+n")  # every courier is in the group: the new row asks for one
        await focus_moves_to(pilot, "#member-3-courier")
        assert "row 3: choose a courier, or remove the row" in problems(app, "couriers").errors
        await pilot.press("f8")
        await focus_moves_to(pilot, "#member-2-courier")
        assert len(app.screen.member_rows()) == 2 and not problems(app, "couriers").display
        await pilot.press(*["tab"] * 6)  # past row 2's four fields and the Add courier button
        assert app.focused is app.screen.query_one("#run-after")
        await pilot.press("enter", "down", "enter")
        assert app.screen.query_one("#run-after", Select).value == "Heap daily"
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#run-after-offset")  # the constraint's offset stays 0d
        await pilot.press("tab")
        await fill(pilot, "cat > /tmp/run.json")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
    group = stored(configured_db).groups["Hourly"]
    assert (group.schedule, group.timezone, group.file_dates_in_zone, group.enabled) == (
        "15 * * * 1-5",
        "Europe/Berlin",
        True,
        True,
    )
    assert [(m.courier, m.wait, m.offset, m.notify_when_missing, m.stop_when_missing) for m in group.couriers] == [
        ("Heap exports", "30m", "13h", True, False),
        ("Heap", "0m", "1d", False, True),
    ]
    assert (group.run_after, group.run_after_offset, group.notify_command) == (
        "Heap daily",
        "0d",
        "cat > /tmp/run.json",
    )


BAD_INPUTS = [
    ("61 8 * * *", "UTC", "schedule", "61 is out of range for the minute field (0-59)"),
    ("30 8 * *", "UTC", "schedule", '"30 8 * *" has 4 fields'),
    ("30 8 * * *", "Mars/Olympus_Mons", "timezone", '"Mars/Olympus_Mons" is not an IANA time zone'),
    ("30 8 * * *", "Europe", "timezone", '"Europe" is not an IANA time zone (did you mean'),
]


async def test_bad_cron_or_unknown_zone_is_shown_inline_and_nothing_is_saved(
    configured_db: Path, app_factory: AppFactory
) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await type_text(pilot, "X")
        for schedule, zone, field_name, expected in BAD_INPUTS:
            app.screen.query_one("#schedule").focus()
            await fill(pilot, schedule)
            await pilot.press("tab")
            await fill(pilot, zone)
            await settle(pilot)
            shown = problems(app, field_name)
            assert shown.display and any(expected in error for error in shown.errors), shown.errors
            assert "to see the next runs" in str(app.screen.query_one("#preview-note", Static).render())
            assert not app.screen.query_one("#group-preview", DataTable).display
            app.screen.query_one("#notify-command").focus()
            await pilot.press("ctrl+s")
            await wait_for_workers(pilot)
            assert isinstance(app.screen, GroupEditorScreen)
            assert app.focused is app.screen.query_one(f"#{field_name}")
    assert set(stored(configured_db).groups) == {"Heap daily"}


async def test_preview_updates_as_the_cron_changes(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot)
        rows = preview(app)
        assert len(rows) == 10
        # FIXED_NOW is Wed 2026-11-25 09:30 PST; the offset is 1d, so Thursday's run loads the 25th.
        assert rows[0] == ["Thu 2026-11-26 08:30 PST", "11-26 16:30", "11-25", ""]
        detail = str(app.screen.query_one("#preview-detail", Static).render())
        assert "Heap: 2026-11-24 16:30 → 2026-11-25 16:30 UTC: files dated 2026-11-25" in detail
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#schedule")
        await replace_text(pilot, "15 9 * * *")
        await settle(pilot)
        rows = preview(app)
        assert rows[0][:2] == ["Thu 2026-11-26 09:15 PST", "11-26 17:15"]
        await replace_text(pilot, "45 9 * * *")  # still ahead of 09:30 today
        await settle(pilot)
        assert preview(app)[0][0] == "Wed 2026-11-25 09:45 PST"
        await pilot.press("tab")
        await fill(pilot, "Asia/Tokyo")
        await settle(pilot)
        assert preview(app)[0][:2] == ["Thu 2026-11-26 09:45 JST", "11-26 00:45"]


@pytest.mark.parametrize(
    ("now", "schedule", "local", "note", "warning", "after_note"),
    [
        (
            datetime(2027, 3, 10, 12, tzinfo=timezone.utc),
            "30 2 * * *",
            "Sun 2027-03-14 03:00 PDT",
            "⚠ DST: moved",
            "02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles; the group runs once just after the gap, at "
            "03:00 PDT",
            "",
        ),
        (
            datetime(2027, 3, 14, 8, tzinfo=timezone.utc),
            "30 * * * *",
            "Sun 2027-03-14 02:30",
            "⚠ DST: skipped",
            "02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles; an interval schedule skips it",
            "",
        ),
        (
            datetime(2027, 11, 3, 12, tzinfo=timezone.utc),
            "30 1 * * *",
            "Sun 2027-11-07 01:30 PDT",
            "⚠ DST: runs once",
            "01:30 happens twice on Sun 2027-11-07",
            "UTC moves",
        ),
    ],
    ids=["fixed-gap", "interval-gap", "fixed-repeat"],
)
async def test_dst_change_is_flagged_in_the_preview_and_under_the_schedule(
    configured_db: Path, now: datetime, schedule: str, local: str, note: str, warning: str, after_note: str
) -> None:
    app = make_app(configured_db, clock=lambda: now, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await type_text(pilot, "N")
        await pilot.press("tab")
        await fill(pilot, schedule)
        await pilot.press("tab")
        await fill(pilot, "America/Los_Angeles")
        await settle(pilot)
        rows = preview(app)
        flagged = [row for row in rows if row[3] == note]
        assert [row[0] for row in flagged] == [local]
        assert any(warning in text for text in problems(app, "schedule").warnings)
        assert not problems(app, "schedule").errors
        # After a fall-back the next run is at the same local time but another UTC time.
        after = rows[rows.index(flagged[0]) + 1]
        assert after[3] == after_note


async def test_zone_picker_selects_by_typing(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g", "f4")
        assert isinstance(app.screen, ZonePickerScreen)
        assert app.focused is app.screen.query_one("#zone-search")
        await type_text(pilot, "los an")
        options = app.screen.query_one("#zone-options", OptionList)
        assert options.get_option_at_index(options.highlighted or 0).id == "America/Los_Angeles"
        await pilot.press("enter")
        assert isinstance(app.screen, GroupEditorScreen)
        assert app.screen.query_one("#timezone", Input).value == "America/Los_Angeles"
        assert app.focused is app.screen.query_one("#timezone")
        # Enter in the field opens the picker again; arrows move, Esc keeps the zone.
        await pilot.press("enter")
        assert isinstance(app.screen, ZonePickerScreen)
        await type_text(pilot, "berl")
        await pilot.press("escape")
        assert app.screen.query_one("#timezone", Input).value == "America/Los_Angeles"
        await pilot.press("f4")
        await type_text(pilot, "euro")
        await pilot.press("down", "enter")
        assert app.screen.query_one("#timezone", Input).value.startswith("Europe/")


async def test_rename_moves_the_groups_that_run_after_it(configured_db: Path, app_factory: AppFactory) -> None:
    with Store(configured_db) as store:
        apply_document(
            store,
            {
                "courier-groups": {
                    "Downstream": {
                        "schedule": "0 12 * * *",
                        "couriers": [{"courier": "Heap exports"}],
                        "run-after": "Heap daily",
                    }
                }
            },
        )
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot, row=1)
        assert app.screen.original_name == "Heap daily"
        await fill(pilot, "Heap nightly")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
    groups = stored(configured_db).groups
    assert set(groups) == {"Heap nightly", "Downstream"}
    assert groups["Downstream"].run_after == "Heap nightly"
    assert groups["Heap nightly"].schedule == "30 8 * * *"


async def test_palette_adds_and_edits_groups(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        await type_text(pilot, "group heap")
        await palette_wait(pilot, "Edit courier group Heap daily")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GroupEditorScreen)
        assert app.screen.original_name == "Heap daily"
        await pilot.press("escape")  # nothing changed: straight back
        assert isinstance(app.screen, SourcesScreen)
        await pilot.press("colon")
        await type_text(pilot, "add group")
        await palette_wait(pilot, "Add courier group")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GroupEditorScreen)
        assert app.screen.original_name is None


async def test_run_now_and_back_with_changes(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot)
        await pilot.press("tab")
        await fill(pilot, "0 6 * * *")
        await pilot.press("f5")  # Run now runs the saved group, so it asks for a save first
        result = app.screen.query_one("#action-result", Static)
        assert "Save your changes first" in str(result.render())
        assert not list(app.workers)
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert isinstance(app.screen, SourcesScreen)
    assert stored(configured_db).groups["Heap daily"].schedule == "30 8 * * *"


async def test_run_now_runs_the_group_and_shows_it_live(db_path: Path, app_factory: AppFactory, s3_bucket: Any) -> None:
    s3_bucket.put_many({"exports/users-2026-11-24.avro": b"x"})
    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {
                    "local": {"type": "iam-credential", "endpoint-url": s3_bucket.endpoint, "region": "us-east-1"}
                },
                "couriers": {
                    "Heap": {
                        "credential": "local",
                        "bucket": s3_bucket.name,
                        "prefix": "exports/",
                        "layout": "file-pattern",
                        "load-operations": {},
                        "entities": [
                            {
                                "object/file-pattern": "'users-'yyyy-MM-dd'.avro'",
                                "object/land-as": {"file/tag": "users"},
                            }
                        ],
                    }
                },
                "courier-groups": {"Samples": {"schedule": "0 9 * * *", "couriers": [{"courier": "Heap"}]}},
            },
        )
    messages: list[Any] = []
    app = app_factory(db_path)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_group(pilot)
        app.screen.query_one("#run-day", Input).value = "2026-11-24"
        await pilot.press("f5")
        assert isinstance(app.screen, RunLiveScreen)
        await wait_for_workers(pilot)
    finished = [message for message in messages if isinstance(message, RunFinished)]
    assert len(finished) == 1
    summary = finished[0].summary
    assert (summary.kind, summary.target, summary.status, summary.files) == ("group", "Samples", "Succeeded", 1)


def test_form_problems_name_the_courier_row() -> None:
    existing = Project(
        couriers={name: Courier(name=name, credential="c", bucket="b") for name in ("Heap", "Heap exports")}
    )
    form = GroupForm(
        name="Nightly",
        schedule="30 2 * * *",
        timezone="UTC",
        file_dates_in_zone=False,
        enabled=True,
        members=(MemberForm(None), MemberForm("Heap", wait="2x"), MemberForm("Heap", offset="1y")),
        run_after=None,
        notify_command="",
    )
    check = check_group_form(form, existing, None)
    assert check.errors == {
        "couriers": [
            "row 1: choose a courier, or remove the row",
            'row 2, wait: "2x" is not valid: use a number and s, m, h or d, e.g. 30m or 2h',
            'row 3, courier: "Heap" is already in this group',
            'row 3, offset: "1y" is not valid: use a number and m, h, d or w, e.g. 1d or 13h',
        ]
    }
    assert preview_group(form) == "Fix the offset in row 3 to see the file dates."


async def test_constraint_offset_is_edited_by_keys_and_the_preview_names_the_upstream_run(
    configured_db: Path, app_factory: AppFactory
) -> None:
    # Heap daily: 08:30 Los Angeles (16:30 UTC), files offset 1d. Downstream: 12:00 UTC, today's files.
    with Store(configured_db) as store:
        apply_document(
            store,
            {
                "courier-groups": {
                    "Downstream": {
                        "schedule": "0 12 * * *",
                        "couriers": [{"courier": "Heap exports"}],
                        "run-after": "Heap daily",
                    }
                }
            },
        )
    app = app_factory(configured_db)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_group(pilot, row=0)
        assert app.screen.original_name == "Downstream"
        await pilot.press(*["tab"] * 13)
        assert app.focused is app.screen.query_one("#run-after-offset")
        assert app.screen.query_one("#run-after-offset", Input).value == "0d"
        await settle(pilot)
        table = app.screen.query_one("#group-preview", DataTable)
        assert [str(column.label) for column in table.columns.values()][-1] == "Waits for"
        # Offset 0: Downstream's 11-26 run needs Heap's run for 11-26, which only comes on 11-27: it would fail.
        assert preview(app)[0] == ["Thu 2026-11-26 12:00 UTC", "11-26 12:00", "11-26", "", "✗ none"]
        detail = str(app.screen.query_one("#preview-detail", Static).render())
        assert (
            '✗ After "Heap daily": no run of it at or before this one covers this run (needs 2026-11-26), so '
            "it would fail; its Fri 2026-11-27 08:30 PST run covers it, too late (check the constraint's "
            "offset)"
        ) in detail
        await replace_text(pilot, "2x")
        await settle(pilot)
        assert problems(app, "run-after").errors and problems(app, "run-after").errors[0].startswith("offset: ")
        assert "Fix the constraint's offset" in str(app.screen.query_one("#preview-note", Static).render())
        await replace_text(pilot, "2d")
        await settle(pilot)
        assert not problems(app, "run-after").display
        # Moved back 2d, the 11-26 run needs 11-24: Heap's Wednesday 08:30 run (loading 11-24) is the one.
        assert [row[-1] for row in preview(app)[:3]] == ["11-25 08:30", "11-26 08:30", "11-27 08:30"]
        detail = str(app.screen.query_one("#preview-detail", Static).render())
        assert (
            'After "Heap daily": its Wed 2026-11-25 08:30 PST run, for 2026-11-24 (needs 2026-11-24, offset 2d)'
        ) in detail
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
    assert stored(configured_db).groups["Downstream"].run_after_offset == "2d"


async def test_a_courier_row_half_removed_or_half_mounted_is_left_out_of_the_form(
    configured_db: Path, app_factory: AppFactory
) -> None:
    """F8 awaits a row's removal, which takes its fields away first; the debounced preview that read the form
    then raised NoMatches and took the app down (seen in CI). A row without all its fields is not in the form."""
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        editor = app.screen
        assert isinstance(editor, GroupEditorScreen)
        await pilot.press("ctrl+n")
        await focus_moves_to(pilot, "#member-2-courier")
        assert len(editor.form().members) == 2
        await editor.query_one("#member-2-notify").remove()  # the state F8 passes through
        assert [row.id for row in editor.member_rows()] == ["member-1"]
        assert len(editor.form().members) == 1
        editor.refresh_preview()  # what the preview timer calls
        await pilot.pause()
        assert app.screen is editor and app.is_running
