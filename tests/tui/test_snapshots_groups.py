"""SVG snapshots of the courier group editor and the time-zone picker at 80×24 and 120×40."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tui.app import CourierApp, make_app

from .test_group_editor import settle

AppFactory = Callable[..., CourierApp]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
NEAR_SPRING_FORWARD = datetime(2027, 3, 10, 12, tzinfo=timezone.utc)
"""Four days before 02:30 stops existing in America/Los_Angeles."""


async def open_group(pilot: Any) -> None:
    await pilot.press("tab", "tab", "enter")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_group_editor(snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(configured_db), run_before=open_group, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_group_editor_dst_preview(snap_compare: Any, configured_db: Path, size: tuple[int, int]) -> None:
    async def spring_forward(pilot: Any) -> None:
        await pilot.press("g")
        screen = pilot.app.screen
        screen.query_one("#group-name", Input).value = "Heap nightly"
        screen.query_one("#schedule", Input).value = "30 2 * * *"
        screen.query_one("#timezone", Input).value = "America/Los_Angeles"
        await settle(pilot)
        screen.query_one("#group-preview").focus()
        await pilot.press("down", "down", "down", "down")
        await pilot.pause()

    app = make_app(configured_db, clock=lambda: NEAR_SPRING_FORWARD, cursor_blink=False)
    assert snap_compare(app, run_before=spring_forward, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_zone_picker(snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def search(pilot: Any) -> None:
        await open_group(pilot)
        await pilot.press("f4", *"lon")
        await pilot.pause()

    assert snap_compare(app_factory(configured_db), run_before=search, terminal_size=size)
