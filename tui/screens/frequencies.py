"""How often each value of a column occurs in the current view, like VisiData's Shift+F."""

from __future__ import annotations

import threading
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
from textual.widgets import DataTable, ProgressBar, Static
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

    On a view of more than ``core.profile.ESTIMATE_ABOVE`` rows the counts come first as an
    estimate from a sample (at once), then the exact count replaces them by itself; Esc stops
    the exact count (the estimate stays), ``x`` runs it again. The basis line says which is shown.

    Args:
        db_path: The Courier database.
        view: The table view (its filter applies).
        column: The column to count.
        rows: Rows in the view when known (the table view has counted them), so an estimate needs no count.
    """

    BINDINGS = [
        Binding("enter", "choose", "Filter to value", show=False),
        Binding("x", "exact", "Exact counts"),
        Binding("escape,q,F", "close", "Stop / close"),
    ]

    @dataclass
    class Counted(Message):
        """``core.engine.column_frequencies`` answered (or failed with one line, or ``stopped``)."""

        result: Any
        error: str | None = None

    def __init__(self, db_path: Path, view: View, column: str, rows: int | None = None) -> None:
        super().__init__()
        self.db_path = db_path
        self.view = view
        self.column = column
        self.rows = rows
        self.values: list[tuple[Any, int]] = []
        self.result: Any = None
        self.running = False
        self.shown: list[str] = []
        """The basis of every answer shown, in order (an estimate, then the exact counts)."""
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        scope = " (filtered)" if self.view.where else ""
        with Vertical(id="frequencies-dialog", classes="dialog"):
            yield Static(
                f"Frequency of {self.column} in {self.view.table}{scope}", classes="dialog-title", markup=False
            )
            yield Static("", id="frequencies-basis", markup=False)
            yield ProgressBar(id="frequencies-progress", show_eta=False, show_percentage=False)
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
        self.query_one("#frequencies-basis").display = False
        self._start(None)

    def _start(self, exact: bool | None) -> None:
        self._stop.clear()
        self.running = True
        self.query_one("#frequencies-progress", ProgressBar).display = True
        if self.result is not None:
            self.query_one("#frequencies-note", Static).update(
                "Estimate shown; counting every row for the exact counts… Esc stops (the estimate stays)"
            )
        self.refresh_bindings()
        self._count(exact)

    @work(thread=True, exit_on_error=False, group="frequencies", description="Count values")
    def _count(self, exact: bool | None) -> None:
        from core.engine import column_frequencies
        from core.errors import CourierError
        from core.profile import ProfileStopped

        try:
            result = column_frequencies(
                self.db_path,
                self.view,
                self.column,
                limit=TOP_VALUES,
                exact=exact,
                should_stop=self._stop.is_set,
                rows=self.rows,
            )
        except ProfileStopped:
            self.post_message(self.Counted(None, "stopped"))
            return
        except CourierError as error:
            self.post_message(self.Counted(None, str(error)))
            return
        self.post_message(self.Counted(result))

    def on_frequencies_screen_counted(self, message: Counted) -> None:
        self.running = False
        self.query_one("#frequencies-progress", ProgressBar).display = False
        self.refresh_bindings()
        note = self.query_one("#frequencies-note", Static)
        if message.error == "stopped":
            kept = "the estimate above is still shown" if self.result is not None else "nothing counted"
            note.update(f"Stopped; {kept} · x counts every row · Esc closes")
            return
        if message.error is not None:
            note.update(message.error)
            note.add_class("-error")
            return
        self.result = result = message.result
        self.values = result.values
        self.shown.append(result.basis())
        basis = self.query_one("#frequencies-basis", Static)
        basis.update(result.basis())
        basis.display = not result.exact or len(self.shown) > 1
        table = self.query_one("#frequencies-table", DataTable)
        cursor = table.cursor_row
        table.clear()
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
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        shown = f"the top {len(result.values)} of " if result.distinct > len(result.values) else ""
        plural = "s" if result.distinct != 1 else ""
        if result.exact:
            note.update(
                f"{shown}{result.distinct:,} distinct value{plural} in {result.total:,} rows · "
                "Enter filters the table to a value · Esc closes"
            )
            return
        note.update(
            f"{shown}{result.distinct:,} distinct value{plural} in the sample · estimated counts; "
            "counting every row… · Enter filters · Esc stops"
        )
        self._start(True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.running = False
            self.query_one("#frequencies-note", Static).update("The values could not be counted.")
        super().on_worker_state_changed(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "exact":
            return not self.running and self.result is not None and not self.result.exact
        return True

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

    def action_exact(self) -> None:
        """Count every row (after an estimate, or after the exact count was stopped)."""
        if not self.running:
            self._start(True)

    def action_close(self) -> None:
        """Stop a running count; close when nothing runs."""
        if self.running:
            self._stop.set()
            return
        self.dismiss(None)
