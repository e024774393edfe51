"""The domain tables browser: every domain table and identity view, with row counts and last load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.tables import DomainTable


def loaded_text(stamp: str | None) -> str:
    """``2026-11-25 16:35 UTC`` from a stored timestamp; ``—`` when never loaded."""
    if not stamp:
        return "—"
    return f"{stamp[:10]} {stamp[11:16]} UTC"


class TablesScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """Lists the domain tables; Enter pages through one."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("R,f5", "reload", "Refresh"),
        Binding("escape,backspace", "back", "Back"),
    ]

    AUTO_FOCUS = "#tables-table"

    @dataclass
    class TablesListed(Message):
        """``core.tables.list_domain_tables`` answered."""

        tables: list[Any]
        listing: int
        """Which listing sent it: a late message from an older, cancelled listing is ignored."""

    @dataclass
    class RowsCounted(Message):
        """One table's rows were counted (``name`` ``None``: every table was)."""

        listing: int
        name: str | None
        rows: int | None
        """``None``: the count could not be made (e.g. its time budget ran out on a busy machine)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[DomainTable] = []
        self.counted = False
        """True once every listed table's rows are counted."""
        self._listing = 0
        """The newest listing; mount and resume both list, and their threads may finish in any order."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Domain tables and identity views. Enter opens one, a page at a time.", id="tables-intro")
        yield DataTable(id="tables-table", cursor_type="row", zebra_stripes=True)
        yield Static("Counting rows…", id="tables-empty", classes="empty")
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "Domain tables"
        table = self.query_one("#tables-table", DataTable)
        table.add_column("Name", key="name")
        table.add_column("Kind", key="kind")
        table.add_column("Rows", key="rows")
        table.add_column("Feed", key="feed")
        table.add_column("Last load", key="loaded")
        table.display = False
        apply_app_settings(self)
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        """Count the rows again."""
        self._listing += 1
        self.counted = False
        self._list(self._listing)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tables", description="List domain tables")
    def _list(self, listing: int) -> None:
        from core.engine import list_tables, table_row_count
        from core.errors import CourierError

        # The names come at once; the counts (a scan of each table) fill in after.
        tables = list_tables(self.courier_app.db_path, count=False)
        self.post_message(self.TablesListed(tables, listing))
        for item in tables:
            if get_current_worker().is_cancelled:
                return  # a newer listing (a reload) counts for itself
            try:
                rows: int | None = table_row_count(self.courier_app.db_path, item.name)
            except CourierError:
                rows = None  # one table that cannot be counted must not leave the list "counting" for ever
            self.post_message(self.RowsCounted(listing, item.name, rows))
        self.post_message(self.RowsCounted(listing, None, 0))

    def on_tables_screen_tables_listed(self, message: TablesListed) -> None:
        if message.listing != self._listing:
            return
        table = self.query_one("#tables-table", DataTable)
        selected = self.selected()
        counts = {item.name: item.rows for item in self.tables}
        self.tables = message.tables
        self.counted = False
        table.clear()
        for item in message.tables:
            item.rows = item.rows if item.rows is not None else counts.get(item.name)
            rows = f"{item.rows:,}" if item.rows is not None else "…"
            table.add_row(
                item.name,
                item.kind,
                Text(rows, justify="right"),
                item.feed_id or "—",
                loaded_text(item.last_loaded_at),
                key=item.name,
            )
        table.display = bool(message.tables)
        if table.display and self.focused is None:
            table.focus()
        empty = self.query_one("#tables-empty", Static)
        empty.display = not message.tables
        empty.update("No domain tables yet. Activate a feed or run a courier with load operations.")
        if selected is not None and selected in {item.name for item in message.tables}:
            table.move_cursor(row=table.get_row_index(selected))
        self.refresh_bindings()

    def on_tables_screen_rows_counted(self, message: RowsCounted) -> None:
        if message.listing != self._listing:
            return
        if message.name is None:
            self.counted = True
            return
        table = self.query_one("#tables-table", DataTable)
        for item in self.tables:
            if item.name == message.name:
                item.rows = message.rows
                if message.name in table.rows:
                    shown = f"{message.rows:,}" if message.rows is not None else "?"
                    table.update_cell(message.name, "rows", Text(shown, justify="right"), update_width=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "tables" and event.state == WorkerState.ERROR:
            self.query_one("#tables-empty", Static).update("The domain tables could not be read.")
        super().on_worker_state_changed(event)

    def selected(self) -> str | None:
        """The name of the table under the cursor."""
        table = self.query_one("#tables-table", DataTable)
        if table.row_count == 0:
            return None
        return cast(str, table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return True if self.selected() is not None else None
        return True

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Page through the table under the cursor."""
        name = self.selected()
        if name is not None:
            self.courier_app.action_open_table(name)

    def action_back(self) -> None:
        self.app.pop_screen()
