"""Cron schedules in IANA time zones: validation, descriptions and next runs.

Pure functions: every one that depends on the time takes an explicit ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import CourierError
from core.windows import RunWindow, parse_duration

CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")


def validate_cron(expression: str) -> str | None:
    """Return a one-line problem with a 5-field cron expression, or ``None`` when valid."""
    from croniter import croniter

    parts = expression.split()
    if len(parts) != 5:
        return (f'"{expression}" has {len(parts)} field{"s" if len(parts) != 1 else ""}; a schedule has 5: '
                "minute hour day-of-month month day-of-week, e.g. 30 8 * * *")
    for part, name, (low, high) in zip(parts, CRON_FIELDS, _LIMITS):
        for piece in part.split(","):
            match = _PIECE_RE.match(piece)
            if not match:
                return (f'"{part}" is not a valid {name}: use numbers {low}-{high}, *, '
                        "lists (1,3), ranges (1-5) and steps (*/15)")
            numbers = [int(n) for n in (match.group("first"), match.group("last")) if n is not None]
            for number in numbers:
                if not low <= number <= high:
                    extra = "; Sunday is 0" if name == "day of week" else ""
                    return f"{number} is out of range for the {name} field ({low}-{high}{extra})"
            if len(numbers) == 2 and numbers[0] > numbers[1]:
                return f'"{piece}" is a backwards range in the {name} field'
            if match.group("step") is not None and int(match.group("step")) == 0:
                return f'"{piece}" has a step of 0 in the {name} field'
    if not croniter.is_valid(expression):
        return f'"{expression}" is not a valid cron expression'
    from croniter import CroniterBadDateError

    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return f'"{expression}" never runs: no month in it has that day (like February 30)'
    return None


_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_PIECE_RE = re.compile(r"^(?:\*|(?P<first>\d+)(?:-(?P<last>\d+))?)(?:/(?P<step>\d+))?$")


def validate_timezone(name: str) -> str | None:
    """Return a one-line problem with an IANA time zone name, or ``None`` when valid."""
    if name in ("UTC", "Etc/UTC"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        suggestions = [zone for zone in timezone_names() if name.lower().replace(" ", "_") in zone.lower()][:3]
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ", e.g. America/Los_Angeles or UTC"
        return f'"{name}" is not an IANA time zone{hint}'
    return None


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name available, sorted."""
    return tuple(sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC"))


def describe_cron(expression: str) -> str:
    """A human description of a cron expression, e.g. ``At 08:30 AM, only on Sunday``."""
    from cron_descriptor import Options, get_description

    options = Options()
    options.day_of_week_start_index_zero = True
    options.use_24hour_time_format = False
    return str(get_description(expression, options))


def next_runs(expression: str, timezone: str, now: datetime, count: int = 10) -> list[datetime]:
    """The next ``count`` run times after ``now``, as aware datetimes in ``timezone``."""
    from croniter import croniter

    zone = ZoneInfo(timezone)
    start = now.astimezone(zone)
    iterator = croniter(expression, start)
    runs: list[datetime] = []
    while len(runs) < count:
        moment = iterator.get_next(datetime)
        if runs and moment == runs[-1]:
            continue
        runs.append(moment)
    return runs


# --- DST-aware schedule maths ---------------------------------------------------------------
#
# Cron expressions name wall-clock times in the group's zone. Courier walks those wall-clock
# times itself (croniter over naive datetimes) and maps each onto the zone, so daylight saving
# is decided here, not by croniter's tz handling:
#
# * spring gap: a wall time that does not exist that day (02:30 in America/Los_Angeles on
#   2027-03-14) is SKIPPED, as Amperity documents. croniter would move it to 03:00. Nothing is
#   lost: the next run's file window reaches back to the last run that did happen.
# * autumn repeat: a wall time that happens twice (01:30 on 2027-11-07) runs ONCE, at its first
#   occurrence (daylight time). croniter yields both.
#
# File-date windows: a scheduled run at T covers ``[min(T - 24h, previous run) - offset, T - offset)``,
# so a daily group looks back 24 hours and a less frequent one (or the run after a skipped slot)
# reaches back to its previous run. The arithmetic runs on UTC, or on the group's local wall clock
# when "file dates in zone" is set; a daily file for day D counts at D 00:00 in that frame.

UTC = ZoneInfo("UTC")
_MAX_STEPS = 20_000


@dataclass(frozen=True)
class CronSlot:
    """One wall-clock time a cron expression names in a zone, and what happens at it."""

    wall: datetime
    """The naive local wall time the expression names."""
    at: datetime | None
    """When it runs, aware in the zone; ``None`` when the slot is skipped."""
    skipped: bool = False
    dst_note: str | None = None
    """Set when daylight saving changes whether or when this slot runs (skipped, or repeated and run once)."""
    utc_note: str | None = None
    """Set when the clocks changed since the previous run, so the same local time is another UTC time."""

    @property
    def at_utc(self) -> datetime | None:
        """When it runs, in UTC."""
        return None if self.at is None else self.at.astimezone(UTC)


@dataclass(frozen=True)
class FileWindow:
    """The file dates a run covers: ``[start, end)`` and the daily files (days D, D 00:00 inside)."""

    start: datetime
    """Aware; in UTC, or in the group's zone when file dates are in zone."""
    end: datetime
    days: tuple[date, ...]
    kind: str = "daily"
    """``daily`` (24 hours), ``since last run`` (a less frequent group), ``catch-up`` or ``manual``."""

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)

    def run_window(self) -> RunWindow:
        """The courier run window (whole days) these file dates make."""
        if not self.days:
            raise CourierError("the file window holds no day")
        if len(self.days) == 1:
            return RunWindow.day(self.days[0])
        return RunWindow.period(self.days[0], self.days[-1] + timedelta(days=1))

    def describe(self) -> str:
        """e.g. ``2027-03-13 15:30 → 2027-03-14 15:30 UTC: files dated 2027-03-14``."""
        zone = self.start.tzname() if self.start.tzname() == self.end.tzname() else ""
        span = (f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M}"
                + (f" {zone}" if zone else f" ({self.start:%Z}→{self.end:%Z})"))
        return f"{span}: files dated {describe_days(self.days)}"


