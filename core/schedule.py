"""Cron schedules in IANA time zones: validation, descriptions and next runs.

Pure functions: every one that depends on the time takes an explicit ``now``.
"""

from __future__ import annotations

import json
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

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""The ``@`` shortcuts crontab.guru and cronie accept, as the 5 fields they stand for."""
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_RANGE_TEXT = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT; 0 and 7 are Sunday")
_PIECE_RE = re.compile(r"^(?:\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\w+))?$")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class CronSpec:
    """A parsed 5-field cron expression: the values each field allows, and which fields start with ``*``.

    The day rule is Vixie cron's, which cronie and crontab.guru share: when the
    day-of-month or the day-of-week field starts with ``*`` (``*`` or ``*/n``), a day
    must match **both**; only when both are restricted does a day match **either**.
    Day of week 7 is Sunday, like 0. A job is an *interval job* for daylight saving
    when its minute or hour field starts with ``*`` (cronie's ``MIN_STAR``/``HR_STAR``).
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday … 6 = Saturday (a 7 in the expression is stored as 0)."""
    day_star: bool
    """The day-of-month field starts with ``*``."""
    weekday_star: bool
    """The day-of-week field starts with ``*``."""
    interval: bool
    """The minute or hour field starts with ``*``: daylight saving keeps its real-time interval."""

    @property
    def both_days(self) -> bool:
        """True when a day must match both day fields (either starts with ``*``), False when either will do."""
        return self.day_star or self.weekday_star

    expression: str = ""
    """The five fields as written (shortcuts expanded): what croniter iterates."""

    def walls(self, day: date) -> list[datetime]:
        """The naive wall times the job names on ``day``, in order (empty when the day does not match).

        croniter decides whether the day matches; Courier only chooses its ``day_or`` so the
        day rule is Vixie's (croniter alone ORs ``*/2`` with a restricted day of week, which
        cronie does not). The times of day are the minute and hour fields, the same on every
        matching day. Wall times are naive on purpose: daylight saving is applied afterwards,
        cronie's way.
        """
        if day.month not in self.months or not _day_matches(self.expression, self.both_days, day):
            return []
        return [
            datetime(day.year, day.month, day.day, hour, minute)
            for hour in sorted(self.hours)
            for minute in sorted(self.minutes)
        ]


@lru_cache(maxsize=4096)
def _day_matches(expression: str, both_days: bool, day: date) -> bool:
    from croniter import croniter

    # The day's first run, if it has one, is the first croniter finds after the previous midnight.
    midnight = datetime(day.year, day.month, day.day)
    first = croniter(expression, midnight - timedelta(seconds=1), day_or=not both_days).get_next(datetime)
    return bool(first.date() == day)


def expand_macro(expression: str) -> str:
    """The 5 fields an ``@daily``-style shortcut stands for; any other expression unchanged (stripped)."""
    text = expression.strip()
    return MACROS.get(text.lower(), text)


def _field_values(part: str, index: int) -> frozenset[int] | str:
    """The values one field allows, or a one-line problem."""
    name, (low, high) = CRON_FIELDS[index], _LIMITS[index]
    names = MONTH_NAMES if index == 3 else DAY_NAMES if index == 4 else ()
    values: set[int] = set()
    for piece in part.split(","):
        match = _PIECE_RE.match(piece)
        if not match:
            return (
                f'"{part}" is not a valid {name}: use numbers {_RANGE_TEXT[index]}, *, lists (1,3), ranges '
                "(1-5) and steps (*/15)"
            )
        bounds: list[int] = []
        for token in (match.group("first"), match.group("last")):
            if token is None:
                continue
            if token.isdigit():
                number = int(token)
                if not low <= number <= high:
                    return f"{number} is out of range for the {name} field ({_RANGE_TEXT[index]})"
            elif token.upper() in names:
                number = names.index(token.upper()) + (1 if index == 3 else 0)
            elif names:
                return f'"{token}" is not a {name}: use {_RANGE_TEXT[index]}'
            else:
                return (
                    f'"{part}" is not a valid {name}: use numbers {_RANGE_TEXT[index]}, *, lists (1,3), '
                    "ranges (1-5) and steps (*/15)"
                )
            bounds.append(number)
        step_text = match.group("step")
        if step_text is not None and not step_text.isdigit():
            return f'"{piece}" has a step that is not a number in the {name} field'
        step = int(step_text) if step_text is not None else 1
        if step == 0:
            return f'"{piece}" has a step of 0 in the {name} field'
        if not bounds:
            first, last = low, high
        elif len(bounds) == 1:
            # "5/15" means 5-59/15, as in cronie; a lone value stays itself.
            first, last = bounds[0], (high if step_text is not None else bounds[0])
        else:
            first, last = bounds
            if first > last:
                return f'"{piece}" is a backwards range in the {name} field'
        values.update(range(first, last + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def parse_cron(expression: str) -> CronSpec:
    """Parse a 5-field cron expression (or an ``@daily``-style shortcut).

    Accepts what crontab.guru accepts: numbers, ``*``, lists, ranges, steps, month
    names JAN–DEC and day names SUN–SAT (any case), day of week 0–7, and the
    ``@yearly @annually @monthly @weekly @daily @midnight @hourly`` shortcuts.

    Raises:
        CourierError: one line saying what is wrong (as :func:`validate_cron`).
    """
    text = expand_macro(expression)
    if text.startswith("@"):
        known = " ".join(MACROS)
        raise CourierError(
            f'"{expression.strip()}" is not a schedule shortcut Courier can run; use 5 fields or one of {known}'
        )
    parts = text.split()
    if len(parts) != 5:
        raise CourierError(
            f'"{expression}" has {len(parts)} field{"s" if len(parts) != 1 else ""}; a schedule has '
            "5: minute hour day-of-month month day-of-week, e.g. 30 8 * * *"
        )
    fields: list[frozenset[int]] = []
    for index, part in enumerate(parts):
        values = _field_values(part, index)
        if isinstance(values, str):
            raise CourierError(values)
        fields.append(values)
    minutes, hours, days, months, weekdays = fields
    spec = CronSpec(
        minutes,
        hours,
        days,
        months,
        weekdays,
        day_star=parts[2].startswith("*"),
        weekday_star=parts[4].startswith("*"),
        interval=parts[0].startswith("*") or parts[1].startswith("*"),
        expression=" ".join(parts),
    )
    if spec.both_days and not any(day <= _MONTH_DAYS[month - 1] for month in spec.months for day in spec.days):
        raise CourierError(f'"{expression}" never runs: no month in it has that day (like February 30)')
    return spec


def validate_cron(expression: str) -> str | None:
    """Return a one-line problem with a cron expression, or ``None`` when valid (see :func:`parse_cron`)."""
    try:
        _parsed(expression)
    except CourierError as error:
        return str(error)
    return None


@lru_cache(maxsize=256)
def _parsed(expression: str) -> CronSpec:
    return parse_cron(expression)


COMMON_ZONES: dict[str, tuple[str, ...]] = {
    "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",),
    "pt": ("America/Los_Angeles",),
    "pacific": ("America/Los_Angeles",),
    "pst8pdt": ("America/Los_Angeles",),
    "mst": ("America/Denver", "America/Phoenix"),
    "mdt": ("America/Denver",),
    "mt": ("America/Denver",),
    "mountain": ("America/Denver", "America/Phoenix"),
    "mst7mdt": ("America/Denver",),
    "cst": ("America/Chicago",),
    "cdt": ("America/Chicago",),
    "ct": ("America/Chicago",),
    "central": ("America/Chicago",),
    "cst6cdt": ("America/Chicago",),
    "est": ("America/New_York",),
    "edt": ("America/New_York",),
    "et": ("America/New_York",),
    "eastern": ("America/New_York",),
    "est5edt": ("America/New_York",),
    "akst": ("America/Anchorage",),
    "alaska": ("America/Anchorage",),
    "hst": ("Pacific/Honolulu",),
    "hawaii": ("Pacific/Honolulu",),
    "bst": ("Europe/London",),
    "wet": ("Europe/Lisbon",),
    "cet": ("Europe/Paris", "Europe/Berlin"),
    "cest": ("Europe/Paris", "Europe/Berlin"),
    "met": ("Europe/Paris", "Europe/Berlin"),
    "eet": ("Europe/Athens", "Europe/Helsinki"),
    "eest": ("Europe/Athens", "Europe/Helsinki"),
    "ist": ("Asia/Kolkata", "Europe/Dublin"),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "sgt": ("Asia/Singapore",),
    "hkt": ("Asia/Hong_Kong",),
    "aest": ("Australia/Sydney",),
    "aedt": ("Australia/Sydney",),
    "awst": ("Australia/Perth",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
}
"""Abbreviations and names people type for a zone → the IANA zones they usually mean, most common first.

