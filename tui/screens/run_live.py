"""The live run screen: a run's log as it is written, with progress, counts, status and Stop.

The screen follows a run through the database (``core.engine.follow_run``, polled
in a thread worker every 0.3 s), so it works the same for a run started here, by
``courier run`` in another shell, or by the scheduler. Its bars and counts come
from the run's typed progress (``core.run_records.Progress``), never from the
log's wording. A run started in this process also sends its per-file row
progress (``RunProgress``), which the app hands to the screen; other processes'
runs move a committed file at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, ProgressBar, RichLog, Static
from textual.worker import Worker, WorkerState

from core.run_records import overall_steps
from core.vocab import RunPhase
from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.run_records import RunEvent, RunProgress, RunSummary
    from core.windows import RunWindow

POLL_SECONDS = 0.3
"""How often the database is read for new events."""
RECONCILE_EVERY = 10
"""Polls between checks that the process running the run is still alive."""

LEVEL_FILTERS = {
    "all": (("info", "warning", "error"), "all levels"),
    "warnings": (("warning", "error"), "warnings and errors"),
    "errors": (("error",), "errors only"),
}
STATUS_STYLES = {
    "Succeeded": "bold green",
    "Failed": "bold red",
    "Warning": "bold yellow",
    "Running": "bold cyan",
    "Stopping": "bold yellow",
    "Stopped": "bold yellow",
    "Starting": "bold cyan",
}
LEVEL_STYLES = {"warning": "yellow", "error": "bold red"}
LEVEL_TAGS = {"warning": "WARN", "error": "ERROR"}
FINAL = ("Succeeded", "Failed", "Stopped", "Warning")


def window_text(window: RunWindow) -> str:
    """A run window in a few characters: ``2026-11-25``, ``11-20→11-25``, ``all data``, ``new Heap dumps``."""
    if window.heap:
        return window.describe()
    if window.kind == "hours" and window.start_at and window.end_at:
        return f"{window.start_at:%m-%d %H:%M}→{window.end_at:%m-%d %H:%M}"
    if window.kind == "day" and window.start:
        return window.start.isoformat()
    if window.kind == "period" and window.start and window.end:
        if window.end.year != window.start.year:
            return f"{window.start.isoformat()}→{window.end.isoformat()}"
        return f"{window.start:%m-%d}→{window.end:%m-%d}"
    return "all data"


def duration_words(seconds: float) -> str:
    """``5 minutes 12 seconds`` (Amperity's words, as in "Completed in …")."""
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} {secs} second{'s' if secs != 1 else ''}"


