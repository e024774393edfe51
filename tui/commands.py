"""Courier's commands in the command palette (Ctrl+P or :)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import CourierApp


class CourierCommands(Provider):
    """App commands: add, run and edit couriers, go to Sources, help, quit."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("CourierApp", self.app)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Add courier", "Step 2: an Amazon S3 courier for the Heap bucket", app.action_add_courier),
            ("Sources", "Couriers, feeds and courier groups (the home screen)", app.action_go_home),
            ("Help", "Every key of the current screen", app.action_help),
            ("Quit", "Leave Courier", app.action_quit),
        ]
        for name in sorted(app.courier_names()):
            commands.append((f"Run courier {name}", "Load data from a day, a time period or all data",
                             partial(app.action_run_courier, name)))
            commands.append((f"Edit courier {name}", "Connection, entities list and load operations",
                             partial(app.action_edit_courier, name)))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
