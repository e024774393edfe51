"""The Courier app: one factory, one stylesheet, screens that call only ``core``.

``make_app`` is the only way the CLI, the tests and the screenshot script
build the app. Screens read and write only through ``core.engine`` (one call
per user action, each opening and closing the database): quick reads on the UI
thread, anything that writes or waits (S3, runs, saves) in a thread worker that
posts a message back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from core import engine
from core.errors import CourierError
from tui.commands import CourierCommands
from tui.messages import ConfigSaved, RunFinished, RunProgressed, RunStarted

if TYPE_CHECKING:
    from core.runs import RunWindow

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware; injectable so tests and screenshots are stable."""


MONOCHROME_TERMS = ("vt100", "vt102", "vt220", "vt320", "dumb")
"""Terminals that show no colour: focus and the cursor row are drawn in reverse video there."""


def plain_terminal(environ: Mapping[str, str]) -> bool:
    """Whether colour cannot be relied on: ``NO_COLOR`` set (https://no-color.org) or a monochrome ``TERM``."""
    term = environ.get("TERM", "")
    return "NO_COLOR" in environ or term in MONOCHROME_TERMS or term.startswith(("vt100-", "vt220-"))


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)


class LeftRun(NamedTuple):
    """A run the user left going when quitting: what it takes to continue it in another process."""

    kind: str
    """``courier`` or ``group``."""
    window: RunWindow | None
    """The window it was started for (``None``: not known here)."""
    target: str
    """The courier's or group's name."""


