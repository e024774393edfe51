"""The ``?`` screen: every key of the screen it was opened from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tui.screens.base import apply_app_settings, key_help
from tui.widgets.footer import CourierFooter


class HelpScreen(ModalScreen[None]):
    """Lists the keys of one screen, generated from its bindings."""

    BINDINGS = [
        Binding("escape,backspace,question_mark,q,f1", "close", "Close"),
    ]

    def __init__(self, screen: Screen[object], title: str) -> None:
        super().__init__()
        self.rows = key_help(screen)
        self.screen_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(f"Keys: {self.screen_title}", classes="dialog-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                "Tab and Shift+Tab move between fields; Enter opens a list or presses a button. Esc closes this.",
                classes="dialog-note",
            )
        yield CourierFooter()

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        table.add_columns("Key", "Action")
        for keys, description in self.rows:
            table.add_row(keys, description)
        apply_app_settings(self)

    def action_close(self) -> None:
        self.dismiss(None)
