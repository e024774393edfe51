"""``courier scheduler`` as a subprocess with an injected clock (``--now``), against the local S3 server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from core.groups import run_group
from core.heapgen import write_avro
from core.project import load_project
from core.runs import RunWindow, list_runs, run_events
from core.scheduler import SchedulerBusy, SchedulerLock, due_groups, lock_path, read_state
from core.store import Store
from tests.core.test_groups import USERS_SCHEMA, member, setup_db, table_rows, users_file
from tests.waiting import wait_for as wait_on_state

REPO = Path(__file__).resolve().parents[2]
UTC = timezone.utc
DAILY = {"schedule": "0 13 * * *", "timezone": "UTC"}


def scheduler(db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", str(db), "scheduler", *args],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def once(db: Path, now: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", str(db), "scheduler", "--once", "--now", now],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for(condition: Callable[[], Any], timeout: float | None = None, what: str = "condition") -> Any:
    return wait_on_state(condition, what)


def group_runs(db: Path) -> list[Any]:
    with Store(db) as store:
        return list(reversed(list_runs(store, kind="group")))


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "scheduler.db"


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to kill if a test fails half-way."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_due_group_runs_once(db: Path, s3_bucket: Any, running: list[subprocess.Popen[str]]) -> None:
    s3_bucket.put("exports/users-2027-06-15.avro", users_file(date(2027, 6, 15), 3))
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {**DAILY, "couriers": [member("Users")]}})
    process = scheduler(db, "--now", "2027-06-15T12:59:58.500Z")
    running.append(process)
    run = wait_for(lambda: [r for r in group_runs(db) if r.status not in ("Running", "Stopping")], what="the run")[0]
    # The slot is recorded, so no later pass of the running scheduler can fire it again.
    with Store(db) as store:
        assert due_groups(store, load_project(store), datetime(2027, 6, 15, 13, 0, 30, tzinfo=UTC)) == []
    code, out, err = finish(process)
    assert code == 0, err
    runs = group_runs(db)
    assert [(r.target, r.trigger, r.status, r.window.describe()) for r in runs] == [
        ("Daily", "schedule", "Succeeded", "2027-06-15")
    ]
    assert run.id == runs[0].id
    assert table_rows(db, "Exports:Users") and len(table_rows(db, "Exports:Users")) == 3
    assert "Scheduler started for" in out
    assert 'Running courier group "Daily" for its Tue 2027-06-15 13:00 UTC slot (13:00 UTC)' in out
    assert f'Courier group "Daily" run {run.id} Succeeded' in out
    assert out.rstrip().endswith("Scheduler stopped")
    with Store(db) as store:
        state = read_state(store)["Daily"]
    assert (state.last_slot, state.last_run_id) == (datetime(2027, 6, 15, 13, tzinfo=UTC), run.id)


def test_a_second_scheduler_is_refused(db: Path, s3_bucket: Any, running: list[subprocess.Popen[str]]) -> None:
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {**DAILY, "couriers": [member("Users")]}})
    first = scheduler(db, "--now", "2027-06-15T00:00:00Z")
    running.append(first)
    wait_for(lambda: lock_path(db).exists() and lock_path(db).read_text().strip() == str(first.pid), what="the lock")
    for extra in (["--once"], []):
        second = subprocess.run(
            [sys.executable, "-m", "tui.cli", "--db", str(db), "scheduler", *extra],
            cwd=REPO,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert second.stdout == ""
        assert second.stderr == (
            f"courier: another scheduler (pid {first.pid}) is already running for {db.resolve()}\n"
        )
    # In-process too: the lock is per database file, not per process.
    with pytest.raises(SchedulerBusy, match=f"pid {first.pid}"):
        SchedulerLock(db).acquire()
    code, _, err = finish(first)
    assert code == 0, err
    assert group_runs(db) == []
    with SchedulerLock(db):  # free again once the first has stopped
        assert lock_path(db).read_text().strip() == str(os.getpid())


def test_sigterm_mid_load_rolls_back_and_the_run_ends_stopped(
    db: Path, s3_bucket: Any, running: list[subprocess.Popen[str]]
) -> None:
    s3_bucket.put("exports/users-2027-06-14.avro", users_file(date(2027, 6, 14), 3))
    big = ({"user_id": i, "email": f"user{i}@big.example", "last_modified": 2_000_000_000 + i} for i in range(400_000))
    s3_bucket.put("exports/users-2027-06-15.avro", write_avro(big, USERS_SCHEMA, codec="null"))
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {**DAILY, "couriers": [member("Users")]}}, truncate=True)
    assert run_group(db, "Daily", RunWindow.day(date(2027, 6, 14))).status == "Succeeded"
    before = table_rows(db, "Exports:Users")
    assert len(before) == 3
    process = scheduler(db, "--now", "2027-06-15T12:59:59.500Z")
    running.append(process)

    def loading() -> bool:
        with Store(db) as store:
            courier_runs = [
                r
                for r in list_runs(store, kind="courier")
                if r.parent_id is not None and r.window.describe() == "2027-06-15"
            ]
            return bool(courier_runs) and any(
                e.stage == "Ingest started" for e in run_events(store, courier_runs[0].id)
            )

    wait_for(loading, what="the big load to start")
    code, out, err = finish(process)
    assert code == 0, err
    scheduled = [r for r in group_runs(db) if r.trigger == "schedule"]
    assert [(r.status, r.message) for r in scheduled] == [("Stopped", "Stopped by request")]
    with Store(db) as store:
        kids = [r for r in list_runs(store, kind="courier") if r.parent_id == scheduled[0].id]
        state = read_state(store)["Daily"]
    assert [(k.status, k.rows_inserted) for k in kids] == [("Stopped", 0)]
    # Nothing of the big file, and the truncate rolled back too: the table is exactly as before.
    assert table_rows(db, "Exports:Users") == before
    # The stopped slot is handed back, so it runs again when the scheduler restarts.
    assert state.last_slot < datetime(2027, 6, 15, 13, tzinfo=UTC)
    assert "its slot runs again when the scheduler restarts" in out


def test_slots_missed_while_down_run_once_on_start(db: Path, s3_bucket: Any) -> None:
    for day in range(12, 16):
        s3_bucket.put(f"exports/users-2027-06-{day}.avro", users_file(date(2027, 6, day), 2, day * 10))
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {**DAILY, "couriers": [member("Users")]}})
    # First start, 20 s after a slot: a group seen for the first time still fires the slot of this minute.
    first = once(db, "2027-06-12T13:00:20Z")
    assert first.returncode == 0, first.stderr
    assert [r.window.describe() for r in group_runs(db)] == ["2027-06-12"]
    # Down for three days: one run on start, whose window reaches back to the last slot that ran.
    second = once(db, "2027-06-15T13:05:00Z")
    assert second.returncode == 0, second.stderr
    runs = group_runs(db)
    assert [(r.trigger, r.status, r.window.describe()) for r in runs] == [
        ("schedule", "Succeeded", "2027-06-12"),
        ("schedule", "Succeeded", "2027-06-13 to 2027-06-16 (end exclusive)"),
    ]
    assert "(3 slots passed while the scheduler was not running; running once)" in second.stdout
    assert "Scheduler checked: 1 group run started" in second.stdout
    assert len(table_rows(db, "Exports:Users")) == 8
    # Nothing more is due at the same time.
    third = once(db, "2027-06-15T13:06:00Z")
    assert third.returncode == 0, third.stderr
    assert len(group_runs(db)) == 2
    assert "Scheduler checked: 0 group runs started" in third.stdout


def test_disabled_and_unscheduled_groups_never_fire(db: Path, s3_bucket: Any) -> None:
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Off": {**DAILY, "enabled": False, "couriers": [member("Users")]}, "Manual": {"couriers": [member("Events")]}},
    )
    for now in ("2027-06-15T13:00:10Z", "2027-06-16T13:00:10Z"):
        done = once(db, now)
        assert done.returncode == 0, done.stderr
        assert "0 enabled scheduled groups" in done.stdout
    assert group_runs(db) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schedule_state").fetchone()[0] == 0


def test_upstream_group_runs_first_when_both_are_due(db: Path, s3_bucket: Any) -> None:
    from core.scheduler import run_due

    day = date(2027, 6, 15)
    s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 2))
    s3_bucket.put(f"events/events-{day}.avro", users_file(day, 2))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "A downstream": {**DAILY, "couriers": [member("Events")], "run-after": "Z upstream"},
            "Z upstream": {**DAILY, "couriers": [member("Users")]},
        },
    )
    now = datetime(2027, 6, 15, 13, 0, 10, tzinfo=UTC)
    results = run_due(db, now)
    assert [(r.target, r.status) for r in results] == [("Z upstream", "Succeeded"), ("A downstream", "Succeeded")]
    assert run_due(db, now + timedelta(seconds=5)) == []


@pytest.mark.parametrize("constraint_offset", ["1d", "0d"])
def test_a_constraint_with_an_offset_matches_its_upstream_run_over_a_simulated_week(
    db: Path, s3_bucket: Any, constraint_offset: str
) -> None:
    from core.scheduler import run_due

    # Heap loads yesterday's users file at 08:00 (offset 1d); Reports loads today's events at 09:00 (offset 0)
    # after Heap. The constraint's own offset of 1d lines Reports' day D up with Heap's run that loaded D - 1.
    for day in (date(2027, 6, 13) + timedelta(days=n) for n in range(9)):
        s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 2))
        s3_bucket.put(f"events/events-{day}.avro", users_file(day, 1, 100))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "Heap": {"schedule": "0 8 * * *", "timezone": "UTC", "couriers": [member("Users", offset="1d")]},
            "Reports": {
                "schedule": "0 9 * * *",
                "timezone": "UTC",
                "couriers": [member("Events")],
                "run-after": "Heap",
                "run-after-offset": constraint_offset,
            },
        },
    )
    now = datetime(2027, 6, 14, 7, 30, tzinfo=UTC)
    while now <= datetime(2027, 6, 21, 9, 30, tzinfo=UTC):  # the injected clock: half-hour ticks for a week
        run_due(db, now)
        now += timedelta(minutes=30)
    runs = group_runs(db)
    heap = [run for run in runs if run.target == "Heap"]
    reports = [run for run in runs if run.target == "Reports"]
    assert [(run.window.describe(), run.status) for run in heap] == [
        (f"2027-06-{day:02d}", "Succeeded") for day in range(13, 21)
    ]
    if constraint_offset == "0d":
        # Without the constraint's offset, Reports' day D is never a day Heap loaded on time: every run fails.
        assert [run.status for run in reports] == ["Failed"] * 8
        assert reports[0].message == (
            'Constraint not met: courier group "Heap" has no run for 2027-06-14; run "Heap" first'
        )
        return
    assert [(run.window.describe(), run.status) for run in reports] == [
        (f"2027-06-{day:02d}", "Succeeded") for day in range(14, 22)
    ]
    for upstream, downstream in zip(heap, reports):
        with Store(db) as store:
            messages = [event.message for event in run_events(store, downstream.id)]
        assert (
            f'Constraint met: courier group "Heap" run {upstream.id} Succeeded for {upstream.window.describe()} '
            f"(covers {upstream.window.describe()}, offset 1d)"
        ) in messages


def set_clock(path: Path, moment: str) -> None:
    """Move the scheduler's file clock (written whole, then renamed: it never reads half a time)."""
    partial = path.with_suffix(".partial")
    partial.write_text(moment)
    partial.replace(path)


