"""Courier group runs: couriers run as one unit, with wait times, missing-data rules and a constraint.

A group run is a ``runs`` row of kind ``group`` with its own window, status and
events; each courier runs as a child run (``parent_id``), in the group's order.
Its events use Amperity's stage names: ``Courier group run request``, the
sensors that wait for source data (``Courier sensor created``, ``Sensor
running``, ``Sensor completed``, ``Courier sensor process completed``),
``Courier batch started``, ``Courier run request`` / ``Courier job completed``
per courier, ``Courier batch completed``, ``Courier process completed`` and
``Completed in N minutes N seconds``.

Decisions (Amperity's docs leave them open):

* Wait time counts from the group run's start in real elapsed time (UTC), so a
  group's total wait is its longest courier wait, not the sum. The data is
  polled every ``min(60 s, wait / 10)`` (at least 1 s) until it is there or
  the wait runs out; a wait of 0 checks once.
* When a courier's data is still missing: ``stop when missing`` ends the group
  Failed and runs nothing further; otherwise the courier is skipped (its files
  are not there to load) and the group goes on, ending Warning when ``notify
  when missing`` is on.
* A courier run that fails ends the group Failed; the couriers after it do not
  run (Amperity: "the workflow stopped"). A stop request ends it Stopped.
* The group's status is the worst of its parts: Failed > Stopped > Warning > Succeeded.
* Constraint (``run after``): the other group's newest run whose window covers
  this run's window (the same days; "all data" only matches "all data") must
  have ended Succeeded **or Warning** — Warning means its loads committed with
  an alert, which is what "notify when missing" asks for; ``stop when missing``
  is how a group blocks the groups that run after it. If that run is still
  going, the group waits for it. Otherwise the group run ends Failed with a
  ``Constraint not met`` event and runs no courier.
* Offsets apply to manual runs too, as the seed says ("An offset affects couriers in
  a courier group whether or not they run on a schedule"): a manual run for input
  day D gives a courier with offset 1d the file dated D − 1; "all data" has no offset.
  Scheduled runs give each courier its own file window (its offset applied) from
  the slot. Either way the window is converted to the days whose 00:00 falls inside
  it, and the group's window is the span of those days.
* A constraint has its own offset (seed step 8, "for each courier group constraint,
  apply any offsets"): this group's window, moved back by it, must be covered by the
  upstream run. A daily upstream group with courier offset 1d (its 06-15 run loads
  06-14) and a downstream group with offset 0 (its 06-15 run loads 06-15) match
  with a constraint offset of 1d.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.models import Courier, CourierGroup, GroupCourier, Project
from core.planning import has_hourly_files
from core.run_records import (
    RunListener,
    RunLog,
    RunSummary,
    create_run,
    finish_run,
    get_run,
    list_runs,
    reconcile_stale_runs,
    stop_flag,
    stop_requested,
)
from core.runner import run_courier
from core.schedule import FileWindow, describe_days, file_window, latest_run, manual_file_window, previous_run
from core.store import Store, utc_now
from core.vocab import FINAL_STATUSES, RunKind, RunPhase
from core.windows import RunWindow

STATUS_RANK = {"Succeeded": 0, "Warning": 1, "Stopped": 2, "Failed": 3}
"""How bad a final status is; a group takes the worst of its parts."""
NOTIFY_TIMEOUT = 30.0
"""Seconds a notify command may run before it is killed."""
CONSTRAINT_POLL = 2.0

Sleep = Callable[[float], object]
Clock = Callable[[], float]


def worst_status(statuses: list[str]) -> str:
    """The worst of some final statuses (``Succeeded`` when there are none)."""
    return max(statuses, key=lambda status: STATUS_RANK.get(status, 3), default="Succeeded")


def poll_interval(wait_seconds: float) -> float:
    """How often a sensor checks for data during a wait: ``min(60 s, wait / 10)``, at least 1 s."""
    return max(1.0, min(60.0, wait_seconds / 10))


@dataclass
class CourierPlan:
    """One courier of a group run: its row in the group and the window it runs for."""

    member: GroupCourier
    window: RunWindow
    file_window: FileWindow | None = None
    """The file window with the courier's offset applied (scheduled, or ``manual``); ``None`` for all data."""


