"""A read-only SQL pane over the domain tables and ``:resolved`` views, paged in the table grid.

Table and column names from the catalog are offered while typing (→ accepts);
Up/Down in the field walk this database's recent queries. Each page is one
``core.engine.run_query`` call in a thread worker: read-only, time-limited,
errors as one line under the field.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import Header, Input, Static

from core.query import EXAMPLE_QUERY
from tui.screens.base import ReportsWorkerFailures, apply_app_settings
from tui.screens.table_view import MIN_PAGE_ROWS, PagedTable, cell_text
from tui.widgets.footer import CourierFooter

LAST_WORD = re.compile(r'("[^"]*|[A-Za-z_][A-Za-z0-9_]*)$')


class CatalogSuggester(Suggester):
    """Completes the word being typed with a table (quoted) or column name from the catalog."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tables: list[str] = []
        self.columns: list[str] = []

    def set_catalog(self, catalog: dict[str, list[str]]) -> None:
        self.tables = sorted(catalog)
        self.columns = sorted({column for columns in catalog.values() for column in columns})

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.tables, self.columns)


def complete(value: str, tables: list[str], columns: list[str]) -> str | None:
    """``value`` with its last word completed: ``"Heap:Pa`` → ``"Heap:Pageviews"``, ``coun`` → ``country``."""
    found = LAST_WORD.search(value)
    if not found:
        return None
    word = found.group(1)
    head = value[: found.start(1)]
    if word.startswith('"'):
        for table in tables:
            if table.startswith(word[1:]):
                return f'{head}"{table}"'
        return None
    lowered = word.lower()
    for name in [*columns, *tables]:
        if name.lower().startswith(lowered) and name != word:
            return head + (f'"{name}"' if ":" in name else name)
    return None


