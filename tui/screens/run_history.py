"""Run history: every courier and group run, newest first, filtered by status or by courier/group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Static

from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.screens.run_live import STATUS_STYLES, parse_time, window_text
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.runs import RunSummary

STATUS_FILTERS = (None, "Running", "Succeeded", "Failed", "Stopped", "Warning")
"""What ``s`` cycles through (``None`` is every status)."""
REFRESH_SECONDS = 2.0
HISTORY_LIMIT = 500
WIDE = 100
"""From this many columns on, the kind has its own column; narrower, it joins the target."""
TARGET_WIDTH = 20


def started_text(run: RunSummary) -> str:
    """``11-25 08:30`` (UTC)."""
    started = parse_time(run.started_at)
    return started.strftime("%m-%d %H:%M") if started else "?"


def duration_text(run: RunSummary) -> str:
    """``5m 12s``, ``1h 02m``, or ``running``."""
    started, finished = parse_time(run.started_at), parse_time(run.finished_at)
    if started is None or finished is None:
        return "running" if run.status in ("Running", "Stopping") else "—"
    seconds = max(0, int((finished - started).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def kind_text(run: RunSummary) -> str:
    """``courier``, ``group``, or ``in 12`` for a courier run inside group run 12."""
    if run.kind == "group":
        return "group"
    return f"in {run.parent_id}" if run.parent_id else "courier"


def target_text(run: RunSummary, with_kind: bool, width: int = TARGET_WIDTH) -> Text:
    """The courier or group name, cut to ``width``; with the kind when it has no column of its own."""
    name = run.target
    suffix = ""
    if with_kind and run.kind == "group":
        suffix = " (group)"
    elif with_kind and run.parent_id:
        suffix = f" (in {run.parent_id})"
    room = width - len(suffix)
    if len(name) > room:
        name = name[: max(1, room - 1)] + "…"
    return Text(name + suffix)


class RunHistoryScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """Every run, newest first; Enter opens its log, ``r`` runs it again for the same window."""

    BINDINGS = [
        Binding("enter", "open", "Open log", show=False),
        Binding("r", "rerun", "Rerun"),
        Binding("s", "cycle_status", "Status"),
        Binding("c", "cycle_target", "Courier/group"),
        Binding("R,f5", "reload", "Refresh"),
        Binding("escape,backspace", "back", "Back"),
    ]

    AUTO_FOCUS = "#runs-table"

    @dataclass
    class RunsLoaded(Message):
        """The runs matching the filters, and every courier and group that has runs."""

        runs: list[Any]
        targets: list[tuple[str, str]]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.target_filter: tuple[str, str] | None = None
        """``(kind, name)`` of the courier or group shown, or ``None`` for all."""
        self.targets: list[tuple[str, str]] = []
        self.runs: dict[int, RunSummary] = {}
        self._loading = False
        self._reload_pending = False
        self._columns_wide: bool | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-filters", markup=False)
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("No runs yet. Run a courier from Sources (r).", id="runs-empty", classes="empty")
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "Run history"
        self.query_one("#runs-empty").display = False
        apply_app_settings(self)
        self._render_filters()
        self.action_reload()
        self._timer = self.set_interval(REFRESH_SECONDS, self._refresh_if_running)

    def on_screen_resume(self) -> None:
        self.action_reload()

    @property
    def wide(self) -> bool:
        """True when the kind gets its own column."""
        return self.size.width >= WIDE

    def _add_columns(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        table.clear(columns=True)
        table.add_column("ID", key="id")
        table.add_column("Status", key="status")
        if self.wide:
            table.add_column("Kind", key="kind")
        table.add_column("Courier or group" if self.wide else "Target", key="target")
        table.add_column("Window", key="window")
        table.add_column("Started", key="started")
        table.add_column("Took", key="took")
        table.add_column("Rows", key="rows")
        self._columns_wide = self.wide

    def on_resize(self) -> None:
        if self._columns_wide is not None and self._columns_wide != self.wide:
            self._show_runs(list(self.runs.values()))

    def _refresh_if_running(self) -> None:
        # Runs started elsewhere (a shell, the scheduler) appear and move on without telling us.
        if self.is_current:
            self.action_reload()

    def action_reload(self) -> None:
        """Read the runs again."""
        if self._loading:
            self._reload_pending = True
            return
        self._loading = True
        target = self.target_filter
        self._load(self.status_filter, target[0] if target else None, target[1] if target else None)

    @work(thread=True, exit_on_error=False, group="history", description="Read run history")
    def _load(self, status: str | None, kind: str | None, target: str | None) -> None:
        from core import engine

        history = engine.run_history(
            self.courier_app.db_path, status=status, kind=kind, target=target, limit=HISTORY_LIMIT
        )
        self.post_message(self.RunsLoaded(history.runs, history.targets))

    def on_run_history_screen_runs_loaded(self, message: RunsLoaded) -> None:
        self._loading = False
        self.targets = message.targets
        self._show_runs(message.runs)
        table = self.query_one("#runs-table", DataTable)
        table.display = bool(message.runs)
        self.query_one("#runs-empty").display = not message.runs
        if table.display and self.focused is None:
            table.focus()
        if self.status_filter or self.target_filter:
            self.query_one("#runs-empty", Static).update("No runs match the filters (s status, c courier/group).")
        self._render_filters()
        self.refresh_bindings()
        if self._reload_pending:
            self._reload_pending = False
            self.action_reload()

    def _show_runs(self, runs: list[RunSummary]) -> None:
        table = self.query_one("#runs-table", DataTable)
        selected = self.selected_run() if table.columns else None
        if self._columns_wide != self.wide:
            self._add_columns()
        self.runs = {run.id: run for run in runs}
        table.clear()
        wide = self.wide
        for run in runs:
            cells: list[Any] = [str(run.id), Text(run.status, style=STATUS_STYLES.get(run.status, ""))]
            if wide:
                cells.append(kind_text(run))
            cells += [
                target_text(run, not wide),
                window_text(run.window),
                started_text(run),
                duration_text(run),
                Text(f"{run.rows_read:,}", justify="right"),
            ]
            table.add_row(*cells, key=str(run.id))
        if selected is not None and selected.id in self.runs:
            table.move_cursor(row=table.get_row_index(str(selected.id)))

    def on_worker_state_changed(self, event: Any) -> None:
        from textual.worker import WorkerState

        if event.worker.group == "history" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._loading = False
        super().on_worker_state_changed(event)

    def _render_filters(self) -> None:
        status = self.status_filter or "all"
        target = f"{self.target_filter[1]} ({self.target_filter[0]})" if self.target_filter else "all"
        count = len(self.runs)
        self.query_one("#history-filters", Static).update(
            f"Status: {status} (s) · Courier or group: {target} (c) · {count:,} run{'s' if count != 1 else ''}, "
            "newest first"
        )

    def selected_run(self) -> RunSummary | None:
        """The run under the cursor."""
        table = self.query_one("#runs-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(int(key)) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "rerun"):
            return True if self.selected_run() is not None else None
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the run's log (following it while it runs)."""
        from tui.screens.run_live import RunLiveScreen

        run = self.selected_run()
        if run is not None:
            self.app.push_screen(RunLiveScreen(run.id))

    def action_rerun(self) -> None:
        """Run the same courier or group again for the same window."""
        run = self.selected_run()
        if run is not None:
            self.courier_app.start_run(run.kind, run.target, run.window)

    def action_cycle_status(self) -> None:
        """All → Running → Succeeded → Failed → Stopped → Warning → all."""
        index = STATUS_FILTERS.index(self.status_filter)
        self.status_filter = STATUS_FILTERS[(index + 1) % len(STATUS_FILTERS)]
        self.action_reload()

    def action_cycle_target(self) -> None:
        """All → each courier → each group → all."""
        options: list[tuple[str, str] | None] = [None, *self.targets]
        index = options.index(self.target_filter) if self.target_filter in options else 0
        self.target_filter = options[(index + 1) % len(options)]
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()