``EST`` and ``CET`` are also legacy zone-database names, but ``EST`` never observes daylight
saving, so a New York schedule set to it would run an hour off half the year.
"""

_GMT_OFFSET_RE = re.compile(r"^(?:etc/)?(?:gmt|utc)\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?00)?$", re.IGNORECASE)


def gmt_offset_hours(name: str) -> int | None:
    """The UTC offset in hours someone typing ``GMT-8``/``UTC+5`` means (``-8``, ``5``), else ``None``.

    This is the everyday reading, the reverse of the POSIX ``Etc/GMT-8`` zone (UTC+8).
    """
    match = _GMT_OFFSET_RE.match(name.strip())
    if match is None or name.strip().lower().startswith("etc/"):
        return None
    hours = int(match.group("hours"))
    return -hours if match.group("sign") == "-" else hours


def suggest_timezones(name: str) -> list[str]:
    """IANA zones someone typing ``name`` most likely means, best first (at most three).

    Common abbreviations and region words (``PST``, ``Pacific``, ``Eastern``, ``CET``) come
    first from :data:`COMMON_ZONES`; then zones whose name contains the text. A ``GMT-8``-style
    offset never suggests ``Etc/GMT-8``: POSIX inverts the sign, so that zone is UTC+8.
    """
    key = name.strip().lower()
    found: list[str] = list(COMMON_ZONES.get(key, ()))
    if not found and _GMT_OFFSET_RE.match(key) is None and key:
        found = [
            zone
            for zone in timezone_names()
            if key.replace(" ", "_") in zone.lower() and not zone.startswith("Etc/GMT")
        ]
    return list(dict.fromkeys(found))[:3]


def validate_timezone(name: str) -> str | None:
    """Return a one-line problem with an IANA time zone name, or ``None`` when valid.

    Abbreviations with a common place zone (``PST``, ``EST``, ``CET``) are refused with that
    zone suggested, even the ones the zone database still lists (``EST`` has no daylight
    saving). ``GMT-8`` is refused with the POSIX sign inversion explained.
    """
    if name in ("UTC", "Etc/UTC"):
        return None
    shown = json.dumps(name, ensure_ascii=False)  # a newline or quote in the name stays on one line
    offset = _GMT_OFFSET_RE.match(name.strip())
    if offset is not None and not name.startswith("Etc/"):
        sign, hours = offset.group("sign"), int(offset.group("hours"))
        inverted = "+" if sign == "-" else "-"
        return (
            f"{shown} is not an IANA time zone: zone names invert the sign (Etc/GMT{sign}{hours} is "
            f"UTC{inverted}{hours}); for UTC{sign}{hours} use Etc/GMT{inverted}{hours}, or better a place "
            "that follows daylight saving, e.g. America/Los_Angeles"
        )
    if name.strip().lower() in COMMON_ZONES:
        return f"{shown} is an abbreviation, not an IANA time zone (did you mean {', '.join(suggest_timezones(name))}?)"
    try:
        ZoneInfo(name)
        # ZoneInfo also opens files that are not zone names (``localtime``, ``posixrules``).
        known = name in _available_zones() and name not in _NOT_ZONES
    except (ZoneInfoNotFoundError, ValueError, OSError):
        known = False
    if not known:
        suggestions = suggest_timezones(name)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ", e.g. America/Los_Angeles or UTC"
        return f"{shown} is not an IANA time zone{hint}"
    return None


_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Files in a zone directory that are not places: this machine's own setting and tzcode's helpers."""


