"""The full value of one table cell, scrollable (long JSON, URLs, user agents)."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.footer import CourierFooter


def quoted_if_unclear(text: str) -> str:
    """``text``, or ``'text'`` quoted as SQL does when plain it could be mistaken for another value.

    Empty text, text with leading or trailing spaces, and the word NULL would otherwise look
    like nothing, like each other or like a missing value (shown dim and italic as NULL).
    """
    if text == "" or text != text.strip() or text.strip().upper() == "NULL":
        return "'" + text.replace("'", "''") + "'"
    return text


def full_text(value: Any) -> str:
    """The whole value as text; JSON objects and arrays are indented; unclear text is quoted."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"{len(value):,} bytes: {value.hex()}"
    text = str(value)
    if isinstance(value, str) and quoted_if_unclear(text) != text:
        return quoted_if_unclear(text)
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and len(stripped) < 1_000_000:
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text


class CellValueScreen(ModalScreen[None]):
    """Shows one cell in full; arrows and PageUp/PageDown scroll, ``c`` copies, Esc closes.

    Args:
        title: What the value is, e.g. ``Heap:Users · email · row key 42``.
        value: The cell's value as stored.
    """

    BINDINGS = [
        Binding("c", "copy", "Copy"),
        Binding("escape,q,v,enter", "close", "Close"),
    ]

    def __init__(self, title: str, value: Any) -> None:
        super().__init__()
        self.value_title = title
        self.value = value
        self.text = full_text(value)

    def compose(self) -> ComposeResult:
        with Vertical(id="cell-dialog", classes="dialog"):
            yield Static(self.value_title, classes="dialog-title", markup=False)
            with VerticalScroll(id="cell-scroll"):
                yield Static(self.text, id="cell-value", markup=False)
            yield Static(f"{len(self.text):,} characters · c copies · Esc closes", classes="dialog-note")
        yield CourierFooter()

    def on_mount(self) -> None:
        self.query_one("#cell-scroll").focus()

    def action_copy(self) -> None:
        """Copy the raw value (not the indented one)."""
        self.app.copy_to_clipboard("" if self.value is None else str(self.value))
        self.notify(f"Copied {len(str(self.value or '')):,} characters", title="Copied")

    def action_close(self) -> None:
        self.dismiss(None)
