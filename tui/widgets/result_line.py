"""The line under a form's buttons that says what an action found (Preview, Test connection, Discover)."""

from __future__ import annotations

from textual import events
from textual.widgets import Static


class ResultLine(Static):
    """A result that brings all of itself into view whenever it grows.

    At 80×24 the line sits below the fold; scrolling when the text is set shows only its
    first line, because the new height is laid out afterwards. A resize is the moment the
    whole result has its place.
    """

    def on_resize(self, event: events.Resize) -> None:
        if self.display and event.size.height:
            self.scroll_visible(animate=False)
