"""What every Courier screen shares: app settings applied on mount, and its key list for help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.app import CourierApp


class AppAccess:
    """Mixin for screens: the running app, typed as the Courier app."""

    app: App[object]

    @property
    def courier_app(self) -> CourierApp:
        """The app that shows this screen."""
        return cast("CourierApp", self.app)


class ConfirmsDiscard:
    """Mixin for editors: leaving with unsaved changes asks first."""

    app: App[object]
    _ready: bool

    @property
    def dirty(self) -> bool:
        """Whether the editor holds unsaved changes (each editor says how it knows)."""
        raise NotImplementedError

    def leave(self, what: str, result: object = None) -> None:
        """Dismiss the editor, asking before ``what`` (e.g. ``the new feed``) loses its changes."""
        from tui.screens.confirm import ConfirmScreen

        def discard(confirmed: bool | None = True) -> None:
            if confirmed:
                self._ready = False
                cast(Screen[object], self).dismiss(result if not self.dirty else None)

        if not self.dirty:
            discard()
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Discard your changes to {what}?", "Nothing has been saved.", yes="Discard", no="Keep editing"
            ),
            callback=discard,
        )


class ReportsWorkerFailures:
    """Mixin for screens: a worker that fails becomes one notification from the app.

    ``Worker.StateChanged`` does not bubble, so every screen that starts workers
    hands failures to the app's single handler; the screen may also show them inline.
    """

    app: App[object]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            cast("CourierApp", self.app).report_failure(event.worker)


class ExplainsDisabledKeys:
    """Mixin for screens: a key whose action cannot run now says why instead of doing nothing.

    Textual skips a binding whose ``check_action`` is falsy (dimmed or hidden in the footer) and the
    key falls through silently. Keys reach the screen's ``on_key`` before the bindings are checked,
    and only when no focused widget took them (an input keeps the letters it types), so a disabled
    key is caught here and answered with ``why_disabled``.
    """

    def why_disabled(self, action: str) -> str | None:
        """One line saying why ``action`` cannot run now (and what to do), or ``None`` to stay quiet."""
        return None

    def explain_disabled(self, reason: str) -> None:
        """Show the reason; by default a notification (editors show it where their results go)."""
        cast(Screen[object], self).notify(reason, severity="warning", title="Not now")

    def on_key(self, event: events.Key) -> None:
        screen = cast(Screen[object], self)
        node: DOMNode | None = screen.focused
        while node is not None and node is not screen:
            if any(binding.key == event.key for binding in declared_bindings(type(node))):
                return  # the focused widget's own key (space on a checkbox, enter on a table)
            node = node.parent
        for binding in declared_bindings(type(screen)):
            if binding.key != event.key:
                continue
            action = binding.action.split("(")[0]
            if screen.check_action(action, ()):
                return
            reason = self.why_disabled(action)
            if reason:
                event.stop()
                event.prevent_default()
                self.explain_disabled(reason)
            return


def apply_app_settings(screen: Screen[Any]) -> None:
    """Apply app-wide widget settings (cursor blink, off in snapshots) to a screen's inputs."""
    app = cast("CourierApp", screen.app)
    if not getattr(app, "cursor_blink", True):
        for widget in screen.query(Input):
            widget.cursor_blink = False
        for area in screen.query(TextArea):
            area.cursor_blink = False


def declared_bindings(node: type[DOMNode]) -> list[Binding]:
    """Every binding a class declares in ``BINDINGS``, its bases' included, most derived first."""
    bindings: list[Binding] = []
    for cls in node.__mro__:
        if "BINDINGS" in cls.__dict__:
            bindings.extend(Binding.make_bindings(cls.__dict__["BINDINGS"]))
    return bindings


def key_help(screen: Screen[object]) -> list[tuple[str, str]]:
    """(keys, description) for every described binding of a screen and of the app.

    Bindings with the same action are joined (``ctrl+s / f2``), so a chord and
    its plain-key alternative show on one line. Generated from ``BINDINGS``, so
    the help cannot drift from what the keys do.
    """
    app = screen.app
    rows: dict[tuple[str, str], list[str]] = {}
    sources: list[type[DOMNode]] = [type(screen), type(app)]
    for source in sources:
        for binding in declared_bindings(source):
            if not binding.description or binding.system:
                continue
            if source is type(screen) and not _enabled(screen, binding.action):
                continue
            action = binding.action.removeprefix("app.")
            keys = rows.setdefault((action, binding.description), [])
            display = app.get_key_display(binding)
            if display not in keys:
                keys.append(display)
    return [(" / ".join(keys), description) for (_, description), keys in rows.items()]


def _enabled(screen: Screen[object], action: str) -> bool:
    name = action.split("(")[0]
    return screen.check_action(name, ()) is not False
