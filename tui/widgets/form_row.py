"""A labelled row of an editor form."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static


def form_row(label: str, *widgets: Widget) -> Horizontal:
    """A form row: the field's label, then its widgets (styled by ``.form-row`` in app.tcss)."""
    return Horizontal(Static(label, classes="field-label"), *widgets, classes="form-row")