@dataclass
class GroupPlan:
    """What a group run covers."""

    group: CourierGroup
    window: RunWindow
    couriers: list[CourierPlan]
    scheduled_at: datetime | None = None


def plan_group_run(
    group: CourierGroup,
    window: RunWindow | None,
    *,
    now: datetime | None = None,
    scheduled_at: datetime | None = None,
    since: datetime | None = None,
) -> GroupPlan:
    """The windows of a group run.

    Args:
        group: The group.
        window: A manual window: its input days, each courier's offset applied (see
            :func:`core.schedule.manual_file_window`); ``None`` for a scheduled run.
        now: For a scheduled run without ``scheduled_at``: the run covers the latest slot at or before it.
        scheduled_at: The slot T of a scheduled run.
        since: The last slot the scheduler fired, when slots were missed since (the windows reach back to it).

    Raises:
        CourierError: a scheduled run of a group with no schedule, or a slot that never happened.
    """
    from core.config import parse_duration

    if window is not None:
        if window.kind == "all" or window.start is None or window.end is None:
            return GroupPlan(group, window, [CourierPlan(member, window) for member in group.couriers])
        plans = []
        for member in group.couriers:
            files = manual_file_window(window.start, window.end, parse_duration(member.offset))
            plans.append(CourierPlan(member, files.run_window() if files.days else window, files))
        return GroupPlan(group, _span(plans) or window, plans)
    if not group.schedule:
        raise CourierError(
            f'Courier group "{group.name}" has no schedule: choose a day (--day), a period '
            "(--from/--to) or all data (--all)"
        )
    if scheduled_at is None:
        scheduled_at = latest_run(group.schedule, group.timezone, now or datetime.now().astimezone())
        if scheduled_at is None:
            raise CourierError(f'Courier group "{group.name}" has never been due on "{group.schedule}"')
    previous = previous_run(group.schedule, group.timezone, scheduled_at)
    plans = []
    for member in group.couriers:
        files = file_window(
            scheduled_at,
            parse_duration(member.offset),
            timezone=group.timezone,
            in_zone=group.file_dates_in_zone,
            previous=previous,
            since=since,
        )
        plans.append(CourierPlan(member, files.run_window(), files))
    span = _span(plans)
    assert span is not None
    return GroupPlan(group, span, plans, scheduled_at)


def _span(plans: list[CourierPlan]) -> RunWindow | None:
    """The days every courier's file window covers together, as one window (``None`` when none has a day)."""
    days = [day for plan in plans if plan.file_window is not None for day in plan.file_window.days]
    if not days:
        return None
    first, last = min(days), max(days)
    return RunWindow.day(first) if first == last else RunWindow.period(first, last + timedelta(days=1))


# --- sensors: is the data there? ----------------------------------------------------------------


def check_source_data(store: Store, project: Project, courier: Courier, window: RunWindow) -> tuple[bool, str]:
    """Whether a courier's data is in the bucket for a window, and what was found or is missing.

    file-pattern: every required file of the window exists. heap-connect: a Heap
    dump newer than the courier's table cursors (any dump when nothing was loaded yet).
    """
    from core.s3 import S3Source

    credential = project.credentials.get(courier.credential)
    if credential is None:
        raise CourierError(f'Courier "{courier.name}" uses the credential "{courier.credential}", which does not exist')
    source = S3Source(credential, courier.bucket, courier.prefix)
    if courier.layout == "heap-connect":
        from core.heap import list_manifests

        manifests = list_manifests(source)
        row = store.query("SELECT MAX(dump_id) AS dump FROM cursors WHERE courier = ?", (courier.name,))
        loaded = row[0]["dump"] if row and row[0]["dump"] is not None else None
        newer = [m.dump_id for m in manifests if loaded is None or m.dump_id > loaded]
        if newer:
            return True, f"Heap dump sync_{newer[-1]} is ready" + (f" (loaded up to sync_{loaded})" if loaded else "")
        if not manifests:
            return False, f"no Heap manifest under s3://{courier.bucket}/{courier.prefix}manifests/ yet"
        return False, f"no Heap dump newer than sync_{loaded} (the last one loaded)"
    from core.runs import find_source_files

    found = find_source_files(courier, source, window)
    if found.missing:
        more = f" and {len(found.missing) - 1} more" if len(found.missing) > 1 else ""
        return False, f"missing {found.missing[0]}{more} for {window.describe()}"
    return True, f"{len(found.files)} file{'s' if len(found.files) != 1 else ''} for {window.describe()}"