@dataclass(frozen=True)
class ScheduledRun:
    """A preview row: when a group runs (in its zone and in UTC), DST notes and its file windows."""

    slot: CronSlot
    windows: tuple[tuple[str, FileWindow], ...] = ()
    """Courier name → its file window (offsets differ per courier); empty for skipped slots."""

    @property
    def at_local(self) -> datetime | None:
        return self.slot.at

    @property
    def at_utc(self) -> datetime | None:
        return self.slot.at_utc

    @property
    def skipped(self) -> bool:
        return self.slot.skipped

    @property
    def dst_note(self) -> str | None:
        return self.slot.dst_note

    @property
    def utc_note(self) -> str | None:
        return self.slot.utc_note

    @property
    def window(self) -> FileWindow | None:
        """The first courier's window (the group's, when every courier has the same offset)."""
        return self.windows[0][1] if self.windows else None

    @property
    def window_start(self) -> datetime | None:
        return self.window.start if self.window else None

    @property
    def window_end(self) -> datetime | None:
        return self.window.end if self.window else None

    @property
    def days(self) -> tuple[date, ...]:
        return self.window.days if self.window else ()


def describe_days(days: tuple[date, ...] | list[date]) -> str:
    """``2027-03-14`` or ``2027-03-08 to 2027-03-14 (7 days)``."""
    if not days:
        return "no day"
    if len(days) == 1:
        return days[0].isoformat()
    return f"{days[0].isoformat()} to {days[-1].isoformat()} ({len(days)} days)"


def _zone(timezone: str) -> ZoneInfo:
    problem = validate_timezone(timezone)
    if problem:
        raise CourierError(problem)
    return ZoneInfo(timezone)


def _check(expression: str) -> None:
    problem = validate_cron(expression)
    if problem:
        raise CourierError(problem)


