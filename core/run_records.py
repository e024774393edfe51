"""Run records: the ``runs`` row and its ``run_events`` log, stop requests, and reading runs back.

Every run is a row in ``runs`` with ordered ``run_events`` using Amperity's
stage names. Events are committed as they happen (never inside a load's
transaction), so the TUI, ``courier runs --follow`` or another SSH session can
follow a run live from the database. This module knows nothing of files,
feeds or S3: the stages above it (planning, landing, applying units) write
through :class:`RunLog`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.load import LoadCounts
from core.store import Store, landing_dir, pid_alive, utc_now, where_equals
from core.vocab import ACTIVE_STATUSES, EventLevel, RunPhase, RunStatus, WindowKind
from core.windows import RunWindow, duration_text


@dataclass
class RunEvent:
    """One line of a run's log."""

    id: int
    run_id: int
    at: str
    level: str
    stage: str
    message: str
    file: str | None = None


@dataclass
class RunProgress:
    """In-process progress of the file being loaded (not stored)."""

    run_id: int
    file: str
    file_index: int
    file_count: int
    rows_done: int
    rows_total: int | None
    loads_done: float = 0.0
    """The run's file loads done, the file being loaded counted by its share of rows read (for the overall bar)."""


@dataclass(frozen=True)
class Progress:
    """Where a run is, as numbers (the ``runs`` progress columns of migration 13).

    Written by the runner in the transactions it already commits (an event's
    flush, a load unit's commit), so any process reading the database sees
    committed progress only. Front ends show these numbers; they never read
    them out of the log's wording.

    For a courier run, *files* are file loads and *units* are load units (each
    commits on its own: a file-pattern feed's files, one Heap part, one Heap
    full resync); landing counts downloads. For a group run, units are its
    couriers and the file and row counts are its couriers' totals.
    """

    phase: str = ""
    """A :class:`core.vocab.RunPhase` value ('' for runs recorded before migration 13)."""
    units_planned: int = 0
    units_done: int = 0
    files_to_land: int = 0
    files_landed: int = 0
    files_planned: int = 0
    """File loads the run will apply (0 for a run that only lands sample files)."""
    files_done: int = 0
    """File loads committed."""
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    current_table: str | None = None
    current_file: str | None = None

    @property
    def planned(self) -> bool:
        """True once the run knows how much work it has (the overall total is fixed from then on)."""
        return bool(self.files_to_land or self.files_planned or self.units_planned)

    def steps(self, loading: float | None = None) -> tuple[float, float]:
        """``(done, total)`` work steps: landing a file is one step, loading a file is one.

        ``loading`` is how many file loads are done counting the file being loaded
        in this process (``RunProgress.loads_done``), which may run ahead of the
        committed ``files_done``; it is capped at the plan. Totals never change once
        planned and counts only grow, so ``done / total`` never goes backwards.
        """
        total = self.files_to_land + self.files_planned
        loads = max(float(self.files_done), min(loading or 0.0, float(self.files_planned)))
        return min(float(self.files_landed), float(self.files_to_land)) + loads, float(total)


PROGRESS_COLUMNS = (
    "phase",
    "units_planned",
    "units_done",
    "files_to_land",
    "files_landed",
    "files_planned",
    "files_done",
    "current_table",
    "current_file",
)
"""The ``runs`` columns of :class:`Progress` written by :class:`RunLog` (the row counts are written with the counts)."""


@dataclass
class RunSummary:
    """A run's row: status, window and counts."""

    id: int
    kind: str
    target: str
    trigger: str
    window: RunWindow
    status: RunStatus
    started_at: str
    finished_at: str | None
    files: int
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_rejected: int
    message: str | None
    parent_id: int | None = None
    pid: int | None = None
    progress: Progress = field(default_factory=Progress)
    """The run's typed progress (its row counts are the same as the summary's)."""

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict (``courier run --json``)."""
        data = asdict(self)
        start, end = _stored_bounds(self.window)
        data["window"] = {"kind": self.window.kind, "start": start, "end": end}
        if self.window.table is not None:
            data["window"]["table"] = self.window.table
        return data


RunListener = Callable[[RunEvent | RunProgress], None]


def overall_steps(
    run: RunSummary, children: list[RunSummary] | None = None, in_flight: RunProgress | None = None
) -> tuple[float, float] | None:
    """``(done, total)`` of a run's whole work, or ``None`` while it is still planning.

    A courier run counts files landed and loaded (:meth:`Progress.steps`); a group
    run counts its couriers, the running one by its own share done. ``in_flight``
    is the row progress of a file being loaded in this process, for any of the runs.
    """

    def loading(item: RunSummary) -> float | None:
        return in_flight.loads_done if in_flight is not None and in_flight.run_id == item.id else None

    progress = run.progress
    if run.kind == "group":
        if not progress.units_planned:
            return None
        share = 0.0
        for child in children or ():
            if not RunStatus(child.status).is_final:
                done, total = child.progress.steps(loading(child))
                share = max(share, done / total if total else 0.0)
        return min(progress.units_done + share, float(progress.units_planned)), float(progress.units_planned)
    if not progress.planned:
        return None
    done, total = progress.steps(loading(run))
    return (done, total) if total else None


STOP_CHECK_SECONDS = 0.2
"""How often a run looks for another process's stop flag (a file stat) while it loads."""


