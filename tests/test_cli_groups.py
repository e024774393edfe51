"""``courier cron``, ``courier group run|preview|crontab`` and ``courier scheduler --once``, in-process."""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import tui.cli as cli
from core.demo import demo_document
from core.project import apply_document
from core.store import Store
from tests.core.test_groups import member, setup_db, users_file


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "never-used-by-default.db"))
    monkeypatch.delenv("COURIER_FAKE_NOW", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def one_error(err: list[str]) -> str:
    assert len(err) == 1, err
    assert err[0].startswith("courier: ") and "Traceback" not in err[0]
    return err[0]


def apply(db: Path, document: dict[str, Any]) -> None:
    with Store(db) as store:
        apply_document(store, document)


# --- cron ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "now", "expected"),
    [
        (
            ["30 2 * * *", "--tz", "America/Los_Angeles", "-n", "3"],
            "2027-03-13T08:00:00Z",
            [
                "At 02:30 AM (America/Los_Angeles)",
                "Daylight saving (as cronie): a fixed time in the spring gap runs once just after it; a fixed time in "
                "the repeated autumn hour runs once, at its first occurrence",
                "  Sat 2027-03-13 02:30 PST   2027-03-13 10:30 UTC",
                "  Sun 2027-03-14 03:00 PDT   2027-03-14 10:00 UTC",
                "      ~ DST moved: 02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles (clocks jump 02:00 PST → "
                "03:00 PDT); a fixed time runs once just after the gap, at 03:00 PDT (as cronie does)",
                "  Mon 2027-03-15 02:30 PDT   2027-03-15 09:30 UTC",
            ],
        ),
        (
            ["30 1 * * *", "--tz", "America/Los_Angeles", "-n", "2"],
            "2027-11-06T12:00:00Z",
            [
                "At 01:30 AM (America/Los_Angeles)",
                "Daylight saving (as cronie): a fixed time in the spring gap runs once just after it; a fixed time in "
                "the repeated autumn hour runs once, at its first occurrence",
                "  Sun 2027-11-07 01:30 PDT   2027-11-07 08:30 UTC",
                "      ~ DST runs once: 01:30 happens twice on Sun 2027-11-07 (clocks fall back, PDT → PST); a fixed time "
                "runs only at the first, 01:30 PDT (as cronie does)",
                "  Mon 2027-11-08 01:30 PST   2027-11-08 09:30 UTC",
            ],
        ),
        (
            ["*/30 * * * *", "--tz", "Europe/London", "-n", "5"],
            "2027-10-31T00:45:00Z",
            [
                "Every 30 minutes (Europe/London)",
                "Daylight saving (as cronie): an interval schedule keeps its real-time interval, so times in the spring gap "
                "are skipped and times in the repeated autumn hour run twice",
                "  Sun 2027-10-31 01:00 GMT   2027-10-31 01:00 UTC",
                "      ~ DST runs at both: 01:00 happens twice on Sun 2027-10-31 (clocks fall back, BST → GMT); an interval "
                "job keeps its real-time interval, so it runs at 01:00 BST and 01:00 GMT (as cronie does)",
                "  Sun 2027-10-31 01:30 GMT   2027-10-31 01:30 UTC",
                "      ~ DST runs at both: 01:30 happens twice on Sun 2027-10-31 (clocks fall back, BST → GMT); an interval "
                "job keeps its real-time interval, so it runs at 01:30 BST and 01:30 GMT (as cronie does)",
                "  Sun 2027-10-31 02:00 GMT   2027-10-31 02:00 UTC",
                "  Sun 2027-10-31 02:30 GMT   2027-10-31 02:30 UTC",
                "  Sun 2027-10-31 03:00 GMT   2027-10-31 03:00 UTC",
            ],
        ),
        (
            ["0 9 */2 * mon", "--tz", "UTC", "-n", "3"],
            "2026-11-24T00:00:00Z",
            [
                "At 09:00 AM, every 2 days, if it is on Monday (a day must match both day fields) (UTC)",
                "  Mon 2026-12-07 09:00 UTC   2026-12-07 09:00 UTC",
                "  Mon 2026-12-21 09:00 UTC   2026-12-21 09:00 UTC",
                "  Mon 2027-01-11 09:00 UTC   2027-01-11 09:00 UTC",
            ],
        ),
        (
            ["0 9 * * 1-5", "--tz", "Asia/Tokyo", "-n", "2"],
            "2027-03-12T12:00:00Z",
            [
                "At 09:00 AM, Monday through Friday (Asia/Tokyo)",
                "  Mon 2027-03-15 09:00 JST   2027-03-15 00:00 UTC",
                "  Tue 2027-03-16 09:00 JST   2027-03-16 00:00 UTC",
            ],
        ),
    ],
    ids=["spring-gap", "autumn-repeat", "interval-repeat", "day-rule", "no-dst"],
)
def test_cron_shows_dst_notes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], now: str, expected: list[str]
) -> None:
    monkeypatch.setenv("COURIER_FAKE_NOW", now)
    assert run(capsys, "cron", *argv) == (0, expected, [])