def _naive_iter(expression: str, start: datetime, backwards: bool = False) -> Iterator[datetime]:
    """Naive wall times the expression names after (or before) naive ``start``."""
    from croniter import CroniterBadDateError, croniter

    iterator = croniter(expression, start)
    step = iterator.get_prev if backwards else iterator.get_next
    for _ in range(_MAX_STEPS):
        try:
            yield step(datetime)
        except CroniterBadDateError:
            return


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


def _hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _gap_edges(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, str, str]:
    """For a wall time in a spring-forward gap: the gap's first and first-after wall times and zone names."""
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)   # offset after the jump: earlier instant
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # offset before the jump: later instant
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    after_local = high.astimezone(zone)
    before_local = (high - timedelta(microseconds=1)).astimezone(zone)
    jump = after_local.utcoffset() - before_local.utcoffset()  # type: ignore[operator]
    gap_start = after_local.replace(tzinfo=None) - jump
    return gap_start, after_local.replace(tzinfo=None), before_local.tzname() or "", after_local.tzname() or ""


def _slot(wall: datetime, zone: ZoneInfo, timezone: str) -> CronSlot:
    if not _exists(wall, zone):
        start, end, name_before, name_after = _gap_edges(wall, zone)
        return CronSlot(wall, None, True,
                        f"skipped: {_hm(wall)} does not exist on {wall:%a %Y-%m-%d} in {timezone} (clocks jump "
                        f"{_hm(start)} {name_before} → {_hm(end)} {name_after}); the next run's window reaches "
                        "back to the last run")
    if _ambiguous(wall, zone):
        first = wall.replace(tzinfo=zone, fold=0)
        second = wall.replace(tzinfo=zone, fold=1)
        return CronSlot(wall, first, False,
                        f"runs once: {_hm(wall)} happens twice on {wall:%a %Y-%m-%d} (clocks fall back, "
                        f"{first:%Z} → {second:%Z}); only the first, {_hm(wall)} {first:%Z}, runs")
    return CronSlot(wall, wall.replace(tzinfo=zone))


def _order_key(slot: CronSlot, zone: ZoneInfo) -> datetime:
    if slot.at is not None:
        return slot.at.astimezone(UTC)
    return slot.wall.replace(tzinfo=zone, fold=1).astimezone(UTC)


def upcoming_runs(expression: str, timezone: str, now: datetime, count: int = 10) -> list[CronSlot]:
    """The next ``count`` slots after ``now`` (skipped spring-gap slots included and flagged).

    Unlike :func:`next_runs` (croniter's own view), a wall time in a spring-forward gap
    is skipped rather than moved and a repeated autumn time runs once (both with a
    ``dst_note``); a run at the same local time as the previous one but another UTC
    time (the clocks changed in between) has a ``utc_note``.
    """
    _check(expression)
    zone = _zone(timezone)
    if count < 1:
        return []
    now_utc = now.astimezone(UTC)
    start = now.astimezone(zone).replace(tzinfo=None, fold=0) - timedelta(hours=3)
    slots: list[CronSlot] = []
    previous = previous_run(expression, timezone, now_utc)
    for wall in _naive_iter(expression, start):
        slot = _slot(wall, zone, timezone)
        if _order_key(slot, zone) <= now_utc:
            continue
        if not slot.skipped and slot.at is not None:
            if (slot.dst_note is None and previous is not None and previous.utcoffset() != slot.at.utcoffset()
                    and previous.time() == slot.at.time()):
                utc_before = previous.astimezone(UTC)
                slot = CronSlot(slot.wall, slot.at, False, None,
                                f"UTC time moves: {previous:%Z} → {slot.at:%Z} since the previous run "
                                f"({utc_before:%H:%M} → {slot.at.astimezone(UTC):%H:%M} UTC)")
            previous = slot.at
        slots.append(slot)
        if len(slots) >= count:
            break
    return slots


