"""The rows a run rejected: file, row number, key, column and reason (issue 9).

Opened from the live run log with ``j`` when the run rejected any row. The rows
come from ``core.engine.rejected_rows`` in a thread worker; the screen never
touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from tui.output import table_cell
from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.widgets.footer import CourierFooter

SHOWN = 1000
"""Rows listed; ``courier rejects RUN --limit N`` prints more."""


class RejectsScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """Lists the rows one run rejected, in the order they were found.

    Args:
        run_id: The run (a group run includes its couriers' runs).
    """

    BINDINGS = [Binding("escape", "back", "Back")]
    AUTO_FOCUS = "#rejects-table"

    @dataclass
    class Loaded(Message):
        """The rejected rows were read."""

        rows: list[tuple[Any, ...]]

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Rows run {self.run_id} rejected (reading…)", id="rejects-intro", markup=False)
        yield DataTable(id="rejects-table", cursor_type="row", zebra_stripes=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = f"Rejected rows · run {self.run_id}"
        table = self.query_one("#rejects-table", DataTable)
        for label in ("File", "Row", "Key", "Column", "Reason"):
            table.add_column(label, key=label.lower())
        apply_app_settings(self)
        self._load()

    @work(thread=True, exit_on_error=False, group="rejects", description="Read rejected rows")
    def _load(self) -> None:
        from core.engine import rejected_rows

        _, rows = rejected_rows(self.courier_app.db_path, self.run_id, SHOWN)
        self.post_message(self.Loaded(rows))

    def on_rejects_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one("#rejects-table", DataTable)
        for _run, _table, file, position, key, column, reason in message.rows:
            table.add_row(file.rpartition("/")[2], position, table_cell(key), table_cell(column or ""), reason)
        more = f" (the first {SHOWN:,}; courier rejects {self.run_id} lists all)" if len(message.rows) >= SHOWN else ""
        self.query_one("#rejects-intro", Static).update(
            f"{len(message.rows):,} row{'s' if len(message.rows) != 1 else ''} run {self.run_id} rejected{more}. "
            "Each value that could not be stored exactly rejects its row."
        )

    def action_back(self) -> None:
        self.app.pop_screen()
