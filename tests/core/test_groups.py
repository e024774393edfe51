"""Courier group runs against the local S3 server: windows, wait time, missing data, constraints, notifications.

The helpers at the top are shared with the scheduler and CLI tests.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from core.errors import CourierError, NotFoundError
from core.groups import check_source_data, plan_group_run, poll_interval, run_group, worst_status
from core.heapgen import write_avro
from core.project import apply_document, load_project
from core.runs import RunWindow, list_runs, request_stop, run_events
from core.store import Store
from tests.waiting import wait_for

UTC = timezone.utc
USERS_SCHEMA = {
    "type": "record",
    "name": "users",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "email", "type": ["null", "string"], "default": None},
        {"name": "last_modified", "type": "long"},
    ],
}
EVENTS_PATTERN = "'events/events-'yyyy-MM-dd'.avro'"


def users_file(day: date, count: int = 5, first_id: int = 1) -> bytes:
    """A small users export for ``day`` (later days win on ``last_modified``)."""
    stamp = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    rows = (
        {"user_id": first_id + i, "email": f"user{first_id + i}@{day.isoformat()}.example", "last_modified": stamp + i}
        for i in range(count)
    )
    return write_avro(rows, USERS_SCHEMA, codec="null")


def courier_document(bucket: str, tag: str, pattern: str, feed_id: str, *, truncate: bool = False) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"type": "load", "file": tag}]
    if truncate:
        steps.insert(0, {"type": "truncate"})
    return {
        "credential": "s3",
        "bucket": bucket,
        "layout": "file-pattern",
        "entities": [
            {
                "object/type": "file",
                "object/file-pattern": pattern,
                "object/land-as": {"file/tag": tag, "file/content-type": "application/avro"},
            }
        ],
        "load-operations": {feed_id: steps},
    }


def project_document(
    endpoint: str, bucket: str, groups: dict[str, Any] | None = None, *, truncate: bool = False
) -> dict[str, Any]:
    """Two file-pattern couriers (users and events exports) with feeds, and the given groups."""
    return {
        "credentials": {"s3": {"type": "iam-credential", "region": "us-east-1", "endpoint-url": endpoint}},
        "feeds": {
            "df-expuser": {
                "source": "Exports",
                "name": "Users",
                "primary-key": ["user_id"],
                "last-updated": "last_modified",
            },
            "df-expevnt": {
                "source": "Exports",
                "name": "Events",
                "primary-key": ["user_id"],
                "last-updated": "last_modified",
            },
        },
        "couriers": {
            "Users": courier_document(
                bucket, "users", "'exports/users-'yyyy-MM-dd'.avro'", "df-expuser", truncate=truncate
            ),
            "Events": courier_document(bucket, "events", EVENTS_PATTERN, "df-expevnt"),
        },
        "courier-groups": groups or {},
    }


def member(courier: str = "Users", **overrides: Any) -> dict[str, Any]:
    return {"courier": courier, "wait": "0m", "offset": "0d", **overrides}


def setup_db(db: Path, endpoint: str, bucket: str, groups: dict[str, Any], *, truncate: bool = False) -> None:
    with Store(db) as store:
        apply_document(store, project_document(endpoint, bucket, groups, truncate=truncate))


def table_rows(db: Path, table: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        try:
            return sorted(conn.execute(f'SELECT user_id, email FROM "{table}"'))
        except sqlite3.OperationalError:
            return []


def events(db: Path, run_id: int) -> list[tuple[str, str, str]]:
    with Store(db) as store:
        return [(e.level, e.stage, e.message) for e in run_events(store, run_id)]


def children(db: Path, run_id: int) -> list[Any]:
    with Store(db) as store:
        return [run for run in reversed(list_runs(store)) if run.parent_id == run_id]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "groups.db"


# --- pure parts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], "Succeeded"),
        (["Succeeded", "Succeeded"], "Succeeded"),
        (["Succeeded", "Warning"], "Warning"),
        (["Warning", "Stopped"], "Stopped"),
        (["Failed", "Stopped", "Warning"], "Failed"),
    ],
)
def test_worst_status(statuses: list[str], worst: str) -> None:
    assert worst_status(statuses) == worst


@pytest.mark.parametrize(("wait", "interval"), [(0, 1.0), (5, 1.0), (300, 30.0), (7200, 60.0)])
def test_poll_interval(wait: int, interval: float) -> None:
    assert poll_interval(wait) == interval


def test_plan_scheduled_windows_per_courier_offset(tmp_path: Path) -> None:
    with Store(tmp_path / "plan.db") as store:
        apply_document(
            store,
            project_document(
                "http://127.0.0.1:1",
                "heap-rs3-x",
                {
                    "G": {
                        "schedule": "0 13 * * *",
                        "couriers": [member("Users", offset="1d"), member("Events", offset="13h")],
                    }
                },
            ),
        )
        group = load_project(store).groups["G"]
    plan = plan_group_run(group, None, now=datetime(2027, 6, 15, 13, 5, tzinfo=UTC))
    assert plan.scheduled_at == datetime(2027, 6, 15, 13, tzinfo=UTC)
    assert [(p.member.courier, p.window.describe()) for p in plan.couriers] == [
        ("Users", "2027-06-14"),
        ("Events", "2027-06-14"),
    ]
    assert plan.window == RunWindow.day(date(2027, 6, 14))
    # Manual runs apply the offsets to the input days (seed step 8): 1d moves the days back one; 13h keeps them
    # (each input day's 00:00 moves back 13 hours, so the same day's 00:00 is still inside).
    manual = plan_group_run(group, RunWindow.period(date(2027, 6, 1), date(2027, 6, 3)))
    assert [
        (p.member.courier, p.window.describe(), p.file_window.kind if p.file_window else None) for p in manual.couriers
    ] == [
        ("Users", "2027-05-31 to 2027-06-02 (end exclusive)", "manual"),
        ("Events", "2027-06-01 to 2027-06-03 (end exclusive)", "manual"),
    ]
    assert manual.window == RunWindow.period(date(2027, 5, 31), date(2027, 6, 3))
    everything = plan_group_run(group, RunWindow.all())
    assert all(p.window == RunWindow.all() and p.file_window is None for p in everything.couriers)
    with pytest.raises(CourierError, match="has no schedule: choose a day"):
        plan_group_run(group.__class__(name="M", couriers=group.couriers), None, now=datetime(2027, 6, 15, tzinfo=UTC))


# --- group runs on S3 ---------------------------------------------------------------------------------


def test_scheduled_group_run_loads_its_window_as_child_runs(db: Path, s3_bucket: Any) -> None:
    for day in (date(2027, 6, 13), date(2027, 6, 14), date(2027, 6, 15)):
        s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 3))
        s3_bucket.put(f"events/events-{day}.avro", users_file(day, 2, 100))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "Daily": {
                "schedule": "0 13 * * *",
                "timezone": "UTC",
                "couriers": [member("Users", offset="1d"), member("Events")],
            }
        },
    )
    summary = run_group(db, "Daily", None, trigger="schedule", now=datetime(2027, 6, 15, 13, 2, tzinfo=UTC))
    assert (summary.kind, summary.status, summary.trigger) == ("group", "Succeeded", "schedule")
    # Users (offset 1 day) loads the 06-14 file; Events (no offset) the 06-15 file; the group spans both days.
    assert summary.window == RunWindow.period(date(2027, 6, 14), date(2027, 6, 16))
    kids = children(db, summary.id)
    assert [(k.target, k.status, k.window.describe(), k.trigger) for k in kids] == [
        ("Users", "Succeeded", "2027-06-14", "schedule"),
        ("Events", "Succeeded", "2027-06-15", "schedule"),
    ]
    assert (summary.files, summary.rows_read, summary.rows_inserted) == (2, 5, 5)
    assert {email.split("@")[1] for _, email in table_rows(db, "Exports:Users")} == {"2027-06-14.example"}
    log = events(db, summary.id)
    stages = [stage for _, stage, _ in log]
    for stage in (
        "Courier group run request",
        "Courier sensor created",
        "Sensor completed",
        "Courier sensor process completed",
        "Courier batch started",
        "Courier run request",
        "Courier job completed",
        "Courier batch completed",
        "Courier process completed",
        "Completed",
    ):
        assert stage in stages
    assert stages.index("Courier batch started") < stages.index("Courier run request") < stages.index("Completed")
    assert log[0][2] == (
        "Run courier group Daily (schedule, scheduled for Tue 2027-06-15 13:00 UTC (13:00 UTC)) "
        "for 2027-06-14 to 2027-06-16 (end exclusive): Users, Events"
    )
    assert (
        "info",
        "Courier group run request",
        "Users: file window 2027-06-13 13:00 → 2027-06-14 13:00 UTC: files dated 2027-06-14 (daily, offset 1d)",
    ) in log
    assert log[-1][1] == "Completed" and log[-1][2].startswith("Completed in 0 minutes ")


def test_manual_run_applies_each_couriers_offset_to_the_input_day(db: Path, s3_bucket: Any) -> None:
    from core.runs import list_landed_files

    for day in (date(2027, 5, 31), date(2027, 6, 1)):
        s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 2, 10 * day.day))
        s3_bucket.put(f"events/events-{day}.avro", users_file(day, 1, 100 + day.day))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Daily": {"schedule": "0 13 * * *", "couriers": [member("Users", offset="1d"), member("Events")]}},
    )
    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)))
    assert (summary.status, summary.trigger) == ("Succeeded", "manual")
    # Input day 06-01: Users (offset 1d) loads the 05-31 file, Events (no offset) the 06-01 file.
    assert [(k.target, k.window.describe()) for k in children(db, summary.id)] == [
        ("Users", "2027-05-31"),
        ("Events", "2027-06-01"),
    ]
    assert summary.window.describe() == "2027-05-31 to 2027-06-02 (end exclusive)"
    with Store(db) as store:
        assert [f.key for f in list_landed_files(store, "Users")] == ["exports/users-2027-05-31.avro"]
        assert [f.key for f in list_landed_files(store, "Events")] == ["events/events-2027-06-01.avro"]
    assert {email.split("@")[1] for _, email in table_rows(db, "Exports:Users")} == {"2027-05-31.example"}
    assert (
        "info",
        "Courier group run request",
        "Users: file window 2027-05-31 00:00 → 2027-06-01 00:00 UTC: files dated 2027-05-31 (manual, offset 1d)",
    ) in events(db, summary.id)


def test_wait_picks_up_a_file_that_appears_during_the_wait(db: Path, s3_bucket: Any) -> None:
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Daily": {"couriers": [member("Users", wait="30s", **{"stop-when-missing": True})]}},
    )
    day = date(2027, 6, 1)

    def put_once_missing() -> None:
        # The file arrives once the sensor has found it missing and is waiting, however slow the machine.
        def waiting() -> bool:
            with Store(db) as store:
                runs = list_runs(store, kind="group")
                return bool(runs) and any(event.stage == "Sensor running" for event in run_events(store, runs[0].id))

        wait_for(waiting, "the sensor to wait")
        s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 4))

    putter = threading.Thread(target=put_once_missing, daemon=True)
    putter.start()
    summary = run_group(db, "Daily", RunWindow.day(day), poll_every=0.2)
    putter.join()
    assert summary.status == "Succeeded"
    assert len(table_rows(db, "Exports:Users")) == 4
    log = events(db, summary.id)
    running = [m for _, stage, m in log if stage == "Sensor running"]
    assert running and running[0].startswith(
        "Users: missing exports/users-2027-06-01.avro for 2027-06-01; checking again every 0 s"
    )
    (done,) = [m for _, stage, m in log if stage == "Sensor completed"]
    assert done.startswith("Users: 1 file for 2027-06-01 (after ")


def test_wait_runs_out_on_an_injected_clock(db: Path, s3_bucket: Any) -> None:
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Daily": {"couriers": [member("Users", wait="10m", **{"notify-when-missing": True})]}},
    )
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)), sleep=sleep, clock=lambda: now[0])
    # A 10-minute wait polls every min(60 s, wait / 10) = 60 s: ten sleeps, then the wait has run out.
    assert slept == [60.0] * 10
    assert summary.status == "Warning"
    assert summary.message == (
        "Missing data for Users: missing exports/users-2027-06-01.avro for 2027-06-01; "
        "going on without it (notify when missing)"
    )
    assert (
        "warning",
        "Sensor completed",
        "Users: still missing exports/users-2027-06-01.avro for 2027-06-01 after waiting 10m",
    ) in events(db, summary.id)


@pytest.mark.parametrize(
    ("flags", "status", "ran", "message"),
    [
        (
            {"stop-when-missing": True},
            "Failed",
            [],
            "Missing data for Users: missing exports/users-2027-06-01.avro for 2027-06-01; stopping "
            "(stop when missing is on)",
        ),
        (
            {"notify-when-missing": True},
            "Warning",
            ["Events"],
            "Missing data for Users: missing exports/users-2027-06-01.avro for 2027-06-01; going on without it "
            "(notify when missing)",
        ),
        ({}, "Succeeded", ["Events"], None),
    ],
    ids=["stop", "notify", "neither"],
)
def test_missing_data_stops_or_warns(
    db: Path, s3_bucket: Any, flags: dict[str, bool], status: str, ran: list[str], message: str | None
) -> None:
    s3_bucket.put("events/events-2027-06-01.avro", users_file(date(2027, 6, 1), 2))
    setup_db(
        db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"couriers": [member("Users", **flags), member("Events")]}}
    )
    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)))
    assert (summary.status, summary.message) == (status, message)
    assert [k.target for k in children(db, summary.id)] == ran
    log = events(db, summary.id)
    if flags.get("stop-when-missing"):
        assert ("warning", "Courier batch completed", "Not run: Events") in log
        assert len(table_rows(db, "Exports:Events")) == 0
    else:
        assert len(table_rows(db, "Exports:Events")) == 2


def test_a_failed_courier_fails_the_group_and_later_couriers_do_not_run(db: Path, s3_bucket: Any) -> None:
    s3_bucket.put("exports/users-2027-06-01.avro", b"not avro at all")
    s3_bucket.put("events/events-2027-06-01.avro", users_file(date(2027, 6, 1), 2))
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"couriers": [member("Users"), member("Events")]}})
    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)))
    assert summary.status == "Failed"
    (kid,) = children(db, summary.id)
    assert (kid.target, kid.status) == ("Users", "Failed")
    assert summary.message is not None and summary.message.startswith(f"Courier Users failed (run {kid.id}): ")
    assert ("warning", "Courier batch completed", "Not run: Events") in events(db, summary.id)


def test_constraint_runs_only_after_the_other_group_succeeded(db: Path, s3_bucket: Any) -> None:
    day = date(2027, 6, 1)
    s3_bucket.put(f"events/events-{day}.avro", users_file(day, 2))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "Upstream": {"couriers": [member("Users", **{"stop-when-missing": True})]},
            "Downstream": {"couriers": [member("Events")], "run-after": "Upstream"},
        },
    )
    first = run_group(db, "Downstream", RunWindow.day(day))
    assert (first.status, first.message) == (
        "Failed",
        'Constraint not met: courier group "Upstream" has no run for 2027-06-01; run "Upstream" first',
    )
    assert children(db, first.id) == []
    failed = run_group(db, "Upstream", RunWindow.day(day))
    assert failed.status == "Failed"
    second = run_group(db, "Downstream", RunWindow.day(day))
    assert second.message == (
        f'Constraint not met: courier group "Upstream" run {failed.id} for 2027-06-01 ended '
        "Failed; it must succeed before this group runs"
    )
    for each in (day, day + timedelta(days=1)):
        s3_bucket.put(f"exports/users-{each}.avro", users_file(each, 2))
    # Upstream succeeds for a period that covers the day: Downstream may run for that day.
    done = run_group(db, "Upstream", RunWindow.period(day, day + timedelta(days=2)))
    assert done.status == "Succeeded"
    third = run_group(db, "Downstream", RunWindow.day(day))
    assert third.status == "Succeeded"
    assert (
        "info",
        "Courier group run request",
        f'Constraint met: courier group "Upstream" run {done.id} '
        "Succeeded for 2027-06-01 to 2027-06-03 (end exclusive)",
    ) in events(db, third.id)
    # "All data" is only covered by an "all data" run.
    assert run_group(db, "Downstream", RunWindow.all()).status == "Failed"


def test_notify_command_gets_the_json_summary_on_stdin(db: Path, s3_bucket: Any, tmp_path: Path) -> None:
    day = date(2027, 6, 1)
    s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 3))
    out = tmp_path / "notified.json"
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "Daily": {
                "couriers": [member("Users"), member("Events", **{"notify-when-missing": True})],
                "notify-command": f'cat > "{out}"; echo "$COURIER_RUN_STATUS $COURIER_GROUP" >> "{out}.env"',
            }
        },
    )
    summary = run_group(db, "Daily", RunWindow.day(day))
    assert summary.status == "Warning"
    payload = json.loads(out.read_text())
    assert (payload["id"], payload["group"], payload["kind"], payload["status"]) == (
        summary.id,
        "Daily",
        "group",
        "Warning",
    )
    assert payload["window"] == {"kind": "day", "start": "2027-06-01", "end": "2027-06-02"}
    assert payload["rows_read"] == 3 and payload["finished_at"]
    assert [(c["target"], c["status"], c["rows_inserted"]) for c in payload["couriers"]] == [("Users", "Succeeded", 3)]
    assert any("Missing data for Events" in p["message"] for p in payload["problems"])
    assert Path(f"{out}.env").read_text() == "Warning Daily\n"
    assert ("info", "Notification", "Notify command ran (status Warning sent)") in events(db, summary.id)


@pytest.mark.parametrize(
    ("command", "timeout", "event"),
    [
        ("echo 'webhook refused' >&2; exit 3", 10.0, "The notify command failed (exit 3): webhook refused"),
        ("sleep 5", 0.3, "The notify command ran longer than 0.3 s and was stopped"),
    ],
    ids=["exit-3", "timeout"],
)
def test_a_failing_notify_command_is_an_event_not_a_crash(
    db: Path, s3_bucket: Any, command: str, timeout: float, event: str
) -> None:
    day = date(2027, 6, 1)
    s3_bucket.put(f"exports/users-{day}.avro", users_file(day, 1))
    setup_db(
        db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"couriers": [member("Users")], "notify-command": command}}
    )
    summary = run_group(db, "Daily", RunWindow.day(day), notify_timeout=timeout)
    assert summary.status == "Succeeded"
    assert ("warning", "Notification", event) in events(db, summary.id)


def test_stop_during_the_wait_ends_the_group_stopped(db: Path, s3_bucket: Any) -> None:
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"couriers": [member("Users", wait="1h")]}})
    stop = threading.Event()

    def stop_while_waiting() -> None:
        def waiting() -> bool:
            with Store(db) as store:
                return any(run.progress.phase == "waiting" for run in list_runs(store, kind="group"))

        wait_for(waiting, "the group to wait for source data")
        stop.set()

    threading.Thread(target=stop_while_waiting, daemon=True).start()
    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)), stop=stop, poll_every=0.1)
    assert (summary.status, summary.message) == ("Stopped", "Stopped by request")
    assert children(db, summary.id) == []


def test_request_stop_on_the_group_run_id_stops_it(db: Path, s3_bucket: Any) -> None:
    setup_db(db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"couriers": [member("Users", wait="1h")]}})

    def stop_when_running() -> None:
        def running() -> list[Any]:
            with Store(db) as store:
                return list_runs(store, status="Running", kind="group")

        request_stop(db, wait_for(running, "the group run")[0].id)

    threading.Thread(target=stop_when_running, daemon=True).start()
    summary = run_group(db, "Daily", RunWindow.day(date(2027, 6, 1)), poll_every=0.1)
    assert summary.status == "Stopped"


def test_unknown_group_raises_before_any_run(db: Path) -> None:
    with Store(db) as store:
        apply_document(store, project_document("http://127.0.0.1:1", "heap-rs3-x", {"Daily": {"couriers": [member()]}}))
    with pytest.raises(NotFoundError, match=r'There is no courier group named "Nightly" \(groups: Daily\)'):
        run_group(db, "Nightly", RunWindow.day(date(2027, 6, 1)))
    with Store(db) as store:
        assert list_runs(store) == []


# --- heap-connect sensor --------------------------------------------------------------------------------


def test_heap_sensor_wants_a_manifest_newer_than_the_cursors(db: Path, s3_bucket: Any) -> None:
    document = project_document(s3_bucket.endpoint, s3_bucket.name)
    document["couriers"] = {
        "Heap": {"credential": "s3", "bucket": s3_bucket.name, "layout": "heap-connect", "load-operations": {}}
    }
    document["feeds"] = {}
    with Store(db) as store:
        apply_document(store, document)
        project = load_project(store)
        heap = project.couriers["Heap"]
        window = RunWindow.day(date(2027, 6, 1))
        assert check_source_data(store, project, heap, window) == (
            False,
            f"no Heap manifest under s3://{s3_bucket.name}/manifests/ yet",
        )
        s3_bucket.put("manifests/sync_5.json", json.dumps({"dump_id": 5, "tables": []}).encode())
        assert check_source_data(store, project, heap, window) == (True, "Heap dump sync_5 is ready")
        store.execute("INSERT INTO cursors VALUES ('Heap:Users', 'Heap', 'users', 5, 0, 'k', 1, 'now')")
        assert check_source_data(store, project, heap, window) == (
            False,
            "no Heap dump newer than sync_5 (the last one loaded)",
        )
        s3_bucket.put("manifests/sync_6.json", json.dumps({"dump_id": 6, "tables": []}).encode())
        assert check_source_data(store, project, heap, window) == (
            True,
            "Heap dump sync_6 is ready (loaded up to sync_5)",
        )


def _group(name: str, schedule: str | None, offset: str = "0d", **options: Any) -> Any:
    from core.models import CourierGroup, GroupCourier

    return CourierGroup(
        name=name,
        couriers=(GroupCourier(courier="Users", offset=offset),),
        schedule=schedule,
        timezone="UTC",
        **options,
    )


@pytest.mark.parametrize(
    ("upstream", "constraint_offset", "expected"),
    [
        # Upstream loads yesterday at 08:00 (offset 1d); downstream loads today at 09:00: the constraint needs 1d.
        (_group("Heap", "0 8 * * *", "1d"), "1d", ["06-15 08:00", "06-16 08:00"]),
        (_group("Heap", "0 8 * * *", "1d"), "0d", ["✗ none", "✗ none"]),
        # Same day, same offset: the upstream run of the same morning.
        (_group("Heap", "0 8 * * *"), "0d", ["06-15 08:00", "06-16 08:00"]),
        # An upstream at the same minute counts (the scheduler runs it first); one after does not.
        (_group("Heap", "0 9 * * *"), "0d", ["06-15 09:00", "06-16 09:00"]),
        (_group("Heap", "30 9 * * *"), "0d", ["✗ none", "✗ none"]),
        (_group("Heap", None), "0d", ["by hand", "by hand"]),
        (_group("Heap", "0 8 * * *", enabled=False), "0d", ["by hand", "by hand"]),
    ],
)
def test_constraint_waits_name_the_upstream_run_each_scheduled_run_waits_for(
    upstream: Any, constraint_offset: str, expected: list[str]
) -> None:
    from core.groups import constraint_waits

    downstream = _group("Reports", "0 9 * * *", run_after="Heap", run_after_offset=constraint_offset)
    slots = [datetime(2027, 6, 15, 9, tzinfo=timezone.utc), datetime(2027, 6, 16, 9, tzinfo=timezone.utc)]
    waits = constraint_waits(downstream, upstream, slots)
    assert [wait.short for wait in waits] == expected
    if expected[0] == "✗ none" and upstream.couriers[0].offset == "1d":
        assert waits[0].later_slot == datetime(2027, 6, 16, 8, tzinfo=timezone.utc)
    assert constraint_waits(_group("Alone", "0 9 * * *"), upstream, slots) == []


HOURLY_PATTERN = "'hourly/events-'yyyy-MM-dd-HH'.avro'"


@pytest.mark.parametrize(
    ("how", "expected_first", "expected_last"),
    [
        # Scheduled at 06-15 13:00 UTC with 13h: [06-14 00:00, 06-15 00:00), the 24 hours of 06-14.
        ("scheduled", "2027-06-14-00", "2027-06-14-23"),
        # By hand for day 06-15 with 13h: [06-14 11:00, 06-15 11:00), as the seed's offset rule says.
        ("manual", "2027-06-14-11", "2027-06-15-10"),
    ],
)
def test_an_hourly_pattern_with_a_13h_offset_selects_exactly_the_hours_it_covers(
    db: Path, s3_bucket: Any, how: str, expected_first: str, expected_last: str
) -> None:
    start = datetime(2027, 6, 13, tzinfo=UTC)
    for hour in range(24 * 3):  # every hour of 06-13, 06-14 and 06-15
        moment = start + timedelta(hours=hour)
        s3_bucket.put(f"hourly/events-{moment:%Y-%m-%d-%H}.avro", users_file(moment.date(), 1, hour + 1))
    document = project_document(
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Hourly": {"schedule": "0 13 * * *", "timezone": "UTC", "couriers": [member("Events", offset="13h")]}},
    )
    document["couriers"]["Events"] = courier_document(s3_bucket.name, "events", HOURLY_PATTERN, "df-expevnt")
    with Store(db) as store:
        apply_document(store, document)
    if how == "scheduled":
        run = run_group(db, "Hourly", None, trigger="schedule", scheduled_at=datetime(2027, 6, 15, 13, tzinfo=UTC))
    else:
        run = run_group(db, "Hourly", RunWindow.day(date(2027, 6, 15)))
    assert run.status == "Succeeded", run.message
    child = children(db, run.id)[0]
    assert child.window.kind == "hours"
    with Store(db) as store:
        landed = sorted(row["key"] for row in store.query("SELECT key FROM landed_files WHERE courier = 'Events'"))
    assert len(landed) == 24
    assert (landed[0], landed[-1]) == (f"hourly/events-{expected_first}.avro", f"hourly/events-{expected_last}.avro")
    first = datetime.strptime(expected_first, "%Y-%m-%d-%H")
    assert child.window.describe() == (
        f"{first:%Y-%m-%d %H:%M} to {first + timedelta(hours=24):%Y-%m-%d %H:%M} (end exclusive)"
    )
    assert child.to_json()["window"] == {
        "kind": "hours",
        "start": first.isoformat(),
        "end": (first + timedelta(hours=24)).isoformat(),
    }
