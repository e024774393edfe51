"""Type part of a column's name to jump to it (a 28-column Heap table is wider than any screen)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.screens.base import apply_app_settings
from tui.widgets.footer import CourierFooter


def matching_columns(columns: list[str], text: str) -> list[str]:
    """Columns whose name contains ``text`` (any case): names starting with it first, then the rest, in order."""
    needle = text.strip().lower()
    if not needle:
        return list(columns)
    starts = [name for name in columns if name.lower().startswith(needle)]
    return starts + [name for name in columns if needle in name.lower() and name not in starts]


class ColumnJumpScreen(ModalScreen[str | None]):
    """A field and the matching columns; Enter jumps to the highlighted one, Esc cancels.

    Args:
        columns: The column names in the order shown.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next match", show=False),
        Binding("up", "move(-1)", "Previous match", show=False),
    ]

    def __init__(self, columns: list[str]) -> None:
        super().__init__()
        self.columns = columns
        self.matches = list(columns)

    def compose(self) -> ComposeResult:
        with Vertical(id="column-jump-dialog", classes="dialog"):
            yield Static("Jump to column", classes="dialog-title")
            yield Input(id="column-jump-input", placeholder="type part of a name", compact=True)
            yield OptionList(*[Option(name) for name in self.columns], id="column-jump-list")
        yield CourierFooter()

    def on_mount(self) -> None:
        apply_app_settings(self)
        self.query_one("#column-jump-input", Input).focus()
        self.query_one("#column-jump-list", OptionList).highlighted = 0 if self.columns else None

    @on(Input.Changed, "#column-jump-input")
    def _changed(self, event: Input.Changed) -> None:
        self.matches = matching_columns(self.columns, event.value)
        options = self.query_one("#column-jump-list", OptionList)
        options.clear_options()
        options.add_options([Option(name) for name in self.matches])
        options.highlighted = 0 if self.matches else None

    def action_move(self, step: int) -> None:
        options = self.query_one("#column-jump-list", OptionList)
        if self.matches:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self.matches) - 1, current + step))

    @on(Input.Submitted, "#column-jump-input")
    def _submitted(self) -> None:
        highlighted = self.query_one("#column-jump-list", OptionList).highlighted
        self.dismiss(self.matches[highlighted] if self.matches and highlighted is not None else None)

    @on(OptionList.OptionSelected, "#column-jump-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.matches[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
