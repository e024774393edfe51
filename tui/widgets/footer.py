"""The footer every screen uses: help and the way out first, then the screen's own keys.

Textual's footer lists the focused widget's keys, then the screen's, then the app's, so at
80 columns ``?`` Help and ``q`` Quit were the ones cut off. A newcomer needs those two most.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, TextArea
from textual.widgets._footer import FooterKey

HELP_ACTIONS = ("help", "app.help")
LEAVE_ACTIONS = ("quit", "app.quit", "back", "cancel", "close", "app.go_home")
"""Actions that leave the screen (quit on the home screen, back or cancel elsewhere)."""


def footer_rank(binding: Binding) -> int:
    """0 for help, 1 for the way out, 2 for everything else (kept in the screen's order)."""
    if binding.action in HELP_ACTIONS:
        return 0
    return 1 if binding.action in LEAVE_ACTIONS else 2


KEY_PADDING = 3
"""Cells a footer key takes besides its key and description (Textual's FooterKey: `` key description ``)."""


class CourierFooterKey(FooterKey):
    """A footer key that starts as Courier's footer is, never compact.

    Textual's key starts compact and is data-bound to its footer's ``compact``: each key mounted
    restyled itself twice (compact, then not), a fifth of an app's start-up CPU. Courier's footer is
    never compact, so the key starts as it stays.
    """

    compact = reactive(False)


class CourierFooter(Footer):
    """A footer: ``?`` Help and ``q`` Quit (or ``esc`` Back) first, then the screen's actions.

    The command palette key is left to the help screen (``?``) to leave room for actions.
    When a text field has focus ``?`` would be typed, so help shows as ``f1`` there.
    Keys that do not fit the width are left out whole (never cut in the middle of a word);
    every key stays in the help screen.
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._composed_width = 0

    _composed: tuple[tuple[str, str, str, str, bool, str], ...] | None = None
    """The keys the footer shows now, so an unchanged set is not composed again."""

    def _keys(self) -> tuple[tuple[str, str, str, str, bool, str], ...]:
        """(key, display, description, action, enabled, tooltip) of each key that fits, in footer order."""
        seen: set[str] = set()
        shown: list[tuple[Binding, bool, str]] = []
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                shown.append((binding, enabled, tooltip))
        shown.sort(key=lambda item: footer_rank(item[0]))
        typing = isinstance(self.screen.focused, (Input, TextArea))
        room = self.size.width or self.app.size.width
        fitted: list[tuple[str, str, str, str, bool, str]] = []
        for binding, enabled, tooltip in shown:
            display = self.app.get_key_display(binding)
            if binding.action in HELP_ACTIONS and typing:
                display = "f1"
            width = cell_len(display) + cell_len(binding.description) + KEY_PADDING
            if fitted and width > room:
                continue  # a later, shorter key may still fit
            room -= width
            fitted.append((binding.key, display, binding.description, binding.action, enabled, tooltip))
        return tuple(fitted)

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Every focus move updates the bindings; recomposing an unchanged footer mounts a widget
        # per key and restyles it, which was a third of a form's CPU time per key press.
        if self._bindings_ready and self.is_attached and screen is self.screen and self._keys() == self._composed:
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        # Several binding changes (and a resize) before one refresh each ask for a recompose; only the first
        # that finds other keys to show does one.
        if self._composed is not None and self.is_attached and self._keys() == self._composed:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._composed_width = self.size.width or self.app.size.width
        keys = self._composed = self._keys()
        self.styles.grid_size_columns = len(keys)
        for key, display, description, action, enabled, tooltip in keys:
            yield CourierFooterKey(key, display, description, action, disabled=not enabled, tooltip=tooltip)

    def on_resize(self, event: events.Resize) -> None:
        # Which keys fit depends on the width: a terminal resized needs another choice.
        if event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
