"""Step 3, get sample files: a courier's landed files newest first, a run to land more, and a file's rows."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Static

from core import engine
from core.landing import LandedFile
from core.models import Courier, Project
from core.vocab import RunStatus
from tui.messages import RunFinished, RunStarted, SampleFileRead
from tui.output import size_text
from tui.overview import format_time
from tui.screens.base import AppAccess, ExplainsDisabledKeys, ReportsWorkerFailures, apply_app_settings
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter
from tui.widgets.form_row import form_row

if TYPE_CHECKING:
    from tui.app import CourierApp

CELL_WIDTH = 40
"""Longest cell text in the rows view; longer values end in …."""


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in … when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def middle_shorten(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (file names keep their ends)."""
    if len(text) <= width:
        return text
    tail = max(1, min(15, width // 2 + 3))  # enough for a date and the extension: 2026-11-25.avro
    return text[: width - 1 - tail] + "…" + text[-tail:]


def file_label(landed: object) -> str:
    """A landed file's short name: ``sync_1004 part 00001`` for a Heap part (its file name is a
    uuid shared by every part), else the file name."""
    dump_id, part = getattr(landed, "dump_id", None), getattr(landed, "part", None)
    if dump_id is not None:
        return f"sync_{dump_id} part {part or 0:05d}"
    return str(getattr(landed, "name", ""))


def landed_time(landed_at: str) -> str:
    """``2026-11-25 17:06`` (UTC) for a landing time."""
    return format_time(landed_at).removesuffix(" UTC")


def sample_run_expectation(courier: Courier, project: Project) -> tuple[str, bool]:
    """What getting sample files will do, and whether a failed run is expected.

    Amperity's step 3: with ``{}`` the run lands files and loads nothing; with a
    feed ID that is not a feed yet (``df-xxxxxx``) it lands them, then fails.
    """
    lands = (
        "Heap Connect: lands the first part of every table of the newest dump, whatever the day."
        if courier.layout == "heap-connect"
        else "Lands the files the entities list matches for the day."
    )
    operations = courier.load_operations
    if not operations:
        return f"{lands} The load operations are {{}}, so nothing is loaded.", False
    unknown = [feed_id for feed_id in operations if feed_id not in project.feeds]
    if unknown:
        names = ", ".join(f'"{feed_id}"' for feed_id in unknown)
        return (
            f"{lands}\nThe load operations are not {{}}: they name {', '.join(unknown)}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not a feed yet. So the run lands the files, then "
            "fails with:\n  Error running load-operations task\n"
            f"  Cannot find required feeds: {names}\nThat is expected: the files are still landed "
            "and listed here, ready for new feeds."
        ), True
    drafts = [feed_id for feed_id in operations if project.feeds[feed_id].status != "active"]
    if drafts:
        return (
            f"{lands}\nThe load operations name draft feeds ({', '.join(drafts)}): the run fails until they "
            "are activated, and may land nothing."
        ), True
    return (f"{lands}\nThe load operations name active feeds, so this run also loads their domain tables."), False


class GetSamplesScreen(ModalScreen["date | None"]):
    """Asks for the day to get sample files from, explaining what the run will do first.

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
        self.explanation, _ = sample_run_expectation(courier, project)

    def compose(self) -> ComposeResult:
        with Vertical(id="get-samples-dialog", classes="dialog form"):
            yield Static(f"Get sample files from {self.courier.name}", classes="dialog-title", markup=False)
            yield form_row("Day", Input(id="samples-day", placeholder="YYYY-MM-DD", compact=True))
            yield ProblemList(id="samples-day-problems")
            yield Static(self.explanation, id="samples-explanation", classes="dialog-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", id="samples-run", variant="primary", compact=True)
                yield Button("Cancel", id="samples-cancel", compact=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        app = cast("CourierApp", self.app)
        self.query_one("#samples-day", Input).value = app.clock().date().isoformat()
        apply_app_settings(self)
        self.query_one("#samples-day", Input).focus()

    def action_run(self) -> None:
        text = self.query_one("#samples-day", Input).value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.query_one("#samples-day-problems", ProblemList).show(
                [f'"{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25'], []
            )
            return
        self.dismiss(day)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#samples-day")
    @on(Button.Pressed, "#samples-run")
    def _run(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#samples-cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class SamplesScreen(AppAccess, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[None]):
    """The sample files a courier has landed, newest first (Amperity's "Get sample files").

    Args:
        courier: The courier whose files to list.
    """

    BINDINGS = [
        Binding("g", "get_samples", "Get samples"),
        Binding("v,enter", "view", "View"),
        Binding("f", "add_feed", "Add feed"),
        Binding("l", "load_operations", "Load ops"),
        Binding("escape,backspace", "back", "Back"),
    ]

    AUTO_FOCUS = "#samples-table"

    def __init__(self, courier: str) -> None:
        super().__init__()
        self.courier_name = courier
        self.files: list[LandedFile] = []
        self.running = False
        self._missing_feeds: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="samples", classes="page"):
            yield Static("", id="samples-intro", classes="form-intro", markup=False)
            yield DataTable(id="samples-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                f"No sample files yet. Press g to get them: it runs {self.courier_name} for a day and lands its files.",
                id="samples-empty",
                classes="empty",
                markup=False,
            )
            yield Static("", id="samples-result", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = f"Sample files of {self.courier_name}"
        self.query_one("#samples-table", DataTable).add_columns("Landed (UTC)", "Tag", "Rows", "Fields", "File")
        self.query_one("#samples-result", Static).display = False
        apply_app_settings(self)
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        """List the landed files again."""
        self.files = engine.landed_files(self.courier_app.db_path, self.courier_name)
        table = self.query_one("#samples-table", DataTable)
        selected = self.selected_file()
        table.clear()
        for item in self.files:
            table.add_row(
                landed_time(item.landed_at),
                shorten(item.tag, 16),
                f"{item.row_count:,}" if item.row_count is not None else "?",
                str(len(item.fields)),
                middle_shorten(file_label(item), 22),
                key=str(item.id),
            )
        table.display = bool(self.files)
        self.query_one("#samples-empty", Static).display = not self.files
        if selected is not None and any(item.id == selected.id for item in self.files):
            table.move_cursor(row=table.get_row_index(str(selected.id)))
        count = len(self.files)
        self.query_one("#samples-intro", Static).update(
            f"Step 3 of 7: {count} file{'s' if count != 1 else ''} landed by {self.courier_name}, newest first. "
            "g gets sample files; Enter shows a file; f adds a feed from it."
            if count
            else "Step 3 of 7: get sample files, so feeds can be made from their schemas."
        )
        self.refresh_bindings()

    def selected_file(self) -> LandedFile | None:
        """The file under the cursor."""
        table = self.query_one("#samples-table", DataTable)
        if not table.row_count or not self.files:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((item for item in self.files if str(item.id) == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("view", "add_feed"):
            return True if self.files else None
        if action == "get_samples":
            return None if self.running else True
        return True

    def why_disabled(self, action: str) -> str | None:
        if action in ("view", "add_feed"):
            return "No sample files yet: press g to get them (a run with {} load operations lands them)."
        if action == "get_samples":
            return "Already getting sample files: the list fills in when they land."
        return None

    @on(DataTable.RowSelected, "#samples-table")
    def _row_selected(self) -> None:
        self.action_view()

    def action_view(self) -> None:
        selected = self.selected_file()
        if selected is not None:
            self.app.push_screen(SampleFileScreen(selected.id))

    def action_add_feed(self) -> None:
        selected = self.selected_file()
        if selected is not None:
            self.courier_app.action_add_feed(selected.id)

    def action_load_operations(self) -> None:
        self.courier_app.action_load_operations(self.courier_name)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_get_samples(self) -> None:
        if self.running:
            return
        project = engine.load_project(self.courier_app.db_path)
        courier = project.couriers.get(self.courier_name)
        if courier is None:
            self.notify(f'There is no courier named "{self.courier_name}"', severity="error")
            return

        def chosen(day: date | None) -> None:
            if day is not None:
                self.running = True
                # Feed IDs the load operations name that are not feeds yet: the run lands, then fails on them.
                self._missing_feeds = [feed_id for feed_id in courier.load_operations if feed_id not in project.feeds]
                self._show_result(f"Getting sample files from {self.courier_name} for {day.isoformat()}…")
                self.refresh_bindings()
                self._get_samples(day)

        self.app.push_screen(GetSamplesScreen(courier, project), callback=chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run", description="Get sample files")
    def _get_samples(self, day: date) -> None:
        from core.run_records import RunEvent
        from core.windows import RunWindow

        started: list[int] = []

        def listen(event: object) -> None:
            if isinstance(event, RunEvent) and not started:
                started.append(event.run_id)
                self.post_message(RunStarted(self.courier_name, event.run_id))

        try:
            summary = engine.run(
                self.courier_app.db_path, "courier", self.courier_name, RunWindow.day(day), listener=listen
            )
        finally:
            self.running = False
        self.post_message(RunFinished(summary, None))

    def on_run_finished(self, message: RunFinished) -> None:
        summary = message.summary
        self.action_reload()
        landed = f"Landed {summary.files:,} file{'s' if summary.files != 1 else ''}"
        if summary.status == RunStatus.FAILED:
            text = summary.message or "The run failed"
            # Known from the project before the run and from its typed progress, never from its wording:
            # every file landed, so what failed is the load operations naming feeds that do not exist.
            progress = summary.progress
            if self._missing_feeds and progress.files_landed == progress.files_to_land:
                self._show_result(
                    f"{landed}. The run failed as expected:\n{text}\nAdd a feed from a file (f), "
                    "activate it, then fill in its ID in the load operations (l)."
                )
            else:
                self._show_result(f"The run failed: {text}", error=True)
        else:
            self._show_result(f"{landed}. Run {summary.status.lower()}.")

    def _show_result(self, text: str, *, error: bool = False) -> None:
        result = self.query_one("#samples-result", Static)
        result.update(text)
        result.set_class(error, "-error")
        result.display = bool(text)


class SampleFileScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """One landed file: its fields (name, Avro type, feed type) and up to 200 rows.

    Args:
        file_id: The landed file to show.
    """

    BINDINGS = [
        Binding("f", "add_feed", "Add feed from this file"),
        Binding("escape,backspace", "back", "Back"),
    ]

    AUTO_FOCUS = "#sample-fields"

    def __init__(self, file_id: int) -> None:
        super().__init__()
        self.file_id = file_id

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sample-file", classes="page"):
            yield Static("", id="sample-info", classes="form-intro", markup=False)
            yield Static("Fields", id="sample-fields-title", classes="section-title", markup=False)
            yield DataTable(id="sample-fields", cursor_type="row", zebra_stripes=True)
            yield Static("Rows", id="sample-rows-title", classes="section-title", markup=False)
            yield DataTable(id="sample-rows", cursor_type="cell", zebra_stripes=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        landed = engine.landed_file(self.courier_app.db_path, self.file_id)
        self.landed = landed
        self.title = f"Sample file {landed.name}"
        rows = f"{landed.row_count:,} rows" if landed.row_count is not None else "rows not counted"
        self.query_one("#sample-info", Static).update(
            f"{landed.key} · tag {landed.tag} · {size_text(landed.size)} · {rows} · landed "
            f"{format_time(landed.landed_at)} by {landed.courier}"
        )
        fields = self.query_one("#sample-fields", DataTable)
        fields.add_columns("Field", "Avro type", "Feed type", "Nullable")
        for item in landed.fields:
            fields.add_row(
                item["name"],
                item.get("avro_type", ""),
                item.get("feed_type", "String"),
                "yes" if item.get("nullable") else "no",
            )
        self.query_one("#sample-fields-title", Static).update(f"Fields ({len(landed.fields)})")
        self.query_one("#sample-rows-title", Static).update("Rows (reading…)")
        apply_app_settings(self)
        self._read_rows()

    @work(thread=True, exclusive=True, exit_on_error=False, group="read", description="Read sample file")
    def _read_rows(self) -> None:
        columns, rows = engine.sample_rows(self.courier_app.db_path, self.file_id)
        self.post_message(SampleFileRead(self.file_id, columns, rows))

    def on_sample_file_read(self, message: SampleFileRead) -> None:
        table = self.query_one("#sample-rows", DataTable)
        table.add_columns(*message.columns)
        for row in message.rows:
            table.add_row(*(_cell(value) for value in row))
        total = self.landed.row_count
        shown = len(message.rows)
        label = f"Rows (first {shown:,} of {total:,})" if total is not None and total > shown else f"Rows ({shown:,})"
        self.query_one("#sample-rows-title", Static).update(label)

    def action_add_feed(self) -> None:
        self.courier_app.action_add_feed(self.file_id)

    def action_back(self) -> None:
        self.dismiss(None)


def _cell(value: Any) -> Text | str:
    if value is None:
        return Text("null", style="dim")
    return shorten(str(value), CELL_WIDTH)