# --- group preview ------------------------------------------------------------------------------------


def test_group_preview_of_the_demo_group(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    apply(db, demo_document("http://127.0.0.1:9"))
    monkeypatch.setenv("COURIER_FAKE_NOW", "2027-03-12T00:00:00Z")
    code, out, err = run(capsys, "--db", str(db), "group", "preview", "Heap daily", "-n", "3")
    assert (code, err) == (0, [])
    assert out == [
        "Heap daily: At 08:30 AM (America/Los_Angeles); file dates in UTC",
        "  Heap: wait 2h, offset 1d, notify when missing",
        "  Fri 2027-03-12 08:30 PST   2027-03-12 16:30 UTC",
        "      Heap: files dated 2027-03-11 (window 2027-03-10 16:30 → 2027-03-11 16:30 UTC, daily)",
        "  Sat 2027-03-13 08:30 PST   2027-03-13 16:30 UTC",
        "      Heap: files dated 2027-03-12 (window 2027-03-11 16:30 → 2027-03-12 16:30 UTC, daily)",
        "  Sun 2027-03-14 08:30 PDT   2027-03-14 15:30 UTC",
        "      Heap: files dated 2027-03-13 (window 2027-03-12 15:30 → 2027-03-13 15:30 UTC, daily)",
        "      ~ DST UTC time moves: PST → PDT since the previous run (16:30 → 15:30 UTC)",
    ]


def test_group_preview_in_zone_weekly_with_a_moved_slot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    setup_db(
        db,
        "http://127.0.0.1:9",
        "heap-rs3-x",
        {
            "Weekly": {
                "schedule": "30 2 * * 0",
                "timezone": "America/Los_Angeles",
                "file-dates-in-zone": True,
                "enabled": False,
                "run-after": "Other",
                "couriers": [member("Users", wait="30m", offset="13h", **{"stop-when-missing": True})],
            },
            "Other": {"couriers": [member("Events")]},
        },
    )
    monkeypatch.setenv("COURIER_FAKE_NOW", "2027-03-01T00:00:00Z")
    code, out, err = run(capsys, "--db", str(db), "group", "preview", "Weekly", "-n", "3")
    assert (code, err) == (0, [])
    assert out == [
        "Weekly: At 02:30 AM, only on Sunday (America/Los_Angeles); file dates in America/Los_Angeles; disabled, "
        "so the scheduler will not run it",
        "  Users: wait 30m, offset 13h, stop when missing",
        '  Runs after courier group "Other" has succeeded for the same window',
        "  Sun 2027-03-07 02:30 PST   2027-03-07 10:30 UTC",
        "      Users: files dated 2027-02-28 to 2027-03-06 (7 days) (window 2027-02-27 13:30 → 2027-03-06 13:30 PST, "
        "since last run)",
        '      After "Other": it does not run on a schedule (or is disabled); run it by hand first (needs 2027-02-28 '
        "to 2027-03-06 (7 days)), or this run fails",
        "  Sun 2027-03-14 03:00 PDT   2027-03-14 10:00 UTC",
        "      Users: files dated 2027-03-07 to 2027-03-13 (7 days) (window 2027-03-06 13:30 → 2027-03-13 14:00 PST, "
        "since last run)",
        "      ~ DST moved: 02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles (clocks jump 02:00 PST → "
        "03:00 PDT); a fixed time runs once just after the gap, at 03:00 PDT (as cronie does)",
        '      After "Other": it does not run on a schedule (or is disabled); run it by hand first (needs 2027-03-07 '
        "to 2027-03-13 (7 days)), or this run fails",
        "  Sun 2027-03-21 02:30 PDT   2027-03-21 09:30 UTC",
        "      Users: files dated 2027-03-14 to 2027-03-20 (7 days) (window 2027-03-13 14:00 → 2027-03-20 13:30 "
        "PDT, since last run)",
        '      After "Other": it does not run on a schedule (or is disabled); run it by hand first (needs 2027-03-14 '
        "to 2027-03-20 (7 days)), or this run fails",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["group", "preview", "Nope"], 'courier: There is no courier group named "Nope" (groups: Daily, Manual)'),
        (
            ["group", "preview", "Manual"],
            'courier: Courier group "Manual" has no schedule: it runs only by hand '
            '(courier group run "Manual" --day D)',
        ),
        (["group", "preview", "Daily", "-n", "0"], "courier: -n must be 1 to 10,000"),
        (
            ["group", "run", "Nope", "--day", "2027-06-01"],
            'courier: There is no courier group named "Nope" (groups: Daily, Manual)',
        ),
        (
            ["group", "run", "Daily", "--scheduled", "--day", "2027-06-01"],
            "courier: --scheduled cannot be combined with --day, --from/--to or --all",
        ),
        (
            ["group", "run", "Manual", "--scheduled"],
            'courier: Courier group "Manual" has no schedule: choose --day, --from/--to or --all',
        ),
        (
            ["group", "run", "Daily", "--day", "June 1"],
            'courier: "June 1" is not a day; use YYYY-MM-DD, e.g. 2026-11-25',
        ),
        (["group", "crontab", "Manual"], 'courier: Courier group "Manual" has no schedule, so it has no crontab line'),
        (["group"], "courier: the following arguments are required: ACTION (see courier group --help)"),
    ],
    ids=[
        "unknown",
        "no-schedule",
        "n-zero",
        "run-unknown",
        "scheduled-and-day",
        "run-scheduled-manual",
        "bad-day",
        "crontab-manual",
        "no-action",
    ],
)
def test_bad_group_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], db: Path, argv: list[str], message: str
) -> None:
    setup_db(
        db,
        "http://127.0.0.1:9",
        "heap-rs3-x",
        {
            "Daily": {"schedule": "0 13 * * *", "couriers": [member("Users")]},
            "Manual": {"couriers": [member("Events")]},
        },
    )
    code, out, err = run(capsys, "--db", str(db), *argv)
    assert (code, out) == (2, [])
    assert one_error(err) == message


