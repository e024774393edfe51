"""How often each value of a column occurs in the current view, like VisiData's Shift+F."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from tui.screens.base import ReportsWorkerFailures
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.browse import View

BAR_WIDTH = 20
TOP_VALUES = 100


def value_label(value: Any, width: int = 40) -> Text:
    """A value as one short line (NULL dim, long text cut with …)."""
    if value is None:
        return Text("NULL", style="dim italic")
    text = str(value).replace("\n", "⏎")
    if len(text) > width:
        text = text[: width - 1] + "…"
    return Text(text, justify="right" if isinstance(value, (int, float)) else "left")


class FrequenciesScreen(ReportsWorkerFailures, ModalScreen[str | None]):
    """The most frequent values of one column; Enter filters the table to the value under the cursor.

    Args:
        db_path: The Courier database.
        view: The table view (its filter applies).
        column: The column to count.
    """

    BINDINGS = [
        Binding("enter", "choose", "Filter to value", show=False),
        Binding("escape,q,F", "close", "Close"),
    ]

    @dataclass
    class Counted(Message):
        """``core.browse.frequencies`` answered (or failed with one line)."""

        result: Any
        error: str | None = None

    def __init__(self, db_path: Path, view: View, column: str) -> None:
        super().__init__()
        self.db_path = db_path
        self.view = view
        self.column = column
        self.values: list[tuple[Any, int]] = []

    def compose(self) -> ComposeResult:
        scope = " (filtered)" if self.view.where else ""
        with Vertical(id="frequencies-dialog", classes="dialog"):
            yield Static(
                f"Frequency of {self.column} in {self.view.table}{scope}", classes="dialog-title", markup=False
            )
            yield DataTable(id="frequencies-table", cursor_type="row", zebra_stripes=True)
            yield Static("Counting…", id="frequencies-note", classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        table = self.query_one("#frequencies-table", DataTable)
        table.add_column("Value", key="value")
        table.add_column("Count", key="count")
        table.add_column("%", key="share")
        table.add_column("", key="bar")
        table.focus()
        self._count()

    @work(thread=True, exit_on_error=False, group="frequencies", description="Count values")
    def _count(self) -> None:
        from core.browse import open_reader
        from core.errors import CourierError
        from core.profile import frequencies

        try:
            conn = open_reader(self.db_path)
            try:
                result = frequencies(conn, self.view, self.column, limit=TOP_VALUES)
            finally:
                conn.close()
        except CourierError as error:
            self.post_message(self.Counted(None, str(error)))
            return
        self.post_message(self.Counted(result))

    def on_frequencies_screen_counted(self, message: Counted) -> None:
        note = self.query_one("#frequencies-note", Static)
        if message.error is not None:
            note.update(message.error)
            note.add_class("-error")
            return
        result = message.result
        self.values = result.values
        table = self.query_one("#frequencies-table", DataTable)
        top = max((count for _, count in result.values), default=1)
        for index, (value, count) in enumerate(result.values):
            share = 100.0 * count / result.total if result.total else 0.0
            bar = "█" * max(1, round(BAR_WIDTH * count / top))
            table.add_row(
                value_label(value, 30),
                Text(f"{count:,}", justify="right"),
                Text(f"{share:.1f}", justify="right"),
                Text(bar, style="cyan"),
                key=str(index),
            )
        shown = f"the top {len(result.values)} of " if result.distinct > len(result.values) else ""
        note.update(
            f"{shown}{result.distinct:,} distinct value{'s' if result.distinct != 1 else ''} in "
            f"{result.total:,} rows · Enter filters the table to a value · Esc closes"
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one("#frequencies-note", Static).update("The values could not be counted.")
        super().on_worker_state_changed(event)

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        """Dismiss with a condition matching the value under the cursor."""
        from core.browse import equals_condition

        table = self.query_one("#frequencies-table", DataTable)
        if not self.values or table.row_count == 0:
            return
        value, _ = self.values[table.cursor_row]
        self.dismiss(equals_condition(self.column, value))

    def action_close(self) -> None:
        self.dismiss(None)