class _Stopped(Exception):
    pass


@dataclass
class _Context:
    store: Store
    db_path: Path
    log: RunLog
    stop: threading.Event
    sleep: Sleep
    clock: Clock
    started: float
    interval: float | None
    listener: RunListener | None
    parallel: bool | None
    children: list[RunSummary] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def pause(self, seconds: float) -> None:
        if self.stop.is_set():
            raise _Stopped()
        self.sleep(max(0.0, seconds))
        if self.stop.is_set():
            raise _Stopped()


def _wait_for_data(ctx: _Context, project: Project, courier: Courier, plan: CourierPlan) -> tuple[bool, str]:
    from core.config import parse_duration

    wait = parse_duration(plan.member.wait)
    deadline = ctx.started + wait
    interval = ctx.interval if ctx.interval is not None else poll_interval(wait)
    ctx.log.event(
        "Courier sensor created",
        f"{courier.name}: "
        + (f"waiting up to {plan.member.wait} for " if wait else "checking once (no wait time) for ")
        + ("a new Heap dump" if courier.layout == "heap-connect" else "its files")
        + ("" if courier.layout == "heap-connect" else f" ({plan.window.describe()})"),
    )
    polls, last_detail = 0, ""
    while True:
        if ctx.stop.is_set():
            raise _Stopped()
        polls += 1
        try:
            present, detail = check_source_data(ctx.store, project, courier, plan.window)
        except CourierError as error:
            present, detail = False, str(error)
        if present:
            waited = ctx.clock() - ctx.started
            ctx.log.event(
                "Sensor completed",
                f"{courier.name}: {detail}" + (f" (after {_seconds_text(waited)})" if polls > 1 else ""),
            )
            return True, detail
        remaining = deadline - ctx.clock()
        if remaining <= 0:
            ctx.log.event(
                "Sensor completed",
                f"{courier.name}: still {detail}"
                + (f" after waiting {plan.member.wait}" if wait else " (no wait time)"),
                "warning",
            )
            return False, detail
        if detail != last_detail or polls % 10 == 0:
            ctx.log.event(
                "Sensor running",
                f"{courier.name}: {detail}; checking again every "
                f"{_seconds_text(interval)} for {_seconds_text(remaining)} more",
            )
            last_detail = detail
        ctx.pause(min(interval, remaining))


def _seconds_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# --- the constraint -----------------------------------------------------------------------------


def _covers(upper: RunWindow, lower: RunWindow, offset_seconds: int = 0) -> bool:
    """Whether ``upper`` covers ``lower`` moved back by ``offset_seconds`` (a day counts from its 00:00)."""
    if upper.kind == "all" or lower.kind == "all":
        return upper.kind == lower.kind
    upper_bounds, lower_bounds = upper.bounds(), lower.bounds()
    if upper_bounds is None or lower_bounds is None:
        return False
    shift = timedelta(seconds=offset_seconds)
    return upper_bounds[0] <= lower_bounds[0] - shift and upper_bounds[1] >= lower_bounds[1] - shift


def constraint_window(window: RunWindow, offset_seconds: int) -> RunWindow:
    """The upstream window a constraint with ``offset_seconds`` asks for: ``window`` moved back, whole days kept.

    A part day is widened to the whole day (an upstream run covers days), e.g. 2027-06-15 with 13h → 2027-06-14
    to 2027-06-16.
    """
    bounds = window.bounds()
    if window.kind == "all" or bounds is None or not offset_seconds:
        return window
    shift = timedelta(seconds=offset_seconds)
    start, end = bounds[0] - shift, bounds[1] - shift
    first = start.date()
    last = end.date() if end.time() == datetime.min.time() else end.date() + timedelta(days=1)
    return RunWindow.day(first) if last - first == timedelta(days=1) else RunWindow.period(first, last)