@lru_cache(maxsize=1)
def _available_zones() -> frozenset[str]:
    # available_timezones() walks the zone directories on every call (about 30 ms here); the
    # schedule preview validates the zone for every upstream run it looks at, so read it once.
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name available, sorted."""
    return tuple(sorted(zone for zone in _available_zones() if "/" in zone or zone == "UTC"))


def describe_cron(expression: str) -> str:
    """A human description of a cron expression, e.g. ``At 08:30 AM, only on Sunday``.

    When both day fields are set the description says which day rule applies (crontab.guru's
    "if it's on" / "and on"): both must match when either starts with ``*``, else either will do.
    """
    from cron_descriptor import Options, get_description

    spec = _parsed(expression)
    parts = expand_macro(expression).split()
    if re.search(r"[A-Za-z]", parts[3]):
        parts[3] = _compact(spec.months)
    if re.search(r"[A-Za-z7]", parts[4]):
        parts[4] = _compact(spec.weekdays)
    options = Options()
    options.day_of_week_start_index_zero = True
    options.use_24hour_time_format = False
    text = str(get_description(" ".join(parts), options))
    if parts[2] != "*" and parts[4] != "*":
        if spec.both_days:
            text = text.replace(", or on ", ", if it is on ") + " (a day must match both day fields)"
        else:
            text += " (a day may match either day field)"
    return text


def dst_rule(expression: str) -> str:
    """One sentence: what daylight saving does to this schedule (cronie's rule for fixed times or intervals)."""
    if _parsed(expression).interval:
        return (
            "Daylight saving (as cronie): an interval schedule keeps its real-time interval, so times in the "
            "spring gap are skipped and times in the repeated autumn hour run twice"
        )
    return (
        "Daylight saving (as cronie): a fixed time in the spring gap runs once just after it; a fixed time in "
        "the repeated autumn hour runs once, at its first occurrence"
    )


def zone_has_dst(timezone: str, year: int = 2027) -> bool:
    """Whether ``timezone`` changes its UTC offset during ``year`` (so daylight saving matters to a schedule)."""
    zone = _zone(timezone)
    offsets = {datetime(year, month, 1, tzinfo=zone).utcoffset() for month in range(1, 13)}
    return len(offsets) > 1


def _compact(values: frozenset[int]) -> str:
    """``1-5``, ``0,3,5``: a field's values as numbers for the description library."""
    ordered = sorted(values)
    pieces: list[str] = []
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        pieces.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ",".join(pieces)


# --- DST-aware schedule maths ---------------------------------------------------------------
#
# Cron expressions name wall-clock times in the group's zone. Courier walks those wall-clock
# times itself, day by day, and maps each onto the zone with cronie's daylight-saving rule
# (cronie's cron.c: "DST begins" runs the fixed-time jobs it skipped, "DST ends" reruns only
# the wildcard jobs):
#
# * spring gap, fixed time (minute and hour fields are numbers, lists or ranges): a wall time
#   that does not exist that day (02:30 in America/Los_Angeles on 2027-03-14) is MOVED to the
#   first valid time after the gap (03:00 PDT) and runs once there.
# * spring gap, interval job (minute or hour field starts with ``*``, e.g. ``*/30 * * * *``): the
#   wall times in the gap are SKIPPED; the job goes on at its real-time interval after it.
# * autumn repeat, fixed time: a wall time that happens twice (01:30 on 2027-11-07) runs ONCE,
#   at its first occurrence (daylight time).
# * autumn repeat, interval job: it runs at both occurrences, so its real-time interval has no
#   hour-long hole.
#
# File-date windows: a scheduled run at T covers ``[min(T - 24h, previous run) - offset, T - offset)``,
# so a daily group looks back 24 hours and a less frequent one reaches back to its previous run.
# The arithmetic runs on UTC, or on the group's local wall clock when "file dates in zone" is set;
# a daily file for day D counts at D 00:00 in that frame.

UTC = ZoneInfo("UTC")
_MAX_DAYS = 366 * 29
"""How far the day walk looks: 28 years hold every weekday of every date, February 29 included."""

DST_MOVED, DST_SKIPPED, DST_ONCE, DST_REPEATED = "moved", "skipped", "once", "repeated"


@dataclass(frozen=True)
class CronSlot:
    """One wall-clock time a cron expression names in a zone, and what happens at it."""

    wall: datetime
    """The naive local wall time the expression names."""
    at: datetime | None
    """When it runs, aware in the zone; ``None`` when the slot is skipped."""
    skipped: bool = False
    dst_note: str | None = None
    """Set when daylight saving changes whether or when this slot runs (see ``dst``)."""
    utc_note: str | None = None
    """Set when the clocks changed since the previous run, so the same local time is another UTC time."""
    dst: str | None = None
    """Which daylight-saving case applies: ``moved`` (a fixed time in the spring gap runs just after it),
    ``skipped`` (an interval job's time in the gap), ``once`` (a fixed time in the repeated hour runs at its
    first occurrence only) or ``repeated`` (an interval job runs at both occurrences)."""

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
        span = f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M}" + (
            f" {zone}" if zone else f" ({self.start:%Z}→{self.end:%Z})"
        )
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