def test_sighup_mid_wait_does_not_stop_the_scheduler_and_its_slot_still_runs(
    db: Path, s3_bucket: Any, running: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    s3_bucket.put("exports/users-2027-06-15.avro", users_file(date(2027, 6, 15), 3))
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {**DAILY, "couriers": [member("Users")]}})
    clock = tmp_path / "clock"
    set_clock(clock, "2027-06-15T12:59:59Z")  # the clock stands still until the test moves it
    process = scheduler(db, "--clock-file", str(clock))
    running.append(process)

    def tracking() -> bool:
        with Store(db) as store:
            return "Daily" in read_state(store)

    wait_for(tracking, what="the scheduler to see the group and start waiting for 13:00")
    status = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", str(db), "scheduler", "status", "--clock-file", str(clock)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (status.returncode, status.stderr) == (0, "")
    assert status.stdout.splitlines() == [
        f"A scheduler is running for {db.resolve()}: pid {process.pid} (lock {lock_path(db.resolve())})",
        '1 enabled scheduled group; next due: courier group "Daily" at Tue 2027-06-15 13:00 UTC (2027-06-15 13:00 UTC)',
    ]
    process.send_signal(signal.SIGHUP)  # the SSH session that started it closed
    assert group_runs(db) == []
    set_clock(clock, "2027-06-15T13:00:00Z")
    wait_for(
        lambda: process.poll() is not None or [r for r in group_runs(db) if r.status == "Succeeded"],
        what="the slot's run (or the scheduler dying of the SIGHUP)",
    )
    assert process.poll() is None, "the SIGHUP stopped the scheduler"
    code, out, err = finish(process)
    assert code == 0, err
    assert [(r.target, r.trigger, r.window.describe()) for r in group_runs(db)] == [("Daily", "schedule", "2027-06-15")]
    hang_up = out.index("SIGHUP received: still running")
    assert hang_up < out.index('Running courier group "Daily" for its Tue 2027-06-15 13:00 UTC slot')
    assert out.rstrip().endswith("Scheduler stopped")
