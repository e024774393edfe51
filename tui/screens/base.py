"""What every Courier screen shares: app settings applied on mount, and its key list for help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

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
        self.app.push_screen(ConfirmScreen(f"Discard your changes to {what}?", "Nothing has been saved.",
                                           yes="Discard", no="Keep editing"), callback=discard)


class ReportsWorkerFailures:
    """Mixin for screens: a worker that fails becomes one notification from the app.

    ``Worker.StateChanged`` does not bubble, so every screen that starts workers
    hands failures to the app's single handler; the screen may also show them inline.
    """

    app: App[object]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            cast("CourierApp", self.app).report_failure(event.worker)


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