def _check(expression: str) -> CronSpec:
    return _parsed(expression)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


def _hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _gap_edges(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, str, str]:
    """For a wall time in a spring-forward gap: the gap's first and first-after wall times and zone names."""
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # offset after the jump: earlier instant
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


def _steady(day: date, zone: ZoneInfo) -> bool:
    """True when the zone's UTC offset is the same all through ``day`` (no gap, no repeat)."""
    start = datetime(day.year, day.month, day.day)
    end = start + timedelta(days=1)
    offsets = {moment.replace(tzinfo=zone, fold=fold).utcoffset() for moment in (start, end) for fold in (0, 1)}
    return len(offsets) == 1


def _day_slots(spec: CronSpec, day: date, zone: ZoneInfo, timezone: str) -> list[CronSlot]:
    """The slots of one local day, in the order they happen, with cronie's daylight-saving rule applied."""
    walls = spec.walls(day)
    if not walls:
        return []
    if _steady(day, zone):
        return [CronSlot(wall, wall.replace(tzinfo=zone)) for wall in walls]
    slots: list[CronSlot] = []
    gap_walls: list[datetime] = []
    for wall in walls:
        if not _exists(wall, zone):
            if spec.interval:
                gap_walls.append(wall)
                continue
            start, end, name_before, name_after = _gap_edges(wall, zone)
            moved = end.replace(tzinfo=zone)
            if any(slot.at == moved for slot in slots) or end in walls:
                continue  # already runs then: run once
            slots.append(
                CronSlot(
                    wall,
                    moved,
                    False,
                    f"moved: {_hm(wall)} does not exist on {wall:%a %Y-%m-%d} in {timezone} (clocks "
                    f"jump {_hm(start)} {name_before} → {_hm(end)} {name_after}); a fixed time runs "
                    f"once just after the gap, at {_hm(end)} {name_after} (as cronie does)",
                    dst=DST_MOVED,
                )
            )
        elif _ambiguous(wall, zone):
            first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
            change = f"{_hm(wall)} happens twice on {wall:%a %Y-%m-%d} (clocks fall back, {first:%Z} → {second:%Z})"
            if spec.interval:
                note = (
                    f"runs at both: {change}; an interval job keeps its real-time interval, so it runs at "
                    f"{_hm(wall)} {first:%Z} and {_hm(wall)} {second:%Z} (as cronie does)"
                )
                slots.append(CronSlot(wall, first, False, note, dst=DST_REPEATED))
                slots.append(CronSlot(wall, second, False, note, dst=DST_REPEATED))
            else:
                slots.append(
                    CronSlot(
                        wall,
                        first,
                        False,
                        f"runs once: {change}; a fixed time runs only at the first, {_hm(wall)} "
                        f"{first:%Z} (as cronie does)",
                        dst=DST_ONCE,
                    )
                )
        else:
            slots.append(CronSlot(wall, wall.replace(tzinfo=zone)))
    if gap_walls:
        start, end, name_before, name_after = _gap_edges(gap_walls[0], zone)
        times = ", ".join(_hm(wall) for wall in gap_walls[:4]) + (" …" if len(gap_walls) > 4 else "")
        verb = "does" if len(gap_walls) == 1 else "do"
        slots.append(
            CronSlot(
                gap_walls[0],
                None,
                True,
                f"skipped: {times} {verb} not exist on {day:%a %Y-%m-%d} in {timezone} (clocks jump "
                f"{_hm(start)} {name_before} → {_hm(end)} {name_after}); an interval job keeps its "
                "real-time interval through the gap (as cronie does)",
                dst=DST_SKIPPED,
            )
        )
    slots.sort(key=lambda slot: _order_key(slot, zone))
    return slots