def previous_run(expression: str, timezone: str, before: datetime) -> datetime | None:
    """The latest run strictly before ``before`` (skipped slots never ran), aware in the zone."""
    return latest_run(expression, timezone, before - timedelta(microseconds=1))


def latest_run(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The latest run at or before ``now``, aware in the zone; ``None`` if it never ran."""
    _check(expression)
    zone = _zone(timezone)
    now_utc = now.astimezone(UTC)
    start = now.astimezone(zone).replace(tzinfo=None, fold=0) + timedelta(hours=3)
    for wall in _naive_iter(expression, start, backwards=True):
        slot = _slot(wall, zone, timezone)
        if slot.at is not None and slot.at.astimezone(UTC) <= now_utc:
            return slot.at
    return None


def runs_between(expression: str, timezone: str, after: datetime, until: datetime) -> list[datetime]:
    """Every run in ``(after, until]``, oldest first, aware in the zone."""
    _check(expression)
    zone = _zone(timezone)
    after_utc, until_utc = after.astimezone(UTC), until.astimezone(UTC)
    start = after.astimezone(zone).replace(tzinfo=None, fold=0) - timedelta(hours=3)
    found: list[datetime] = []
    for wall in _naive_iter(expression, start):
        slot = _slot(wall, zone, timezone)
        key = _order_key(slot, zone)
        if key > until_utc:
            break
        if slot.at is not None and key > after_utc:
            found.append(slot.at)
    return found


def file_window(at: datetime, offset_seconds: int, *, timezone: str = "UTC", in_zone: bool = False,
                previous: datetime | None = None, since: datetime | None = None) -> FileWindow:
    """The file window of a scheduled run at ``at``.

    ``[min(T − 24h, previous, since) − offset, T − offset)``, computed on UTC, or on the
    zone's wall clock when ``in_zone`` (then "24h" and a "1d" offset are calendar days).

    Args:
        at: The scheduled time T (aware).
        offset_seconds: "Load data N older than the scheduled time".
        timezone: The group's zone.
        in_zone: "Use this time zone for file date ranges".
        previous: The group's previous scheduled run; a less frequent group reaches back to it.
        since: The last run the scheduler actually fired, when slots were missed in between.
    """
    frame = _zone(timezone) if in_zone else UTC

    def wall(moment: datetime) -> datetime:
        return moment.astimezone(frame).replace(tzinfo=None)

    offset = timedelta(seconds=offset_seconds)
    end = wall(at)
    day_back = end - timedelta(days=1)
    start, kind = day_back, "daily"
    if previous is not None and wall(previous) < start:
        start, kind = wall(previous), "since last run"
    if since is not None and wall(since) < start:
        start, kind = wall(since), "catch-up"
    start, end = start - offset, end - offset
    first = start.date() if start.time() == datetime.min.time() else start.date() + timedelta(days=1)
    days: list[date] = []
    day = first
    while datetime.combine(day, datetime.min.time()) < end:
        days.append(day)
        day += timedelta(days=1)
    return FileWindow(start.replace(tzinfo=frame), end.replace(tzinfo=frame), tuple(days), kind)


def schedule_preview(group: Any, now: datetime, count: int = 10) -> list[ScheduledRun]:
    """The next ``count`` slots of a courier group with each courier's file window.

    Raises:
        CourierError: the group has no schedule, or its cron or zone is invalid.
    """
    if not group.schedule:
        raise CourierError(f'Courier group "{group.name}" has no schedule: it runs only by hand')
    slots = upcoming_runs(group.schedule, group.timezone, now, count)
    runs: list[ScheduledRun] = []
    previous: datetime | None = None
    for slot in slots:
        if slot.at is None:
            runs.append(ScheduledRun(slot))
            continue
        if previous is None:
            previous = previous_run(group.schedule, group.timezone, slot.at)
        windows = tuple((member.courier, file_window(slot.at, parse_duration(member.offset),
                                                     timezone=group.timezone, in_zone=group.file_dates_in_zone,
                                                     previous=previous))
                        for member in group.couriers)
        runs.append(ScheduledRun(slot, windows))
        previous = slot.at
    return runs
