"""Schedule maths: cron validation and descriptions, next runs in zones, DST, file-date windows (fixed ``now``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.errors import CourierError
from core.models import CourierGroup, GroupCourier
from core.schedule import (describe_cron, file_window, latest_run, next_runs, previous_run, runs_between,
                           schedule_preview, upcoming_runs, validate_cron, validate_timezone)

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
            lines.append(f"{slot.at:%a %Y-%m-%d %H:%M %Z} | {slot.at_utc:%Y-%m-%d %H:%M}"
                         + (" | DST" if slot.dst_note else "") + (" | UTC moved" if slot.utc_note else ""))
    return lines


# --- validation and descriptions ------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["30 8 * * *", "30 8 * * 0", "0 17 * * 1-5", "0 17 * * 1,3",
                                        "*/15 * * * *", "0 0 1 1 *", "59 23 31 12 6", "0-30/10 9-17 * * 1-5"])
def test_valid_expressions(expression: str) -> None:
    assert validate_cron(expression) is None


@pytest.mark.parametrize(("expression", "problem"), [
    ("61 8 * * *", "61 is out of range for the minute field (0-59)"),
    ("30 24 * * *", "24 is out of range for the hour field (0-23)"),
    ("0 0 0 * *", "0 is out of range for the day of month field (1-31)"),
    ("0 0 1 13 *", "13 is out of range for the month field (1-12)"),
    ("0 0 * * 7", "7 is out of range for the day of week field (0-6; Sunday is 0)"),
    ("30 8 * *", '"30 8 * *" has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week, '
                 "e.g. 30 8 * * *"),
    ("30 8 * * * *", '"30 8 * * * *" has 6 fields; a schedule has 5: minute hour day-of-month month '
                     "day-of-week, e.g. 30 8 * * *"),
    ("a 8 * * *", '"a" is not a valid minute: use numbers 0-59, *, lists (1,3), ranges (1-5) and steps (*/15)'),
    ("0 0 * * 5-1", '"5-1" is a backwards range in the day of week field'),
    ("*/0 * * * *", '"*/0" has a step of 0 in the minute field'),
    ("0 0 30 2 *", '"0 0 30 2 *" never runs: no month in it has that day (like February 30)'),
], ids=["minute", "hour", "day of month", "month", "day of week 7", "4 fields", "6 fields", "letters",
        "backwards", "step 0", "february 30"])
def test_invalid_expressions_give_one_line(expression: str, problem: str) -> None:
    assert validate_cron(expression) == problem
    with pytest.raises(CourierError) as raised:
        upcoming_runs(expression, "UTC", utc(2027, 1, 1), 3)
    assert str(raised.value) == problem
    assert "\n" not in problem


@pytest.mark.parametrize(("zone", "problem"), [
    ("UTC", None), ("America/Los_Angeles", None), ("Asia/Kolkata", None), ("Europe/Berlin", None),
    ("Mars/Olympus", '"Mars/Olympus" is not an IANA time zone, e.g. America/Los_Angeles or UTC'),
    ("los angeles", '"los angeles" is not an IANA time zone (did you mean America/Los_Angeles?)'),
    ("PST8PDT ", '"PST8PDT " is not an IANA time zone, e.g. America/Los_Angeles or UTC'),
])
def test_time_zones(zone: str, problem: str | None) -> None:
    assert validate_timezone(zone) == problem
    if problem:
        with pytest.raises(CourierError, match="is not an IANA time zone"):
            upcoming_runs("30 8 * * *", zone, utc(2027, 1, 1), 1)


@pytest.mark.parametrize(("expression", "description"), [
    ("30 8 * * *", "At 08:30 AM"),
    ("30 8 * * 0", "At 08:30 AM, only on Sunday"),
    ("0 17 * * 1-5", "At 05:00 PM, Monday through Friday"),
    ("0 17 * * 1,3", "At 05:00 PM, only on Monday and Wednesday"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 2 1 * *", "At 02:00 AM, on day 1 of the month"),
])
def test_descriptions(expression: str, description: str) -> None:
    assert describe_cron(expression) == description


# --- next runs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "zone", "now", "expected"), [
    # Fields and ranges: weekdays only, from a Friday evening.
    ("0 17 * * 1-5", "UTC", utc(2027, 6, 4, 18), ["Mon 2027-06-07 17:00 UTC | 2027-06-07 17:00",
                                                  "Tue 2027-06-08 17:00 UTC | 2027-06-08 17:00",
                                                  "Wed 2027-06-09 17:00 UTC | 2027-06-09 17:00"]),
    ("0 17 * * 1,3", "UTC", utc(2027, 6, 4), ["Mon 2027-06-07 17:00 UTC | 2027-06-07 17:00",
                                              "Wed 2027-06-09 17:00 UTC | 2027-06-09 17:00",
                                              "Mon 2027-06-14 17:00 UTC | 2027-06-14 17:00"]),
    ("*/20 9 * * *", "UTC", utc(2027, 6, 4, 9, 20), ["Fri 2027-06-04 09:40 UTC | 2027-06-04 09:40",
                                                     "Sat 2027-06-05 09:00 UTC | 2027-06-05 09:00",
                                                     "Sat 2027-06-05 09:20 UTC | 2027-06-05 09:20"]),
    ("0 6 1 1-3 *", "UTC", utc(2027, 2, 15), ["Mon 2027-03-01 06:00 UTC | 2027-03-01 06:00",
                                              "Sat 2028-01-01 06:00 UTC | 2028-01-01 06:00"]),
    # Sunday is 0: 2027-06-06 is a Sunday.
    ("30 8 * * 0", "UTC", utc(2027, 6, 1), ["Sun 2027-06-06 08:30 UTC | 2027-06-06 08:30",
                                            "Sun 2027-06-13 08:30 UTC | 2027-06-13 08:30"]),
    # A zone without DST and a half-hour offset: 08:30 IST is 03:00 UTC all year.
    ("30 8 * * *", "Asia/Kolkata", utc(2027, 3, 13), ["Sat 2027-03-13 08:30 IST | 2027-03-13 03:00",
                                                      "Sun 2027-03-14 08:30 IST | 2027-03-14 03:00"]),
    # A zone with DST: the UTC time moves on 2027-03-14 (and the run says so).
    ("30 8 * * *", "America/Los_Angeles", utc(2027, 3, 13),
     ["Sat 2027-03-13 08:30 PST | 2027-03-13 16:30", "Sun 2027-03-14 08:30 PDT | 2027-03-14 15:30 | UTC moved",
      "Mon 2027-03-15 08:30 PDT | 2027-03-15 15:30"]),
    # Spring gap: 02:30 does not exist on 2027-03-14; it is skipped, not run at 03:00.
    ("30 2 * * *", "America/Los_Angeles", la(2027, 3, 13),
     ["Sat 2027-03-13 02:30 PST | 2027-03-13 10:30", "Sun 2027-03-14 02:30 skipped",
      "Mon 2027-03-15 02:30 PDT | 2027-03-15 09:30 | UTC moved"]),
    # Autumn repeat: 01:30 happens twice on 2027-11-07; it runs once, at the first (PDT).
    ("30 1 * * *", "America/Los_Angeles", la(2027, 11, 6),
     ["Sat 2027-11-06 01:30 PDT | 2027-11-06 08:30", "Sun 2027-11-07 01:30 PDT | 2027-11-07 08:30 | DST",
      "Mon 2027-11-08 01:30 PST | 2027-11-08 09:30 | UTC moved", "Tue 2027-11-09 01:30 PST | 2027-11-09 09:30"]),
    # Sub-hourly across the repeat: each wall time once, nothing in the repeated hour.
    ("*/30 * * * *", "America/Los_Angeles", la(2027, 11, 7, 0, 45),
     ["Sun 2027-11-07 01:00 PDT | 2027-11-07 08:00 | DST", "Sun 2027-11-07 01:30 PDT | 2027-11-07 08:30 | DST",
      "Sun 2027-11-07 02:00 PST | 2027-11-07 10:00"]),
    # Europe's change (last Sunday of March 2027 is the 28th): 02:30 CET does not exist.
    ("30 2 * * 0", "Europe/Berlin", utc(2027, 3, 20), ["Sun 2027-03-21 02:30 CET | 2027-03-21 01:30",
                                                       "Sun 2027-03-28 02:30 skipped",
                                                       "Sun 2027-04-04 02:30 CEST | 2027-04-04 00:30 | UTC moved"]),
], ids=["weekdays", "monday-wednesday", "step", "months", "sunday-0", "kolkata", "la-08:30", "spring-gap",
        "autumn-repeat", "every-30-min-autumn", "berlin-gap"])
def test_upcoming_runs(expression: str, zone: str, now: datetime, expected: list[str]) -> None:
    assert runs_text(expression, zone, now, len(expected)) == expected


def test_the_spring_gap_differs_from_croniter_and_is_explained() -> None:
    # croniter's own answer moves the 2027-03-14 run to 03:00 PDT ...
    moved = next_runs("30 2 * * *", "America/Los_Angeles", la(2027, 3, 13, 12), 1)[0]
    assert moved.isoformat() == "2027-03-14T03:00:00-07:00"
    # ... Courier skips it and says why.
    (slot,) = upcoming_runs("30 2 * * *", "America/Los_Angeles", la(2027, 3, 13, 12), 1)
    assert slot.skipped and slot.at is None and slot.at_utc is None
    assert slot.dst_note == ("skipped: 02:30 does not exist on Sun 2027-03-14 in America/Los_Angeles (clocks jump "
                             "02:00 PST → 03:00 PDT); the next run's window reaches back to the last run")


def test_the_autumn_repeat_runs_once_where_croniter_runs_twice() -> None:
    from croniter import croniter

    iterator = croniter("30 1 * * *", la(2027, 11, 6, 12))
    twice = [iterator.get_next(datetime), iterator.get_next(datetime)]
    assert [m.isoformat() for m in twice] == ["2027-11-07T01:30:00-07:00", "2027-11-07T01:30:00-08:00"]
    once = upcoming_runs("30 1 * * *", "America/Los_Angeles", la(2027, 11, 6, 12), 2)
    assert [s.at.isoformat() for s in once if s.at] == ["2027-11-07T01:30:00-07:00", "2027-11-08T01:30:00-08:00"]
    assert once[0].dst_note == ("runs once: 01:30 happens twice on Sun 2027-11-07 (clocks fall back, PDT → PST); "
                                "only the first, 01:30 PDT, runs")
    # Asked during the second 01:30 (PST), the first already ran: the next is the following day.
    (after,) = upcoming_runs("30 1 * * *", "America/Los_Angeles", la(2027, 11, 7, 1, 15, fold=1), 1)
    assert after.at is not None and after.at.isoformat() == "2027-11-08T01:30:00-08:00"


@pytest.mark.parametrize(("now", "latest"), [
    (utc(2027, 11, 7, 9, 45), "2027-11-07T01:30:00-07:00"),   # 01:45 PST: the PST 01:30 never ran
    (utc(2027, 11, 7, 8, 30), "2027-11-07T01:30:00-07:00"),   # exactly at the slot
    (utc(2027, 11, 7, 8, 29), "2027-11-06T01:30:00-07:00"),
    (utc(2027, 3, 14, 12), "2027-03-14T01:30:00-08:00"),     # 01:30 exists on the spring day (the gap is 02:xx)
])
def test_latest_run_at_or_before(now: datetime, latest: str) -> None:
    moment = latest_run("30 1 * * *", "America/Los_Angeles", now)
    assert moment is not None and moment.isoformat() == latest


def test_previous_run_skips_the_slot_that_never_happened() -> None:
    before = previous_run("30 2 * * *", "America/Los_Angeles", la(2027, 3, 15, 2, 30))
    assert before is not None and before.isoformat() == "2027-03-13T02:30:00-08:00"
    runs = runs_between("30 2 * * *", "America/Los_Angeles", la(2027, 3, 12, 12), la(2027, 3, 16, 12))
    assert [m.day for m in runs] == [13, 15, 16]


# --- file-date windows ------------------------------------------------------------------------------


H, D = 3600, 86400


@pytest.mark.parametrize(("at", "offset", "zone", "in_zone", "previous", "expected"), [
    # Amperity's offsets diagram: a run on June 15 at 13:00.
    (utc(2027, 6, 15, 13), 0, "UTC", False, None, ("2027-06-14 13:00", "2027-06-15 13:00", ["2027-06-15"], "daily")),
    (utc(2027, 6, 15, 13), D, "UTC", False, None, ("2027-06-13 13:00", "2027-06-14 13:00", ["2027-06-14"], "daily")),
    (utc(2027, 6, 15, 13), 13 * H, "UTC", False, None,
     ("2027-06-14 00:00", "2027-06-15 00:00", ["2027-06-14"], "daily")),
    (utc(2027, 6, 15, 13), 2 * D, "UTC", False, None,
     ("2027-06-12 13:00", "2027-06-13 13:00", ["2027-06-13"], "daily")),
    (utc(2027, 6, 15, 13), 14 * H, "UTC", False, None,
     ("2027-06-13 23:00", "2027-06-14 23:00", ["2027-06-14"], "daily")),
    # Weekly: since the last run, seven daily files.
    (utc(2027, 6, 13, 8), 0, "UTC", False, utc(2027, 6, 6, 8),
     ("2027-06-06 08:00", "2027-06-13 08:00", [f"2027-06-{d:02d}" for d in range(7, 14)], "since last run")),
    (utc(2027, 6, 13, 8), D, "UTC", False, utc(2027, 6, 6, 8),
     ("2027-06-05 08:00", "2027-06-12 08:00", [f"2027-06-{d:02d}" for d in range(6, 13)], "since last run")),
    # Daily, the previous run 24 h back: still "daily".
    (utc(2027, 6, 13, 8), 0, "UTC", False, utc(2027, 6, 12, 8),
     ("2027-06-12 08:00", "2027-06-13 08:00", ["2027-06-13"], "daily")),
    # 20:00 in Los Angeles is 03:00 UTC the next day: the zone decides which midnight falls inside.
    (la(2027, 6, 15, 20), 0, "America/Los_Angeles", False, None,
     ("2027-06-15 03:00", "2027-06-16 03:00", ["2027-06-16"], "daily")),
    (la(2027, 6, 15, 20), 0, "America/Los_Angeles", True, None,
     ("2027-06-14 20:00", "2027-06-15 20:00", ["2027-06-15"], "daily")),
    # In zone, a day is a calendar day even across the spring change (23 real hours).
    (la(2027, 3, 14, 8, 30), D, "America/Los_Angeles", True, la(2027, 3, 13, 8, 30),
     ("2027-03-12 08:30", "2027-03-13 08:30", ["2027-03-13"], "daily")),
    # In UTC the same run covers 24 real hours.
    (la(2027, 3, 14, 8, 30), 0, "America/Los_Angeles", False, la(2027, 3, 13, 8, 30),
     ("2027-03-13 15:30", "2027-03-14 15:30", ["2027-03-14"], "daily")),
    # After the skipped spring slot the window reaches back to the last run (two days).
    (la(2027, 3, 15, 2, 30), 0, "America/Los_Angeles", False, la(2027, 3, 13, 2, 30),
     ("2027-03-13 10:30", "2027-03-15 09:30", ["2027-03-14", "2027-03-15"], "since last run")),
], ids=["diagram-no-offset", "diagram-1d", "diagram-13h", "2d", "14h", "weekly", "weekly-1d", "daily-prev",
        "utc-frame", "zone-frame", "zone-dst-1d", "utc-dst", "after-gap"])
def test_file_windows(at: datetime, offset: int, zone: str, in_zone: bool, previous: datetime | None,
                      expected: tuple[str, str, list[str], str]) -> None:
    window = file_window(at, offset, timezone=zone, in_zone=in_zone, previous=previous)
    got = (f"{window.start:%Y-%m-%d %H:%M}", f"{window.end:%Y-%m-%d %H:%M}", [d.isoformat() for d in window.days],
           window.kind)
    assert got == expected
    assert window.start.tzinfo is not None
    assert (window.start.utcoffset() == timedelta(0)) is (not in_zone or zone == "UTC")


def test_catch_up_window_reaches_back_to_the_last_fired_slot() -> None:
    window = file_window(utc(2027, 6, 15, 8), D, previous=utc(2027, 6, 14, 8), since=utc(2027, 6, 11, 8))
    assert window.kind == "catch-up"
    assert [d.isoformat() for d in window.days] == ["2027-06-11", "2027-06-12", "2027-06-13", "2027-06-14"]
    run = window.run_window()
    assert (run.kind, run.start, run.end) == ("period", date(2027, 6, 11), date(2027, 6, 15))


def group(schedule: str, zone: str = "UTC", *, in_zone: bool = False, offsets: tuple[str, ...] = ("0d",)
          ) -> CourierGroup:
    return CourierGroup(name="G", couriers=tuple(GroupCourier(f"C{i}", offset=o) for i, o in enumerate(offsets)),
                        schedule=schedule, timezone=zone, file_dates_in_zone=in_zone)


def preview_text(runs: list) -> list[str]:
    lines = []
    for run in runs:
        head = f"{run.slot.wall:%a %m-%d %H:%M}" + (" skipped" if run.skipped else f" {run.at_local:%Z}")
        lines.append(head + "".join(f" | {name}: {','.join(d.strftime('%m-%d') for d in w.days)}"
                                    for name, w in run.windows))
    return lines


@pytest.mark.parametrize(("grp", "now", "expected"), [
    (group("30 8 * * *", offsets=("0d", "1d", "13h")), utc(2027, 6, 14, 9),
     ["Tue 06-15 08:30 UTC | C0: 06-15 | C1: 06-14 | C2: 06-14",
      "Wed 06-16 08:30 UTC | C0: 06-16 | C1: 06-15 | C2: 06-15"]),
    # Weekly on Sunday (0): each run covers the seven days since the last one.
    (group("0 6 * * 0"), utc(2027, 6, 1),
     ["Sun 06-06 06:00 UTC | C0: 05-31,06-01,06-02,06-03,06-04,06-05,06-06",
      "Sun 06-13 06:00 UTC | C0: 06-07,06-08,06-09,06-10,06-11,06-12,06-13"]),
    (group("0 6 * * 0", offsets=("1w",)), utc(2027, 6, 1),
     ["Sun 06-06 06:00 UTC | C0: 05-24,05-25,05-26,05-27,05-28,05-29,05-30",
      "Sun 06-13 06:00 UTC | C0: 05-31,06-01,06-02,06-03,06-04,06-05,06-06"]),
    # Spring gap: no windows for the skipped slot, and the next run reaches back two days.
    (group("30 2 * * *", "America/Los_Angeles"), la(2027, 3, 13),
     ["Sat 03-13 02:30 PST | C0: 03-13", "Sun 03-14 02:30 skipped", "Mon 03-15 02:30 PDT | C0: 03-14,03-15"]),
    (group("30 2 * * *", "America/Los_Angeles", in_zone=True), la(2027, 3, 13),
     ["Sat 03-13 02:30 PST | C0: 03-13", "Sun 03-14 02:30 skipped", "Mon 03-15 02:30 PDT | C0: 03-14,03-15"]),
    # File dates in zone off/on: an evening run in Los Angeles picks the next UTC day, or the local day.
    (group("0 20 * * *", "America/Los_Angeles"), utc(2027, 6, 15, 12), ["Tue 06-15 20:00 PDT | C0: 06-16"]),
    (group("0 20 * * *", "America/Los_Angeles", in_zone=True), utc(2027, 6, 15, 12),
     ["Tue 06-15 20:00 PDT | C0: 06-15"]),
], ids=["offsets", "weekly", "weekly-1w", "gap-utc", "gap-in-zone", "zone-off", "zone-on"])
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
