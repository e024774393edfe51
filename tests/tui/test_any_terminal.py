"""Any terminal (issue 14, item 2): ticks, the chosen radio and focus read without colour.

Under ``NO_COLOR``, ``TERM=vt100`` (and Textual's ANSI-only mode) the app gets the ``-plain`` class: focus and
cursor rows go reverse video. Ticks read ``[x]``/``[ ]`` and ``(•)``/``( )`` on every terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import pilot_wait
from tui.app import CourierApp, plain_terminal
from tui.screens.group_editor import GroupEditorScreen
from tui.screens.run_courier import RunCourierScreen
from tui.widgets.toggles import RadioChoice, Tickbox

from .test_snapshots_groups import open_group

AppFactory = Callable[..., CourierApp]
SIZE = (80, 24)


@pytest.mark.parametrize(
    ("environ", "plain"),
    [
        ({"TERM": "vt100"}, True),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, True),
        ({"TERM": "dumb"}, True),
        ({"TERM": "screen"}, False),
        ({"TERM": "xterm-256color"}, False),
        ({}, False),
    ],
)
def test_which_terminals_are_plain(environ: dict[str, str], plain: bool) -> None:
    assert plain_terminal(environ) is plain


def label(widget: Tickbox | RadioChoice) -> str:
    return str(widget.render()).strip()


async def test_ticks_and_the_chosen_radio_read_without_colour(
    configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "vt100")
    app = app_factory(configured_db)
    assert app.has_class("-plain")
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot)
        await pilot_wait(pilot, lambda: isinstance(app.screen, GroupEditorScreen), "the group editor")
        editor = app.screen
        assert label(editor.query_one("#enabled", Tickbox)) == "[x] Enabled (runs on its schedule)"
        assert label(editor.query_one("#file-dates-in-zone", Tickbox)) == "[ ] Use this time zone for file date ranges"
        await pilot.press("escape")
        app.action_run_courier("Heap exports")
        await pilot_wait(
            pilot,
            lambda: isinstance(app.screen, RunCourierScreen) and app.screen.query(RadioChoice),
            "the run dialog's choices",
        )
        await pilot.pause()
        radios = [label(radio)[:3] for radio in app.screen.query(RadioChoice)]
        assert radios.count("(•)") == 1 and radios.count("( )") == len(radios) - 1


def test_group_editor_under_no_color(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def focus_a_tick(pilot: Any) -> None:
        await open_group(pilot)
        pilot.app.screen.query_one("#enabled").focus()
        await pilot.pause()

    assert snap_compare(app_factory(configured_db), run_before=focus_a_tick, terminal_size=SIZE)


def test_run_dialog_under_vt100(
    snap_compare: Any, configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "vt100")
    assert snap_compare(app_factory(configured_db), press=["down", "r"], terminal_size=SIZE)