def _order_key(slot: CronSlot, zone: ZoneInfo) -> datetime:
    """When a slot happens, in UTC; a skipped one at the moment the clocks jump."""
    if slot.at is not None:
        return slot.at.astimezone(UTC)
    return _gap_edges(slot.wall, zone)[1].replace(tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)


def _slots_after(expression: str, timezone: str, after: datetime) -> Iterator[CronSlot]:
    """Every slot (skipped ones included) whose time is after ``after``, oldest first."""
    spec, zone = _check(expression), _zone(timezone)
    after_utc = after.astimezone(UTC)
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(_MAX_DAYS):
        for slot in _day_slots(spec, day, zone, timezone):
            if _order_key(slot, zone) > after_utc:
                yield slot
        day += timedelta(days=1)


def _runs_at_or_before(expression: str, timezone: str, now: datetime) -> Iterator[datetime]:
    """Every run (skipped slots never ran) at or before ``now``, newest first, aware in the zone."""
    spec, zone = _check(expression), _zone(timezone)
    now_utc = now.astimezone(UTC)
    day = now.astimezone(zone).date() + timedelta(days=1)
    for _ in range(_MAX_DAYS):
        for slot in reversed(_day_slots(spec, day, zone, timezone)):
            if slot.at is not None and slot.at.astimezone(UTC) <= now_utc:
                yield slot.at
        day -= timedelta(days=1)


