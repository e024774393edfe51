"""The tests' key press settles on the app's state: what a key set off is done when ``press`` returns.

Textual 8.2.8 is pinned, and ``tests/waiting.py`` reads its private state (message queues,
callbacks due, the screen's layout flags). These small apps show what the screen tests rely
on; the async action fails without the count of handlers in flight, and an upgrade that
renames that state fails here first.
"""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static


class Pushed(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("pushed", id="pushed")


class Probe(App[None]):
    """Keys whose work spans many turns of the event loop, as Courier's async actions do."""

    BINDINGS = [
        Binding("m", "mount_later", "Mount"),
        Binding("p", "push", "Push"),
        Binding("r", "rows", "Rows"),
        Binding("c", "chain", "Chain"),
    ]

    def compose(self) -> ComposeResult:
        yield DataTable(id="table")

    async def action_mount_later(self) -> None:
        # An action awaiting other work (as one awaiting a row's removal does), then a mount:
        # its message left the queue long before it returns.
        await asyncio.to_thread(sum, range(2_000_000))
        await self.mount(Static("mounted", id="late"))

    def action_push(self) -> None:
        self.push_screen(Pushed())

    def action_rows(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("value")
        table.add_rows([("a much longer value than the column had room for",)] * 3)

    def action_chain(self) -> None:
        # A message posted after the key's own handler, and a callback after the refresh.
        self.call_later(lambda: self.call_after_refresh(lambda: self.mount(Static("chained", id="chained"))))


async def test_an_async_action_has_finished_when_the_press_returns() -> None:
    app = Probe()
    async with app.run_test() as pilot:
        await pilot.press("m")
        assert app.query("#late")


async def test_a_pushed_screen_is_on_top_and_mounted_when_the_press_returns() -> None:
    app = Probe()
    async with app.run_test() as pilot:
        await pilot.press("p")
        assert isinstance(app.screen, Pushed) and app.screen.query_one("#pushed").is_mounted


async def test_a_tables_new_rows_are_measured_when_the_press_returns() -> None:
    app = Probe()
    async with app.run_test() as pilot:
        await pilot.press("r")
        table = app.query_one(DataTable)
        assert table.columns and next(iter(table.columns.values())).content_width > 40


async def test_messages_and_callbacks_a_key_chains_have_run_when_the_press_returns() -> None:
    app = Probe()
    async with app.run_test() as pilot:
        await pilot.press("c")
        assert app.query("#chained")
