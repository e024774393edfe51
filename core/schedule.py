"""Cron schedules in IANA time zones: validation, descriptions and next runs.

Pure functions: every one that depends on the time takes an explicit ``now``.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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
    return None


_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_PIECE_RE = re.compile(r"^(?:\*|(?P<first>\d+)(?:-(?P<last>\d+))?)(?:/(?P<step>\d+))?$")


def validate_timezone(name: str) -> str | None:
    """Return a one-line problem with an IANA time zone name, or ``None`` when valid."""
    if name in ("UTC", "Etc/UTC"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
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