class QueryInput(Input):
    """The SQL field; Up and Down walk the recent queries."""

    BINDINGS = [
        Binding("up", "history(1)", "Older query", show=False),
        Binding("down", "history(-1)", "Newer query", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[str] = []
        self.history_index = -1

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.history_index = max(-1, min(len(self.history) - 1, self.history_index + step))
        self.value = "" if self.history_index < 0 else self.history[self.history_index]
        self.cursor_position = len(self.value)


class QueryScreen(ReportsWorkerFailures, Screen[None]):
    """Type a read-only query, Enter runs it; results page in the table grid (PageDown/PageUp).

    Args:
        db_path: The Courier database.
        sql: A query to start with (e.g. a ``SELECT`` of the table the user came from).
    """

    BINDINGS = [
        Binding("ctrl+s,f6", "focus_field", "Edit query", show=False),
        Binding("escape", "back", "Stop / back"),
    ]

    @dataclass
    class Catalogued(Message):
        catalog: dict[str, list[str]]
        recent: list[str]

    @dataclass
    class Answered(Message):
        """A page of results, or one line of error."""

        page: Any
        sql: str
        error: str | None = None

    def __init__(self, db_path: Path, sql: str = "") -> None:
        super().__init__()
        self.db_path = db_path
        self.start_sql = sql
        self.sql = ""
        self.page: Any = None
        self.error: str | None = None
        self.running = False
        self.suggester = CatalogSuggester()
        self._stop = threading.Event()

    @property
    def grid(self) -> PagedTable:
        return self.query_one("#query-grid", PagedTable)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="query-bar"):
            yield Static("SQL", classes="bar-label")
            yield QueryInput(
                self.start_sql,
                id="query-input",
                suggester=self.suggester,
                compact=True,
                placeholder=f"{EXAMPLE_QUERY}  (Enter runs)",
            )
        yield Static("", id="query-error", markup=False)
        yield PagedTable(id="query-grid", cursor_type="cell", zebra_stripes=True)
        yield Static(
            "Read-only: SELECT, WITH and VALUES run; names complete with →; ↑↓ recent queries",
            id="query-status",
            markup=False,
        )
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "SQL (read-only)"
        self.query_one("#query-error").display = False
        apply_app_settings(self)
        self.query_one("#query-input", QueryInput).focus()
        self._catalog()

    @work(thread=True, exit_on_error=False, group="query-catalog", description="Read the catalog")
    def _catalog(self) -> None:
        from core.engine import query_catalog, recent_queries

        self.post_message(self.Catalogued(query_catalog(self.db_path), recent_queries(self.db_path)))

    def on_query_screen_catalogued(self, message: Catalogued) -> None:
        self.suggester.set_catalog(message.catalog)
        self.query_one("#query-input", QueryInput).history = message.recent

    def page_rows(self) -> int:
        """Rows that fit in the grid (less its header line)."""
        height = self.grid.size.height - 1 if self.grid.size.height else 20
        return max(MIN_PAGE_ROWS, height)

    @on(Input.Submitted, "#query-input")
    def _submitted(self, event: Input.Submitted) -> None:
        field = self.query_one("#query-input", QueryInput)
        field.history_index = -1
        self._run(event.value, 0)

    def _run(self, sql: str, offset: int) -> None:
        if self.running:
            return
        self.running = True
        self._stop.clear()
        self.query_one("#query-status", Static).update("Running… Esc stops")
        self._query(sql, offset, self.page_rows())

    @work(thread=True, exit_on_error=False, group="query", description="Run query")
    def _query(self, sql: str, offset: int, limit: int) -> None:
        from core.engine import run_query
        from core.errors import CourierError

        try:
            page = run_query(self.db_path, sql, offset=offset, limit=limit, should_stop=self._stop.is_set)
        except CourierError as error:
            self.post_message(self.Answered(None, sql, str(error)))
            return
        self.post_message(self.Answered(page, sql))

    def on_query_screen_answered(self, message: Answered) -> None:
        self.running = False
        error = self.query_one("#query-error", Static)
        if message.error is not None:
            self.error = message.error
            error.update(message.error)
            error.display = True
            self.query_one("#query-status", Static).update(self.status_text())
            return
        self.error = None
        error.display = False
        first_run = message.sql != self.sql or message.page.offset == 0
        self.sql, self.page = message.sql, message.page
        field = self.query_one("#query-input", QueryInput)
        if first_run and (not field.history or field.history[0] != message.sql.strip()):
            field.history.insert(0, message.sql.strip())
        grid = self.grid
        grid.clear(columns=True)
        for index, name in enumerate(self.page.columns):
            grid.add_column(name, key=f"{index}")
        for index, row in enumerate(self.page.rows):
            grid.add_row(*(cell_text(value) for value in row), key=str(index))
        self.query_one("#query-status", Static).update(self.status_text())
        if first_run and self.page.rows:
            grid.focus()

    def status_text(self) -> str:
        """``rows 1–20 · more: PageDown`` or the error."""
        if self.error:
            return "The query did not run; fix it above (Enter runs again)"
        page = self.page
        if page is None:
            return ""
        if not page.rows:
            return "no rows" if page.offset == 0 else f"no rows after row {page.offset:,}"
        more = " · PageDown for more" if page.has_after else " · end of the result"
        return f"rows {page.offset + 1:,}–{page.offset + len(page.rows):,}{more}"

    @on(PagedTable.PageRequested)
    def _page_requested(self, message: PagedTable.PageRequested) -> None:
        page = self.page
        if page is None or self.running:
            return
        if message.where in ("next", "down") and page.has_after:
            self._run(self.sql, page.offset + len(page.rows))
        elif message.where in ("prev", "up") and page.offset > 0:
            self._run(self.sql, max(0, page.offset - self.page_rows()))
        elif message.where == "first" and page.offset > 0:
            self._run(self.sql, 0)

    def action_focus_field(self) -> None:
        self.query_one("#query-input", QueryInput).focus()

    def action_back(self) -> None:
        """Stop a running query; from the grid go back to the field; otherwise close."""
        if self.running:
            self._stop.set()
            return
        if not self.query_one("#query-input", QueryInput).has_focus:
            self.action_focus_field()
            return
        self.app.pop_screen()
