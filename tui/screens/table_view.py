"""One domain table, a screenful at a time: paged by key, filtered, sorted, counted, exported.

Only the rows on screen are in memory. Every move asks ``core.browse`` for the
page by key (``after``/``before``/``at``), so the first page and a page in the
middle of a million rows cost the same. Queries run in thread workers on a
read-only connection (``core.browse.open_reader``); a filter can never change data.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import Worker, WorkerState

from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.screens.cell_value import quoted_if_unclear
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.browse import Page, View
    from core.engine import TableReader

CELL_WIDTH = 36
"""Longest text a cell shows; ``v`` shows the rest."""
MIN_PAGE_ROWS = 3
MAX_PAGE_ROWS = 100
DEFAULT_PAGE_ROWS = 20
CHROME_LINES = 4
"""Lines of the screen that are not table rows: title bar, column headers, status line, footer."""
TRAILING_COLUMNS = ("_pk", "_updated")
"""Courier's own columns, shown after the feed's fields."""
INDEX_ADVICE_ROWS = 100_000
"""Sorting a table of at least this many rows by a column no index serves says so and offers ``i``."""


def default_export_path(table: str) -> str:
    """``~/Heap_Users.csv`` for ``Heap:Users``: the table name with anything unsafe replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", table).strip("._") or "table"
    return f"~/{safe}.csv"


def cell_text(value: Any, width: int = CELL_WIDTH) -> Text:
    """A cell on one line: NULL dimmed, numbers right-aligned, long text cut with …"""
    if value is None:
        return Text("NULL", style="dim italic")
    if isinstance(value, bytes):
        return Text(f"<{len(value):,} bytes>", style="dim")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Text(str(value), justify="right")
    text = quoted_if_unclear(str(value)).replace("\r", "").replace("\n", "⏎")
    if len(text) > width:
        text = text[: width - 1] + "…"
    return Text(text)


def display_order(columns: list[str]) -> list[int]:
    """Positions of the columns as shown: the feed's fields first, then ``_pk`` and ``_updated``."""
    fields = [index for index, name in enumerate(columns) if name not in TRAILING_COLUMNS]
    trailing = [index for index, name in enumerate(columns) if name in TRAILING_COLUMNS]
    return fields + trailing


class PagedTable(DataTable[Any]):
    """A DataTable holding one page; moving past its edges asks the screen for more rows."""

    BINDINGS = [
        Binding("pagedown", "page('next')", "Next page", show=False),
        Binding("pageup", "page('prev')", "Previous page", show=False),
        Binding("home,ctrl+home", "page('first')", "First page", show=False),
        Binding("end,ctrl+end", "page('last')", "Last page", show=False),
    ]

    @dataclass
    class PageRequested(Message):
        """The cursor wants rows that are not loaded: ``next``, ``prev``, ``first``, ``last``, ``down``, ``up``."""

        where: str

    def action_page(self, where: str) -> None:
        self.post_message(self.PageRequested(where))

    def on_resize(self) -> None:
        # The filter bar or its error opening changes how many rows fit.
        self.post_message(self.PageRequested("fit"))

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageRequested("down"))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.PageRequested("up"))
            return
        super().action_cursor_up()


@dataclass
class Request:
    """One move the screen asked for, applied in order."""

    kind: str
    """``first``, ``last``, ``next``, ``prev``, ``down``, ``up``, ``jump``, ``at`` or ``view``."""
    text: str = ""
    view: Any = None


class TableViewScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """Pages through one domain table by key; filter, sort, frequencies, full values, copy, export.

    Args:
        table: The domain table or identity view, e.g. ``Heap:Users``.
        where: A filter to start with (e.g. one user's rows).
    """

    BINDINGS = [
        Binding("pagedown", "page('next')", "Next page", show=False),
        Binding("pageup", "page('prev')", "Previous page", show=False),
        Binding("home", "page('first')", "First page", show=False),
        Binding("end", "page('last')", "Last page", show=False),
        Binding("j", "jump", "Jump"),
        Binding("w", "filter", "Filter"),
        Binding("o", "sort", "Sort"),
        Binding("i", "sort_index", "Sort index", show=False),
        Binding("F", "frequencies", "Frequency"),
        Binding("v", "view_cell", "Full value", show=False),
        Binding("c", "copy_cell", "Copy cell", show=False),
        Binding("E", "export", "Export"),
        Binding("enter", "row_detail", "Row detail", show=False),
        Binding("g", "column_jump", "Column"),
        Binding("slash", "search", "Search", show=False),
        Binding("P", "profile", "Profile"),
        Binding("S", "sql", "SQL", show=False),
        Binding("I", "identity", "Resolved", show=False),
        Binding("u", "user_rows", "User's rows", show=False),
        Binding("R,f5", "reload", "Refresh", show=False),
        Binding("escape", "back", "Back"),
    ]

    AUTO_FOCUS = "#table-grid"

    @dataclass
    class PageLoaded(Message):
        """A page arrived for a request."""

        page: Any
        view: Any
        request: Request

    @dataclass
    class PageFailed(Message):
        """A request could not be answered (a bad filter, a missing table); one line."""

        request: Request
        error: str

    @dataclass
    class RowsCounted(Message):
        """The view's row count and the current page's position in it."""

        view: Any
        first_key: Any
        total: int
        before: int

    @dataclass
    class SortChecked(Message):
        """Whether an index serves the view's sort (``core.engine.SortSupport``)."""

        view: Any
        support: Any

    def __init__(self, table: str, where: str | None = None) -> None:
        from core.browse import View

        super().__init__()
        self.table_name = table
        self.view: View = View(table, where)
        self.page: Page | None = None
        self.page_rows = DEFAULT_PAGE_ROWS
        self.total: int | None = None
        self.position: int | None = None
        self.position_counted = False
        """True once the count confirmed where the page shown starts."""
        self.columns: list[str] = []
        self.order: list[int] = []
        self.error: str | None = None
        self._queue: list[Request] = []
        self._busy = False
        self._reading: Request | None = None
        self._cursor_row = 0
        self._cursor_column = 0
        self._reader: TableReader | None = None
        self._reader_lock = threading.Lock()
        self._counter: TableReader | None = None
        self._counter_lock = threading.Lock()
        self._count_generation = 0
        self.sort_support: Any = None
        """``core.engine.SortSupport`` of the view's sort column, once checked (``None`` before, or unsorted)."""

    @property
    def grid(self) -> PagedTable:
        return self.query_one("#table-grid", PagedTable)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filter-bar"):
            yield Static("WHERE", classes="bar-label")
            yield Input(
                id="filter-input",
                placeholder="country = 'US' AND time >= '2026-11-20'  (Enter applies, empty clears, Esc cancels)",
                compact=True,
            )
        yield Static("", id="filter-error", markup=False)
        yield PagedTable(id="table-grid", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="table-status", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = self.table_name
        self.query_one("#filter-bar").display = bool(self.view.where)
        self.query_one("#filter-input", Input).value = self.view.where or ""
        self.query_one("#filter-error").display = False
        apply_app_settings(self)
        self._render_status()
        # The first query runs while the screen is laid out; the page size is the screen's
        # height less the header, filter, status and footer lines, corrected on resize.
        self.page_rows = max(MIN_PAGE_ROWS, min(MAX_PAGE_ROWS, self.app.size.height - CHROME_LINES))
        self._request(Request("first"))

    def on_unmount(self) -> None:
        def close() -> None:
            for lock, name in ((self._reader_lock, "_reader"), (self._counter_lock, "_counter")):
                with lock:
                    conn = getattr(self, name)
                    if conn is not None:
                        conn.close()
                        setattr(self, name, None)

        threading.Thread(target=close, name="close-table-reader", daemon=True).start()

    def _check_page_size(self) -> None:
        rows = self._fitting_rows()
        if rows != self.page_rows:
            self.page_rows = rows
            self._request(Request("at"))

    def _fitting_rows(self) -> int:
        height = self.grid.size.height - 1 if self.grid.size.height else DEFAULT_PAGE_ROWS
        return max(MIN_PAGE_ROWS, min(MAX_PAGE_ROWS, height))

    # --- requests, applied one at a time in order --------------------------------------------

    def _request(self, request: Request) -> None:
        self._queue.append(request)
        self._pump()

    def _pump(self) -> None:
        while not self._busy and self._queue:
            request = self._queue.pop(0)
            page = self.page
            view = request.view if request.kind == "view" else self.view
            kwargs: dict[str, Any] = {}
            if request.kind in ("next", "down") and page is not None:
                if not page.has_after or page.last_key is None:
                    self._cursor_to_edge(bottom=True)
                    continue
                kwargs = {"after": page.last_key if request.kind == "next" else page.first_key}
            elif request.kind in ("prev", "up") and page is not None:
                if not page.has_before or page.first_key is None:
                    self._cursor_to_edge(bottom=False)
                    continue
                kwargs = {"before": page.first_key if request.kind == "prev" else page.last_key}
            elif request.kind == "at" and page is not None and page.first_key is not None:
                kwargs = {"at": page.first_key}
            elif request.kind == "last":
                kwargs = {"last": True}
            self._busy = True
            self._reading = request
            self._fetch(request, view, kwargs, self.page_rows)

    @property
    def wanted_view(self) -> View:
        """The view this screen is heading to: the last one asked for (queued or being read), else the one shown.

        Keys that change the view build on it, so ``o o`` typed ahead of a slow read sorts
        descending as two slow presses do, and ``E`` right after exports the view asked for.
        """
        for request in reversed(self._queue):
            if request.kind == "view" and request.view is not None:
                return request.view
        if self._busy and self._reading is not None and self._reading.kind == "view" and self._reading.view is not None:
            return self._reading.view
        return self.view

    def _cursor_to_edge(self, bottom: bool) -> None:
        grid = self.grid
        if grid.row_count:
            grid.move_cursor(row=grid.row_count - 1 if bottom else 0)

    def _reader_connection(self) -> TableReader:
        from core.engine import open_table_reader as open_reader

        if self._reader is None:
            self._reader = open_reader(self.courier_app.db_path)
        return self._reader

    @work(thread=True, exit_on_error=False, group="table-page", description="Read page")
    def _fetch(self, request: Request, view: View, kwargs: dict[str, Any], limit: int) -> None:
        from core.browse import fetch_page, jump_to_key
        from core.errors import CourierError

        try:
            with self._reader_lock:
                conn = self._reader_connection()
                if request.kind == "jump":
                    page = jump_to_key(conn, view, request.text, limit=limit)
                else:
                    page = fetch_page(conn, view, limit=limit, **kwargs)
        except CourierError as error:
            self.post_message(self.PageFailed(request, str(error)))
            return
        self.post_message(self.PageLoaded(page, view, request))

    def on_table_view_screen_page_loaded(self, message: PageLoaded) -> None:
        self._busy = False
        page, request = message.page, message.request
        view_changed = message.view != self.view
        if request.kind == "view":
            self._close_filter_error()
        if (
            not page.rows
            and self.page is not None
            and self.page.rows
            and not view_changed
            and request.kind not in ("first", "at")
        ):
            # The rows moved away (a reload under us); keep what is shown.
            self._pump()
            return
        if view_changed:
            sort_changed = (message.view.table, message.view.sort) != (self.view.table, self.view.sort)
            self.view = message.view
            self.total = None
            if sort_changed:
                self.sort_support = None
                if self.view.sort:
                    self._check_sort(self.view)
            if self.view.table != self.table_name:  # the identity toggle switched table and view
                self.table_name = self.title = self.view.table
        self.position = self._expected_position(request, self.page, page, view_changed)
        self.position_counted = False
        columns_changed = page.columns != self.columns or view_changed
        self.page = page
        self.error = None
        self._show_page(page, request, columns_changed)
        self._render_status()
        self.refresh_bindings()
        self._count_generation += 1
        self._count(self.view, page.first_key, self.total is None, self._count_generation)
        self._pump()

    def _expected_position(self, request: Request, old: Page | None, new: Page, view_changed: bool) -> int | None:
        """Where the new page starts, worked out from the old one (the count confirms it later)."""
        if request.kind in ("first", "view") or not new.has_before:
            return 0
        if request.kind == "last" and self.total is not None and not view_changed:
            return max(0, self.total - len(new.rows))
        position = self.position
        if old is None or position is None or view_changed:
            return None
        if request.kind == "next":
            return position + len(old.rows)
        if request.kind == "prev":
            return max(0, position - len(new.rows))
        if request.kind == "down":
            return position + 1
        if request.kind == "up":
            return max(0, position - 1)
        if request.kind == "at":
            return position
        return None

    def on_table_view_screen_page_failed(self, message: PageFailed) -> None:
        self._busy = False
        if message.request.kind == "view":
            error = self.query_one("#filter-error", Static)
            error.update(message.error)
            error.display = True
            self.query_one("#filter-bar").display = True
            self.query_one("#filter-input", Input).focus()
            self._queue.clear()
        else:
            self.error = message.error
            self._render_status()
            self._queue.clear()
        self._pump()

    def _show_page(self, page: Page, request: Request, columns_changed: bool) -> None:
        grid = self.grid
        row, column = grid.cursor_coordinate if grid.row_count else (self._cursor_row, self._cursor_column)
        if columns_changed:
            self.columns = list(page.columns)
            self.order = display_order(self.columns)
            grid.clear(columns=True)
            for position in self.order:
                grid.add_column(self._header(self.columns[position]), key=self.columns[position])
        else:
            grid.clear()
        for index, values in enumerate(page.rows):
            grid.add_row(*(cell_text(values[position]) for position in self.order), key=str(index))
        if request.kind in ("first", "view", "jump", "at"):
            row = 0
        elif request.kind == "last" or request.kind == "down":
            row = len(page.rows) - 1
        elif request.kind == "up":
            row = 0
        if grid.row_count:
            grid.move_cursor(
                row=max(0, min(row, grid.row_count - 1)), column=min(column, len(self.order) - 1), animate=False
            )

    def _header(self, column: str) -> Text:
        if self.view.sort == column:
            return Text(f"{column} {'▼' if self.view.descending else '▲'}", style="bold")
        return Text(column)

    @work(thread=True, exit_on_error=False, group="table-count", description="Count rows")
    def _count(self, view: View, first_key: Any, need_total: bool, generation: int) -> None:
        from core.browse import count_rows, rows_before
        from core.engine import open_table_reader as open_reader
        from core.errors import CourierError

        try:
            with self._counter_lock:
                if generation != self._count_generation:
                    return  # a newer page was shown while this one waited; count for that one
                if self._counter is None:
                    self._counter = open_reader(self.courier_app.db_path)
                total = count_rows(self._counter, view) if need_total else -1
                before = rows_before(self._counter, view, first_key) if first_key is not None else 0
        except CourierError:
            return
        self.post_message(self.RowsCounted(view, first_key, total, before))

    @work(thread=True, exit_on_error=False, group="table-sort", description="Check sort index")
    def _check_sort(self, view: View) -> None:
        from core.engine import sort_support

        self.post_message(self.SortChecked(view, sort_support(self.courier_app.db_path, view.table, view.sort or "")))

    def on_table_view_screen_sort_checked(self, message: SortChecked) -> None:
        if (message.view.table, message.view.sort) != (self.view.table, self.view.sort):
            return
        self.sort_support = support = message.support
        self._render_status()
        if support.indexed is False and support.rows >= INDEX_ADVICE_ROWS:
            self.notify(
                f"Sorting by {message.view.sort} reads all {support.rows:,} rows for each page; "
                "i builds an index that serves it",
                title="Sort",
            )

    def on_table_view_screen_rows_counted(self, message: RowsCounted) -> None:
        if message.view != self.view:
            return
        if message.total >= 0:
            self.total = message.total
        if self.page is not None and message.first_key == self.page.first_key:
            self.position = message.before
            self.position_counted = True
        self._render_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "table-page" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._busy = False
        super().on_worker_state_changed(event)

    # --- status ---------------------------------------------------------------------------

    def status_text(self) -> str:
        """``rows 1–20 of 1,000,000 · sorted by time ▼ · filtered · column 3/14``."""
        if self.error:
            return self.error
        page = self.page
        if page is None:
            return "Reading the first page…"
        total = f"{self.total:,}" if self.total is not None else "…"
        if not page.rows:
            # The total counts the filtered view, so it is 0 here: saying "(of 0)" told nothing.
            parts = ["no rows match the filter" if self.view.where else "no rows"]
        elif self.position is None:
            parts = [f"rows …–… of {total}"]
        else:
            parts = [f"rows {self.position + 1:,}–{self.position + len(page.rows):,} of {total}"]
        if self.view.sort:
            parts.append(f"sorted by {self.view.sort} {'▼' if self.view.descending else '▲'}")
            support = self.sort_support
            if support is not None and support.indexed is False and support.rows >= INDEX_ADVICE_ROWS:
                parts[-1] += " (no index: i)"
        else:
            parts.append("key order")
        if self.view.where:
            parts.append(f"WHERE {self.view.where}")
        grid = self.grid
        if self.order and grid.row_count:
            parts.append(f"col {grid.cursor_column + 1}/{len(self.order)}")
        return " · ".join(parts)

    def _render_status(self) -> None:
        status = self.query_one("#table-status", Static)
        status.update(self.status_text())
        status.set_class(bool(self.error), "-error")

    @on(DataTable.CellHighlighted, "#table-grid")
    def _cell_highlighted(self) -> None:
        self._render_status()

    # --- keys -----------------------------------------------------------------------------

    @on(PagedTable.PageRequested)
    def _page_requested(self, message: PagedTable.PageRequested) -> None:
        if message.where == "fit":
            self._check_page_size()
            return
        self._request(Request(message.where))

    def action_page(self, where: str) -> None:
        """Next, previous, first or last page."""
        self._request(Request(where))

    def action_reload(self) -> None:
        """Read the page again (and count again)."""
        self.total = None
        self._request(Request("at"))

    def current_column(self) -> str | None:
        """The name of the column under the cursor."""
        grid = self.grid
        if not self.order or not grid.columns:
            return None
        return self.columns[self.order[min(grid.cursor_column, len(self.order) - 1)]]

    def current_value(self) -> tuple[bool, Any]:
        """(found, value) of the cell under the cursor, as stored (never cut)."""
        grid = self.grid
        page = self.page
        if page is None or not page.rows or not grid.row_count:
            return False, None
        row = page.rows[min(grid.cursor_row, len(page.rows) - 1)]
        return True, row[self.order[min(grid.cursor_column, len(self.order) - 1)]]

    def _row_key_text(self) -> str:
        page = self.page
        if page is None or not page.rows or "_pk" not in self.columns:
            return ""
        row = page.rows[min(self.grid.cursor_row, len(page.rows) - 1)]
        return str(row[self.columns.index("_pk")])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("view_cell", "copy_cell"):
            return True if self.current_value()[0] else None
        if action in ("sort", "frequencies", "search", "profile", "column_jump"):
            return True if self.current_column() is not None else None
        if action in ("row_detail", "user_rows"):
            return True if self.current_value()[0] else None
        return True

    def action_jump(self) -> None:
        """Jump to the first row at or after a key (or a value of the sort column)."""
        from tui.screens.prompt import PromptScreen

        column = self.view.sort or "_pk"
        label = "Key" if column == "_pk" else column[:15]

        def answered(text: str | None) -> None:
            if text is not None and text.strip():
                self._request(Request("jump", text=text))

        self.app.push_screen(
            PromptScreen(
                f"Jump in {self.table_name}",
                label,
                note=f"The page starts at the first row whose {column} is at or "
                "after this (before it, when sorted descending); past the end, the last page.",
            ),
            callback=answered,
        )

    def action_filter(self) -> None:
        """Edit the WHERE condition (read-only; errors show under it)."""
        bar = self.query_one("#filter-bar")
        bar.display = True
        field = self.query_one("#filter-input", Input)
        field.value = self.wanted_view.where or ""
        field.focus()

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        from core.browse import View

        where = event.value.strip() or None
        wanted = self.wanted_view
        self._request(Request("view", view=View(self.table_name, where, wanted.sort, wanted.descending)))
        if where is None:
            self.query_one("#filter-bar").display = False
        self.grid.focus()

    def _close_filter_error(self) -> None:
        self.query_one("#filter-error").display = False
        if not self.view.where and not self.query_one("#filter-input", Input).has_focus:
            self.query_one("#filter-bar").display = False

    def action_sort(self) -> None:
        """Sort by the current column; again for descending; again for key order."""
        from core.browse import View

        column = self.current_column()
        if column is None:
            return
        view = self.wanted_view
        if view.sort != column:
            sort, descending = column, False
        elif not view.descending:
            sort, descending = column, True
        else:
            sort, descending = None, False
        self._request(Request("view", view=View(self.table_name, view.where, sort, descending)))

    def action_sort_index(self) -> None:
        """List the table's sort indexes; build one for the sort column, or drop one."""
        from tui.screens.sort_index import SortIndexScreen

        def done(changed: bool | None) -> None:
            if changed:
                self.sort_support = None
                if self.view.sort:
                    self._check_sort(self.view)
                self._request(Request("at"))

        sort = self.view.sort if self.view.sort != "_pk" else None
        self.app.push_screen(SortIndexScreen(self.courier_app.db_path, self.view.table, sort), done)

    def action_frequencies(self) -> None:
        """How often each value of the current column occurs in the view; Enter filters to one."""
        from core.browse import View, combine_filters
        from tui.screens.frequencies import FrequenciesScreen

        column = self.current_column()
        if column is None:
            return

        def chosen(condition: str | None) -> None:
            if condition:
                wanted = self.wanted_view
                where = combine_filters(wanted.where, condition)
                self._request(Request("view", view=View(self.table_name, where, wanted.sort, wanted.descending)))

        self.app.push_screen(
            FrequenciesScreen(self.courier_app.db_path, self.view, column, rows=self.total), callback=chosen
        )

    @on(DataTable.CellSelected, "#table-grid")
    def _cell_selected(self) -> None:
        self.action_row_detail()

    def current_key(self) -> tuple[Any, ...] | None:
        """The keyset key of the row under the cursor."""
        from core.browse import key_of

        page = self.page
        if page is None or not page.rows or not self.grid.row_count:
            return None
        return key_of(page, page.rows[min(self.grid.cursor_row, len(page.rows) - 1)], self.view)

    def action_row_detail(self) -> None:
        """Every column of the row under the cursor; Up/Down move through the view there."""
        from tui.screens.row_detail import RowDetailScreen

        key = self.current_key()
        if key is not None:
            self.app.push_screen(RowDetailScreen(self.courier_app.db_path, self.view, key))

    def action_column_jump(self) -> None:
        """Type part of a column name to move the cursor to it."""
        from tui.screens.column_jump import ColumnJumpScreen

        shown = [self.columns[position] for position in self.order]

        def chosen(column: str | None) -> None:
            if column is not None and column in shown:
                self.grid.move_cursor(column=shown.index(column), animate=False)
                self._render_status()

        self.app.push_screen(ColumnJumpScreen(shown), callback=chosen)

    def action_search(self) -> None:
        """Show only rows whose current column contains a text (a filter, paged by key)."""
        from core.engine import search_view
        from tui.screens.prompt import PromptScreen

        column = self.current_column()
        if column is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self._request(Request("view", view=search_view(self.view, column, text)))
                self.query_one("#filter-bar").display = True

        self.app.push_screen(
            PromptScreen(
                f"Search {column} in {self.table_name}",
                "Contains",
                note="Rows whose value contains this text "
                "(any case; numbers and times as text) are kept, added to the filter; w edits or clears it.",
            ),
            callback=answered,
        )

    def action_profile(self) -> None:
        """Count, NULLs, distinct, min/max, top values and days of the current column."""
        from tui.screens.profile import ProfileScreen

        column = self.current_column()
        if column is not None:
            self.app.push_screen(ProfileScreen(self.courier_app.db_path, self.view, column, rows=self.total))

    def action_sql(self) -> None:
        """A read-only SQL pane, starting with a query of this table."""
        from core.query import starter_query
        from tui.screens.query import QueryScreen

        self.app.push_screen(QueryScreen(self.courier_app.db_path, starter_query(self.table_name)))

    def action_identity(self) -> None:
        """Switch between the table and its ``:resolved`` view (filter and order kept)."""
        self._identity()

    @work(thread=True, exit_on_error=False, group="table-identity", description="Find the resolved view")
    def _identity(self) -> None:
        from core.engine import identity_counterpart

        other = identity_counterpart(self.courier_app.db_path, self.view.table)
        self.app.call_from_thread(self._switch_to, other)

    def _switch_to(self, other: str | None) -> None:
        from core.browse import View

        if other is None:
            self.notify(f"{self.view.table} has no :resolved view (it has no user_id column)", title="Identity")
            return
        view = self.wanted_view
        self._request(Request("view", view=View(other, view.where, view.sort, view.descending)))

    def action_user_rows(self) -> None:
        """This row's user's rows across the source's tables, through the resolved id."""
        from tui.screens.user_rows import open_user_rows

        page = self.page
        if page is None or not page.rows or "_pk" not in self.columns:
            return
        row = page.rows[min(self.grid.cursor_row, len(page.rows) - 1)]
        open_user_rows(self, self.courier_app.db_path, self.view.table, row[self.columns.index("_pk")])

    def action_view_cell(self) -> None:
        """The full value of the current cell."""
        from tui.screens.cell_value import CellValueScreen

        found, value = self.current_value()
        column = self.current_column()
        if not found or column is None:
            return
        key = self._row_key_text()
        title = f"{self.table_name} · {column}" + (f" · key {key}" if key else "")
        self.app.push_screen(CellValueScreen(title, value))

    def action_copy_cell(self) -> None:
        """Copy the current cell's full value."""
        found, value = self.current_value()
        if not found:
            return
        text = "" if value is None else str(value)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {self.current_column()} ({len(text):,} characters)", title="Copied")

    def action_export(self) -> None:
        """Write the current view (filter and order kept) to a CSV file."""
        from tui.screens.export import ExportScreen
        from tui.screens.prompt import PromptScreen

        view = self.wanted_view

        def exported(result: tuple[int, str] | None) -> None:
            if result is not None:
                rows, path = result
                self.notify(f"{rows:,} rows written to {path}", title="Exported")

        def answered(text: str | None) -> None:
            if text is None or not text.strip():
                return
            path = Path(text.strip()).expanduser()
            self.app.push_screen(ExportScreen(self.courier_app.db_path, view, path), callback=exported)

        scope = "the filtered rows" if view.where else "every row"
        self.app.push_screen(
            PromptScreen(
                f"Export {self.table_name} to CSV",
                "File",
                default_export_path(self.table_name),
                note=f"Writes {scope} in the current order; the file appears only when complete.",
            ),
            callback=answered,
        )

    def action_back(self) -> None:
        """Esc leaves the filter field first; otherwise goes back."""
        field = self.query_one("#filter-input", Input)
        if field.has_focus:
            field.value = self.view.where or ""
            self.query_one("#filter-error").display = False
            if not self.view.where:
                self.query_one("#filter-bar").display = False
            self.grid.focus()
            return
        self.app.pop_screen()
