"""A one-line question: a key to jump to, a file to export to."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.screens.base import apply_app_settings
from tui.widgets.footer import CourierFooter


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; dismisses with it (Enter), or ``None`` (Esc).

    Args:
        title: The question.
        label: The field's label.
        value: The text the field starts with.
        note: A line of help under the field.
        placeholder: Shown while the field is empty.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, label: str, value: str = "", *, note: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.label = label
        self.value = value
        self.note = note
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog form"):
            yield Static(self.prompt_title, classes="dialog-title", markup=False)
            with Horizontal(classes="form-row"):
                yield Static(self.label, classes="field-label")
                yield Input(self.value, id="prompt-input", placeholder=self.placeholder, compact=True)
            if self.note:
                yield Static(self.note, classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        apply_app_settings(self)
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
