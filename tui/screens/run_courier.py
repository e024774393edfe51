"""The Run Courier dialog: load data from a specific day, a time period, or all data.

A heap-connect courier is driven by Heap's manifests and its tables' cursors, not by
file dates, so its dialog offers what really happens instead: load every complete dump
newer than the cursors, or rebuild one table from its latest full dump.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioSet, Select, Static

from core import engine
from core.models import Courier, Project
from tui.screens.base import AppAccess, apply_app_settings
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter
from tui.widgets.toggles import RadioChoice

if TYPE_CHECKING:
    from core.runs import RunWindow

CHOICES = (
    ("day", "Load data from a specific day"),
    ("period", "Load data from a specific time period"),
    ("all", "Load all data"),
)
HEAP_CHOICES = (
    ("new", "Load every complete dump newer than the cursors"),
    ("rebuild", "Rebuild a table from its latest full dump"),
)
HEAP_NOTE = (
    "Heap Connect: Heap's manifests and each table's cursor decide what loads, in dump order; file dates do not apply."
)


def sample_run_note(courier: Courier, project: Project) -> str:
    """What to expect when the load operations cannot load yet (step 3, get sample files)."""
    if not courier.load_operations:
        return "Load operations are {}: this run lands sample files and loads nothing."
    unknown = [feed_id for feed_id in courier.load_operations if feed_id not in project.feeds]
    if unknown:
        names = ", ".join(f'"{feed_id}"' for feed_id in unknown)
        return (
            "The load operations name feeds that do not exist yet, so this run lands the sample files and "
            f"then fails with: Cannot find required feeds: {names}. That is expected while getting "
            "sample files."
        )
    return ""


class RunCourierScreen(AppAccess, ModalScreen["RunWindow | None"]):
    """Asks which data to load; dismisses with the run window, or ``None`` when cancelled.

    Args:
        courier: The courier to run.
        project: The stored configuration (to explain placeholder feeds).
    """

    BINDINGS = [
        Binding("f2,ctrl+s", "run", "Run"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, courier: Courier, project: Project) -> None:
        super().__init__()
        self.courier = courier
        self.note = sample_run_note(courier, project)
        self.heap = courier.layout == "heap-connect"
        self.tables = engine.rebuild_tables(project, courier) if self.heap else []

    def compose(self) -> ComposeResult:
        with Vertical(id="run-dialog", classes="dialog form"):
            yield Static(f"Run courier {self.courier.name}", classes="dialog-title", markup=False)
            if self.heap:
                with RadioSet(id="run-window"):
                    for value, label in HEAP_CHOICES:
                        yield RadioChoice(
                            label,
                            id=f"window-{value}",
                            value=value == "new",
                            disabled=value == "rebuild" and not self.tables,
                        )
                with Horizontal(classes="form-row", id="run-table-row"):
                    yield Static("Table", classes="field-label")
                    yield Select[str](
                        [(name, name) for name in self.tables],
                        id="run-table",
                        compact=True,
                        allow_blank=not self.tables,
                        prompt="No table loaded yet",
                    )
                yield Static(HEAP_NOTE, classes="dialog-note", markup=False)
            else:
                with RadioSet(id="run-window"):
                    for value, label in CHOICES:
                        yield RadioChoice(label, id=f"window-{value}", value=value == "day")
            with Horizontal(classes="form-row", id="run-day-row"):
                yield Static("Day", classes="field-label")
                yield Input(id="run-day", placeholder="YYYY-MM-DD", compact=True)
            with Horizontal(classes="form-row", id="run-start-row"):
                yield Static("From (included)", classes="field-label")
                yield Input(id="run-start", placeholder="YYYY-MM-DD", compact=True)
            with Horizontal(classes="form-row", id="run-end-row"):
                yield Static("To (excluded)", classes="field-label")
                yield Input(id="run-end", placeholder="YYYY-MM-DD", compact=True)
            yield ProblemList(id="run-problems")
            if self.note:
                yield Static(self.note, classes="dialog-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", id="run-start-button", variant="primary", compact=True)
                yield Button("Cancel", id="run-cancel", compact=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        today = self.courier_app.clock().date()
        self.query_one("#run-day", Input).value = today.isoformat()
        self.query_one("#run-start", Input).value = (today - timedelta(days=7)).isoformat()
        self.query_one("#run-end", Input).value = today.isoformat()
        self._show_fields(self.choice())
        apply_app_settings(self)
        self.query_one("#run-window", RadioSet).focus()

    def choice(self) -> str:
        """``day``, ``period`` or ``all``; for a heap-connect courier ``new`` or ``rebuild``."""
        first = "new" if self.heap else "day"
        pressed = self.query_one("#run-window", RadioSet).pressed_button
        return (pressed.id or f"window-{first}").removeprefix("window-") if pressed else first

    def _show_fields(self, choice: str) -> None:
        if self.heap:
            self.query_one("#run-table-row").display = choice == "rebuild"
            for row in ("#run-day-row", "#run-start-row", "#run-end-row"):
                self.query_one(row).display = False
            self.query_one("#run-problems", ProblemList).show([], [])
            return
        self.query_one("#run-day-row").display = choice == "day"
        self.query_one("#run-start-row").display = choice == "period"
        self.query_one("#run-end-row").display = choice == "period"
        self.query_one("#run-problems", ProblemList).show([], [])

    @on(RadioSet.Changed)
    def _choice_changed(self) -> None:
        self._show_fields(self.choice())

    def window(self) -> RunWindow | str:
        """The window the fields describe, or one line saying what is wrong."""
        from core.errors import CourierError
        from core.runs import RunWindow

        choice = self.choice()
        if choice == "new":
            return RunWindow.new_dumps()
        if choice == "rebuild":
            table = self.query_one("#run-table", Select).value
            if not isinstance(table, str):
                return "Table: choose the table to rebuild"
            return RunWindow.rebuild(table)
        if choice == "all":
            return RunWindow.all()
        days: list[date] = []
        for widget_id, label in (
            (("run-day", "Day"),) if choice == "day" else (("run-start", "From"), ("run-end", "To"))
        ):
            text = self.query_one(f"#{widget_id}", Input).value.strip()
            try:
                days.append(date.fromisoformat(text))
            except ValueError:
                return f'{label}: "{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25'
        if choice == "day":
            return RunWindow.day(days[0])
        try:
            return RunWindow.period(days[0], days[1])
        except CourierError as error:
            return str(error)

    def action_run(self) -> None:
        window = self.window()
        if isinstance(window, str):
            self.query_one("#run-problems", ProblemList).show([window], [])
            return
        self.dismiss(window)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#run-start-button")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#run-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