# --- group crontab ------------------------------------------------------------------------------------


def test_group_crontab_prints_a_safely_quoted_line(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    name = "Ops' 100% daily"
    setup_db(
        db,
        "http://127.0.0.1:9",
        "heap-rs3-x",
        {name: {"schedule": "30 8 * * 1-5", "timezone": "America/Los_Angeles", "couriers": [member("Users")]}},
    )
    code, out, err = run(capsys, "--db", str(db), "group", "crontab", name)
    assert (code, err) == (0, [])
    assert out[0] == '# Courier group "Ops\' 100% daily": At 08:30 AM, Monday through Friday (America/Los_Angeles)'
    assert out[-2] == "CRON_TZ=America/Los_Angeles"
    line = out[-1]
    schedule, command = line[: len("30 8 * * 1-5")], line[len("30 8 * * 1-5 ") :]
    assert schedule == "30 8 * * 1-5"
    # cron turns % into a newline unless escaped; the shell then sees the plain command.
    assert "%" not in command.replace("\\%", "")
    words = shlex.split(command.replace("\\%", "%"))
    resolved = db.resolve()
    assert words[:3] == ["cd", str(resolved.parent), "&&"]
    program = Path(sys.executable).with_name("courier")
    assert words[3] == str(program)
    assert words[4:] == [
        "--db",
        str(resolved),
        "group",
        "run",
        name,
        "--scheduled",
        ">>",
        str(resolved.parent / "courier-cron.log"),
        "2>&1",
    ]


# --- group run ----------------------------------------------------------------------------------------


def test_group_run_prints_events_and_exits_0(capsys: pytest.CaptureFixture[str], db: Path, s3_bucket: Any) -> None:
    s3_bucket.put("exports/users-2027-06-01.avro", users_file(date(2027, 6, 1), 3))
    setup_db(
        db, s3_bucket.endpoint, s3_bucket.name, {"Daily": {"schedule": "0 13 * * *", "couriers": [member("Users")]}}
    )
    code, out, err = run(capsys, "--db", str(db), "group", "run", "Daily", "--day", "2027-06-01")
    assert (code, err) == (0, [])
    assert out[-1] == "Group run 1 Succeeded: 1 files, 3 rows read, 3 inserted, 0 updated, 0 rejected"
    text = "\n".join(out)
    assert "Courier group run request: Run courier group Daily (manual) for 2027-06-01: Users" in text
    assert "Courier run request: Run Users for 2027-06-01 (manual)" in text  # the courier's own events too


def test_group_run_that_fails_exits_1_and_json_has_the_courier_runs(
    capsys: pytest.CaptureFixture[str], db: Path, s3_bucket: Any
) -> None:
    s3_bucket.put("events/events-2027-06-01.avro", users_file(date(2027, 6, 1), 2))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {"Daily": {"couriers": [member("Events"), member("Users", **{"stop-when-missing": True})]}},
    )
    code, out, err = run(capsys, "--db", str(db), "group", "run", "Daily", "--day", "2027-06-01", "--json")
    payload = json.loads("\n".join(out))
    # The reason also goes to stderr, as one line (the README's promise for a failed run).
    assert (code, err) == (1, [f"courier: group run {payload['id']} failed: {payload['message']}"])
    assert (payload["status"], payload["message"]) == (
        "Failed",
        "Missing data for Users: missing exports/users-2027-06-01.avro for 2027-06-01; stopping "
        "(stop when missing is on)",
    )
    assert [(c["target"], c["status"], c["parent_id"]) for c in payload["couriers"]] == [
        ("Events", "Succeeded", payload["id"])
    ]