def parse_time(text: str | None) -> datetime | None:
    """A stored UTC timestamp (``2026-11-25T08:30:04.000000Z``) as an aware datetime."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass
class LogLine:
    """One event as the log shows it."""

    id: int
    level: str
    text: str
    """``08:30:04 Loading data: Landed …`` (a child courier's lines start with its name)."""


@dataclass
class LiveRun:
    """What the screen knows about a run: its row, its children, its events and progress.

    Pure state, updated from polls and progress; no Textual here.
    """

    run: RunSummary | None = None
    children: dict[int, RunSummary] = field(default_factory=dict)
    lines: list[LogLine] = field(default_factory=list)
    last_ids: dict[int, int] = field(default_factory=dict)
    stage: str = ""
    progress: RunProgress | None = None
    stop_requested: bool = False
    has_rejects: bool = False
    """The run kept rejected rows (shown by j), even when a failed unit rolled its counts back."""
    overall_high: float = 0.0
    """The largest share of the overall bar shown so far: the bar never goes backwards."""

    @property
    def run_ids(self) -> set[int]:
        """The run and its child runs (a group's couriers)."""
        ids = set(self.children)
        if self.run is not None:
            ids.add(self.run.id)
        return ids

    @property
    def final(self) -> bool:
        """True once the run has ended."""
        return self.run is not None and self.run.status in FINAL

    @property
    def status(self) -> str:
        """Running, Stopping, Stopped, Succeeded, Failed or Warning."""
        if self.run is None:
            return "Starting"
        if self.run.status == "Running" and self.stop_requested:
            return "Stopping"
        return self.run.status

    def add_events(self, events: list[RunEvent]) -> list[LogLine]:
        """Take new events (any order of runs); returns the new log lines."""
        added: list[LogLine] = []
        for event in sorted(events, key=lambda item: item.id):
            if event.id <= self.last_ids.get(event.run_id, 0):
                continue
            self.last_ids[event.run_id] = event.id
            self.stage = event.stage
            child = self.children.get(event.run_id)
            prefix = f"[{child.target}] " if child is not None else ""
            line = LogLine(event.id, event.level, f"{event.at[11:19]} {prefix}{event.stage}: {event.message}")
            self.lines.append(line)
            added.append(line)
        return added

    def overall(self) -> tuple[float, float, str] | None:
        """(done, total, label) for the overall bar, from the run's typed progress; ``None`` while planning."""
        run = self.run
        if run is None:
            return None
        progress = run.progress
        steps = overall_steps(run, list(self.children.values()), None if self.final else self.progress)
        if steps is None:
            if not self.final:
                return None
            files = run.files
            return 1.0, 1.0, f"{files:,} file{'s' if files != 1 else ''}" if files else "no files"
        done, total = steps
        self.overall_high = max(self.overall_high, done / total if total else 0.0)
        done = max(done, self.overall_high * total)
        if run.kind == "group":
            label = f"{progress.units_done:,} of {progress.units_planned:,} couriers run"
        elif progress.files_planned and (progress.phase != RunPhase.LANDING or progress.files_done):
            label = f"{progress.files_done:,} of {progress.files_planned:,} files loaded"
        else:
            label = f"{progress.files_landed:,} of {progress.files_to_land:,} files landed"
        return done, total, label

    def _working_file(self) -> str:
        """The file the run (or its running courier) is on, from the stored progress."""
        newest_first = sorted(self.children.values(), key=lambda child: child.id, reverse=True)
        for run in [*newest_first, *([self.run] if self.run is not None else [])]:
            if run.progress.current_file:
                return run.progress.current_file
        return ""

    def current_file(self) -> tuple[float | None, float, str]:
        """(done, total, label) for the current file's bar (``done`` is None when unknown)."""
        progress = self.progress
        if progress is not None and not self.final:
            total = float(progress.rows_total or 0)
            rows = (
                f"{progress.rows_done:,} of {progress.rows_total:,} rows"
                if progress.rows_total
                else f"{progress.rows_done:,} rows"
            )
            return float(progress.rows_done), total, f"{progress.file} · {rows}"
        last_file = self._working_file()
        if self.final:
            return 1.0, 1.0, last_file or "—"
        if last_file:
            return None, 0.0, f"{last_file} (row progress shows for runs started in this app)"
        return None, 0.0, "waiting for the first file"

    def elapsed(self, now: datetime) -> str:
        """How long the run has taken (so far)."""
        if self.run is None:
            return duration_words(0)
        started = parse_time(self.run.started_at)
        finished = parse_time(self.run.finished_at) or now
        if started is None:
            return duration_words(0)
        return duration_words((finished - started).total_seconds())

    def counts_text(self) -> str:
        """``Files 3 · read 12,345 · inserted 12,000 · updated 345 · rejected 0``."""
        run = self.run
        if run is None:
            return "Files 0 · read 0 · inserted 0 · updated 0 · rejected 0"
        return (
            f"Files {run.files:,} · read {run.rows_read:,} · inserted {run.rows_inserted:,} · "
            f"updated {run.rows_updated:,} · rejected {run.rows_rejected:,}"
        )


def visible_lines(lines: list[LogLine], levels: tuple[str, ...], search: str) -> list[LogLine]:
    """The lines that pass the level filter and contain the search text (case-insensitive)."""
    needle = search.casefold()
    return [line for line in lines if line.level in levels and (not needle or needle in line.text.casefold())]


class RunLogView(RichLog):
    """The run's log lines; says when its width changes, so the screen wraps the lines again."""

    @dataclass
    class WidthChanged(Message):
        """The log was laid out at a new width."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._laid_out_width = 0

    def on_resize(self) -> None:  # type: ignore[override]  # Textual calls it with or without the event
        width = self.scrollable_content_region.width
        if width != self._laid_out_width:
            self._laid_out_width = width
            self.post_message(self.WidthChanged())


class RunLiveScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """Follows one run live: stages, progress bars, counts, elapsed time, status, the log; Stop.

    Args:
        run_id: The run to follow; ``None`` while a run this app started has no row yet.
        kind: ``courier`` or ``group`` (for a run being started).
        target: The courier or group being started.
        window: The window being started (shown until the run's row exists).
        starter: The worker starting the run; if it fails before the run exists, the screen says why.
    """

    BINDINGS = [
        Binding("x", "stop", "Stop"),
        Binding("1", "level('all')", "All"),
        Binding("2", "level('warnings')", "Warnings"),
        Binding("3", "level('errors')", "Errors"),
        Binding("slash", "search", "Search"),
        Binding("j", "rejects", "Rejects"),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    AUTO_FOCUS = "#run-log"

    @dataclass
    class Polled(Message):
        """The database was read: the run's row, its child runs and new events."""

        run: Any
        children: list[Any]
        events: list[Any]
        has_rejects: bool = False

    @dataclass
    class StopSent(Message):
        """``core.runs.request_stop`` wrote the stop flag."""

        run_id: int

    def __init__(
        self,
        run_id: int | None = None,
        *,
        kind: str = "courier",
        target: str = "",
        window: RunWindow | None = None,
        starter: Worker[Any] | None = None,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.kind = kind
        self.target = target
        self.window = window
        self.starter = starter
        self.live = LiveRun()
        self.level = "all"
        self.search = ""
        self.start_error: str | None = None
        self._polling = False
        self._polls = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="run-summary"):
            yield Static("", id="run-title", markup=False)
            yield Static("", id="run-state")
            with Horizontal(classes="run-progress-row"):
                yield Static("File", classes="run-progress-label")
                yield ProgressBar(total=1, show_eta=False, id="file-progress")
                yield Static("", id="file-label", classes="run-progress-text", markup=False)
            with Horizontal(classes="run-progress-row"):
                yield Static("Overall", classes="run-progress-label")
                yield ProgressBar(total=1, show_eta=False, id="overall-progress")
                yield Static("", id="overall-label", classes="run-progress-text", markup=False)
            yield Static("", id="run-counts", markup=False)
        yield Static("", id="run-failure", markup=False)
        yield Static("", id="log-status", markup=False)
        yield RunLogView(id="run-log", wrap=True, markup=False, highlight=False, max_lines=20000, min_width=20)
        with Horizontal(id="log-search-bar"):
            yield Static("Search", classes="bar-label")
            yield Input(
                id="log-search", placeholder="text to find in the log; Enter keeps it, Esc clears", compact=True
            )
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "Run"
        self.query_one("#log-search-bar").display = False
        self.query_one("#run-failure").display = False
        apply_app_settings(self)
        self._render_summary()
        self._render_log_status()
        self._timer = self.set_interval(POLL_SECONDS, self._tick)
        self._tick()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    # --- following --------------------------------------------------------------------------

    def follow(self, run_id: int) -> None:
        """Start following a run (the app calls this when a run it started has its row)."""
        if self.run_id is None:
            self.run_id = run_id
            self._tick()

    def waits_for(self, target: str) -> bool:
        """True while this screen waits for a run of ``target`` that this app is starting."""
        return self.run_id is None and self.start_error is None and self.target == target

    def show_progress(self, progress: RunProgress) -> None:
        """Row progress of the file being loaded, from a run started in this process."""
        if progress.run_id == self.run_id or progress.run_id in self.live.children:
            self.live.progress = progress
            self._render_summary()

    def _tick(self) -> None:
        if self.run_id is None:
            if self.starter is not None and self.starter.state == WorkerState.ERROR and self.start_error is None:
                from tui.app import describe_failure

                self.start_error = describe_failure(self.starter.error)
                self._render_summary()
            return
        if self._polling:
            return
        if self.live.final and self._timer is not None:
            self._timer.stop()
            return
        self._polling = True
        self._polls += 1
        self._poll(self.run_id, dict(self.live.last_ids), self._polls % RECONCILE_EVERY == 1)

    @work(thread=True, exit_on_error=False, group="run-poll", description="Follow run")
    def _poll(self, run_id: int, last_ids: dict[int, int], reconcile: bool) -> None:
        from core import engine

        snapshot = engine.follow_run(self.courier_app.db_path, run_id, last_ids, reconcile=reconcile)
        self.post_message(self.Polled(snapshot.run, snapshot.children, snapshot.events, snapshot.has_rejects))

    def on_run_live_screen_polled(self, message: Polled) -> None:
        self._polling = False
        live = self.live
        live.run = message.run
        live.children = {child.id: child for child in message.children}
        live.has_rejects = message.has_rejects
        added = live.add_events(message.events)
        if live.final:
            live.progress = None
        self._render_summary()
        if added:
            levels = LEVEL_FILTERS[self.level][0]
            log = self.query_one("#run-log", RichLog)
            for line in visible_lines(added, levels, self.search):
                self._write(log, line)
            self._render_log_status()
        self.refresh_bindings()
        if live.final and self._timer is not None:
            self._timer.stop()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "run-poll" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._polling = False
        super().on_worker_state_changed(event)

    # --- drawing ----------------------------------------------------------------------------

    def _render_summary(self) -> None:
        live = self.live
        run = live.run
        if run is not None:
            trigger = "scheduled" if run.trigger == "schedule" else run.trigger
            title = f"Run {run.id} · {run.kind} {run.target} · {window_text(run.window)} · {trigger}"
            if run.parent_id:
                title += f" · in group run {run.parent_id}"
        else:
            window = window_text(self.window) if self.window is not None else ""
            title = f"Starting {self.kind} {self.target} · {window}"
        self.query_one("#run-title", Static).update(title)
        status = live.status
        if self.start_error is not None:
            status = "Failed"
        state = Text.assemble(
            (status, STATUS_STYLES.get(status, "bold")),
            " · ",
            (live.stage or "—", "bold"),
            " · ",
            f"{live.elapsed(self.courier_app.clock())} elapsed",
        )
        self.query_one("#run-state", Static).update(state)
        done, total, label = live.current_file()
        file_bar = self.query_one("#file-progress", ProgressBar)
        file_bar.display = done is not None
        file_bar.update(total=total or 1, progress=done if done is not None else 0)
        self.query_one("#file-label", Static).update(label)
        overall = live.overall()
        overall_bar = self.query_one("#overall-progress", ProgressBar)
        if overall is None:
            overall_bar.update(total=1, progress=0)
            self.query_one("#overall-label", Static).update("finding files")
        else:
            overall_bar.update(total=overall[1] or 1, progress=overall[0])
            self.query_one("#overall-label", Static).update(overall[2])
        self.query_one("#run-counts", Static).update(live.counts_text())
        failure = self.query_one("#run-failure", Static)
        message = self.start_error or (run.message if run is not None and run.status in FINAL else None)
        failure.display = bool(message)
        if message:
            failure.update(message if self.start_error is None else f"The run did not start: {message}")
            failure.set_class(status == "Failed", "-error")
            failure.set_class(status != "Failed", "-warning")

    def _line_text(self, line: LogLine) -> Text:
        text = Text(line.text, style=LEVEL_STYLES.get(line.level, ""))
        tag = LEVEL_TAGS.get(line.level)
        if tag:
            text = Text.assemble((tag, f"reverse {LEVEL_STYLES[line.level]}"), " ", text)
        if self.search:
            text.highlight_words([self.search], "reverse", case_sensitive=False)
        return text

    def _write(self, log: RichLog, line: LogLine) -> None:
        # Wrap at the log's own width (RichLog would otherwise measure against the console's).
        width = log.scrollable_content_region.width
        log.write(self._line_text(line), width=width if width > 0 else None)

    def _render_log(self) -> None:
        log = self.query_one("#run-log", RichLog)
        log.clear()
        for line in visible_lines(self.live.lines, LEVEL_FILTERS[self.level][0], self.search):
            self._write(log, line)
        self._render_log_status()

    def on_run_log_view_width_changed(self) -> None:
        if self.live.lines:
            self._render_log()

    def _render_log_status(self) -> None:
        shown = len(visible_lines(self.live.lines, LEVEL_FILTERS[self.level][0], self.search))
        text = f"{shown:,} of {len(self.live.lines):,} lines · {LEVEL_FILTERS[self.level][1]}"
        if self.search:
            text += f' · matching "{self.search}"'
        self.query_one("#log-status", Static).update(text)

    # --- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if (self.run_id is not None and not self.live.final and not self.live.stop_requested) else None
        if action == "rejects":
            # Shown only for a run that rejected rows (a run failed by its error threshold included).
            run = self.live.run
            return run is not None and (run.rows_rejected > 0 or self.live.has_rejects)
        return True

    def action_rejects(self) -> None:
        """List the rows this run rejected: file, row, key, column and reason."""
        from tui.screens.rejects import RejectsScreen

        if self.run_id is not None:
            self.app.push_screen(RejectsScreen(self.run_id))

    def action_level(self, level: str) -> None:
        """Show all lines, warnings and errors, or errors only."""
        self.level = level
        self._render_log()

    def action_search(self) -> None:
        """Show the search bar; only lines containing its text stay in the log."""
        bar = self.query_one("#log-search-bar")
        bar.display = True
        self.query_one("#log-search", Input).focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self._render_log()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self) -> None:
        if not self.search:
            self.query_one("#log-search-bar").display = False
        self.query_one("#run-log", RichLog).focus()

    def action_back(self) -> None:
        """Esc clears the search first; otherwise leaves the screen (the run keeps going)."""
        search = self.query_one("#log-search", Input)
        if self.search or self.query_one("#log-search-bar").display:
            search.value = ""
            self.search = ""
            self.query_one("#log-search-bar").display = False
            self._render_log()
            self.query_one("#run-log", RichLog).focus()
            return
        self.app.pop_screen()

    def action_stop(self) -> None:
        """Ask before stopping: the file being loaded is rolled back."""
        from tui.screens.confirm import ConfirmScreen

        run_id = self.run_id
        if run_id is None or self.live.final:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._request_stop(run_id)

        self.app.push_screen(
            ConfirmScreen(
                f"Stop run {run_id}?",
                "The file being loaded is rolled back; files already committed stay loaded. "
                "The run goes Stopping, then Stopped.",
                yes="Stop run",
                no="Keep running",
            ),
            callback=answered,
        )

    @work(thread=True, exit_on_error=False, group="run-stop", description="Stop run")
    def _request_stop(self, run_id: int) -> None:
        from core import engine

        engine.stop_run(self.courier_app.db_path, run_id)
        self.post_message(self.StopSent(run_id))

    def on_run_live_screen_stop_sent(self, message: StopSent) -> None:
        self.live.stop_requested = True
        self._render_summary()
        self.refresh_bindings()
        self.notify(f"Stopping run {message.run_id}…", title="Stop requested")