def constraint_run(store: Store, upstream: str, window: RunWindow, offset_seconds: int = 0) -> RunSummary | None:
    """The newest run of group ``upstream`` whose window covers ``window`` moved back by the constraint's offset."""
    for run in list_runs(store, kind="group", target=upstream, limit=500):
        if _covers(run.window, window, offset_seconds):
            return run
    return None


def _check_constraint(ctx: _Context, group: CourierGroup, window: RunWindow) -> str | None:
    """``None`` when the group may run, else why not."""
    from core.config import parse_duration

    upstream = group.run_after
    if not upstream:
        return None
    offset = parse_duration(group.run_after_offset)
    wanted = constraint_window(window, offset)
    after = f" (this group's window moved back by the constraint's offset {group.run_after_offset})" if offset else ""
    announced = False
    while True:
        reconcile_stale_runs(ctx.store)
        run = constraint_run(ctx.store, upstream, window, offset)
        if run is None:
            return (
                f'Constraint not met: courier group "{upstream}" has no run for {wanted.describe()}{after}; '
                f'run "{upstream}" first'
            )
        if run.status in ("Succeeded", "Warning"):
            ctx.log.event(
                "Courier group run request",
                f'Constraint met: courier group "{upstream}" run {run.id} '
                f"{run.status} for {run.window.describe()}"
                + (f" (covers {wanted.describe()}, offset {group.run_after_offset})" if offset else ""),
            )
            return None
        if run.status in FINAL_STATUSES:
            return (
                f'Constraint not met: courier group "{upstream}" run {run.id} for {run.window.describe()} ended '
                f"{run.status}; it must succeed before this group runs"
            )
        if not announced:
            ctx.log.event(
                "Courier group run request",
                f'Waiting for courier group "{upstream}" (run {run.id}, {run.status}) to finish',
            )
            announced = True
        ctx.pause(CONSTRAINT_POLL)


# --- the group run ------------------------------------------------------------------------------


def run_group(
    db_path: Path | str,
    group_name: str,
    window: RunWindow | None = None,
    *,
    trigger: str = "manual",
    now: datetime | None = None,
    scheduled_at: datetime | None = None,
    since: datetime | None = None,
    stop: threading.Event | None = None,
    listener: RunListener | None = None,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
    poll_every: float | None = None,
    notify_timeout: float = NOTIFY_TIMEOUT,
    parallel: bool | None = None,
) -> RunSummary:
    """Run a courier group and return the group run's final summary.

    Args:
        db_path: The Courier database.
        group_name: The group.
        window: A manual window (every courier runs for exactly it), or ``None`` for a
            scheduled run (see :func:`plan_group_run`).
        trigger: ``manual`` or ``schedule``.
        now: The current time for a scheduled run without ``scheduled_at``.
        scheduled_at: The slot a scheduled run is for.
        since: The last slot fired before this one, when slots were missed.
        stop: Set to stop: the sensor wait ends at once, a running courier rolls back its
            current file, and the group ends Stopped. ``request_stop`` on the group run works too.
        listener: Receives the group's and its couriers' events.
        sleep: Waits between sensor polls (default: waits on the stop event).
        clock: Seconds, monotonic (default ``time.monotonic``); wait times are measured on it.
        poll_every: Seconds between sensor polls instead of ``min(60 s, wait / 10)``.
        notify_timeout: Seconds the group's notify command may run.
        parallel: Passed to each courier run.

    Failures never raise; they end the run Failed. Only an unknown group, a bad
    scheduled window or a group that is already running raise, before a run row exists.
    """
    from core.project import load_project

    db_path = Path(db_path)
    store = Store(db_path)
    try:
        project = load_project(store)
        group = project.groups.get(group_name)
        if group is None:
            known = ", ".join(sorted(project.groups)) or "none yet"
            raise NotFoundError(f'There is no courier group named "{group_name}" (groups: {known})')
        plan = plan_group_run(group, window, now=now, scheduled_at=scheduled_at, since=since)
        run_id = create_run(store, RunKind.GROUP, group.name, trigger, plan.window, None)
        inner = threading.Event()
        log = RunLog(store, run_id, listener, inner)
        relay_done = threading.Event()
        relay = threading.Thread(
            target=_relay_stop,
            args=(db_path, run_id, stop, inner, relay_done),
            daemon=True,
            name=f"group-{run_id}-stop",
        )
        relay.start()
        ctx = _Context(
            store=store,
            db_path=db_path,
            log=log,
            stop=inner,
            sleep=sleep or (lambda seconds: inner.wait(seconds)),
            clock=clock or time.monotonic,
            started=(clock or time.monotonic)(),
            interval=poll_every,
            listener=listener,
            parallel=parallel,
        )
        status, message = "Succeeded", None
        try:
            status, message = _run_body(ctx, project, plan, trigger)
        except _Stopped:
            status, message = "Stopped", "Stopped by request"
            log.event("Stopped", "Stop requested: the group run stopped", "warning")
        except Exception as error:  # noqa: BLE001 - a run must end with a status, whatever happened
            status, message = "Failed", f"Internal error: {type(error).__name__}: {error}"
            log.event("Failed", message, "error")
        finally:
            relay_done.set()
            try:
                _store_counts(store, run_id, ctx.children)
                log.event(
                    "Completed",
                    f"Completed in {log.elapsed_text()}",
                    "info" if status in ("Succeeded", "Warning") else "warning",
                )
                if group.notify_command:
                    _notify(ctx, group, run_id, status, message, notify_timeout)
            finally:
                log.flush()
                finish_run(store, run_id, status, message)
                stop_flag(db_path, run_id).unlink(missing_ok=True)
        return get_run(store, run_id)
    finally:
        store.close()