def upcoming_runs(expression: str, timezone: str, now: datetime, count: int = 10) -> list[CronSlot]:
    """The next ``count`` slots after ``now`` (an interval job's skipped spring-gap times included and flagged).

    Daylight saving follows cronie (see ``dst`` on :class:`CronSlot`), each case with a
    ``dst_note``; a run at the same local time as the previous one but another UTC time
    (the clocks changed in between) has a ``utc_note``.

    Raises:
        CourierError: an invalid expression or zone.
    """
    _check(expression)
    _zone(timezone)
    if count < 1:
        return []
    slots: list[CronSlot] = []
    previous = previous_run(expression, timezone, now)
    for slot in _slots_after(expression, timezone, now):
        if not slot.skipped and slot.at is not None:
            if (
                slot.dst_note is None
                and previous is not None
                and previous.utcoffset() != slot.at.utcoffset()
                and previous.time() == slot.at.time()
            ):
                utc_before = previous.astimezone(UTC)
                slot = CronSlot(
                    slot.wall,
                    slot.at,
                    False,
                    None,
                    f"UTC time moves: {previous:%Z} → {slot.at:%Z} since the previous run "
                    f"({utc_before:%H:%M} → {slot.at.astimezone(UTC):%H:%M} UTC)",
                )
            previous = slot.at
        slots.append(slot)
        if len(slots) >= count:
            break
    return slots


def previous_run(expression: str, timezone: str, before: datetime) -> datetime | None:
    """The latest run strictly before ``before`` (skipped slots never ran), aware in the zone."""
    # In UTC: a zone-aware datetime subtracts on the wall clock, and just before a slot moved past the spring
    # gap (03:00 PDT) is a wall time inside the gap that zoneinfo reads as later than the slot itself.
    return latest_run(expression, timezone, before.astimezone(UTC) - timedelta(microseconds=1))


def latest_run(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The latest run at or before ``now``, aware in the zone; ``None`` if it never ran."""
    return next(_runs_at_or_before(expression, timezone, now), None)


def runs_between(expression: str, timezone: str, after: datetime, until: datetime) -> list[datetime]:
    """Every run in ``(after, until]``, oldest first, aware in the zone."""
    until_utc = until.astimezone(UTC)
    found: list[datetime] = []
    for slot in _slots_after(expression, timezone, after):
        if slot.at is None:
            continue
        if slot.at.astimezone(UTC) > until_utc:
            break
        found.append(slot.at)
    return found


def file_window(
    at: datetime,
    offset_seconds: int,
    *,
    timezone: str = "UTC",
    in_zone: bool = False,
    previous: datetime | None = None,
    since: datetime | None = None,
) -> FileWindow:
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


def manual_file_window(start: date, end: date, offset_seconds: int) -> FileWindow:
    """The file window of a manual run for the input days ``[start, end)``, with a courier's offset applied.

    The seed: "An offset affects couriers in a courier group whether or not they run on a
    schedule. Manually run courier groups will not take their schedule into consideration when
    determining the date range; only the provided input day(s) ... are used as inputs." So the
    window is ``[start 00:00 − offset, end 00:00 − offset)`` and the daily files are the days whose
    00:00 falls inside: input day D with offset ``1d`` loads the file dated D − 1; ``13h`` keeps D.
    """
    offset = timedelta(seconds=offset_seconds)
    begin = datetime.combine(start, datetime.min.time()) - offset
    finish = datetime.combine(end, datetime.min.time()) - offset
    first = begin.date() if begin.time() == datetime.min.time() else begin.date() + timedelta(days=1)
    days: list[date] = []
    day = first
    while datetime.combine(day, datetime.min.time()) < finish:
        days.append(day)
        day += timedelta(days=1)
    return FileWindow(begin.replace(tzinfo=UTC), finish.replace(tzinfo=UTC), tuple(days), "manual")


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
        windows = tuple(
            (
                member.courier,
                file_window(
                    slot.at,
                    parse_duration(member.offset),
                    timezone=group.timezone,
                    in_zone=group.file_dates_in_zone,
                    previous=previous,
                ),
            )
            for member in group.couriers
        )
        runs.append(ScheduledRun(slot, windows))
        previous = slot.at
    return runs
