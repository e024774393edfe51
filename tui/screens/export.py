"""Exporting a table view to CSV, with a progress bar; Esc stops and leaves no file behind."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from tui.screens.base import ReportsWorkerFailures
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.browse import View


def export_note(done: int, total: int) -> str:
    """``12,000 of 1,000,000 rows``."""
    return f"{done:,} of {total:,} rows"


class ExportScreen(ReportsWorkerFailures, ModalScreen["tuple[int, str] | None"]):
    """Writes the view to a CSV file in a worker; dismisses with ``(rows, path)``, or ``None`` if stopped or failed.

    Args:
        db_path: The Courier database.
        view: The table view to write (filter and order kept).
        path: The CSV file (written beside it, then renamed).
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop"),
    ]

    @dataclass
    class Progressed(Message):
        """Rows written so far."""

        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ExportScreen.Progressed)

    @dataclass
    class Ended(Message):
        """The export finished, stopped or failed (``error`` is one line)."""

        rows: int
        error: str | None = None

    def __init__(self, db_path: Path, view: View, path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.view = view
        self.path = path
        self.stop_event = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(f"Exporting {self.view.table} to {self.path}", classes="dialog-title", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="export-progress")
            yield Static("Counting rows…", id="export-note", classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=1, progress=0)
        self._export()

    @work(thread=True, exit_on_error=False, group="export", description="Export CSV")
    def _export(self) -> None:
        from core.browse import export_csv, open_reader
        from core.errors import CourierError

        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or done == total:
                last[0] = now
                self.post_message(self.Progressed(done, total))

        try:
            conn = open_reader(self.db_path)
            try:
                rows = export_csv(conn, self.view, self.path, progress=progress, should_stop=self.stop_event.is_set)
            finally:
                conn.close()
        except CourierError as error:
            self.post_message(self.Ended(0, str(error)))
            return
        self.post_message(self.Ended(rows))

    def on_export_screen_progressed(self, message: Progressed) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)
        self.query_one("#export-note", Static).update(f"{export_note(message.done, message.total)} · Esc stops")

    def on_export_screen_ended(self, message: Ended) -> None:
        if message.error is not None:
            self.notify(
                message.error,
                title="Export failed" if not self.stop_event.is_set() else "Export stopped",
                severity="warning" if self.stop_event.is_set() else "error",
                timeout=10,
            )
            self.dismiss(None)
            return
        self.dismiss((message.rows, str(self.path)))

    def action_stop(self) -> None:
        """Stop writing; the partial file is removed."""
        self.stop_event.set()
        self.query_one("#export-note", Static).update("Stopping…")