def test_group_run_scheduled_uses_the_latest_slot_and_records_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, s3_bucket: Any
) -> None:
    from core.scheduler import read_state

    s3_bucket.put("exports/users-2027-06-14.avro", users_file(date(2027, 6, 14), 2))
    setup_db(
        db,
        s3_bucket.endpoint,
        s3_bucket.name,
        {
            "Daily": {
                "schedule": "30 8 * * *",
                "timezone": "America/Los_Angeles",
                "couriers": [member("Users", offset="1d")],
            }
        },
    )
    monkeypatch.setenv("COURIER_FAKE_NOW", "2027-06-15T15:30:20Z")
    code, out, err = run(capsys, "--db", str(db), "group", "run", "Daily", "--scheduled")
    assert code == 0
    assert err == [
        'courier: Running courier group "Daily" for its Tue 2027-06-15 08:30 PDT slot (15:30 UTC)',
        'courier: Courier group "Daily" run 1 Succeeded',
    ]
    assert out[-1] == "Group run 1 Succeeded: 1 files, 2 rows read, 2 inserted, 0 updated, 0 rejected"
    with Store(db) as store:
        state = read_state(store)["Daily"]
        trigger = store.query("SELECT trigger, window_start FROM runs WHERE id = 1")[0]
    assert state.last_run_id == 1 and state.last_slot.isoformat() == "2027-06-15T15:30:00+00:00"
    assert (trigger["trigger"], trigger["window_start"]) == ("schedule", "2027-06-14")


# --- scheduler --once ---------------------------------------------------------------------------------


