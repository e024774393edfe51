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
            ("Add feed", "Step 4: a feed from a sample file, loading a domain table", app.action_add_feed),
            ("Add courier group", "Step 7: run couriers on a cron schedule in a time zone", app.action_add_group),
            ("Sources", "Couriers, feeds and courier groups (the home screen)", app.action_go_home),
            ("Run history", "Every run, newest first: open a log, rerun", app.action_run_history),
            (
                "Open table…",
                "Domain tables and identity views, with row counts and last load",
                app.action_domain_tables,
            ),
            ("Help", "Every key of the current screen", app.action_help),
            ("Quit", "Leave Courier", app.action_quit),
        ]
        for name in sorted(app.courier_names()):
            commands.append(
                (
                    f"Run courier {name}",
                    "Load data from a day, a time period or all data",
                    partial(app.action_run_courier, name),
                )
            )
            commands.append(
                (
                    f"Edit courier {name}",
                    "Connection, entities list and load operations",
                    partial(app.action_edit_courier, name),
                )
            )
            commands.append(
                (
                    f"Sample files of {name}",
                    "Step 3: get sample files, view them, add feeds",
                    partial(app.action_samples, name),
                )
            )
            commands.append(
                (
                    f"Load operations of {name}",
                    "Step 5: fill in the IDs of the active feeds",
                    partial(app.action_load_operations, name),
                )
            )
        for feed_id, table in app.feed_labels().items():
            commands.append(
                (
                    f"Edit feed {table} ({feed_id})",
                    "Fields, primary key, semantic tags, activate",
                    partial(app.action_edit_feed, feed_id),
                )
            )
        for name in sorted(app.group_names()):
            commands.append(
                (
                    f"Edit courier group {name}",
                    "Schedule, time zone, couriers, next runs",
                    partial(app.action_edit_group, name),
                )
            )
        from core import engine

        for table_name in engine.domain_table_names(app.db_path):
            commands.append(
                (
                    f"Open table {table_name}",
                    "Page through it by key: filter, sort, frequencies, export",
                    partial(app.action_open_table, table_name),
                )
            )
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
