"""A table's sort indexes: the ones Courier built, building one for the sort column, dropping one.

Opened with ``i`` from the table view. Building runs ``core.engine.build_sort_index`` in a
thread worker with a progress bar (SQLite's VM steps against an estimate from the row
count) and Esc to cancel — a cancelled build leaves nothing behind. Dropping is immediate
(an index can always be built again).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from tui.screens.base import ReportsWorkerFailures
from tui.widgets.footer import CourierFooter


class SortIndexScreen(ReportsWorkerFailures, ModalScreen[bool]):
    """Courier's sort indexes of one table; ``b`` builds one for the sort column, ``d`` drops the highlighted one.

    Dismissed with ``True`` when an index was built or dropped (the table view reads its page again).

    Args:
        db_path: The Courier database.
        table: A domain table.
        column: The column the table view is sorted by (``None``: not sorted, nothing to build).
    """

    BINDINGS = [
        Binding("b", "build", "Build index"),
        Binding("d", "drop", "Drop index"),
        Binding("escape,q", "close", "Cancel / close"),
    ]

    @dataclass
    class Listed(Message):
        indexes: list[Any]

    @dataclass
    class Progressed(Message):
        done: int
        total: int

    @dataclass
    class Finished(Message):
        """A build or drop ended: one line for the note, and whether it failed."""

        text: str
        failed: bool = False

    def __init__(self, db_path: Path, table: str, column: str | None) -> None:
        super().__init__()
        self.db_path = db_path
        self.table = table
        self.column = column
        self.indexes: list[Any] | None = None
        self.building = False
        self.changed = False
        self.result = ""
        """The last build's or drop's outcome, kept in the note above the keys."""
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="sort-index-dialog", classes="dialog"):
            yield Static(f"Sort indexes of {self.table}", classes="dialog-title", markup=False)
            yield Static("", id="sort-index-advice", markup=False)
            yield OptionList(id="sort-index-list", compact=True)
            yield ProgressBar(id="sort-index-progress", show_eta=False)
            yield Static("", id="sort-index-note", classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.query_one("#sort-index-progress").display = False
        self.query_one("#sort-index-list").focus()
        self._list()

    @work(thread=True, exit_on_error=False, group="sort-index-list", description="List sort indexes")
    def _list(self) -> None:
        from core.engine import sort_indexes

        self.post_message(self.Listed(sort_indexes(self.db_path, self.table)))

    def on_sort_index_screen_listed(self, message: Listed) -> None:
        self.indexes = message.indexes
        options = self.query_one("#sort-index-list", OptionList)
        options.clear_options()
        for index in message.indexes:
            options.add_option(Option(f"{index.column}  ({index.name})", id=index.column))
        if message.indexes:
            options.highlighted = 0
        else:
            options.add_option(Option("none yet", disabled=True))
        indexed = {index.column for index in message.indexes}
        advice = self.query_one("#sort-index-advice", Static)
        if self.column is None:
            advice.update("Sort by a column (o) to build an index for it.")
        elif self.column in indexed:
            advice.update(f"Sorting by {self.column} reads its index: the first page comes at once.")
        else:
            advice.update(
                f"Sorting by {self.column} reads every row for each page. b builds an index on {self.column} "
                "that serves it; every later load keeps it up to date, so drop indexes you no longer sort by."
            )
        if not self.building:
            note = self.query_one("#sort-index-note", Static)
            note.update(" · ".join([*([self.result] if self.result else []), self._keys()]))
        self.refresh_bindings()

    def _keys(self) -> str:
        keys = []
        if self.check_action("build", ()):
            keys.append(f"b builds the index on {self.column}")
        if self.indexes:
            keys.append("d drops the highlighted index")
        keys.append("Esc closes")
        return " · ".join(keys)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "build":
            known = self.indexes is not None and not self.building
            return known and self.column is not None and self.column not in {i.column for i in self.indexes or []}
        if action == "drop":
            return not self.building and bool(self.indexes)
        return True

    def action_build(self) -> None:
        """Build the index for the sort column, with progress; Esc cancels."""
        if not self.check_action("build", ()) or self.column is None:
            return
        self.building = True
        self._stop.clear()
        progress = self.query_one("#sort-index-progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        note = self.query_one("#sort-index-note", Static)
        note.remove_class("-error")
        note.update(f"Building the index on {self.column}… Esc cancels (nothing is left half-built)")
        self.refresh_bindings()
        self._build(self.column)

    @work(thread=True, exit_on_error=False, group="sort-index", description="Build sort index")
    def _build(self, column: str) -> None:
        from core.engine import build_sort_index
        from core.errors import CourierError

        shown = [-1]

        def progress(done: int, total: int) -> None:
            # SQLite calls back every 1,000 VM steps (10 per row): tens of thousands of calls on a big
            # table. A message per whole percent keeps the bar moving without the app's thread
            # competing with the build for the GIL (it made the TUI's build 6-7 times slower).
            percent = done * 100 // max(1, total)
            if percent != shown[0]:
                shown[0] = percent
                self.post_message(self.Progressed(done, total))

        try:
            index, _ = build_sort_index(
                self.db_path, self.table, column, progress=progress, should_stop=self._stop.is_set
            )
        except CourierError as error:
            self.post_message(self.Finished(str(error), failed=True))
            return
        self.post_message(self.Finished(f"Built the index on {index.column}; sorting by it reads the index"))

    def on_sort_index_screen_progressed(self, message: Progressed) -> None:
        if self.building:
            self.query_one("#sort-index-progress", ProgressBar).update(
                total=max(1, message.total), progress=message.done
            )

    def on_sort_index_screen_finished(self, message: Finished) -> None:
        self.building = False
        self.query_one("#sort-index-progress").display = False
        self.result = message.text
        note = self.query_one("#sort-index-note", Static)
        note.update(message.text)
        note.set_class(message.failed, "-error")
        if not message.failed:
            self.changed = True
            self.notify(message.text, title="Sort index")
        self.refresh_bindings()
        self._list()

    def action_drop(self) -> None:
        """Drop the highlighted index."""
        options = self.query_one("#sort-index-list", OptionList)
        if not self.check_action("drop", ()) or options.highlighted is None:
            return
        column = options.get_option_at_index(options.highlighted).id
        if column is not None:
            self._drop(column)

    @work(thread=True, exit_on_error=False, group="sort-index", description="Drop sort index")
    def _drop(self, column: str) -> None:
        from core.engine import drop_sort_index
        from core.errors import CourierError

        try:
            drop_sort_index(self.db_path, self.table, column)
        except CourierError as error:
            self.post_message(self.Finished(str(error), failed=True))
            return
        self.post_message(self.Finished(f"Dropped the index on {column}"))

    def action_close(self) -> None:
        """Cancel a build; close when nothing runs."""
        if self.building:
            self._stop.set()
            return
        self.dismiss(self.changed)
