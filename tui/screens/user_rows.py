"""One person's rows across the Heap tables of a source, through the resolved user id.

Heap leaves identity merges to the consumer; the ``:resolved`` views carry
``resolved_user_id``, so "this user's other rows" are the rows of those views
with the same resolved id. Enter opens one of them, filtered to the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tui.screens.base import ReportsWorkerFailures
from tui.widgets.footer import CourierFooter


def open_user_rows(screen: Screen[Any], db_path: Path, table: str, pk: Any) -> None:
    """Push the user's-rows list for the row ``pk`` of ``table``."""
    screen.app.push_screen(UserRowsScreen(db_path, table, pk))


class UserRowsScreen(ReportsWorkerFailures, ModalScreen[None]):
    """Per ``:resolved`` view, how many rows the row's resolved user has; Enter opens them.

    Args:
        db_path: The Courier database.
        table: The table (or ``:resolved`` view) the row is in.
        pk: The row's ``_pk``.
    """

    BINDINGS = [
        Binding("enter", "open", "Open rows", show=False),
        Binding("escape,q", "close", "Close"),
    ]

    @dataclass
    class Found(Message):
        """``core.engine.user_rows`` answered."""

        result: Any
        error: str | None = None

    def __init__(self, db_path: Path, table: str, pk: Any) -> None:
        super().__init__()
        self.db_path = db_path
        self.table = table
        self.pk = pk
        self.result: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(id="user-rows-dialog", classes="dialog"):
            yield Static(f"This user's rows (row {self.pk} of {self.table})", classes="dialog-title", markup=False)
            yield DataTable(id="user-rows-table", cursor_type="row")
            yield Static("Looking up the resolved user…", id="user-rows-note", classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        table = self.query_one("#user-rows-table", DataTable)
        table.add_column("Table", key="table")
        table.add_column("Rows", key="rows")
        table.focus()
        self._find()

    @work(thread=True, exit_on_error=False, group="user-rows", description="Find the user's rows")
    def _find(self) -> None:
        from core.engine import user_rows
        from core.errors import CourierError

        try:
            result = user_rows(self.db_path, self.table, self.pk)
        except CourierError as error:
            self.post_message(self.Found(None, str(error)))
            return
        self.post_message(self.Found(result))

    def on_user_rows_screen_found(self, message: Found) -> None:
        note = self.query_one("#user-rows-note", Static)
        if message.error is not None or message.result is None:
            note.update(
                message.error
                or "No resolved user: this table has no user_id (no :resolved view), or the row's user_id is NULL"
            )
            return
        self.result = message.result
        table = self.query_one("#user-rows-table", DataTable)
        for index, (view, count) in enumerate(self.result.counts):
            table.add_row(view, Text(f"{count:,}", justify="right"), key=str(index))
        note.update(f"resolved_user_id {self.result.resolved_user_id} · Enter opens the rows · Esc closes")

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the view under the cursor, filtered to this user."""
        from core.browse import equals_condition
        from core.identity import RESOLVED_COLUMN
        from tui.screens.table_view import TableViewScreen

        table = self.query_one("#user-rows-table", DataTable)
        if self.result is None or not table.row_count:
            return
        view, _ = self.result.counts[table.cursor_row]
        condition = equals_condition(RESOLVED_COLUMN, self.result.resolved_user_id)
        self.dismiss(None)
        self.app.push_screen(TableViewScreen(view, where=condition))

    def action_close(self) -> None:
        self.dismiss(None)