def landing_root(db_path: Path) -> Path:
    """Where landed files are cached: a directory beside the database (:func:`core.store.landing_dir`)."""
    return landing_dir(db_path)


def stop_flag(db_path: Path, run_id: int) -> Path:
    """The file whose existence asks run ``run_id`` to stop (seen by any process using the database)."""
    return landing_root(db_path) / ".stop" / str(run_id)


def request_stop(db_path: Path, run_id: int) -> None:
    """Ask a run (in any process using this database) to stop; it rolls back its current file.

    The run is marked Stopping at once when the database is free; while the runner holds
    a load transaction it marks itself Stopping when it sees the request.
    """
    flag = stop_flag(db_path, run_id)
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()
    try:
        conn = sqlite3.connect(db_path, timeout=0.2, isolation_level=None)
        try:
            conn.execute(
                "UPDATE runs SET status = ? WHERE id = ? AND status = ?",
                (RunStatus.STOPPING, run_id, RunStatus.RUNNING),
            )
        finally:
            conn.close()
    except sqlite3.Error:
        pass  # Busy: the runner writes Stopping itself when it notices the flag.


def stop_requested(db_path: Path, run_id: int) -> bool:
    """True once :func:`request_stop` was called for the run."""
    return stop_flag(db_path, run_id).exists()


class RunLog:
    """Writes a run's events and counts; buffers events while a load transaction is open."""

    def __init__(self, store: Store, run_id: int, listener: RunListener | None, stop: threading.Event | None) -> None:
        self.store = store
        self.run_id = run_id
        self.listener = listener
        self.stop = stop
        self.pending: list[tuple[str, str, str, str | None, str, bool]] = []
        self.started = time.monotonic()
        self.warnings: list[str] = []
        self._last_stop_check = 0.0
        self._stop_seen = False
        self.tally = Progress(phase=RunPhase.PLANNING)
        """The run's progress as this process knows it; written with the next flush or commit."""
        self._tally_dirty = True

    def event(self, stage: str, message: str, level: str = EventLevel.INFO, file: str | None = None) -> None:
        """Record one event (committed at once unless a load transaction is open)."""
        at = utc_now()
        if level == EventLevel.WARNING:
            self.warnings.append(message)
        in_transaction = self.store.in_transaction
        # Inside a load transaction the row waits for the commit, but the listener hears it now.
        self.pending.append((stage, message, level, file, at, in_transaction))
        if in_transaction:
            if self.listener:
                self.listener(RunEvent(0, self.run_id, at, level, stage, message, file))
        else:
            self.flush()

    def flush(self) -> None:
        """Write buffered events and changed progress; a busy or full database keeps them for the next flush."""
        if not (self.pending or self._tally_dirty) or self.store.in_transaction:
            return
        pending, self.pending = self.pending, []
        written = []
        try:
            with self.store.atomic():
                self._write_tally()
                for stage, message, level, file, at, heard in pending:
                    cursor = self.store.execute(
                        "INSERT INTO run_events (run_id, at, level, stage, message, file) VALUES (?, ?, ?, ?, ?, ?)",
                        (self.run_id, at, level, stage, message, file),
                    )
                    if not heard:
                        written.append(
                            RunEvent(int(cursor.lastrowid or 0), self.run_id, at, level, stage, message, file)
                        )
        except CourierError:
            # A busy or full database keeps the events buffered for the next flush: the log must never
            # turn a failure into a different one (the unit's own write reports it).
            self.pending = pending + self.pending
            self._tally_dirty = True
            return
        if self.listener:
            for event in written:
                self.listener(event)

    def progress(self, label: str, index: int, total: int, done: int, rows: int | None, *, base: int = 0) -> None:
        """Note the file being loaded and pass its row progress to an in-process listener.

        ``index``/``total`` number the file among the ``total`` files of one load call; ``base`` is
        how many of the run's file loads finished before that call.
        """
        if self.tally.current_file != label:
            self.update(current_file=label)
        if self.listener:
            share = min(done / rows, 1.0) if rows else 0.0
            self.listener(RunProgress(self.run_id, label, index, total, done, rows, base + index - 1 + share))

    def update(self, **changes: Any) -> None:
        """Change the run's progress (:class:`Progress` fields); written with the next flush or commit."""
        self.tally = replace(self.tally, **changes)
        self._tally_dirty = True

    def _write_tally(self) -> None:
        if not self._tally_dirty:
            return
        tally = self.tally
        self.store.execute(
            f"UPDATE runs SET {', '.join(f'{name} = ?' for name in PROGRESS_COLUMNS)} WHERE id = ?",
            (*(getattr(tally, name) for name in PROGRESS_COLUMNS), self.run_id),
        )
        self._tally_dirty = False

    def should_stop(self) -> bool:
        """True when a stop was requested in this process or through the stop flag."""
        if self._stop_seen or (self.stop is not None and self.stop.is_set()):
            self._stop_seen = True
            return True
        now = time.monotonic()
        if now - self._last_stop_check >= STOP_CHECK_SECONDS:
            self._last_stop_check = now
            self._stop_seen = stop_requested(self.store.path, self.run_id)
        return self._stop_seen

    def counts(self, counts: LoadCounts) -> None:
        """Store the run's running counts and progress (inside the caller's transaction, if any)."""
        self.update(
            rows_read=counts.rows_read,
            rows_inserted=counts.rows_inserted,
            rows_updated=counts.rows_updated,
            rows_rejected=counts.rows_rejected,
        )
        self.store.execute(
            "UPDATE runs SET files = ?, rows_read = ?, rows_inserted = ?, rows_updated = ?, rows_rejected = ? "
            "WHERE id = ?",
            (
                counts.files,
                counts.rows_read,
                counts.rows_inserted,
                counts.rows_updated,
                counts.rows_rejected,
                self.run_id,
            ),
        )
        self._write_tally()

    def elapsed_text(self) -> str:
        """``N minutes N seconds`` since the run started."""
        return duration_text(time.monotonic() - self.started)


def reconcile_stale_runs(store: Store) -> int:
    """Mark runs whose process died as Failed; returns how many were fixed."""
    fixed = 0
    for row in store.query("SELECT id, pid FROM runs WHERE status IN (?, ?)", ACTIVE_STATUSES):
        if row["pid"] and not pid_alive(int(row["pid"])):
            store.execute(
                "UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE id = ? AND status IN (?, ?)",
                (
                    RunStatus.FAILED,
                    utc_now(),
                    f"Interrupted: the process running it (pid {row['pid']}) ended; "
                    "nothing half-loaded was kept, run it again to resume",
                    row["id"],
                    *ACTIVE_STATUSES,
                ),
            )
            fixed += 1
    return fixed


def create_run(store: Store, kind: str, target: str, trigger: str, window: RunWindow, parent_id: int | None) -> int:
    """Insert a Running ``runs`` row for this process and return its ID.

    Raises:
        CourierError: the same courier or group already has a run going (after dead runs are reconciled).
    """
    with store.atomic():
        reconcile_stale_runs(store)
        busy = store.query(
            "SELECT id, pid FROM runs WHERE kind = ? AND target = ? AND status IN (?, ?)",
            (kind, target, *ACTIVE_STATUSES),
        )
        if busy:
            raise CourierError(
                f'{kind.capitalize()} "{target}" is already running (run {busy[0]["id"]}, '
                f"pid {busy[0]['pid']}); wait for it to finish or stop it"
            )
        cursor = store.execute(
            "INSERT INTO runs (kind, target, parent_id, trigger, window_kind, window_start, window_end, window_table, "
            "status, started_at, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                target,
                parent_id,
                trigger,
                window.kind,
                *_stored_bounds(window),
                window.table,
                RunStatus.RUNNING,
                utc_now(),
                os.getpid(),
            ),
        )
    return int(cursor.lastrowid or 0)


def mark_stopping(store: Store, run_id: int) -> None:
    """Show the run as Stopping while it rolls back (skipped when the database is busy or full)."""
    try:
        store.execute("UPDATE runs SET status = ? WHERE id = ?", (RunStatus.STOPPING, run_id))
    except CourierError:
        pass  # the final status written by close_run is what matters


def finish_run(store: Store, run_id: int, status: str, message: str | None) -> None:
    """Give the run its final status, end time and message; its phase becomes ``ended``."""
    store.execute(
        "UPDATE runs SET status = ?, finished_at = ?, message = ?, phase = ? WHERE id = ?",
        (status, utc_now(), message, RunPhase.ENDED, run_id),
    )


