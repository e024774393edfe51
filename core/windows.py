"""Time and window types every other module may use: the bottom of ``core``'s import graph.

``RunWindow`` (the days a run covers) and ``parse_duration`` (waits and
offsets such as ``30m``) are shared by the configuration, the schedules, the
runs and the groups. They live here, importing nothing of Courier's but
``core.errors``, so none of those modules needs another's in-function import
to break a cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from core.errors import ConfigError, CourierError
from core.vocab import WindowKind


@dataclass(frozen=True)
class RunWindow:
    """The data a run covers: one day, a ``[start, end)`` period, or all data; for Heap Connect, new dumps or a rebuild."""

    kind: WindowKind
    start: date | None = None
    end: date | None = None
    table: str | None = None
    """The domain table a ``rebuild`` reloads."""
    start_at: datetime | None = None
    """``hours``: the first instant included (naive, on the file dates' clock: UTC or the group's zone)."""
    end_at: datetime | None = None
    """``hours``: the first instant excluded."""

    @staticmethod
    def day(day: date) -> RunWindow:
        """Load data from a specific day."""
        return RunWindow(WindowKind.DAY, day, day + timedelta(days=1))

    @staticmethod
    def period(start: date, end: date) -> RunWindow:
        """Load data from a specific time period, end exclusive."""
        if end <= start:
            raise CourierError(
                f"The period ends ({end}) before it starts ({start}); the end day is exclusive, "
                "so it must be after the start day"
            )
        return RunWindow(WindowKind.PERIOD, start, end)

    @staticmethod
    def all() -> RunWindow:
        """Load all data."""
        return RunWindow(WindowKind.ALL)

    @staticmethod
    def hours(start_at: datetime, end_at: datetime) -> RunWindow:
        """Files stamped in ``[start_at, end_at)`` (naive instants): for patterns with ``HH``, whose files are hourly.

        ``start``/``end`` are the days the instants touch, so day-based rules (constraints) still apply.

        Raises:
            CourierError: ``end_at`` is not after ``start_at``.
        """
        if end_at <= start_at:
            raise CourierError(f"The window ends ({end_at}) before it starts ({start_at})")
        last = (end_at - timedelta(microseconds=1)).date()
        return RunWindow(WindowKind.HOURS, start_at.date(), last + timedelta(days=1), start_at=start_at, end_at=end_at)

    @staticmethod
    def new_dumps() -> RunWindow:
        """Heap Connect: load every complete dump newer than the tables' cursors (no day applies)."""
        return RunWindow(WindowKind.NEW_DUMPS)

    @staticmethod
    def rebuild(table: str) -> RunWindow:
        """Heap Connect: empty one domain table and reload it from its Heap table's latest full dump."""
        return RunWindow(WindowKind.REBUILD, table=table)

    @property
    def heap(self) -> bool:
        """Whether this is a Heap Connect window (manifests and cursors, no file dates)."""
        return self.kind in (WindowKind.NEW_DUMPS, WindowKind.REBUILD)

    def describe(self) -> str:
        """Human text, e.g. ``2026-11-25`` or ``2026-11-20 to 2026-11-25 (end exclusive)``."""
        if self.kind == WindowKind.DAY and self.start:
            return f"{self.start.isoformat()}"
        if self.kind == WindowKind.PERIOD and self.start and self.end:
            return f"{self.start.isoformat()} to {self.end.isoformat()} (end exclusive)"
        if self.kind == WindowKind.HOURS and self.start_at and self.end_at:
            return f"{self.start_at:%Y-%m-%d %H:%M} to {self.end_at:%Y-%m-%d %H:%M} (end exclusive)"
        if self.kind == WindowKind.NEW_DUMPS:
            return "new Heap dumps"
        if self.kind == WindowKind.REBUILD:
            return f"rebuild {self.table}"
        return "all data"

    def bounds(self) -> tuple[datetime, datetime] | None:
        """The window as naive UTC datetimes, or ``None`` for all data."""
        if self.start_at is not None and self.end_at is not None:
            return self.start_at, self.end_at
        if self.start is None or self.end is None:
            return None
        return datetime.combine(self.start, datetime.min.time()), datetime.combine(self.end, datetime.min.time())


def json_str(value: str) -> str:
    """Quote a value the way the document shows it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_duration(text: str) -> int:
    """Seconds in a wait or offset such as ``30m``, ``2h``, ``1d`` or ``1w``.

    Raises:
        ConfigError: the text is not a whole number followed by s, m, h, d or w.
    """
    match = re.match(r"^(\d+)([smhdw])$", text)
    if not match:
        raise ConfigError(f"{json_str(text)} is not a duration: use a number and s, m, h, d or w")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]


def duration_text(seconds: float) -> str:
    """Amperity's duration words: ``5 minutes 12 seconds``."""
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} {secs} second{'s' if secs != 1 else ''}"


def now_utc() -> datetime:
    """The current time, aware UTC (injectable point for callers that pass ``now``)."""
    return datetime.now(timezone.utc)
