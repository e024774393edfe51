"""Pick a field's type from a list: a stray ``t`` in the feed editor never changes a type by itself."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from core.models import FEED_TYPES
from tui.widgets.footer import CourierFooter


class TypePickerScreen(ModalScreen["str | None"]):
    """Chooses a field's declared type; dismisses with the type, or ``None`` (Esc) to leave it as it was.

    Args:
        field_name: The field (for the title).
        current: Its type now, highlighted first.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, field_name: str, current: str) -> None:
        super().__init__()
        self.field_name = field_name
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="type-dialog", classes="dialog"):
            yield Static(f"Type of {self.field_name} (now {self.current})", classes="dialog-title", markup=False)
            yield OptionList(*[Option(kind, id=kind) for kind in FEED_TYPES], id="type-options")
            yield Static(
                "Enter chooses, Esc leaves it as it was. A changed type converts the stored rows when "
                "the feed is saved.",
                classes="dialog-note",
                markup=False,
            )
        yield CourierFooter()

    def on_mount(self) -> None:
        options = self.query_one("#type-options", OptionList)
        if self.current in FEED_TYPES:
            options.highlighted = FEED_TYPES.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected, "#type-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
