"""SVG snapshots of every screen at 80×24 and 120×40 (update with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from tui.app import CourierApp

AppFactory = Callable[..., CourierApp]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_sources_empty(snap_compare: Any, db_path: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(db_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_sources(snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    app = app_factory(configured_db, demo_note="Demo S3 at http://127.0.0.1:9000 (bucket heap-rs3-demo)")
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_courier_editor_add(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(configured_db), press=["a"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_courier_editor_problems(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def break_it(pilot: Any) -> None:
        await pilot.press("down", "enter")
        screen = pilot.app.screen
        screen.query_one("#bucket", Input).value = "Heap_Exports"
        screen.query_one("#load-operations", TextArea).load_text(
            '{\n  "df-xxxxxx": [\n    {"type": "load", "file": "user"}\n  ]\n}'
        )
        screen.query_one("#bucket", Input).focus()
        await pilot.pause()

    assert snap_compare(app_factory(configured_db), run_before=break_it, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_credential_modal(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def open_modal(pilot: Any) -> None:
        await pilot.press("a", "tab", "enter", "end", "enter")
        await pilot.press(*"heap-s3")
        await pilot.pause()

    assert snap_compare(app_factory(configured_db), run_before=open_modal, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(configured_db), press=["question_mark"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_delete(snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(configured_db), press=["down", "d"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_run_courier_dialog(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(configured_db), press=["down", "r"], terminal_size=size)
