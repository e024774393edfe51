"""What every Courier screen shares: app settings applied on mount, its key list for help, and editors' forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual._time import get_time  # the clock of Message.time (textual is pinned)
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from core.problems import PathPart
    from tui.app import CourierApp
    from tui.forms import FormCheck
    from tui.widgets import ProblemList


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


class SavesForm:
    """Mixin for editors: one way to show a form's problems, refuse a save, focus the first problem and
    show a result.

    Every editor behaves the same through it:

    - its problems are routed to the ``ProblemList`` under their field by one method, ``show_problems``;
    - errors stay hidden on a field the user has not touched yet (warnings show at once), unless
      ``show_all`` is set: editing a stored object, or after a save was tried;
    - a save with errors (``refuse_save``) shows every problem, says which is first (naming its field)
      and puts the cursor on it, with its problems scrolled into view;
    - results (``show_result``) go to the editor's result line, in view at 80×24, or to a notification.

    An editor lists its fields in screen order in ``FORM_FIELDS``, says which widget each one is in
    ``FIELD_WIDGETS`` (where a refused save puts the cursor, and whose change touches the field),
    implements ``check_form`` (the check saving would make) and may add to ``form_checked``, and calls
    ``begin_editing`` once its fields are filled.
    """

    app: App[object]
    _ready: bool

    FORM_FIELDS: ClassVar[tuple[str, ...]] = ()
    """The form's field names in screen order; a problem for any other name is shown under ``other``."""
    FIELD_WIDGETS: ClassVar[dict[str, str]] = {}
    """Field name → selector of its widget (a field may have none: its problems are shown, not focused)."""
    PROBLEMS_ID: ClassVar[str] = "{}-problems"
    """The id of a field's ``ProblemList``, ``{}`` standing for the field name (``other`` included)."""
    RESULT_ID: ClassVar[str | None] = None
    """The id of the editor's result line, or ``None``: results become notifications."""
    PROBLEM_ALIASES: ClassVar[Mapping[str, str]] = {}
    """Document keys whose problems show under another field (``run-after-offset`` under ``run-after``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check: FormCheck = _empty_check()
        self.touched: set[str] = set()
        """Fields the user has changed: only these show their errors until a save is tried."""
        self.show_all = False
        """Show every field's errors (a stored object being edited, or a save was tried)."""
        self._ready = False
        self._editing_since = float("inf")

    def begin_editing(self) -> None:
        """The fields are filled (end of ``on_mount``): changes from now on are the user's."""
        self._editing_since = get_time()
        self._ready = True

    def by_user(self, event: Message) -> bool:
        """Whether a change message comes from the user, not from filling the fields on mount (those are
        handled only after ``on_mount`` returns, so ``_ready`` alone cannot tell them apart)."""
        return self._ready and event.time > self._editing_since

    def check_form(self) -> FormCheck:
        """The check saving would make of the fields as they are now (each editor says how)."""
        raise NotImplementedError

    def form_checked(self, check: FormCheck) -> None:
        """Called after every check, for what else an editor updates from it (e.g. its Save button)."""

    def validate_form(self) -> FormCheck:
        """Check the form as saving would, and show its problems under their fields."""
        self.check = self.check_form()
        self.show_problems(self.check)
        self.form_checked(self.check)
        return self.check

    def show_problems(self, check: FormCheck) -> None:
        """Put each problem in the ``ProblemList`` of its field: the one place problems are routed.

        Errors of a field the user has not touched are held back until ``show_all``; warnings and
        ``other`` problems always show. A problem for a name that is not a form field goes under
        ``other``, prefixed with that name, so nothing is dropped.
        """
        fields = (*self.FORM_FIELDS, "other")
        errors: dict[str, list[str]] = {name: [] for name in fields}
        warnings: dict[str, list[str]] = {name: [] for name in fields}
        for found, shown in ((check.errors, errors), (check.warnings, warnings)):
            for name, problems in found.items():
                if name in shown:
                    shown[name].extend(problems)
                else:
                    shown["other"].extend(f"{name}: {problem}" for problem in problems)
        for name in fields:
            visible = self.show_all or name == "other" or name in self.touched
            self.problem_list(name).show(errors[name] if visible else [], warnings[name])

    def problem_list(self, field_name: str) -> ProblemList:
        """The ``ProblemList`` under a field (``other``: the one for problems of no field)."""
        from tui.widgets import ProblemList

        return self._screen.query_one(f"#{self.PROBLEMS_ID.format(field_name)}", ProblemList)

    def touch(self, *field_names: str, cause: Message | None = None) -> None:
        """The user changed these fields: their errors show from now on (not when ``cause`` is a change
        made while the fields were filled)."""
        if cause is None or self.by_user(cause):
            self.touched.update(field_names)

    def touch_widget(self, widget: DOMNode | None, cause: Message | None = None) -> None:
        """The user changed ``widget``: the field it belongs to (``FIELD_WIDGETS``) shows its errors."""
        if widget is not None and widget.id:
            names = [name for name, selector in self.FIELD_WIDGETS.items() if selector == f"#{widget.id}"]
            self.touch(*names, cause=cause)

    def refuse_save(self, verb: str = "saved") -> bool:
        """``True`` when the form cannot be saved, after showing every problem, saying which comes first
        and focusing it; ``False`` (and ``self.check`` holds the document) when it can."""
        self.show_all = True
        check = self.validate_form()
        if check.ok and check.document is not None:
            return False
        reason = check.refusal(self.FORM_FIELDS) if not check.ok else "the form is not complete"
        # The cursor first, then the reason: an inline reason is scrolled into view last, so both show.
        self.focus_first_problem(check)
        self.show_refusal(verb, reason)
        return True

    def document_root(self) -> tuple[PathPart, ...]:
        """Where the object being saved sits in a project document, e.g. ``("feeds", "df-users01")``: the root
        the engine's problems about it are routed from (each editor says how)."""
        raise NotImplementedError

    def refused_by_engine(self, event: Worker.StateChanged, verb: str = "saved") -> bool:
        """``True`` when ``event`` is a save (a ``config`` worker) the engine refused with structured problems,
        after showing them under their fields as a refused save shows the form's own, the cursor on the first.

        The form's check cannot see everything saving does: a retype the stored rows refuse (``core.retype``),
        or a domain table another process took meanwhile (``core.project``). Their ``ConfigError.problems``
        carry paths, routed here by the same rule as the form's own (``tui.forms.route``), never by text.
        ``False`` (nothing shown) for any other event or error.
        """
        from core.errors import ConfigError
        from tui.forms import route

        error = event.worker.error
        if event.worker.group != "config" or event.state != WorkerState.ERROR:
            return False
        if not isinstance(error, ConfigError) or not error.problems:
            return False
        check = replace(self.check, errors={}, labels={})
        for problem in error.problems:
            routed = route(problem, self.document_root(), self.FORM_FIELDS, aliases=self.PROBLEM_ALIASES)
            check.add("error", routed.field, routed.message, routed.label)
        self.show_all = True
        self.show_problems(check)
        self.focus_first_problem(check)
        self.show_refusal(verb, check.refusal(self.FORM_FIELDS))
        return True

    def show_refusal(self, verb: str, reason: str) -> None:
        """Say why nothing was ``verb`` (a notification titled ``Not saved``; an editor may show it inline)."""
        self.app.notify(reason, severity="error", title=f"Not {verb}")

    def focus_first_problem(self, check: FormCheck) -> None:
        """Put the cursor on the first field (in screen order) with an error, its problems in view."""
        for field_name in self.FORM_FIELDS:
            if not check.errors.get(field_name):
                continue
            target = self.problem_target(field_name)
            if target is None:
                continue
            target.focus()
            # The field's problems sit under it: bring them into view with the cursor.
            self._screen.call_after_refresh(self.problem_list(field_name).scroll_visible)
            return

    def problem_target(self, field_name: str) -> Widget | None:
        """The widget a field's problem focuses (``None``: the field has no widget to focus)."""
        selector = self.FIELD_WIDGETS.get(field_name)
        return self._screen.query_one(selector) if selector else None

    def show_result(self, text: str, *, error: bool = False) -> None:
        """Show the outcome of an action on the result line, scrolled into view (at 80×24 it sits below the
        fold); an editor without one notifies. Empty text hides the line."""
        if self.RESULT_ID is None:
            if text:
                self.app.notify(text, severity="error" if error else "information")
            return
        result = self._screen.query_one(f"#{self.RESULT_ID}", Static)
        result.update(text)
        result.set_class(error, "-error")
        result.display = bool(text)
        if text:
            # After the layout gives the newly shown line its place.
            self._screen.call_after_refresh(result.scroll_visible)

    def announce_saved(self, what: str, warnings: Sequence[object] = ()) -> None:
        """Notify that ``what`` (e.g. ``courier "Heap"``) was saved, and with how many warnings."""
        notes = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})" if warnings else ""
        self.app.notify(f"Saved {what}{notes}", title="Saved", severity="warning" if warnings else "information")

    @property
    def _screen(self) -> Screen[object]:
        return cast(Screen[object], self)


def _empty_check() -> FormCheck:
    from tui.forms import FormCheck

    return FormCheck()


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