class CourierApp(App[None]):
    """Keyboard-first setup and review of Heap couriers, over SSH at 80×24."""

    CSS_PATH = "app.tcss"
    TITLE = "Courier"
    COMMANDS = App.COMMANDS | {CourierCommands}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+p,colon", "command_palette", "Commands", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self, db_path: Path, *, demo_note: str | None = None, clock: Clock = system_clock, cursor_blink: bool = True
    ) -> None:
        # NO_COLOR: Textual's own answer is greyscale truecolor (its Monochrome filter), which still sends
        # colour; in ANSI mode it strips every colour instead (its NoColor filter), so say ANSI mode then.
        super().__init__(ansi_color=True if "NO_COLOR" in os.environ else None)
        self.db_path = db_path
        self.demo_note = demo_note
        self.clock = clock
        self.cursor_blink = cursor_blink
        self._progress_posted: dict[int, float] = {}
        self.runs_going: dict[int, str] = {}
        """Runs this process started that have reported their ID and not finished: run ID → courier or group."""
        self._quit_when_stopped = False
        self._requests: dict[str, tuple[str, RunWindow]] = {}
        """Courier or group name → (kind, window) of the run this process started for it."""
        self.left_running: dict[int, LeftRun] = {}
        """Runs still going when the user quit and chose to leave them running."""
        self.when_left_running: Callable[[dict[int, LeftRun]], None] | None = None
        """Called with ``left_running`` once the screen is restored (the CLI hands each run to a background
        process, or in the demo, whose S3 lives in this process, waits for it)."""
        self.leave_note = (
            "Leave it running: Courier's screens close and the run goes on in this terminal until it ends "
            "(Ctrl-Z then bg sends it to the background). Follow it with: {follow}"
        )
        """What "Leave running" does, as the quit question says it (the CLI sets it to what it will do);
        ``{follow}`` stands for the command that follows the run."""
        self.select_on_home: tuple[str, str] | None = None
        """(kind, name) of the object saved last; the Sources screen selects it when it shows again."""
        self.theme = "textual-dark"
        # Without colour, a background is no marker: focus and cursor rows go reverse (app.tcss, .-plain).
        self.set_class(plain_terminal(os.environ) or self.native_ansi_color, "-plain")

    def on_mount(self) -> None:
        from core import engine

        # A write that meets a sort-index build (another process) waits for it: say so, once per wait.
        engine.report_lock_waits(self._lock_wait)

    def on_unmount(self) -> None:
        from core import engine

        engine.report_lock_waits(None)

    def _lock_wait(self, path: Path, line: str) -> None:
        message = f"Waiting: {line}; going on when it ends"
        try:
            self.call_from_thread(self.notify, message, timeout=8)
        except RuntimeError:  # called on the app's own thread
            self.notify(message, timeout=8)

    def get_default_screen(self) -> Screen[Any]:
        from tui.screens.sources import SourcesScreen

        return SourcesScreen()

    def courier_names(self) -> list[str]:
        """Names of the stored couriers (for the command palette)."""
        return engine.courier_names(self.db_path)

    def group_names(self) -> list[str]:
        """Names of the stored courier groups (for the command palette)."""
        return engine.group_names(self.db_path)

    def action_help(self) -> None:
        """Show every key of the current screen."""
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen, self.screen.title or self.title))

    def action_get_details(self) -> None:
        """Step 1: what to have at hand, with a connection test."""
        from tui.screens.details import DetailsScreen

        self.push_screen(DetailsScreen())

    def action_add_courier(self) -> None:
        """Open the courier editor on a new courier."""
        from tui.screens.courier_editor import CourierEditorScreen

        self.push_screen(CourierEditorScreen())

    def action_edit_courier(self, name: str) -> None:
        """Open the courier editor on a stored courier."""
        from tui.screens.courier_editor import CourierEditorScreen

        self.push_screen(CourierEditorScreen(name))

    def feed_labels(self) -> dict[str, str]:
        """Feed ID → domain table, for the command palette."""
        return engine.feed_labels(self.db_path)

    def action_samples(self, courier: str) -> None:
        """Open a courier's sample files (step 3)."""
        from tui.screens.samples import SamplesScreen

        self.push_screen(SamplesScreen(courier))

    def action_add_feed(self, sample_file_id: int | None = None) -> None:
        """Open the feed editor on a new feed, optionally made from a landed file (step 4)."""
        from tui.screens.feed_editor import FeedEditorScreen

        self.push_screen(FeedEditorScreen(sample_file_id=sample_file_id))

    def action_edit_feed(self, feed_id: str) -> None:
        """Open the feed editor on a stored feed."""
        from tui.screens.feed_editor import FeedEditorScreen

        self.push_screen(FeedEditorScreen(feed_id))

    def action_load_operations(self, courier: str) -> None:
        """Open a courier's load operations against the feeds (step 5)."""
        from tui.screens.load_operations import LoadOperationsScreen

        self.push_screen(LoadOperationsScreen(courier))

    def action_run_courier(self, name: str) -> None:
        """Open the Run Courier dialog, then run the courier in a worker."""
        from tui.screens.run_courier import RunCourierScreen

        project = engine.load_project(self.db_path)
        courier = project.couriers.get(name)
        if courier is None:
            self.notify(f'There is no courier named "{name}"', severity="error")
            return

        def chosen(window: RunWindow | None) -> None:
            if window is not None:
                self.start_run("courier", name, window)

        self.push_screen(RunCourierScreen(courier, project), callback=chosen)

    def action_add_group(self, courier: str | None = None) -> None:
        """Open the courier group editor on a new group, starting with ``courier`` when given."""
        from tui.screens.group_editor import GroupEditorScreen

        self.push_screen(GroupEditorScreen(courier=courier))

    def action_edit_group(self, name: str) -> None:
        """Open the courier group editor on a stored group."""
        from tui.screens.group_editor import GroupEditorScreen

        self.push_screen(GroupEditorScreen(name))

    @work(thread=True, exit_on_error=False, group="run", description="Run")
    def _run(self, kind: str, name: str, window: RunWindow) -> None:
        from core.run_records import RunEvent

        started: list[int] = []

        def listen(event: object) -> None:
            if not isinstance(event, RunEvent):
                self._relay_progress(event)
                return
            if not started:
                started.append(event.run_id)
                self.post_message(RunStarted(name, event.run_id))

        summary = engine.run(self.db_path, kind, name, window, listener=listen)
        self.post_message(RunFinished(summary, completed_text(summary)))

    def on_config_saved(self, message: ConfigSaved) -> None:
        # The cursor follows the user: the courier, feed or group just saved is the one that
        # the home screen's hint ("run X (press r)") and keys act on next.
        if message.kind in ("courier", "feed", "courier group") and message.name:
            self.select_on_home = (message.kind, message.name)
            self._reload_sources()  # the editor may already be gone by the time this bubbles up

    def on_run_started(self, message: RunStarted) -> None:
        self.runs_going[message.run_id] = message.courier
        self.notify(f"Running {message.courier} (run {message.run_id})…", title="Run started")
        self._reload_sources()
        from tui.screens.run_live import RunLiveScreen

        for screen in self.screen_stack:
            if isinstance(screen, RunLiveScreen) and screen.waits_for(message.courier):
                screen.follow(message.run_id)
                break

    # --- runs and tables (live run screen, run history, domain tables) ---

    def start_run(self, kind: str, name: str, window: RunWindow) -> None:
        """Run a courier (or a courier group) in a worker and open the live run screen on it."""
        from tui.screens.run_live import RunLiveScreen

        self._requests[name] = (kind, window)
        starter = self._run(kind, name, window)
        self.push_screen(RunLiveScreen(kind=kind, target=name, window=window, starter=starter))

    def _relay_progress(self, progress: object) -> None:
        """From a run's thread: pass file progress on, at most ten times a second per run."""
        import time

        from core.runs import RunProgress

        if not isinstance(progress, RunProgress):
            return
        now = time.monotonic()
        last = self._progress_posted.get(progress.run_id, 0.0)
        if now - last >= 0.1 or progress.rows_done == 0 or progress.rows_done == progress.rows_total:
            self._progress_posted[progress.run_id] = now
            self.post_message(RunProgressed(progress))

    def on_run_progressed(self, message: RunProgressed) -> None:
        from tui.screens.run_live import RunLiveScreen

        for screen in self.screen_stack:
            if isinstance(screen, RunLiveScreen):
                screen.show_progress(message.progress)

    def action_run_history(self) -> None:
        """Every run, newest first."""
        from tui.screens.run_history import RunHistoryScreen

        self.push_screen(RunHistoryScreen())

    def action_domain_tables(self) -> None:
        """The domain tables and identity views, with row counts and last load."""
        from tui.screens.tables import TablesScreen

        self.push_screen(TablesScreen())

    def action_open_table(self, name: str) -> None:
        """Page through one domain table."""
        from tui.screens.table_view import TableViewScreen

        self.push_screen(TableViewScreen(name))

    def on_run_finished(self, message: RunFinished) -> None:
        summary = message.summary
        self.runs_going.pop(summary.id, None)
        if summary.status == "Failed":
            self.notify(
                summary.message or "The run failed", title=f"{summary.target}: Failed", severity="error", timeout=15
            )
        else:
            counts = (
                f"{summary.files:,} files, {summary.rows_read:,} rows read, "
                f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated"
            )
            detail = f"{message.completed}. {counts}" if message.completed else counts
            if summary.message:
                detail = f"{summary.message}. {detail}"
            self.notify(
                detail,
                title=f"{summary.target}: {summary.status}",
                severity="warning" if summary.status != "Succeeded" else "information",
                timeout=10,
            )
        self._reload_sources()

    def _reload_sources(self) -> None:
        from tui.screens.sources import SourcesScreen

        # A run's last message can arrive while the app closes (the user left it running and quit):
        # there is no screen left to refresh then, and asking for one would raise.
        stack = self.screen_stack
        if stack and isinstance(stack[-1], SourcesScreen):
            stack[-1].action_reload()

    async def action_quit(self) -> None:
        """Quit; while a run started here is loading, ask first: stop it, leave it running, or stay."""
        if not self.run_workers():
            self.exit()
            return
        from tui.screens.quit_run import LEAVE, STOP, QuitDuringRunScreen

        runs = [f"run {run_id} ({target})" for run_id, target in self.runs_going.items()]
        first = next(iter(self.runs_going), None)
        follow = f"courier --db {self.db_path} runs {first if first is not None else 'ID'} --follow"

        def answered(answer: str | None) -> None:
            if answer == STOP:
                self._quit_when_stopped = True
                for run_id in self.runs_going:
                    engine.stop_run(self.db_path, run_id)
                self.notify(
                    "The file being loaded rolls back; Courier quits when the run has stopped.",
                    title="Stopping",
                    timeout=30,
                )
                if not self.run_workers():
                    self.exit()
            elif answer == LEAVE:
                self.left_running = {}
                for run_id, target in self.runs_going.items():
                    kind, window = self._requests.get(target, ("courier", None))
                    self.left_running[run_id] = LeftRun(kind, window, target)
                self.exit()

        # At 80×24 the run's notifications ("Run started", progress) would cover the question, which says it all;
        # cleared before it opens, so the screen under it redraws without them too.
        self.clear_notifications()
        self.push_screen(QuitDuringRunScreen(runs, follow, self.leave_note), callback=answered)

    async def run_async(self, **options: Any) -> Any:
        """Run the app; after it closes, hand any run left running to ``when_left_running``."""
        # App[None] says None, but the snapshot tests exit with their screenshot: pass it on.
        result = await super().run_async(**options)  # type: ignore[func-returns-value]
        if self.left_running and self.when_left_running is not None:
            self.when_left_running(self.left_running)
        return result

    def run_workers(self) -> list[Worker[object]]:
        """The runs this process is running (a worker each, from the moment it is started)."""
        return [worker for worker in self.workers if worker.group == "run" and not worker.is_finished]

    def action_go_home(self) -> None:
        """Back to the Sources screen, closing everything above it."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.report_failure(event.worker)
        if self._quit_when_stopped and event.worker.group == "run" and not self.run_workers():
            self.exit()

    def report_failure(self, worker: Worker[object]) -> None:
        """Turn a failed worker into one notification; the app keeps running.

        Screens forward their workers' failures here (``ReportsWorkerFailures``).
        """
        self.notify(
            describe_failure(worker.error),
            title=f"{worker.description or worker.name} failed",
            severity="error",
            timeout=10,
        )


def completed_text(summary: Any) -> str | None:
    """``Completed in N minutes N seconds`` for a run that completed, from its start and end times."""
    from tui.screens.run_live import duration_words, parse_time

    started, finished = parse_time(summary.started_at), parse_time(summary.finished_at)
    if summary.status not in ("Succeeded", "Warning") or started is None or finished is None:
        return None
    return f"Completed in {duration_words((finished - started).total_seconds())}"


def describe_failure(error: BaseException | None) -> str:
    """One line for a worker's exception: the engine's own line, or the exception's type and first line."""
    if error is None:
        return "unknown error"
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(error, CourierError):
        return first or type(error).__name__
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def make_app(
    db_path: Path, *, demo_note: str | None = None, clock: Clock | None = None, cursor_blink: bool = True
) -> CourierApp:
    """Build the app on a database; the CLI, the tests and the screenshot script all call this.

    Args:
        db_path: The Courier database (created and migrated when missing).
        demo_note: A line shown on the Sources screen, e.g. where the demo's S3 listens.
        clock: Returns "now" (aware); fixes next runs and today's date in tests and screenshots.
        cursor_blink: ``False`` keeps text cursors steady, for snapshots.

    Raises:
        CourierError: The database cannot be opened.
    """
    engine.open_database(db_path)
    return CourierApp(Path(db_path), demo_note=demo_note, clock=clock or system_clock, cursor_blink=cursor_blink)