def _relay_stop(
    db_path: Path, run_id: int, outer: threading.Event | None, inner: threading.Event, done: threading.Event
) -> None:
    while not done.is_set():
        if (outer is not None and outer.is_set()) or stop_requested(db_path, run_id):
            inner.set()
            return
        done.wait(0.1)


def _run_body(ctx: _Context, project: Project, plan: GroupPlan, trigger: str) -> tuple[str, str | None]:
    group, log = plan.group, ctx.log
    names = ", ".join(member.courier for member in group.couriers)
    when = ""
    if plan.scheduled_at is not None:
        utc = plan.scheduled_at.astimezone(timezone.utc)
        when = f", scheduled for {plan.scheduled_at:%a %Y-%m-%d %H:%M %Z} ({utc:%H:%M} UTC)"
    log.event(
        "Courier group run request",
        f"Run courier group {group.name} ({trigger}{when}) for {plan.window.describe()}: {names}",
    )
    for item in plan.couriers:
        known = project.couriers.get(item.member.courier)
        if item.file_window is not None and known is not None and has_hourly_files(known):
            # Files named by the hour: the window's exact instants, not the days whose 00:00 it holds.
            start, end = item.file_window.start, item.file_window.end
            item.window = RunWindow.hours(start.replace(tzinfo=None), end.replace(tzinfo=None))
        if _is_heap(project, item.member.courier):
            log.event(
                "Courier group run request",
                f"{item.member.courier}: every complete Heap dump newer than "
                "its tables' cursors (heap-connect: no file window or offset applies)",
            )
        elif item.file_window is not None and (plan.scheduled_at is not None or _has_offset(item.member.offset)):
            offset = f", offset {item.member.offset}" if _has_offset(item.member.offset) else ""
            log.event(
                "Courier group run request",
                f"{item.member.courier}: file window {item.file_window.describe()} ({item.file_window.kind}{offset})",
            )
    problem = _check_constraint(ctx, group, plan.window)
    if problem:
        log.event("Courier group run request", problem, "error")
        return "Failed", problem
    log.update(units_planned=len(plan.couriers))
    log.event("Courier batch started", f"{len(plan.couriers)} courier{'s' if len(plan.couriers) != 1 else ''} in order")
    for index, item in enumerate(plan.couriers):
        member = item.member
        log.update(phase=RunPhase.WAITING, units_done=index)
        courier = project.couriers.get(member.courier)
        if courier is None:
            message = f'Courier "{member.courier}" no longer exists; remove it from the group'
            log.event("Courier run request", message, "error")
            return _stop_here(ctx, plan, index, "Failed", message)
        present, detail = _wait_for_data(ctx, project, courier, item)
        if not present:
            if member.stop_when_missing:
                message = f"Missing data for {courier.name}: {detail}; stopping (stop when missing is on)"
                log.event("Courier sensor process completed", message, "error")
                return _stop_here(ctx, plan, index + 1, "Failed", message)
            if member.notify_when_missing:
                message = f"Missing data for {courier.name}: {detail}; going on without it (notify when missing)"
                log.event("Courier sensor process completed", message, "warning")
                ctx.statuses.append("Warning")
                ctx.problems.append(message)
            else:
                log.event(
                    "Courier sensor process completed",
                    f"Missing data for {courier.name}: {detail}; going on without it",
                )
            continue
        log.event("Courier sensor process completed", f"{courier.name}: source data is ready")
        if ctx.stop.is_set():
            raise _Stopped()
        window = RunWindow.new_dumps() if courier.layout == "heap-connect" else item.window
        log.update(phase=RunPhase.RUNNING)
        log.event("Courier run request", f"Running courier {courier.name} for {window.describe()}")
        try:
            child = run_courier(
                ctx.db_path,
                courier.name,
                window,
                trigger=trigger,
                listener=ctx.listener,
                stop=ctx.stop,
                parent_id=log.run_id,
                parallel=ctx.parallel,
            )
        except CourierError as error:
            message = f"Courier {courier.name} could not start: {error}"
            log.event("Courier run request", message, "error")
            return _stop_here(ctx, plan, index + 1, "Failed", message)
        ctx.children.append(child)
        ctx.statuses.append(child.status)
        log.update(units_done=index + 1)
        _store_counts(ctx.store, log.run_id, ctx.children)
        level = {"Succeeded": "info", "Warning": "warning"}.get(child.status, "error")
        log.event(
            "Courier job completed",
            f"{courier.name}: run {child.id} {child.status}: {child.files:,} files, "
            f"{child.rows_read:,} rows read, {child.rows_inserted:,} inserted, {child.rows_updated:,} updated"
            + (f" ({_first_line(child.message)})" if child.message and child.status != "Succeeded" else ""),
            level,
        )
        if child.status == "Stopped":
            raise _Stopped()
        if child.status == "Failed":
            message = f"Courier {courier.name} failed (run {child.id}): {_first_line(child.message)}"
            return _stop_here(ctx, plan, index + 1, "Failed", message)
        if child.status == "Warning":
            ctx.problems.append(f"Courier {courier.name} (run {child.id}): {_first_line(child.message)}")
    log.update(units_done=len(plan.couriers))
    return _finish_batch(ctx, worst_status(ctx.statuses), "; ".join(ctx.problems) or None)


