"""The scheduler: fires due courier groups, in the foreground, for systemd, tmux, nohup or system cron.

* One scheduler per database: an exclusive ``flock`` on ``<db>.scheduler.lock``
  (beside the database) holding the scheduler's PID. A second one is refused
  with a message naming that PID. The lock dies with the process, so a crash
  never leaves a stale lock.
* Per group, ``schedule_state`` keeps the last slot handled. A group is due when
  its latest slot at or before now is later than that. Slots missed while the
  scheduler was down run **once** on start (the latest one), and its file
  windows reach back to the last slot that did run, so no day is skipped. A group
  the scheduler has not seen before (or whose cron or zone changed) starts from
  now minus a minute: old slots are not back-filled, but a ``--once`` started by
  system cron in the slot's minute still fires it.
* The slot is recorded before its run starts, so it fires at most once even if
  the process dies. A run stopped because the scheduler itself is stopping
  (SIGTERM) hands its slot back, so it runs again when the scheduler restarts.
* Due groups run one after another, a group named in another's ``run after``
  first. Everything is written to the database, so the TUI and ``courier runs
  --follow`` can watch from any SSH session.
* The configuration is re-read at every wake-up (at least every 30 s), so edits
  apply without a restart.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.errors import CourierError
from core.models import CourierGroup, Project
from core.run_records import RunSummary
from core.schedule import latest_run, previous_run, runs_between, upcoming_runs, validate_cron, validate_timezone
from core.store import Store, utc_now

FIRST_SIGHT_GRACE = timedelta(seconds=60)
IDLE_SECONDS = 30.0
FAKE_NOW_ENV = "COURIER_FAKE_NOW"
"""Tests (and dry runs) start the scheduler's clock at this ISO instant; it then advances in real time."""

Now = Callable[[], datetime]
Log = Callable[[str], None]


class SchedulerBusy(CourierError):
    """Another scheduler holds this database's lock."""