def test_scheduler_once_with_nothing_due(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    setup_db(
        db, "http://127.0.0.1:9", "heap-rs3-x", {"Daily": {"schedule": "0 13 * * *", "couriers": [member("Users")]}}
    )
    code, out, err = run(capsys, "--db", str(db), "scheduler", "--once", "--now", "2027-06-15T09:00:00Z")
    assert (code, err) == (0, [])
    assert out == [
        f"2027-06-15 09:00:00Z Scheduler checking once for {db.resolve()} (pid {os.getpid()}): "
        "1 enabled scheduled group",
        "2027-06-15 09:00:00Z Scheduler checked: 0 group runs started",
    ]


def test_scheduler_rejects_a_bad_now(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "scheduler", "--once", "--now", "tomorrow")
    assert (code, out) == (2, [])
    assert one_error(err) == 'courier: "tomorrow" is not an ISO 8601 time, e.g. 2027-03-14T16:29:58Z'


# --- scheduler status and unit -----------------------------------------------------------------------


def test_scheduler_status_with_none_running(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    setup_db(
        db,
        "http://127.0.0.1:9",
        "heap-rs3-x",
        {
            "Daily": {"schedule": "0 13 * * *", "couriers": [member("Users")]},
            "Sydney": {"schedule": "30 8 * * 7", "timezone": "Australia/Sydney", "couriers": [member("Events")]},
            "Manual": {"couriers": [member("Users")]},
        },
    )
    code, out, err = run(capsys, "--db", str(db), "scheduler", "status", "--now", "2027-06-15T09:00:00Z")
    assert (code, err) == (0, [])
    assert out == [
        f"No scheduler is running for {db.resolve()} (start one: courier scheduler; to keep it "
        "running: courier scheduler unit)",
        '2 enabled scheduled groups; next due: courier group "Daily" at Tue 2027-06-15 13:00 UTC '
        "(2027-06-15 13:00 UTC)",
    ]
    # Sunday 08:30 in Sydney (day of week 7) is Saturday 22:30 UTC, before Daily's next run (Sunday 13:00 UTC).
    code, out, err = run(capsys, "--db", str(db), "scheduler", "status", "--now", "2027-06-19T13:30:00Z")
    assert out[1] == (
        '2 enabled scheduled groups; next due: courier group "Sydney" at Sun 2027-06-20 08:30 AEST '
        "(2027-06-19 22:30 UTC)"
    )


def test_scheduler_status_ignores_a_pid_left_by_a_killed_scheduler(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    from core.scheduler import lock_path

    setup_db(db, "http://127.0.0.1:9", "heap-rs3-x", {})
    lock_path(db).write_text("999999\n")  # the lock file outlives a kill -9; its flock does not
    code, out, err = run(capsys, "--db", str(db), "scheduler", "status")
    assert (code, err) == (0, [])
    assert out == [
        f"No scheduler is running for {db.resolve()} (start one: courier scheduler; to keep it "
        "running: courier scheduler unit)",
        "0 enabled scheduled groups: nothing will run",
    ]


def test_scheduler_unit_prints_a_systemd_user_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "my data" / "100% c.db"
    db.parent.mkdir()
    missing = run(capsys, "--db", str(db), "scheduler", "unit")
    assert missing[0] == 2 and "there is no Courier database at" in missing[2][0]  # a unit for nothing: refused
    db.write_bytes(b"")  # SQLite's empty database
    before = db.stat().st_mtime_ns
    code, out, err = run(capsys, "--db", str(db), "scheduler", "unit")
    assert (code, err) == (0, [])
    assert "#   loginctl enable-linger $USER   # keep it running after you log out (once per user)" in out
    assert "#   systemctl --user enable --now courier-scheduler" in out
    sections = [line for line in out if line.startswith("[")]
    assert sections == ["[Unit]", "[Service]", "[Install]"]
    exec_start = next(line for line in out if line.startswith("ExecStart="))
    # systemd's % specifiers are escaped; the words are the command a shell would see.
    words = shlex.split(exec_start.removeprefix("ExecStart=").replace("%%", "%"))
    assert words[-3:] == ["--db", str(db.resolve()), "scheduler"]
    assert Path(words[0]).name in ("courier", Path(sys.executable).name)
    assert "WorkingDirectory=" + str(db.resolve().parent) in out  # no % in it
    assert "Description=Courier scheduler for " + str(db.resolve()).replace("%", "%%") in out
    assert "KillSignal=SIGTERM" in out and "WantedBy=default.target" in out
    assert db.stat().st_size == 0 and db.stat().st_mtime_ns == before  # printing a unit touches nothing


def test_scheduler_status_with_once_is_bad_input(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "scheduler", "status", "--once")
    assert (code, out) == (2, [])
    assert one_error(err) == "courier: --once runs the scheduler; it cannot be combined with status"
