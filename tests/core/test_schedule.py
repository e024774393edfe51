"""Schedule maths: cron validation and descriptions, next runs in zones, DST, file-date windows (fixed ``now``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.errors import CourierError
from core.models import CourierGroup, GroupCourier
from core.schedule import (
    describe_cron,
    file_window,
    latest_run,
    parse_cron,
    previous_run,
    runs_between,
    schedule_preview,
    upcoming_runs,
    validate_cron,
    validate_timezone,
)

UTC = timezone.utc
LA = ZoneInfo("America/Los_Angeles")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def la(*parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=LA, fold=fold)  # type: ignore[misc]


def runs_text(expression: str, zone: str, now: datetime, count: int) -> list[str]:
    """``local | UTC | note`` per slot, skipped slots as ``<wall> skipped``."""
    lines = []
    for slot in upcoming_runs(expression, zone, now, count):
        if slot.at is None:
            lines.append(f"{slot.wall:%a %Y-%m-%d %H:%M} skipped")
        else:
            lines.append(
                f"{slot.at:%a %Y-%m-%d %H:%M %Z} | {slot.at_utc:%Y-%m-%d %H:%M}"
                + (" | DST" if slot.dst_note else "")
                + (" | UTC moved" if slot.utc_note else "")
            )
    return lines


# --- validation and descriptions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "30 8 * * *",
        "30 8 * * 0",
        "0 17 * * 1-5",
        "0 17 * * 1,3",
        "*/15 * * * *",
        "0 0 1 1 *",
        "59 23 31 12 6",
        "0-30/10 9-17 * * 1-5",
        "0 9 * * 7",
        "0 9 * * 5-7",
        "0 9 * JAN-MAR MON-FRI",
        "0 9 * jan sun",
        "0 9 1 * mon-fri/2",
        "5/15 * * * *",
        "@daily",
        "@Hourly",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@midnight",
    ],
)
def test_valid_expressions(expression: str) -> None:
    assert validate_cron(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("61 8 * * *", "61 is out of range for the minute field (0-59)"),
        ("30 24 * * *", "24 is out of range for the hour field (0-23)"),
        ("0 0 0 * *", "0 is out of range for the day of month field (1-31)"),
        ("0 0 1 13 *", "13 is out of range for the month field (1-12 or JAN-DEC)"),
        ("0 0 * * 8", "8 is out of range for the day of week field (0-7 or SUN-SAT; 0 and 7 are Sunday)"),
        ("0 0 * * 0-8", "8 is out of range for the day of week field (0-7 or SUN-SAT; 0 and 7 are Sunday)"),
        ("0 0 * * FUN", '"FUN" is not a day of week: use 0-7 or SUN-SAT; 0 and 7 are Sunday'),
        ("0 0 * MON *", '"MON" is not a month: use 1-12 or JAN-DEC'),
        ("0 0 * * */MON", '"*/MON" has a step that is not a number in the day of week field'),
        (
            "0 0 JAN * *",
            '"JAN" is not a valid day of month: use numbers 1-31, *, lists (1,3), ranges (1-5) and steps (*/15)',
        ),
        (
            "0 0 L * *",
            '"L" is not a valid day of month: use numbers 1-31, *, lists (1,3), ranges (1-5) and steps (*/15)',
        ),
        (
            "0 0 ? * 1",
            '"?" is not a valid day of month: use numbers 1-31, *, lists (1,3), ranges (1-5) and steps (*/15)',
        ),
        (
            "@reboot",
            '"@reboot" is not a schedule shortcut Courier can run; use 5 fields or one of @yearly @annually '
            "@monthly @weekly @daily @midnight @hourly",
        ),
        (
            "30 8 * *",
            '"30 8 * *" has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week, e.g. 30 8 * * *',
        ),
        (
            "30 8 * * * *",
            '"30 8 * * * *" has 6 fields; a schedule has 5: minute hour day-of-month month '
            "day-of-week, e.g. 30 8 * * *",
        ),
        ("a 8 * * *", '"a" is not a valid minute: use numbers 0-59, *, lists (1,3), ranges (1-5) and steps (*/15)'),
        ("0 0 * * 5-1", '"5-1" is a backwards range in the day of week field'),
        ("*/0 * * * *", '"*/0" has a step of 0 in the minute field'),
        ("0 0 30 2 *", '"0 0 30 2 *" never runs: no month in it has that day (like February 30)'),
    ],
    ids=[
        "minute",
        "hour",
        "day of month",
        "month",
        "day of week 8",
        "range to 8",
        "bad day name",
        "day name in month",
        "name step",
        "month name in day",
        "quartz L",
        "quartz ?",
        "reboot",
        "4 fields",
        "6 fields",
        "letters",
        "backwards",
        "step 0",
        "february 30",
    ],
)
def test_invalid_expressions_give_one_line(expression: str, problem: str) -> None:
    assert validate_cron(expression) == problem
    with pytest.raises(CourierError) as raised:
        upcoming_runs(expression, "UTC", utc(2027, 1, 1), 3)
    assert str(raised.value) == problem
    assert "\n" not in problem


@pytest.mark.parametrize(
    ("zone", "problem"),
    [
        ("UTC", None),
        ("America/Los_Angeles", None),
        ("Asia/Kolkata", None),
        ("Europe/Berlin", None),
        ("Mars/Olympus", '"Mars/Olympus" is not an IANA time zone, e.g. America/Los_Angeles or UTC'),
        ("los angeles", '"los angeles" is not an IANA time zone (did you mean America/Los_Angeles?)'),
        ("PST8PDT ", '"PST8PDT " is an abbreviation, not an IANA time zone (did you mean America/Los_Angeles?)'),
        ("PST", '"PST" is an abbreviation, not an IANA time zone (did you mean America/Los_Angeles?)'),
        ("Pacific", '"Pacific" is an abbreviation, not an IANA time zone (did you mean America/Los_Angeles?)'),
        ("eastern", '"eastern" is an abbreviation, not an IANA time zone (did you mean America/New_York?)'),
        # The zone database still has a fixed-offset "EST" (no daylight saving): refuse it too.
        ("EST", '"EST" is an abbreviation, not an IANA time zone (did you mean America/New_York?)'),
        ("CET", '"CET" is an abbreviation, not an IANA time zone (did you mean Europe/Paris, Europe/Berlin?)'),
        # POSIX inverts the sign: Etc/GMT-8 is UTC+8, never a suggestion for GMT-8.
        (
            "GMT-8",
            '"GMT-8" is not an IANA time zone: zone names invert the sign (Etc/GMT-8 is UTC+8); for UTC-8 '
            "use Etc/GMT+8, or better a place that follows daylight saving, e.g. America/Los_Angeles",
        ),
        ("Etc/GMT+8", None),
    ],
)
def test_time_zones(zone: str, problem: str | None) -> None:
    if problem and "(did you mean" in problem:
        assert "Etc/GMT" not in problem.split("(did you mean")[-1]
    assert validate_timezone(zone) == problem
    if problem:
        with pytest.raises(CourierError, match="not an IANA time zone"):
            upcoming_runs("30 8 * * *", zone, utc(2027, 1, 1), 1)


@pytest.mark.parametrize(
    ("expression", "description"),
    [
        ("30 8 * * *", "At 08:30 AM"),
        ("30 8 * * 0", "At 08:30 AM, only on Sunday"),
        ("0 17 * * 1-5", "At 05:00 PM, Monday through Friday"),
        ("0 17 * * 1,3", "At 05:00 PM, only on Monday and Wednesday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 2 1 * *", "At 02:00 AM, on day 1 of the month"),
    ],
)
def test_descriptions(expression: str, description: str) -> None:
    assert describe_cron(expression) == description


# --- next runs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "zone", "now", "expected"),
    [
        # Fields and ranges: weekdays only, from a Friday evening.
        (
            "0 17 * * 1-5",
            "UTC",
            utc(2027, 6, 4, 18),
            [
                "Mon 2027-06-07 17:00 UTC | 2027-06-07 17:00",
                "Tue 2027-06-08 17:00 UTC | 2027-06-08 17:00",
                "Wed 2027-06-09 17:00 UTC | 2027-06-09 17:00",
            ],
        ),
        (
            "0 17 * * 1,3",
            "UTC",
            utc(2027, 6, 4),
            [
                "Mon 2027-06-07 17:00 UTC | 2027-06-07 17:00",
                "Wed 2027-06-09 17:00 UTC | 2027-06-09 17:00",
                "Mon 2027-06-14 17:00 UTC | 2027-06-14 17:00",
            ],
        ),
        (
            "*/20 9 * * *",
            "UTC",
            utc(2027, 6, 4, 9, 20),
            [
                "Fri 2027-06-04 09:40 UTC | 2027-06-04 09:40",
                "Sat 2027-06-05 09:00 UTC | 2027-06-05 09:00",
                "Sat 2027-06-05 09:20 UTC | 2027-06-05 09:20",
            ],
        ),
        (
            "0 6 1 1-3 *",
            "UTC",
            utc(2027, 2, 15),
            ["Mon 2027-03-01 06:00 UTC | 2027-03-01 06:00", "Sat 2028-01-01 06:00 UTC | 2028-01-01 06:00"],
        ),
        # Sunday is 0: 2027-06-06 is a Sunday.
        (
            "30 8 * * 0",
            "UTC",
            utc(2027, 6, 1),
            ["Sun 2027-06-06 08:30 UTC | 2027-06-06 08:30", "Sun 2027-06-13 08:30 UTC | 2027-06-13 08:30"],
        ),
        # A zone without DST and a half-hour offset: 08:30 IST is 03:00 UTC all year.
        (
            "30 8 * * *",
            "Asia/Kolkata",
            utc(2027, 3, 13),
            ["Sat 2027-03-13 08:30 IST | 2027-03-13 03:00", "Sun 2027-03-14 08:30 IST | 2027-03-14 03:00"],
        ),
        # A zone with DST: the UTC time moves on 2027-03-14 (and the run says so).
        (
            "30 8 * * *",
            "America/Los_Angeles",
            utc(2027, 3, 13),
            [
                "Sat 2027-03-13 08:30 PST | 2027-03-13 16:30",
                "Sun 2027-03-14 08:30 PDT | 2027-03-14 15:30 | UTC moved",
                "Mon 2027-03-15 08:30 PDT | 2027-03-15 15:30",
            ],
        ),
        # Spring gap: 02:30 does not exist on 2027-03-14; a fixed time runs once at 03:00 PDT (cronie).
        (
            "30 2 * * *",
            "America/Los_Angeles",
            la(2027, 3, 13),
            [
                "Sat 2027-03-13 02:30 PST | 2027-03-13 10:30",
                "Sun 2027-03-14 03:00 PDT | 2027-03-14 10:00 | DST",
                "Mon 2027-03-15 02:30 PDT | 2027-03-15 09:30",
            ],
        ),
        # Autumn repeat: 01:30 happens twice on 2027-11-07; it runs once, at the first (PDT).
        (
            "30 1 * * *",
            "America/Los_Angeles",
            la(2027, 11, 6),
            [
                "Sat 2027-11-06 01:30 PDT | 2027-11-06 08:30",
                "Sun 2027-11-07 01:30 PDT | 2027-11-07 08:30 | DST",
                "Mon 2027-11-08 01:30 PST | 2027-11-08 09:30 | UTC moved",
                "Tue 2027-11-09 01:30 PST | 2027-11-09 09:30",
            ],
        ),
        # An interval job across the repeat keeps its 30 real minutes: both 01:00s and both 01:30s run.
        (
            "*/30 * * * *",
            "America/Los_Angeles",
            la(2027, 11, 7, 0, 45),
            [
                "Sun 2027-11-07 01:00 PDT | 2027-11-07 08:00 | DST",
                "Sun 2027-11-07 01:30 PDT | 2027-11-07 08:30 | DST",
                "Sun 2027-11-07 01:00 PST | 2027-11-07 09:00 | DST",
                "Sun 2027-11-07 01:30 PST | 2027-11-07 09:30 | DST",
                "Sun 2027-11-07 02:00 PST | 2027-11-07 10:00",
            ],
        ),
        # Europe's change (last Sunday of March 2027 is the 28th): 02:30 CET does not exist; it runs at 03:00 CEST.
        (
            "30 2 * * 0",
            "Europe/Berlin",
            utc(2027, 3, 20),
            [
                "Sun 2027-03-21 02:30 CET | 2027-03-21 01:30",
                "Sun 2027-03-28 03:00 CEST | 2027-03-28 01:00 | DST",
                "Sun 2027-04-04 02:30 CEST | 2027-04-04 00:30",
            ],
        ),
    ],
    ids=[
        "weekdays",
        "monday-wednesday",
        "step",
        "months",
        "sunday-0",
        "kolkata",
        "la-08:30",
        "spring-gap",
        "autumn-repeat",
        "every-30-min-autumn",
        "berlin-gap",
    ],
)
def test_upcoming_runs(expression: str, zone: str, now: datetime, expected: list[str]) -> None:
    assert runs_text(expression, zone, now, len(expected)) == expected


def test_the_spring_gap_moves_a_fixed_time_and_says_so() -> None:
    (slot,) = upcoming_runs("30 2 * * *", "America/Los_Angeles", la(2027, 3, 13, 12), 1)
    assert not slot.skipped and slot.dst == "moved" and slot.at is not None
    assert slot.at.isoformat() == "2027-03-14T03:00:00-07:00"
    assert slot.dst_note == (
        "moved: 02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles (clocks jump "
        "02:00 PST → 03:00 PDT); a fixed time runs once just after the gap, at 03:00 PDT "
        "(as cronie does)"
    )


def test_the_autumn_repeat_runs_a_fixed_time_once() -> None:
    once = upcoming_runs("30 1 * * *", "America/Los_Angeles", la(2027, 11, 6, 12), 2)
    assert [s.at.isoformat() for s in once if s.at] == ["2027-11-07T01:30:00-07:00", "2027-11-08T01:30:00-08:00"]
    assert once[0].dst == "once"
    assert once[0].dst_note == (
        "runs once: 01:30 happens twice on Sun 2027-11-07 (clocks fall back, PDT → PST); "
        "a fixed time runs only at the first, 01:30 PDT (as cronie does)"
    )
    # Asked during the second 01:30 (PST), the first already ran: the next is the following day.
    (after,) = upcoming_runs("30 1 * * *", "America/Los_Angeles", la(2027, 11, 7, 1, 15, fold=1), 1)
    assert after.at is not None and after.at.isoformat() == "2027-11-08T01:30:00-08:00"


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        (utc(2027, 11, 7, 9, 45), "2027-11-07T01:30:00-07:00"),  # 01:45 PST: the PST 01:30 never ran
        (utc(2027, 11, 7, 8, 30), "2027-11-07T01:30:00-07:00"),  # exactly at the slot
        (utc(2027, 11, 7, 8, 29), "2027-11-06T01:30:00-07:00"),
        (utc(2027, 3, 14, 12), "2027-03-14T01:30:00-08:00"),  # 01:30 exists on the spring day (the gap is 02:xx)
    ],
)
def test_latest_run_at_or_before(now: datetime, latest: str) -> None:
    moment = latest_run("30 1 * * *", "America/Los_Angeles", now)
    assert moment is not None and moment.isoformat() == latest


def test_previous_run_is_the_moved_spring_run_and_skips_an_interval_jobs_gap() -> None:
    before = previous_run("30 2 * * *", "America/Los_Angeles", la(2027, 3, 15, 2, 30))
    assert before is not None and before.isoformat() == "2027-03-14T03:00:00-07:00"
    # Before the moved run itself is the week before, not the moved run (just before 03:00 PDT is a wall time in
    # the gap, which zoneinfo reads as 02:59 PST, later than the run): a weekly window must reach back a week.
    moved = la(2027, 3, 14, 3)
    assert moved.isoformat() == "2027-03-14T03:00:00-07:00"
    before = previous_run("30 2 * * 0", "America/Los_Angeles", moved)
    assert before is not None and before.isoformat() == "2027-03-07T02:30:00-08:00"
    runs = runs_between("30 2 * * *", "America/Los_Angeles", la(2027, 3, 12, 12), la(2027, 3, 16, 12))
    assert [m.day for m in runs] == [13, 14, 15, 16]
    hourly = runs_between("30 * * * *", "America/Los_Angeles", la(2027, 3, 14, 1), la(2027, 3, 14, 4))
    assert [m.isoformat() for m in hourly] == ["2027-03-14T01:30:00-08:00", "2027-03-14T03:30:00-07:00"]


# --- file-date windows ------------------------------------------------------------------------------


H, D = 3600, 86400


@pytest.mark.parametrize(
    ("at", "offset", "zone", "in_zone", "previous", "expected"),
    [
        # Amperity's offsets diagram: a run on June 15 at 13:00.
        (
            utc(2027, 6, 15, 13),
            0,
            "UTC",
            False,
            None,
            ("2027-06-14 13:00", "2027-06-15 13:00", ["2027-06-15"], "daily"),
        ),
        (
            utc(2027, 6, 15, 13),
            D,
            "UTC",
            False,
            None,
            ("2027-06-13 13:00", "2027-06-14 13:00", ["2027-06-14"], "daily"),
        ),
        (
            utc(2027, 6, 15, 13),
            13 * H,
            "UTC",
            False,
            None,
            ("2027-06-14 00:00", "2027-06-15 00:00", ["2027-06-14"], "daily"),
        ),
        (
            utc(2027, 6, 15, 13),
            2 * D,
            "UTC",
            False,
            None,
            ("2027-06-12 13:00", "2027-06-13 13:00", ["2027-06-13"], "daily"),
        ),
        (
            utc(2027, 6, 15, 13),
            14 * H,
            "UTC",
            False,
            None,
            ("2027-06-13 23:00", "2027-06-14 23:00", ["2027-06-14"], "daily"),
        ),
        # Weekly: since the last run, seven daily files.
        (
            utc(2027, 6, 13, 8),
            0,
            "UTC",
            False,
            utc(2027, 6, 6, 8),
            ("2027-06-06 08:00", "2027-06-13 08:00", [f"2027-06-{d:02d}" for d in range(7, 14)], "since last run"),
        ),
        (
            utc(2027, 6, 13, 8),
            D,
            "UTC",
            False,
            utc(2027, 6, 6, 8),
            ("2027-06-05 08:00", "2027-06-12 08:00", [f"2027-06-{d:02d}" for d in range(6, 13)], "since last run"),
        ),
        # Daily, the previous run 24 h back: still "daily".
        (
            utc(2027, 6, 13, 8),
            0,
            "UTC",
            False,
            utc(2027, 6, 12, 8),
            ("2027-06-12 08:00", "2027-06-13 08:00", ["2027-06-13"], "daily"),
        ),
        # 20:00 in Los Angeles is 03:00 UTC the next day: the zone decides which midnight falls inside.
        (
            la(2027, 6, 15, 20),
            0,
            "America/Los_Angeles",
            False,
            None,
            ("2027-06-15 03:00", "2027-06-16 03:00", ["2027-06-16"], "daily"),
        ),
        (
            la(2027, 6, 15, 20),
            0,
            "America/Los_Angeles",
            True,
            None,
            ("2027-06-14 20:00", "2027-06-15 20:00", ["2027-06-15"], "daily"),
        ),
        # In zone, a day is a calendar day even across the spring change (23 real hours).
        (
            la(2027, 3, 14, 8, 30),
            D,
            "America/Los_Angeles",
            True,
            la(2027, 3, 13, 8, 30),
            ("2027-03-12 08:30", "2027-03-13 08:30", ["2027-03-13"], "daily"),
        ),
        # In UTC the same run covers 24 real hours.
        (
            la(2027, 3, 14, 8, 30),
            0,
            "America/Los_Angeles",
            False,
            la(2027, 3, 13, 8, 30),
            ("2027-03-13 15:30", "2027-03-14 15:30", ["2027-03-14"], "daily"),
        ),
        # After the skipped spring slot the window reaches back to the last run (two days).
        (
            la(2027, 3, 15, 2, 30),
            0,
            "America/Los_Angeles",
            False,
            la(2027, 3, 13, 2, 30),
            ("2027-03-13 10:30", "2027-03-15 09:30", ["2027-03-14", "2027-03-15"], "since last run"),
        ),
    ],
    ids=[
        "diagram-no-offset",
        "diagram-1d",
        "diagram-13h",
        "2d",
        "14h",
        "weekly",
        "weekly-1d",
        "daily-prev",
        "utc-frame",
        "zone-frame",
        "zone-dst-1d",
        "utc-dst",
        "after-gap",
    ],
)
def test_file_windows(
    at: datetime,
    offset: int,
    zone: str,
    in_zone: bool,
    previous: datetime | None,
    expected: tuple[str, str, list[str], str],
) -> None:
    window = file_window(at, offset, timezone=zone, in_zone=in_zone, previous=previous)
    got = (
        f"{window.start:%Y-%m-%d %H:%M}",
        f"{window.end:%Y-%m-%d %H:%M}",
        [d.isoformat() for d in window.days],
        window.kind,
    )
    assert got == expected
    assert window.start.tzinfo is not None
    assert (window.start.utcoffset() == timedelta(0)) is (not in_zone or zone == "UTC")


def test_catch_up_window_reaches_back_to_the_last_fired_slot() -> None:
    window = file_window(utc(2027, 6, 15, 8), D, previous=utc(2027, 6, 14, 8), since=utc(2027, 6, 11, 8))
    assert window.kind == "catch-up"
    assert [d.isoformat() for d in window.days] == ["2027-06-11", "2027-06-12", "2027-06-13", "2027-06-14"]
    run = window.run_window()
    assert (run.kind, run.start, run.end) == ("period", date(2027, 6, 11), date(2027, 6, 15))


def group(
    schedule: str, zone: str = "UTC", *, in_zone: bool = False, offsets: tuple[str, ...] = ("0d",)
) -> CourierGroup:
    return CourierGroup(
        name="G",
        couriers=tuple(GroupCourier(f"C{i}", offset=o) for i, o in enumerate(offsets)),
        schedule=schedule,
        timezone=zone,
        file_dates_in_zone=in_zone,
    )


def preview_text(runs: list) -> list[str]:
    lines = []
    for run in runs:
        head = f"{run.slot.wall:%a %m-%d %H:%M}" + (" skipped" if run.skipped else f" {run.at_local:%Z}")
        lines.append(
            head + "".join(f" | {name}: {','.join(d.strftime('%m-%d') for d in w.days)}" for name, w in run.windows)
        )
    return lines


@pytest.mark.parametrize(
    ("grp", "now", "expected"),
    [
        (
            group("30 8 * * *", offsets=("0d", "1d", "13h")),
            utc(2027, 6, 14, 9),
            [
                "Tue 06-15 08:30 UTC | C0: 06-15 | C1: 06-14 | C2: 06-14",
                "Wed 06-16 08:30 UTC | C0: 06-16 | C1: 06-15 | C2: 06-15",
            ],
        ),
        # Weekly on Sunday (0): each run covers the seven days since the last one.
        (
            group("0 6 * * 0"),
            utc(2027, 6, 1),
            [
                "Sun 06-06 06:00 UTC | C0: 05-31,06-01,06-02,06-03,06-04,06-05,06-06",
                "Sun 06-13 06:00 UTC | C0: 06-07,06-08,06-09,06-10,06-11,06-12,06-13",
            ],
        ),
        (
            group("0 6 * * 0", offsets=("1w",)),
            utc(2027, 6, 1),
            [
                "Sun 06-06 06:00 UTC | C0: 05-24,05-25,05-26,05-27,05-28,05-29,05-30",
                "Sun 06-13 06:00 UTC | C0: 05-31,06-01,06-02,06-03,06-04,06-05,06-06",
            ],
        ),
        # Spring gap: the 02:30 run moves to 03:00 PDT and loads its own day; no day is loaded twice or lost.
        (
            group("30 2 * * *", "America/Los_Angeles"),
            la(2027, 3, 13),
            ["Sat 03-13 02:30 PST | C0: 03-13", "Sun 03-14 02:30 PDT | C0: 03-14", "Mon 03-15 02:30 PDT | C0: 03-15"],
        ),
        (
            group("30 2 * * *", "America/Los_Angeles", in_zone=True),
            la(2027, 3, 13),
            ["Sat 03-13 02:30 PST | C0: 03-13", "Sun 03-14 02:30 PDT | C0: 03-14", "Mon 03-15 02:30 PDT | C0: 03-15"],
        ),
        # An hourly interval job across the gap: the 02:30 slot is skipped, the 03:30 run covers the hours since 01:30.
        (
            group("30 * * * *", "America/Los_Angeles"),
            la(2027, 3, 14, 1),
            ["Sun 03-14 01:30 PST | C0: 03-14", "Sun 03-14 02:30 skipped", "Sun 03-14 03:30 PDT | C0: 03-14"],
        ),
        # File dates in zone off/on: an evening run in Los Angeles picks the next UTC day, or the local day.
        (group("0 20 * * *", "America/Los_Angeles"), utc(2027, 6, 15, 12), ["Tue 06-15 20:00 PDT | C0: 06-16"]),
        (
            group("0 20 * * *", "America/Los_Angeles", in_zone=True),
            utc(2027, 6, 15, 12),
            ["Tue 06-15 20:00 PDT | C0: 06-15"],
        ),
    ],
    ids=["offsets", "weekly", "weekly-1w", "gap-utc", "gap-in-zone", "gap-hourly", "zone-off", "zone-on"],
)
def test_schedule_preview(grp: CourierGroup, now: datetime, expected: list[str]) -> None:
    assert preview_text(schedule_preview(grp, now, len(expected))) == expected


def test_preview_row_fields() -> None:
    (run,) = schedule_preview(group("30 8 * * *", "America/Los_Angeles", offsets=("1d",)), utc(2027, 6, 14, 20), 1)
    assert run.at_local == la(2027, 6, 15, 8, 30)
    assert run.at_utc == utc(2027, 6, 15, 15, 30)
    assert (run.window_start, run.window_end) == (utc(2027, 6, 13, 15, 30), utc(2027, 6, 14, 15, 30))
    assert run.days == (date(2027, 6, 14),)
    assert run.dst_note is None


def test_preview_of_a_group_without_schedule_is_an_error() -> None:
    with pytest.raises(CourierError, match='Courier group "G" has no schedule: it runs only by hand'):
        schedule_preview(CourierGroup(name="G", couriers=(GroupCourier("C"),)), utc(2027, 1, 1), 3)


# --- the day rule of Vixie cron, cronie and crontab.guru; day of week 7 and names -----------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # A day field starting with * (also */n): a day must match both fields.
        ("0 9 */2 * 1", ["2026-12-07 09:00", "2026-12-21 09:00", "2027-01-11 09:00"]),
        ("0 9 */10 * 1,5", ["2026-12-11 09:00", "2026-12-21 09:00", "2027-01-01 09:00"]),
        ("0 9 1-7 * */7", ["2026-12-06 09:00", "2027-01-03 09:00", "2027-02-07 09:00"]),  # */7 = Sunday only
        ("0 9 13 * */1", ["2026-12-13 09:00", "2027-01-13 09:00", "2027-02-13 09:00"]),
        ("0 9 * * 1", ["2026-11-30 09:00", "2026-12-07 09:00", "2026-12-14 09:00"]),
        ("0 9 1,15 * *", ["2026-12-01 09:00", "2026-12-15 09:00", "2027-01-01 09:00"]),
        # Both restricted: either field will do.
        ("0 9 1 * 1", ["2026-11-30 09:00", "2026-12-01 09:00", "2026-12-07 09:00"]),
        ("0 9 1-7 * 0", ["2026-11-29 09:00", "2026-12-01 09:00", "2026-12-02 09:00"]),
        ("0 9 13 * 5", ["2026-11-27 09:00", "2026-12-04 09:00", "2026-12-11 09:00"]),
        # Day of week 7 is Sunday; names in any case, alone, in ranges and with steps.
        ("0 9 * * 7", ["2026-11-29 09:00", "2026-12-06 09:00"]),
        ("0 9 * * SUN", ["2026-11-29 09:00", "2026-12-06 09:00"]),
        ("0 9 * * 5-7", ["2026-11-27 09:00", "2026-11-28 09:00", "2026-11-29 09:00"]),
        ("0 9 * * mon-fri/2", ["2026-11-25 09:00", "2026-11-27 09:00", "2026-11-30 09:00"]),
        ("0 9 1 JAN *", ["2027-01-01 09:00", "2028-01-01 09:00"]),
        ("0 9 29 FEB MON", ["2027-02-01 09:00", "2027-02-08 09:00"]),
        ("0 9 29 Feb *", ["2028-02-29 09:00"]),
        ("@weekly", ["2026-11-29 00:00", "2026-12-06 00:00"]),
        ("@monthly", ["2026-12-01 00:00", "2027-01-01 00:00"]),
    ],
)
def test_day_rule_names_and_seven(expression: str, expected: list[str]) -> None:
    got = [f"{slot.at:%Y-%m-%d %H:%M}" for slot in upcoming_runs(expression, "UTC", utc(2026, 11, 24), len(expected))]
    assert got == expected


@pytest.mark.parametrize(
    "expression",
    [
        "0 9 */2 * 1",
        "0 9 1 * 1",
        "15 */4 */3 * 1-5",
        "0 0 1,15 * 0",
        "30 6 * 1-6 2",
        "0 12 10-20 * */2",
        "*/45 8 * * 6",
    ],
)
def test_day_rule_agrees_with_croniter_given_vixies_day_or(expression: str) -> None:
    from croniter import croniter

    fields = expression.split()
    day_or = not (fields[2].startswith("*") or fields[4].startswith("*"))
    assert parse_cron(expression).both_days is not day_or
    iterator = croniter(expression, datetime(2026, 11, 24), day_or=day_or)
    theirs = [iterator.get_next(datetime) for _ in range(40)]
    ours = [slot.at.replace(tzinfo=None) for slot in upcoming_runs(expression, "UTC", utc(2026, 11, 24), 40) if slot.at]
    assert ours == theirs


def test_descriptions_say_which_day_rule_applies() -> None:
    assert (
        describe_cron("0 9 */2 * 1") == "At 09:00 AM, every 2 days, if it is on Monday (a day must match both "
        "day fields)"
    )
    assert describe_cron("0 9 1 * 1").endswith("(a day may match either day field)")
    assert describe_cron("0 9 * * 7") == "At 09:00 AM, only on Sunday"
    assert describe_cron("0 9 * JAN-MAR MON-FRI") == "At 09:00 AM, Monday through Friday, January through March"


# --- cronie's daylight-saving rule in three zones --------------------------------------------------------


def dst_text(expression: str, zone: str, now: datetime, count: int) -> list[str]:
    lines = []
    for slot in upcoming_runs(expression, zone, now, count):
        if slot.at is None:
            lines.append(f"{slot.wall:%m-%d %H:%M} skipped")
        else:
            lines.append(
                f"{slot.at:%m-%d %H:%M %Z} = {slot.at_utc:%m-%d %H:%MZ}" + (f" {slot.dst}" if slot.dst else "")
            )
    return lines


SYD = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize(
    ("expression", "zone", "now", "expected"),
    [
        # America/Los_Angeles 2027: 02:00 PST → 03:00 PDT on 03-14; 02:00 PDT → 01:00 PST on 11-07.
        (
            "30 2 * * *",
            "America/Los_Angeles",
            la(2027, 3, 13, 12),
            ["03-14 03:00 PDT = 03-14 10:00Z moved", "03-15 02:30 PDT = 03-15 09:30Z"],
        ),
        (
            "0,30 2 * * *",
            "America/Los_Angeles",
            la(2027, 3, 13, 12),
            ["03-14 03:00 PDT = 03-14 10:00Z moved", "03-15 02:00 PDT = 03-15 09:00Z"],
        ),
        (
            "0 2,3 * * *",
            "America/Los_Angeles",
            la(2027, 3, 13, 12),
            ["03-14 03:00 PDT = 03-14 10:00Z", "03-15 02:00 PDT = 03-15 09:00Z"],
        ),
        (
            "*/30 * * * *",
            "America/Los_Angeles",
            la(2027, 3, 14, 1, 15),
            [
                "03-14 01:30 PST = 03-14 09:30Z",
                "03-14 02:00 skipped",
                "03-14 03:00 PDT = 03-14 10:00Z",
                "03-14 03:30 PDT = 03-14 10:30Z",
            ],
        ),
        (
            "30 1 * * *",
            "America/Los_Angeles",
            la(2027, 11, 6, 12),
            ["11-07 01:30 PDT = 11-07 08:30Z once", "11-08 01:30 PST = 11-08 09:30Z"],
        ),
        (
            "0 * * * *",
            "America/Los_Angeles",
            la(2027, 11, 7, 0, 30),
            [
                "11-07 01:00 PDT = 11-07 08:00Z repeated",
                "11-07 01:00 PST = 11-07 09:00Z repeated",
                "11-07 02:00 PST = 11-07 10:00Z",
            ],
        ),
        # Europe/London 2027: 01:00 GMT → 02:00 BST on 03-28; 02:00 BST → 01:00 GMT on 10-31.
        (
            "30 1 * * *",
            "Europe/London",
            utc(2027, 3, 27, 12),
            ["03-28 02:00 BST = 03-28 01:00Z moved", "03-29 01:30 BST = 03-29 00:30Z"],
        ),
        (
            "15,45 * * * *",
            "Europe/London",
            utc(2027, 3, 28, 0, 30),
            [
                "03-28 00:45 GMT = 03-28 00:45Z",
                "03-28 01:15 skipped",
                "03-28 02:15 BST = 03-28 01:15Z",
                "03-28 02:45 BST = 03-28 01:45Z",
            ],
        ),
        (
            "30 1 * * *",
            "Europe/London",
            utc(2027, 10, 30, 12),
            ["10-31 01:30 BST = 10-31 00:30Z once", "11-01 01:30 GMT = 11-01 01:30Z"],
        ),
        (
            "*/30 1 * * *",
            "Europe/London",
            utc(2027, 10, 30, 12),
            [
                "10-31 01:00 BST = 10-31 00:00Z repeated",
                "10-31 01:30 BST = 10-31 00:30Z repeated",
                "10-31 01:00 GMT = 10-31 01:00Z repeated",
                "10-31 01:30 GMT = 10-31 01:30Z repeated",
                "11-01 01:00 GMT = 11-01 01:00Z",
            ],
        ),
        # Australia/Sydney 2027 (southern hemisphere): 03:00 AEDT → 02:00 AEST on 04-04; 02:00 AEST → 03:00 AEDT
        # on 10-03.
        (
            "30 2 * * *",
            "Australia/Sydney",
            datetime(2027, 10, 2, 12, tzinfo=SYD),
            ["10-03 03:00 AEDT = 10-02 16:00Z moved", "10-04 02:30 AEDT = 10-03 15:30Z"],
        ),
        (
            "0 */1 * * *",
            "Australia/Sydney",
            datetime(2027, 10, 3, 1, 30, tzinfo=SYD),
            ["10-03 02:00 skipped", "10-03 03:00 AEDT = 10-02 16:00Z", "10-03 04:00 AEDT = 10-02 17:00Z"],
        ),
        (
            "30 2 * * *",
            "Australia/Sydney",
            datetime(2027, 4, 3, 12, tzinfo=SYD),
            ["04-04 02:30 AEDT = 04-03 15:30Z once", "04-05 02:30 AEST = 04-04 16:30Z"],
        ),
        (
            "*/30 2 * * *",
            "Australia/Sydney",
            datetime(2027, 4, 4, 1, tzinfo=SYD),
            [
                "04-04 02:00 AEDT = 04-03 15:00Z repeated",
                "04-04 02:30 AEDT = 04-03 15:30Z repeated",
                "04-04 02:00 AEST = 04-03 16:00Z repeated",
                "04-04 02:30 AEST = 04-03 16:30Z repeated",
            ],
        ),
    ],
    ids=[
        "la-fixed-gap",
        "la-two-in-gap",
        "la-gap-and-after",
        "la-interval-gap",
        "la-fixed-repeat",
        "la-hourly-repeat",
        "london-fixed-gap",
        "london-interval-gap",
        "london-fixed-repeat",
        "london-interval-repeat",
        "sydney-fixed-gap",
        "sydney-interval-gap",
        "sydney-fixed-repeat",
        "sydney-interval-repeat",
    ],
)
def test_daylight_saving_as_cronie(expression: str, zone: str, now: datetime, expected: list[str]) -> None:
    assert dst_text(expression, zone, now, len(expected)) == expected
    # The scheduler's view agrees: every run the preview lists is a run, in order, and none twice.
    runs = [slot.at_utc for slot in upcoming_runs(expression, zone, now, len(expected)) if slot.at_utc]
    assert runs == sorted(set(runs))
    assert [m.astimezone(UTC) for m in runs_between(expression, zone, now, runs[-1])] == runs
    assert latest_run(expression, zone, runs[-1]) is not None
    assert latest_run(expression, zone, runs[-1]).astimezone(UTC) == runs[-1]  # type: ignore[union-attr]


def test_suggestions_never_offer_an_inverted_posix_zone() -> None:
    from core.schedule import suggest_timezones

    assert suggest_timezones("PST") == ["America/Los_Angeles"]
    assert suggest_timezones("GMT-8") == []
    assert suggest_timezones("gmt") == []
    assert all(not zone.startswith("Etc/GMT") for zone in suggest_timezones("GMT"))
