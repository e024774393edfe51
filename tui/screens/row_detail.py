"""One row of a domain table, every column on its own lines: name, then the full value wrapped.

Up and Down move to the previous and next row of the same view (filter and order
kept), each a single ``core.engine.row_detail`` call in a thread worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from tui.screens.base import ReportsWorkerFailures
from tui.screens.cell_value import full_text
from tui.screens.table_view import display_order
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.browse import View
    from core.engine import RowDetail

NAME_WIDTH = 22
"""Widest column name shown in full; longer names wrap."""


def row_lines(columns: list[str], values: tuple[Any, ...]) -> Table:
    """The row as a two-column grid: names (bold) and full values, wrapped; NULL dim and italic."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(
        style="bold", width=min(NAME_WIDTH, max((len(name) for name in columns), default=1)), overflow="fold"
    )
    grid.add_column(ratio=1, overflow="fold")
    for position in display_order(columns):
        value = values[position]
        text = Text("NULL", style="dim italic") if value is None else Text(full_text(value))
        grid.add_row(columns[position], text)
    return grid


def row_as_text(columns: list[str], values: tuple[Any, ...]) -> str:
    """The row as ``name: value`` lines for the clipboard (NULL as ``NULL``, values in full)."""
    return "\n".join(f"{columns[p]}: {'NULL' if values[p] is None else values[p]}" for p in display_order(columns))


class RowDetailScreen(ReportsWorkerFailures, Screen[None]):
    """Every column of one row; Up/Down previous/next row, ``c`` copies the row, ``u`` the user's rows.

    Args:
        db_path: The Courier database.
        view: The table view the row belongs to (its filter and order are kept).
        key: The row's keyset key in that view.
    """

    BINDINGS = [
        Binding("down,j", "move(1)", "Next row", key_display="↓"),
        Binding("up,k", "move(-1)", "Previous row", key_display="↑"),
        Binding("pagedown", "scroll(1)", "Scroll down", show=False),
        Binding("pageup", "scroll(-1)", "Scroll up", show=False),
        Binding("c", "copy", "Copy row"),
        Binding("u", "user_rows", "User's rows"),
        Binding("escape,q,enter", "close", "Back"),
    ]

    AUTO_FOCUS = None

    @dataclass
    class RowLoaded(Message):
        """``core.engine.row_detail`` answered (``None``: no row that way)."""

        detail: Any
        move: int
        error: str | None = None

    def __init__(self, db_path: Path, view: View, key: tuple[Any, ...]) -> None:
        super().__init__()
        self.db_path = db_path
        self.view = view
        self.key = key
        self.detail: RowDetail | None = None
        self.loading = False
        # Up/Down pressed while a row is being read, in order: a key typed ahead is never lost.
        self.typed_ahead: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="row-scroll"):
            yield Static("Reading the row…", id="row-fields")
        yield Static("", id="row-status", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = self.view.table
        # Up/Down belong to the screen (previous/next row), so the scroll area never takes focus.
        self.query_one("#row-scroll", VerticalScroll).can_focus = False
        self._load(self.key, 0)

    @work(thread=True, exit_on_error=False, group="row-detail", description="Read row")
    def _load(self, key: tuple[Any, ...], move: int) -> None:
        from core.engine import row_detail
        from core.errors import CourierError

        try:
            detail = row_detail(self.db_path, self.view, key, move)
        except CourierError as error:
            self.post_message(self.RowLoaded(None, move, str(error)))
            return
        self.post_message(self.RowLoaded(detail, move))

    def on_row_detail_screen_row_loaded(self, message: RowLoaded) -> None:
        self.loading = False
        status = self.query_one("#row-status", Static)
        if message.error is not None or message.detail is None:
            # Moves typed ahead were meant from a row that did not arrive.
            self.typed_ahead.clear()
        if message.error is not None:
            status.update(message.error)
            return
        if message.detail is None:
            status.update("No more rows that way" if message.move else "The row is gone (reloaded?)")
            return
        detail = message.detail
        self.detail = detail
        self.key = detail.key
        self.query_one("#row-fields", Static).update(row_lines(detail.columns, detail.values))
        self.query_one("#row-scroll", VerticalScroll).scroll_home(animate=False)
        status.update(self.status_text())
        if self.typed_ahead:
            self.action_move(self.typed_ahead.pop(0))

    def status_text(self) -> str:
        """``key 42 · 14 columns · ↑ previous ↓ next`` (arrows only where a row exists)."""
        detail = self.detail
        if detail is None:
            return ""
        key = detail.values[detail.columns.index("_pk")] if "_pk" in detail.columns else detail.key[-1]
        moves = [word for word, there in (("↑ previous", detail.has_before), ("↓ next", detail.has_after)) if there]
        where = f" · WHERE {self.view.where}" if self.view.where else ""
        return f"key {key} · {len(detail.columns)} columns{where}" + (f" · {' '.join(moves)}" if moves else "")

    def action_move(self, step: int) -> None:
        """The previous (-1) or next (1) row of the view; pressed while a row is read, it waits its turn."""
        detail = self.detail
        if detail is None or self.loading:
            self.typed_ahead.append(step)
            return
        if (step > 0 and not detail.has_after) or (step < 0 and not detail.has_before):
            self.query_one("#row-status", Static).update(self.status_text() + " · no more rows that way")
            return
        self.loading = True
        self._load(detail.key, step)

    def action_scroll(self, direction: int) -> None:
        """Scroll a row too long for the screen (Up/Down move between rows)."""
        scroll = self.query_one("#row-scroll", VerticalScroll)
        if direction > 0:
            scroll.scroll_page_down(animate=False)
        else:
            scroll.scroll_page_up(animate=False)

    def action_copy(self) -> None:
        """Copy the row as ``name: value`` lines."""
        if self.detail is None:
            return
        self.app.copy_to_clipboard(row_as_text(self.detail.columns, self.detail.values))
        self.notify(f"Copied {len(self.detail.columns)} columns", title="Copied")

    def action_user_rows(self) -> None:
        """This user's rows across the source's tables (through the resolved id)."""
        from tui.screens.user_rows import open_user_rows

        detail = self.detail
        if detail is None or "_pk" not in detail.columns:
            return
        open_user_rows(self, self.db_path, self.view.table, detail.values[detail.columns.index("_pk")])

    def action_close(self) -> None:
        self.dismiss(None)
