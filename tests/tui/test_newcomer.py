"""The newcomer's path (issue 14): what a first-time user meets, key by key, at 80×24."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tui.screens.zone_picker import search_zones, zone_choices


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("PST", ["America/Los_Angeles"]),
        ("Pacific", ["America/Los_Angeles"]),
        ("eastern", ["America/New_York"]),
        ("CET", ["Europe/Paris", "Europe/Berlin"]),
    ],
)
def test_the_zone_picker_puts_the_zone_an_abbreviation_means_first(query: str, first: list[str]) -> None:
    choices = zone_choices(datetime(2027, 1, 15, tzinfo=timezone.utc))
    found = [choice.name for choice, _ in search_zones(choices, query)]
    assert found[: len(first)] == first


def test_the_zone_picker_lists_inverted_posix_zones_last() -> None:
    choices = zone_choices(datetime(2027, 1, 15, tzinfo=timezone.utc))
    found = [choice.name for choice, _ in search_zones(choices, "GMT-8")]
    assert found[0] == "America/Los_Angeles"
    assert found[-1] == "Etc/GMT-8"


# --- the measure: the seven steps' 2–7 on the demo, from a fresh start, by keys only -----------

KEY_BUDGET = 60
"""Issue 14: at most 60 keys for steps 2–7, plus the names the user types."""


class Keyboard:
    """Presses keys through the pilot and counts them; names typed are counted apart."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.keys = 0
        self.name_characters = 0

    async def press(self, *keys: str) -> None:
        self.keys += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str, *, name: bool = False) -> None:
        """Type ``text`` a key per character; a name (courier, feed, group) is not counted as keys."""
        if name:
            self.name_characters += len(text)
        else:
            self.keys += len(text)
        await self.pilot.press(*["space" if ch == " " else ch for ch in text])


async def test_steps_two_to_seven_on_the_demo_take_at_most_sixty_keys_at_80x24(
    db_path: Path, app_factory: Any, heap_bucket: Any
) -> None:
    from core.demo import configure_demo
    from core.project import load_project
    from core.store import Store
    from tui.screens.courier_editor import CourierEditorScreen
    from tui.screens.feed_editor import FeedEditorScreen
    from tui.screens.group_editor import GroupEditorScreen
    from tui.screens.load_operations import LoadOperationsScreen
    from tui.screens.run_courier import RunCourierScreen
    from tui.screens.run_live import RunLiveScreen
    from tui.screens.samples import GetSamplesScreen, SamplesScreen
    from tui.screens.sources import SourcesScreen

    from .conftest import wait_for_workers

    with Store(db_path) as store:  # a fresh demo database, on this test's S3 server
        configure_demo(store, heap_bucket.endpoint)
    app = app_factory(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        keyboard = Keyboard(pilot)
        # Step 2: add a heap-connect courier with the demo's credential and {} load operations.
        await keyboard.press("a")
        assert isinstance(app.screen, CourierEditorScreen)
        await keyboard.type("Web", name=True)
        await keyboard.press("tab", "tab")  # the credential is the demo's, already chosen
        await keyboard.type(heap_bucket.name)
        await keyboard.press("tab", "tab", "enter", "down", "enter")  # layout: heap-connect
        await keyboard.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
        assert app.screen.selected() == ("courier", "Web")  # the cursor followed the new courier
        hint = str(app.screen.query_one("#next-step").render())
        assert hint.startswith("Step 3 of 7: get sample files: run Web")  # and the hint speaks of it

        # Step 3: get sample files for today.
        await keyboard.press("s")
        assert isinstance(app.screen, SamplesScreen)
        await keyboard.press("g")
        assert isinstance(app.screen, GetSamplesScreen)
        await keyboard.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SamplesScreen)
        assert app.screen.query_one("#samples-table").row_count > 0

        # Step 4: a feed from the newest sample (users), its key, activated.
        await keyboard.press("f")
        editor = app.screen
        assert isinstance(editor, FeedEditorScreen)
        assert editor.form.name == "Users (Web)"
        await keyboard.press("space", "f5")
        await wait_for_workers(pilot)
        feed_id = editor.form.feed_id
        assert editor.form.status == "active"

        # Step 5: load operations for the new feed.
        await keyboard.press("l")
        assert isinstance(app.screen, LoadOperationsScreen)
        await keyboard.press("F", "f2")
        await wait_for_workers(pilot)

        # Step 6: run the courier.
        await keyboard.press("r")
        assert isinstance(app.screen, RunCourierScreen)
        await keyboard.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, RunLiveScreen)
        # Back home: the live run, the load operations, the feed editor, the samples.
        await keyboard.press("escape", "escape", "escape", "escape")
        assert isinstance(app.screen, SourcesScreen)

        # Step 7: a courier group with the courier in it.
        await keyboard.press("g")
        assert isinstance(app.screen, GroupEditorScreen)
        await keyboard.type("Web daily", name=True)
        await keyboard.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)

    with Store(db_path) as store:
        project = load_project(store)
        runs = store.query("SELECT status FROM runs WHERE target = 'Web' ORDER BY id")
    assert list(project.couriers["Web"].load_operations) == [feed_id]
    assert runs[-1]["status"] == "Succeeded"
    assert [member.courier for member in project.groups["Web daily"].couriers] == ["Web"]
    print(f"steps 2-7: {keyboard.keys} keys + {keyboard.name_characters} name characters")
    assert keyboard.keys <= KEY_BUDGET