def _is_heap(project: Project, courier: str) -> bool:
    known = project.couriers.get(courier)
    return known is not None and known.layout == "heap-connect"


def _has_offset(offset: str) -> bool:
    from core.config import parse_duration

    return parse_duration(offset) != 0


def _stop_here(ctx: _Context, plan: GroupPlan, next_index: int, status: str, message: str) -> tuple[str, str | None]:
    rest = [item.member.courier for item in plan.couriers[next_index:]]
    if rest:
        ctx.log.event("Courier batch completed", f"Not run: {', '.join(rest)}", "warning")
    return _finish_batch(ctx, worst_status([*ctx.statuses, status]), message)


def _finish_batch(ctx: _Context, status: str, message: str | None) -> tuple[str, str | None]:
    counts: dict[str, int] = {}
    for child in ctx.children:
        counts[child.status] = counts.get(child.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no courier ran"
    ctx.log.event(
        "Courier batch completed", f"{len(ctx.children)} courier run{'s' if len(ctx.children) != 1 else ''}: {summary}"
    )
    ctx.log.event(
        "Courier process completed",
        f"Courier group {status}" + (f": {message}" if message else ""),
        {"Succeeded": "info", "Warning": "warning"}.get(status, "error"),
    )
    return status, message


def _first_line(text: str | None) -> str:
    """The line of a run's message that says what went wrong (the feed line of the two-line load-operations error)."""
    from core.runs import MISSING_FEEDS_HEADLINE

    lines = (text or "").strip().splitlines()
    if len(lines) > 1 and lines[0] == MISSING_FEEDS_HEADLINE:
        return f"{lines[0]}: {lines[1]}"
    return lines[0] if lines else ""


def _store_counts(store: Store, run_id: int, children: list[RunSummary]) -> None:
    store.execute(
        "UPDATE runs SET files = ?, rows_read = ?, rows_inserted = ?, rows_updated = ?, rows_rejected = ? WHERE id = ?",
        (
            sum(c.files for c in children),
            sum(c.rows_read for c in children),
            sum(c.rows_inserted for c in children),
            sum(c.rows_updated for c in children),
            sum(c.rows_rejected for c in children),
            run_id,
        ),
    )


# --- notifications --------------------------------------------------------------------------------


def run_summary_json(
    store: Store, run_id: int, status: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """A group run as JSON: the run, its courier runs and its warnings and errors (the notify command's stdin)."""
    from core.runs import run_events

    run = get_run(store, run_id)
    data = run.to_json()
    if status is not None:
        data["status"], data["message"] = status, message
        data["finished_at"] = data["finished_at"] or utc_now()
    data["group"] = run.target
    data["couriers"] = [child.to_json() for child in list_runs(store, limit=1000) if child.parent_id == run_id][::-1]
    data["problems"] = [
        {"stage": event.stage, "level": event.level, "message": event.message}
        for event in run_events(store, run_id)
        if event.level in ("warning", "error")
    ]
    return data


def _notify(ctx: _Context, group: CourierGroup, run_id: int, status: str, message: str | None, timeout: float) -> None:
    payload = json.dumps(run_summary_json(ctx.store, run_id, status, message), indent=2)
    env = {**os.environ, "COURIER_RUN_ID": str(run_id), "COURIER_RUN_STATUS": status, "COURIER_GROUP": group.name}
    try:
        done = subprocess.run(
            group.notify_command or "",
            shell=True,
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(ctx.db_path.parent),
        )
    except subprocess.TimeoutExpired:
        ctx.log.event("Notification", f"The notify command ran longer than {timeout:g} s and was stopped", "warning")
        return
    except OSError as error:
        ctx.log.event("Notification", f"The notify command could not start: {error.strerror or error}", "warning")
        return
    if done.returncode != 0:
        said = (done.stderr or done.stdout or "").strip().splitlines()
        ctx.log.event(
            "Notification",
            f"The notify command failed (exit {done.returncode})" + (f": {said[-1][:300]}" if said else ""),
            "warning",
        )
    else:
        ctx.log.event("Notification", f"Notify command ran (status {status} sent)")


def describe_plan(plan: GroupPlan) -> list[str]:
    """One line per courier: the window it runs for (with the file window of a scheduled run)."""
    lines = []
    for item in plan.couriers:
        if item.file_window is None or (plan.scheduled_at is None and not _has_offset(item.member.offset)):
            lines.append(f"{item.member.courier}: {item.window.describe()}")
        elif plan.scheduled_at is None:
            lines.append(
                f"{item.member.courier}: files dated {describe_days(item.file_window.days)} "
                f"(offset {item.member.offset})"
            )
        else:
            lines.append(f"{item.member.courier}: {item.file_window.describe()} ({item.file_window.kind})")
    return lines


# --- which upstream run a scheduled run waits for (the group editor's preview) --------------------

CONSTRAINT_LOOKBACK = 64
"""How many of the upstream group's slots at or before a run are tried for the one that covers it."""


@dataclass(frozen=True)
class ConstraintWait:
    """For one scheduled run of a group with a constraint: the upstream run it waits for, if any will do.

    The rule is the run's own (:func:`constraint_run`): the newest upstream run whose window
    covers this run's window moved back by the constraint's offset. An upstream slot at the
    same instant counts (the scheduler runs the upstream group first); a later one does not
    (the run would find no upstream run and end Failed, "Constraint not met").
    """

    slot: datetime
    """This group's slot (aware, in its zone)."""
    upstream: str
    wanted: RunWindow | None
    """The upstream window asked for (this run's window moved back by the offset); ``None``: the slot has no day."""
    upstream_slot: datetime | None = None
    """The upstream slot whose run covers ``wanted`` (aware, in the upstream group's zone)."""
    upstream_window: RunWindow | None = None
    later_slot: datetime | None = None
    """When no upstream slot at or before ``slot`` covers it: the first later one that would."""
    by_hand: bool = False
    """The upstream group has no schedule (or is disabled): only a manual run of it can satisfy this run."""

    @property
    def short(self) -> str:
        """A table cell: the upstream slot ``06-15 08:00``, ``by hand`` or ``✗ none``."""
        if self.upstream_slot is not None:
            return f"{self.upstream_slot:%m-%d %H:%M}"
        return "by hand" if self.by_hand else "✗ none"

    def describe(self, offset: str = "0d") -> str:
        """One line saying which upstream run this run waits for, or why none will do (``offset``: the constraint's)."""
        name = json.dumps(self.upstream)
        if self.wanted is None:
            return f"After {name}: this run has no file day, so no run of {name} can match it"
        needed = f"needs {_window_days(self.wanted)}" + (f", offset {offset}" if offset not in _NO_OFFSET else "")
        if self.upstream_slot is not None and self.upstream_window is not None:
            return (
                f"After {name}: its {self.upstream_slot:%a %Y-%m-%d %H:%M %Z} run, for "
                f"{_window_days(self.upstream_window)} ({needed})"
            )
        if self.by_hand:
            return (
                f"After {name}: it does not run on a schedule (or is disabled); run it by hand first "
                f"({needed}), or this run fails"
            )
        later = (
            (f"; its {self.later_slot:%a %Y-%m-%d %H:%M %Z} run covers it, too late (check the constraint's offset)")
            if self.later_slot is not None
            else ""
        )
        return f"✗ After {name}: no run of it at or before this one covers this run ({needed}), so it would fail{later}"


_NO_OFFSET = ("0d", "0m", "0h", "0w", "0s")


def _window_days(window: RunWindow) -> str:
    """The days of a window as the previews print file dates: ``2027-03-14`` or ``… to … (7 days)``."""
    if window.start is None or window.end is None:
        return window.describe()
    return describe_days([window.start + timedelta(days=n) for n in range((window.end - window.start).days)])


def constraint_waits(group: CourierGroup, upstream: CourierGroup | None, slots: list[datetime]) -> list[ConstraintWait]:
    """For each of ``group``'s scheduled ``slots``, the upstream run its constraint waits for.

    Pure (no database): the upstream group's future runs are its schedule's slots, each
    with the window it would load (:func:`plan_group_run`). Returns ``[]`` when ``group``
    has no constraint or ``upstream`` (the group it names) is ``None``.
    """
    from core.config import parse_duration
    from core.schedule import upcoming_runs

    if not group.run_after or upstream is None:
        return []
    offset = parse_duration(group.run_after_offset)
    scheduled = bool(upstream.schedule) and upstream.enabled
    waits: list[ConstraintWait] = []
    for slot in slots:
        try:
            window = plan_group_run(group, None, scheduled_at=slot).window
        except CourierError:
            waits.append(ConstraintWait(slot, upstream.name, None))
            continue
        wanted = constraint_window(window, offset)
        if not scheduled:
            waits.append(ConstraintWait(slot, upstream.name, wanted, by_hand=True))
            continue
        assert upstream.schedule is not None
        found: tuple[datetime, RunWindow] | None = None
        candidate = latest_run(upstream.schedule, upstream.timezone, slot)
        for _ in range(CONSTRAINT_LOOKBACK):
            if candidate is None:
                break
            covering = _upstream_window(upstream, candidate)
            if covering is not None and _covers(covering, window, offset):
                found = (candidate, covering)
                break
            candidate = previous_run(upstream.schedule, upstream.timezone, candidate)
        if found is not None:
            waits.append(ConstraintWait(slot, upstream.name, wanted, found[0], found[1]))
            continue
        later = next(
            (
                later.at
                for later in upcoming_runs(upstream.schedule, upstream.timezone, slot, 16)
                if later.at is not None
                and (covering := _upstream_window(upstream, later.at)) is not None
                and _covers(covering, window, offset)
            ),
            None,
        )
        waits.append(ConstraintWait(slot, upstream.name, wanted, later_slot=later))
    return waits


def _upstream_window(upstream: CourierGroup, slot: datetime) -> RunWindow | None:
    try:
        return plan_group_run(upstream, None, scheduled_at=slot).window
    except CourierError:
        return None