LATE_STOP_MESSAGE = "The run finished before the stop took effect; everything it loaded is kept"


def close_run(store: Store, db_path: Path, log: RunLog, status: str, message: str | None) -> None:
    """Write the last events and the final status; never leave the run Running, never hide a late stop.

    The final status and the check for a stop that arrived while the last unit
    committed happen in one transaction: :func:`request_stop` either ran before
    it (its flag is seen and the log says the run finished first) or after it
    (it finds the run final and changes nothing). On a full or busy database the
    bare status update is tried alone; if even that fails, :func:`reconcile_stale_runs`
    marks the run Failed once this process has ended.
    """
    log.flush()
    late: RunEvent | None = None
    try:
        with store.atomic():
            if status in (RunStatus.SUCCEEDED, RunStatus.WARNING) and (
                stop_requested(db_path, log.run_id) or (log.stop is not None and log.stop.is_set())
            ):
                at = utc_now()
                cursor = store.execute(
                    "INSERT INTO run_events (run_id, at, level, stage, message) VALUES (?, ?, ?, 'Completed', ?)",
                    (log.run_id, at, EventLevel.WARNING, LATE_STOP_MESSAGE),
                )
                late = RunEvent(
                    int(cursor.lastrowid or 0), log.run_id, at, EventLevel.WARNING, "Completed", LATE_STOP_MESSAGE
                )
            finish_run(store, log.run_id, status, message)
    except CourierError:
        try:
            finish_run(store, log.run_id, status, message)
        except CourierError:
            pass
    if late is not None and log.listener:
        log.listener(late)
    stop_flag(db_path, log.run_id).unlink(missing_ok=True)


def _stored_bounds(window: RunWindow) -> tuple[str | None, str | None]:
    """A window's start and end as stored: ISO days, or ISO instants for an ``hours`` window."""
    if window.start_at is not None and window.end_at is not None:
        return window.start_at.isoformat(), window.end_at.isoformat()
    return (window.start.isoformat() if window.start else None, window.end.isoformat() if window.end else None)


def _stored_window(row: Any) -> RunWindow:
    kind = WindowKind(row["window_kind"])
    if kind == WindowKind.HOURS:
        return RunWindow.hours(datetime.fromisoformat(row["window_start"]), datetime.fromisoformat(row["window_end"]))
    start = date.fromisoformat(row["window_start"]) if row["window_start"] else None
    end = date.fromisoformat(row["window_end"]) if row["window_end"] else None
    return RunWindow(kind, start, end, row["window_table"])


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        id=row["id"],
        kind=row["kind"],
        target=row["target"],
        trigger=row["trigger"],
        window=_stored_window(row),
        status=RunStatus(row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        files=row["files"],
        rows_read=row["rows_read"],
        rows_inserted=row["rows_inserted"],
        rows_updated=row["rows_updated"],
        rows_rejected=row["rows_rejected"],
        message=row["message"],
        parent_id=row["parent_id"],
        pid=row["pid"],
        progress=Progress(
            **{name: row[name] for name in PROGRESS_COLUMNS},
            rows_read=row["rows_read"],
            rows_inserted=row["rows_inserted"],
            rows_updated=row["rows_updated"],
            rows_rejected=row["rows_rejected"],
        ),
    )


def get_run(store: Store, run_id: int) -> RunSummary:
    """One run by ID.

    Raises:
        NotFoundError: there is no such run.
    """
    rows = store.query("SELECT * FROM runs WHERE id = ?", (run_id,))
    if not rows:
        raise NotFoundError(f"There is no run {run_id} (see courier runs)")
    return _summary(rows[0])


def list_runs(
    store: Store,
    *,
    status: str | None = None,
    target: str | None = None,
    kind: str | None = None,
    parent_id: int | None = None,
    limit: int = 200,
) -> list[RunSummary]:
    """Runs newest first, optionally filtered (``parent_id`` gives a group run's courier runs)."""
    where, params = where_equals({"status": status, "target": target, "kind": kind, "parent_id": parent_id})
    rows = store.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [_summary(row) for row in rows]


def last_run(store: Store, kind: str, target: str) -> RunSummary | None:
    """The newest run of a courier or group."""
    runs = list_runs(store, kind=kind, target=target, limit=1)
    return runs[0] if runs else None


def run_events(store: Store, run_id: int, after_id: int = 0) -> list[RunEvent]:
    """A run's events after ``after_id``, oldest first."""
    return [
        RunEvent(row["id"], row["run_id"], row["at"], row["level"], row["stage"], row["message"], row["file"])
        for row in store.query("SELECT * FROM run_events WHERE run_id = ? AND id > ? ORDER BY id", (run_id, after_id))
    ]
