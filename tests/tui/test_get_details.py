"""Step 1, Get details (issue 14, item 10): what to have at hand, then a connection test, from a fresh start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.details import DetailsScreen

from .test_s3_actions import configure

AppFactory = Callable[..., CourierApp]


async def test_get_details_lists_the_needs_and_tests_the_connection(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    s3_bucket.put("exports/users-2026-11-25.avro", b"x")
    configure(db_path, s3_bucket.endpoint, s3_bucket.name)  # a credential to test with
    app = app_factory(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await pilot_wait(pilot, lambda: isinstance(app.screen, DetailsScreen), "the Get details screen")
        screen = app.screen
        needs = str(screen.query_one("#details-needs", Static).render())
        for need in ("Heap Connect for Amazon S3", "role ARN and the external ID", "heap-rs3-", "Which Heap tables"):
            assert need in needs
        await pilot.press(*s3_bucket.name, "f4")
        result = screen.query_one("#details-result", Static)
        await pilot_wait(pilot, lambda: str(result.render()).startswith("Connected to s3://"), "the test's answer")
        await pilot.press("f6")  # on to step 2
        await pilot_wait(pilot, lambda: isinstance(app.screen, CourierEditorScreen), "the courier editor")


def test_the_first_hint_points_at_step_one() -> None:
    from core.models import Project
    from tui.overview import next_step

    hint = next_step(Project(), {}, set(), {"add_courier": "a", "app.get_details": "i"})
    assert hint == (
        "Step 2 of 7: add a courier for the Heap bucket (press a). You need the role ARN and bucket "
        "name from step 1, Get details (press i)."
    )