def lock_path(db_path: Path | str) -> Path:
    """The lock file beside the database."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".scheduler.lock")


class SchedulerLock:
    """An exclusive, process-lifetime lock on a database's scheduler, holding the owner's PID."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = Path(db_path)
        self.path = lock_path(self.db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`SchedulerBusy` naming the holder's PID."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise SchedulerBusy(
                f"another scheduler (pid {pid or 'unknown'}) is already running for {self.db_path}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays: deleting lock files races with the next owner)."""
        import fcntl

        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    for _ in range(20):  # the holder may be between flock and writing its PID
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    return None


# --- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotState:
    """The last slot the scheduler handled for a group."""

    group: str
    schedule: str
    timezone: str
    last_slot: datetime
    last_run_id: int | None


def read_state(store: Store) -> dict[str, SlotState]:
    """Every group's scheduler state."""
    return {
        row["group_name"]: SlotState(
            row["group_name"], row["schedule"], row["timezone"], _parse_instant(row["last_slot"]), row["last_run_id"]
        )
        for row in store.query("SELECT * FROM schedule_state")
    }


def record_slot(store: Store, group: CourierGroup, slot: datetime, run_id: int | None = None) -> None:
    """Remember ``slot`` as the last one handled for ``group``."""
    store.execute(
        "INSERT INTO schedule_state (group_name, schedule, timezone, last_slot, last_run_id, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(group_name) DO UPDATE SET schedule = excluded.schedule, "
        "timezone = excluded.timezone, last_slot = excluded.last_slot, last_run_id = excluded.last_run_id, "
        "updated_at = excluded.updated_at",
        (group.name, group.schedule or "", group.timezone, _instant_text(slot), run_id, utc_now()),
    )


def _instant_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- what is due -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRun:
    """A group whose slot has come."""

    group: CourierGroup
    slot: datetime
    """The latest slot at or before now, aware in the group's zone."""
    since: datetime | None
    """The last slot that ran, when slots were missed since (the run's windows reach back to it)."""
    missed: int
    """Slots that passed since the last one handled, this one included."""


def scheduled_groups(project: Project) -> list[CourierGroup]:
    """Enabled groups with a valid schedule."""
    return [
        group
        for group in project.groups.values()
        if group.enabled
        and group.schedule
        and not validate_cron(group.schedule)
        and not validate_timezone(group.timezone)
    ]


def due_groups(store: Store, project: Project, now: datetime) -> list[DueRun]:
    """Groups due at ``now``, upstream groups (``run after``) first; starts tracking groups seen for the first time."""
    state = read_state(store)
    due: list[DueRun] = []
    for group in scheduled_groups(project):
        assert group.schedule is not None
        current = state.get(group.name)
        first_sight = current is None or current.schedule != group.schedule or current.timezone != group.timezone
        last = now - FIRST_SIGHT_GRACE if first_sight else current.last_slot  # type: ignore[union-attr]
        if first_sight:
            record_slot(store, group, last)
        latest = latest_run(group.schedule, group.timezone, now)
        if latest is None or latest <= last:
            continue
        missed = len(runs_between(group.schedule, group.timezone, last, now))
        before = previous_run(group.schedule, group.timezone, latest)
        since = last if not first_sight and before is not None and last < before else None
        due.append(DueRun(group, latest, since, max(1, missed)))
    return _upstream_first(due)


def _upstream_first(due: list[DueRun]) -> list[DueRun]:
    ordered: list[DueRun] = []
    pending = list(due)
    while pending:
        names = {item.group.name for item in pending}
        ready = [item for item in pending if item.group.run_after not in names]
        if not ready:  # a cycle (validation forbids it); keep the configured order
            ready = pending[:1]
        for item in ready:
            ordered.append(item)
            pending.remove(item)
    return ordered


def next_wake(project: Project, now: datetime) -> datetime | None:
    """The earliest upcoming slot of any scheduled group."""
    soonest: datetime | None = None
    for group in scheduled_groups(project):
        assert group.schedule is not None
        for slot in upcoming_runs(group.schedule, group.timezone, now, 3):
            if slot.at_utc is not None:
                # Compared in UTC: two times in one zone compare by wall clock, ignoring the autumn fold.
                if soonest is None or slot.at_utc < soonest:
                    soonest = slot.at_utc
                break
    return soonest


# --- firing ------------------------------------------------------------------------------------


def fire(
    db_path: Path | str, item: DueRun, now: datetime, *, stop: threading.Event, log: Log, **run_options: Any
) -> RunSummary | None:
    """Run one due group for its slot, recording the slot first; ``None`` when the run could not start."""
    from core.groups import run_group

    db_path = Path(db_path)
    group = item.group
    with Store(db_path) as store:
        previous = read_state(store).get(group.name)
        record_slot(store, group, item.slot)
    utc = item.slot.astimezone(timezone.utc)
    missed = (
        f" ({item.missed} slots passed while the scheduler was not running; running once)" if item.missed > 1 else ""
    )
    log(f'Running courier group "{group.name}" for its {item.slot:%a %Y-%m-%d %H:%M %Z} slot ({utc:%H:%M} UTC){missed}')
    try:
        summary = run_group(
            db_path,
            group.name,
            None,
            trigger="schedule",
            now=now,
            scheduled_at=item.slot,
            since=item.since,
            stop=stop,
            **run_options,
        )
    except CourierError as error:
        log(f'Courier group "{group.name}" did not run: {error}')
        return None
    with Store(db_path) as store:
        if summary.status == "Stopped" and stop.is_set():
            # Stopped because the scheduler is stopping: run this slot again on the next start.
            if previous is not None:
                record_slot(store, group, previous.last_slot, previous.last_run_id)
            else:
                store.execute("DELETE FROM schedule_state WHERE group_name = ?", (group.name,))
            log(
                f'Courier group "{group.name}" run {summary.id} Stopped; its slot runs again when the scheduler '
                "restarts"
            )
        else:
            record_slot(store, group, item.slot, summary.id)
            log(
                f'Courier group "{group.name}" run {summary.id} {summary.status}'
                + (f": {summary.message.splitlines()[0]}" if summary.message else "")
            )
    return summary


def run_due(
    db_path: Path | str,
    now: datetime,
    *,
    stop: threading.Event | None = None,
    log: Log | None = None,
    **run_options: Any,
) -> list[RunSummary]:
    """Run every group due at ``now`` once, in order; returns their runs."""
    from core.project import load_project

    stop = stop or threading.Event()
    log = log or (lambda message: None)
    with Store(db_path) as store:
        due = due_groups(store, load_project(store), now)
    results = []
    for item in due:
        if stop.is_set():
            break
        summary = fire(db_path, item, now, stop=stop, log=log, **run_options)
        if summary is not None:
            results.append(summary)
    return results


def real_clock() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(timezone.utc)


def file_clock(path: Path | str) -> Now:
    """A clock that reads an ISO instant from ``path`` at every call (tests move it by rewriting the file).

    Raises:
        CourierError: the file is missing or does not hold an ISO 8601 instant.
    """
    path = Path(path)

    def now() -> datetime:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CourierError(f"cannot read the clock file {path}: {error.strerror or error}") from None
        return parse_now(text)

    return now


def offset_clock(start: datetime) -> Now:
    """A clock that starts at ``start`` and advances in real time (for tests and rehearsals)."""
    base = time.monotonic()
    start = start.astimezone(timezone.utc)
    return lambda: start + timedelta(seconds=time.monotonic() - base)


def parse_now(text: str) -> datetime:
    """An ISO 8601 instant for a fake clock (``Z`` or an offset; naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CourierError(f'"{text}" is not an ISO 8601 time, e.g. 2027-03-14T16:29:58Z') from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run_scheduler(
    db_path: Path | str,
    *,
    once: bool = False,
    clock: Now | None = None,
    stop: threading.Event | None = None,
    log: Log | None = None,
    idle: float = IDLE_SECONDS,
    notes: Callable[[], list[str]] | None = None,
    **run_options: Any,
) -> int:
    """Run due groups until ``stop`` is set (or once, with ``once``); returns how many group runs it started.

    ``notes`` returns messages gathered outside the loop since its last call (the CLI's
    SIGHUP handler leaves one there: printing from a signal handler could land in the
    middle of another print); they are logged at the next wake-up.

    Raises:
        SchedulerBusy: another scheduler holds the database's lock.
    """
    from core.project import load_project
    from core.runs import reconcile_stale_runs

    db_path = Path(db_path)
    clock = clock or real_clock
    stop = stop or threading.Event()
    say = log or (lambda message: None)

    def stamp(message: str) -> None:
        say(f"{clock():%Y-%m-%d %H:%M:%S}Z {message}")

    started = 0
    with SchedulerLock(db_path):
        with Store(db_path) as store:
            fixed = reconcile_stale_runs(store)
            groups = scheduled_groups(load_project(store))
        stamp(
            f"Scheduler {'checking once' if once else 'started'} for {db_path} (pid {os.getpid()}): "
            f"{len(groups)} enabled scheduled group{'s' if len(groups) != 1 else ''}"
            + (f"; {fixed} interrupted run{'s' if fixed != 1 else ''} marked Failed" if fixed else "")
        )
        while not stop.is_set():
            for note in notes() if notes else []:
                stamp(note)
            started += len(run_due(db_path, clock(), stop=stop, log=stamp, **run_options))
            if once or stop.is_set():
                break
            with Store(db_path) as store:
                project = load_project(store)
            now = clock()
            wake = next_wake(project, now)
            delay = idle if wake is None else min(idle, max(0.05, (wake - now).total_seconds()))
            stop.wait(delay)
        stamp(
            "Scheduler stopped"
            if not once
            else f"Scheduler checked: {started} group run{'s' if started != 1 else ''} started"
        )
    return started


# --- status and service unit -------------------------------------------------------------------


@dataclass(frozen=True)
class NextDue:
    """The soonest upcoming slot of any enabled scheduled group."""

    group: str
    slot: datetime
    """Aware, in the group's zone."""
    slot_utc: datetime


@dataclass(frozen=True)
class SchedulerStatus:
    """Whether a scheduler holds a database's lock, and what it will run next."""

    running: bool
    pid: int | None
    """The running scheduler's process ID (from the lock file), when one runs."""
    lock: Path
    """The lock file beside the database (it holds the PID)."""
    scheduled: int
    """Enabled groups with a valid schedule."""
    next_due: NextDue | None


def next_due(project: Project, now: datetime) -> NextDue | None:
    """The group whose next slot after ``now`` comes first (ties: the first name); ``None`` with no schedule."""
    best: NextDue | None = None
    for group in sorted(scheduled_groups(project), key=lambda group: group.name):
        assert group.schedule is not None
        for slot in upcoming_runs(group.schedule, group.timezone, now, 3):
            if slot.at is not None and slot.at_utc is not None:
                if best is None or slot.at_utc < best.slot_utc:
                    best = NextDue(group.name, slot.at, slot.at_utc)
                break
    return best


def lock_holder(db_path: Path | str) -> int | None:
    """The PID of the scheduler holding ``db_path``'s lock, or ``None`` when none does.

    Probes with a shared, non-blocking ``flock``: it fails only while a scheduler
    holds the exclusive lock, so a PID left in the file by a killed process is not
    mistaken for a running one. (A scheduler starting in the same instant as the
    probe is refused once; starting it again works.)
    """
    import fcntl

    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def scheduler_status(db_path: Path | str, now: datetime) -> SchedulerStatus:
    """Whether a scheduler runs for ``db_path`` (its PID) and the next group due after ``now``."""
    from core.project import load_project

    with Store(db_path) as store:
        project = load_project(store)
    pid = lock_holder(db_path)
    return SchedulerStatus(
        pid is not None, pid or None, lock_path(db_path), len(scheduled_groups(project)), next_due(project, now)
    )


def systemd_unit(db_path: Path | str, program: list[str]) -> str:
    """A systemd **user** unit running ``program --db DB scheduler``, with how to install it as comments.

    ``program`` is the command that starts Courier (the installed ``courier`` script, or
    the interpreter with ``-m tui.cli``). SIGTERM stops the scheduler cleanly (the file
    being loaded rolls back and the slot runs again on the next start), so that is the
    unit's stop signal; without ``loginctl enable-linger`` systemd stops user units when
    the user's last session closes.
    """
    import shlex

    db_path = Path(db_path).expanduser().resolve()
    command = " ".join(shlex.quote(part) for part in [*program, "--db", str(db_path), "scheduler"])
    # systemd expands % specifiers in ExecStart and WorkingDirectory; a literal % is written %%.
    command = command.replace("%", "%%")
    return "\n".join(
        [
            "# Courier scheduler as a systemd user service. Install it with:",
            "#   mkdir -p ~/.config/systemd/user",
            "#   courier scheduler unit > ~/.config/systemd/user/courier-scheduler.service",
            "#   systemctl --user daemon-reload",
            "#   systemctl --user enable --now courier-scheduler",
            "#   loginctl enable-linger $USER   # keep it running after you log out (once per user)",
            "# Its output: journalctl --user -u courier-scheduler -f;  is it running: courier scheduler status",
            "[Unit]",
            "Description=Courier scheduler for " + str(db_path).replace("%", "%%"),
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            "WorkingDirectory=" + str(db_path.parent).replace("%", "%%"),
            f"ExecStart={command}",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=120",
            "Restart=on-failure",
            "RestartSec=30",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )
