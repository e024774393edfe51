"""What a terminal really shows (issue 14, item 2), read from the bytes Textual would write to it.

SVG snapshots apply neither Textual's colour filters (``NO_COLOR``) nor the terminal's colour depth, so
these tests take the screen's lines as the driver gets them (filters applied), turn each cell's style into
the SGR codes Rich writes for the terminal's colour system, and check that focus and ticks differ there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.color import ColorSystem

from tests.waiting import pilot_wait, wait_for
from tui.app import CourierApp
from tui.screens.group_editor import GroupEditorScreen

from .test_snapshots_groups import open_group

AppFactory = Callable[..., CourierApp]
SIZE = (80, 24)
SYSTEMS = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR}
COLOUR_CODE = re.compile(r"^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$")
"""SGR parameters that set a colour (30–38, 40–48, 90–107; 39 and 49 are the terminal's default colours)."""


def terminal_cells(app: CourierApp) -> list[list[tuple[str, str]]]:
    """Each screen cell as (character, SGR codes) in the colour system the app's console writes."""
    system = SYSTEMS.get(app.console.color_system or "", None)
    lines = []
    for strip in app.screen._compositor.render_strips():
        cells: list[tuple[str, str]] = []
        for segment in strip:
            if segment.control:
                continue
            codes = segment.style._make_ansi_codes(system) if segment.style and system else ""
            cells.extend((char, codes) for char in segment.text)
        lines.append(cells)
    return lines


def codes_of(app: CourierApp, selector: str) -> tuple[str, set[str]]:
    """The text and the set of SGR codes the cells of a widget's first line are written with."""
    region = app.screen.query_one(selector).region
    row = terminal_cells(app)[region.y][region.x : region.right]
    return "".join(char for char, _ in row), {codes for _, codes in row}


TERMINALS = {
    "TERM=screen": {"TERM": "screen"},
    "ANSI-only colour": {"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"},
    "NO_COLOR": {"TERM": "xterm-256color", "NO_COLOR": "1"},
    "TERM=vt100": {"TERM": "vt100"},
}


@pytest.mark.parametrize("terminal", TERMINALS)
async def test_focus_and_ticks_differ_in_what_the_terminal_is_sent(
    terminal: str, configured_db: Path, app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in TERMINALS[terminal].items():
        monkeypatch.setenv(name, value)
    if "TEXTUAL_COLOR_SYSTEM" in TERMINALS[terminal]:
        monkeypatch.setattr("textual.constants.COLOR_SYSTEM", TERMINALS[terminal]["TEXTUAL_COLOR_SYSTEM"])
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_group(pilot)
        await pilot_wait(pilot, lambda: isinstance(app.screen, GroupEditorScreen), "the group editor")
        app.screen.query_one("#enabled").focus()
        await pilot.pause()
        focused_text, focused = codes_of(app, "#enabled")
        other_text, other = codes_of(app, "#file-dates-in-zone")
        assert "[x] Enabled" in focused_text and "[ ] Use this time zone" in other_text
        assert focused != other, f"focus looks like no focus under {terminal}: {focused} vs {other}"
        if terminal == "NO_COLOR":
            sent = {code for line in terminal_cells(app) for _, codes in line for code in codes.split(";") if code}
            assert not {code for code in sent if COLOUR_CODE.match(code)}, f"colour sent under NO_COLOR: {sent}"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize(
    "environ",
    [{"NO_COLOR": "1", "TERM": "screen"}, {"NO_COLOR": "1", "TERM": "vt100"}],
    ids=["NO_COLOR-screen", "NO_COLOR-vt100"],
)
def test_the_real_app_in_tmux_sends_no_colour_and_marks_the_cursor(
    configured_db: Path, tmp_path: Path, environ: dict[str, str]
) -> None:
    """The installed app in a real terminal (tmux, 80×24): the footer reads, no colour reaches the screen, and
    the cursor row is marked in reverse video."""
    socket = f"courier-test-{os.getpid()}-{tmp_path.name}"
    tmux = ["tmux", "-L", socket]
    settings = " ".join(f"{name}={value}" for name, value in environ.items())
    command = f"env -u COLORTERM {settings} {sys.executable} -m tui.cli --db {configured_db}"
    subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", command], check=True)
    try:

        def pane(*options: str) -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p", *options], capture_output=True, text=True, check=False
            ).stdout

        wait_for(lambda: "q Quit" in pane() and "Heap exports" in pane(), "the home screen in tmux")
        text, escaped = pane(), pane("-e")
        assert "? Help  q Quit" in text
        parameters = {part for codes in re.findall(r"\x1b\[([0-9;]*)m", escaped) for part in codes.split(";")}
        assert not {code for code in parameters if COLOUR_CODE.match(code)}, parameters
        assert "7" in parameters  # reverse video: the cursor row, with no colour to show it
        subprocess.run([*tmux, "send-keys", "q"], check=True)
        wait_for(lambda: subprocess.run([*tmux, "has-session"], capture_output=True).returncode != 0, "the app to quit")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
