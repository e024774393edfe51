"""A column profile in one pass: count, NULLs, distinct, min/max, mean, top values and a day histogram.

Like VisiData's describe and frequency sheets, for one column of a domain table
view. The exact profile reads the rows once, in one SQL statement: a
``GROUP BY column`` materialised once (SQLite sorts the values on disk when they
do not fit in its cache), from which the same statement reads everything else —
rows and NULLs are sums of group sizes, distinct the number of groups, min and max
the least and greatest group, the kinds of value and the sum of numbers come from
the groups, the most frequent values are the largest groups, and a Datetime
column's rows per UTC day are the groups summed by day. Python sees only the top
values and a row per day, never the column.

On a large table the exact pass takes seconds, so :func:`profile_column` can
instead answer from a sample of rows picked at random by ``rowid`` (point
lookups, no scan): counts are scaled to the whole table and the profile says it
is an estimate and from how many rows.
"""

from __future__ import annotations

import heapq
import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.browse import FilterError, Frequencies, View, check_filter, columns_of, count_rows, limited
from core.errors import CourierError
from core.models import quote_identifier

TOP_VALUES = 20
SAMPLE_ROWS = 10_000
"""Rows an estimate reads (point lookups by rowid); shares come within about ±1 % (95 % of the time)."""
ESTIMATE_ABOVE = 1_000_000
"""Rows above which the table view shows an estimate first and offers the exact pass."""
DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}|$)")
"""Heap Datetime values land as ISO 8601 text (``2026-11-25T16:35:10.123Z``); Date values as ``2026-11-25``."""
PROGRESS_EVERY = 20_000


class ProfileStopped(CourierError):
    """The user stopped a profile before it finished."""


@dataclass
class ColumnProfile:
    """What one column of a view holds.

    Counts are exact when ``exact`` is true; otherwise they are scaled from
    ``sample_rows`` rows picked at random and ``distinct`` is the distinct values
    seen in the sample (a lower bound).
    """

    table: str
    column: str
    where: str | None
    kind: str
    """``number``, ``text``, ``datetime``, ``bytes`` or ``empty`` (only NULLs), from the values."""
    rows: int
    """Rows in the view (exact, or the view's real row count when estimated from a sample)."""
    nulls: int
    distinct: int
    minimum: Any = None
    maximum: Any = None
    mean: float | None = None
    """Mean of the numbers (``number`` columns only)."""
    top: list[tuple[Any, int]] = field(default_factory=list)
    """Most frequent values, most frequent first, ties by value."""
    days: list[tuple[str, int]] = field(default_factory=list)
    """Rows per day (``YYYY-MM-DD``), in day order, for ``datetime`` columns."""
    exact: bool = True
    sample_rows: int = 0
    """Rows read for an estimate (0 when exact)."""

    def basis(self) -> str:
        """How the numbers were obtained, for the screen and the CLI (``exact`` or ``estimate from …``)."""
        if self.exact:
            return f"exact, all {self.rows:,} rows"
        return f"estimate from a random sample of {self.sample_rows:,} of {self.rows:,} rows"


def value_kind(value: Any) -> str:
    """``number``, ``datetime``, ``text`` or ``bytes`` for one non-NULL value."""
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "bytes"
    return "datetime" if DATETIME_TEXT.match(str(value)) else "text"


def utc_day(text: str) -> str:
    """The UTC day (``YYYY-MM-DD``) of a datetime text, as :data:`DAY_OF` computes it in SQL.

    Courier's own Datetime values end in ``Z`` and their first ten characters are the day;
    a time with an offset is moved to UTC first; anything unreadable keeps its first ten characters.
    """
    if text.endswith("Z") or len(text) == 10:
        return text[:10]
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text[:10]
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat()


class _Accumulator:
    """Folds ``(value, count)`` groups, in SQLite's value order, into a profile's numbers."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.rows = self.nulls = self.distinct = 0
        self.minimum: Any = None
        self.maximum: Any = None
        self.total = 0.0
        self.numbers = 0
        self.kinds: set[str] = set()
        self.heap: list[tuple[int, int, Any]] = []
        self.order = 0
        self.days: dict[str, int] = {}

    def add(self, value: Any, count: int) -> None:
        self.rows += count
        if value is None:
            self.nulls += count
            return
        self.distinct += 1
        if self.minimum is None:
            self.minimum = value
        self.maximum = value
        kind = value_kind(value)
        self.kinds.add(kind)
        if kind == "number":
            self.total += value * count
            self.numbers += count
        elif kind == "datetime":
            day = utc_day(str(value))
            self.days[day] = self.days.get(day, 0) + count
        # Ties keep the smaller value: groups arrive in value order, so an earlier group wins.
        self.order -= 1
        item = (count, self.order, value)
        if len(self.heap) < self.top:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def kind(self) -> str:
        if not self.kinds:
            return "empty"
        for kind in ("datetime", "number", "bytes", "text"):
            if self.kinds == {kind}:
                return kind
        return "text"

    def profile(
        self, view: View, column: str, rows: int | None = None, scale: float = 1.0, sample_rows: int = 0
    ) -> ColumnProfile:
        kind = self.kind()
        top = [(value, round(count * scale)) for count, _, value in sorted(self.heap, reverse=True)]
        days = sorted((day, round(count * scale)) for day, count in self.days.items()) if kind == "datetime" else []
        return ColumnProfile(
            table=view.table,
            column=column,
            where=view.where,
            kind=kind,
            rows=rows if rows is not None else self.rows,
            nulls=round(self.nulls * scale),
            distinct=self.distinct,
            minimum=self.minimum,
            maximum=self.maximum,
            mean=self.total / self.numbers if kind == "number" and self.numbers else None,
            top=top,
            days=days,
            exact=sample_rows == 0,
            sample_rows=sample_rows,
        )


def _check_column(conn: sqlite3.Connection, view: View, column: str) -> None:
    check_filter(conn, view)
    if column not in columns_of(conn, view.table):
        raise FilterError(f'There is no column "{column}" in {view.table}')


@contextmanager
def _stoppable(conn: sqlite3.Connection, should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Let ``should_stop`` interrupt a statement SQLite is still sorting; errors become one line."""
    from core.query import time_limit

    # Without should_stop there is nothing to poll; installing a handler anyway would replace
    # (and on exit remove) the step/time budget a caller such as browse.frequencies has set.
    # Errors then stay the caller's to word (browse's limit says "Filter stopped"/"Filter error").
    if should_stop is None:
        yield
        return
    try:
        with time_limit(conn, None, should_stop):
            yield
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error):
            raise ProfileStopped("Profile stopped") from None
        raise FilterError(f"Profile error: {error}") from None


def profile_column(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    *,
    exact: bool = True,
    top: int = TOP_VALUES,
    sample_rows: int = SAMPLE_ROWS,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    seed: int | None = None,
    rows: int | None = None,
) -> ColumnProfile:
    """Profile one column of a view (its filter applies).

    Args:
        conn: A connection from :func:`core.browse.open_reader`.
        view: Table and filter (the sort does not matter).
        column: The column to profile.
        exact: Read every row (two SQL passes, see :func:`_exact`) or estimate from ``sample_rows`` random rows.
            Views (e.g. ``:resolved``) have no ``rowid`` to sample by, so they are always exact.
        top: How many of the most frequent values to keep.
        progress: Called with (rows done, rows in the view) before and after each pass.
        should_stop: Polled during the pass; when it returns true the pass ends with :class:`ProfileStopped`.
        seed: Fixes the sample (tests).
        rows: The view's row count when the caller knows it (the table view has counted it), so an
            estimate needs no full count and comes at once.

    Raises:
        FilterError: The filter cannot run or the column does not exist (one line).
        NotFoundError: The table does not exist.
        ProfileStopped: ``should_stop`` asked to stop.
    """
    _check_column(conn, view, column)
    if not exact and _has_rowid(conn, view.table):
        total = rows if rows is not None else count_rows(conn, view)
        if total > sample_rows:
            return _estimate(conn, view, column, total, top, sample_rows, should_stop, seed)
    total = 0
    if progress is not None and _has_rowid(conn, view.table):
        # Only to size the progress bar at once: the largest rowid is the row count give or take deletions.
        total = int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote_identifier(view.table)}").fetchone()[0])
    with _stoppable(conn, should_stop):
        return _exact(conn, view, column, top, total, progress, should_stop)


DAY_OF = (
    "CASE WHEN substr({c}, -1) = 'Z' OR length({c}) = 10 THEN substr({c}, 1, 10) "
    "ELSE COALESCE(date({c}), substr({c}, 1, 10)) END"
)
"""The UTC day of a datetime text, in SQL. Courier stores Datetime values as ``…Z`` UTC text
(:mod:`core.timestamps`), so their first ten characters are the day; text with an offset
(a String column holding times) goes through SQLite's ``date()``, which applies it."""
DATETIME_GLOB = (
    "({c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' "
    "OR {c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]*')"
)
""":data:`DATETIME_TEXT` in SQL."""


def _exact(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    top: int,
    total: int,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None = None,
) -> ColumnProfile:
    """The exact profile in one pass over the rows; Python only sees the top values and a row per day.

    One statement groups the column's values (``GROUP BY``, materialised once: SQLite sorts
    the values, on disk past its cache) and reads everything from the groups: rows, NULLs,
    distinct values, min and max, the sum of numbers, which kinds of value occur, the most
    frequent values and — for a Datetime-looking column — rows per UTC day. Folding every
    distinct value in Python instead took a minute per million timestamps.
    """
    c, table = quote_identifier(column), quote_identifier(view.table)
    where = f" WHERE ({view.where})" if view.where and view.where.strip() else ""

    def report(done: int, rows: int) -> None:
        # SQLite's progress handler stops the pass; before and after it (and on small tables) ask here.
        if should_stop is not None and should_stop():
            raise ProfileStopped("Profile stopped")
        if progress is not None:
            progress(done, rows)

    report(0, total)
    sample = [row[0] for row in conn.execute(f"SELECT {c} FROM {table} WHERE {c} IS NOT NULL LIMIT 100")]
    # Grouping the groups by day costs a sort of them: only for a column whose values look like times.
    by_day = bool(sample) and all(value_kind(value) == "datetime" for value in sample)
    numeric = "typeof(value) IN ('integer', 'real')"
    datetime = f"typeof(value) = 'text' AND {DATETIME_GLOB.format(c='value')}"
    blank = ", NULL" * 8
    days = (
        f" UNION ALL SELECT 'day', {DAY_OF.format(c='value')}, SUM(n){blank} FROM groups "
        "WHERE value IS NOT NULL GROUP BY 2"
        if by_day
        else ""
    )
    found = conn.execute(
        f"WITH groups AS MATERIALIZED (SELECT {c} AS value, COUNT(*) AS n FROM {table}{where} GROUP BY 1) "
        "SELECT 'all', SUM(n), SUM(CASE WHEN value IS NULL THEN n END), COUNT(value), MIN(value), MAX(value), "
        f"SUM(CASE WHEN {numeric} THEN n END), TOTAL(CASE WHEN {numeric} THEN value * n END), "
        f"SUM(typeof(value) = 'blob'), SUM({datetime}), SUM(typeof(value) = 'text') FROM groups "
        f"UNION ALL SELECT * FROM (SELECT 'top', value, n{blank} FROM groups WHERE value IS NOT NULL "
        f"ORDER BY n DESC, value LIMIT ?){days}",
        (top,),
    ).fetchall()
    _, rows, nulls, distinct, minimum, maximum, numbers, summed, blobs, datetimes, texts = found[0]
    rows, nulls, numbers, datetimes, texts = rows or 0, nulls or 0, numbers or 0, datetimes or 0, texts or 0
    present = {"number": numbers, "bytes": blobs or 0, "datetime": datetimes, "text": texts - datetimes}
    kinds = [kind for kind, count in present.items() if count]
    kind = "empty" if not kinds else kinds[0] if len(kinds) == 1 else "text"
    report(rows, max(total, rows))
    return ColumnProfile(
        table=view.table,
        column=column,
        where=view.where,
        kind=kind,
        rows=rows,
        nulls=nulls,
        distinct=distinct,
        minimum=minimum,
        maximum=maximum,
        mean=summed / numbers if kind == "number" and numbers else None,
        top=sorted(
            ((value, int(count)) for tag, value, count, *_ in found if tag == "top"),
            key=lambda item: (-item[1], _sqlite_order(item[0])),
        ),
        days=sorted((str(day), int(count)) for tag, day, count, *_ in found if tag == "day")
        if kind == "datetime"
        else [],
    )


def _top_values(
    conn: sqlite3.Connection, view: View, column: str, top: int, *, nulls: bool
) -> tuple[list[tuple[Any, int]], int, int]:
    """The ``top`` most frequent values (ties by value, in SQLite's order), how many distinct values and how many
    rows, in one ``GROUP BY`` pass; NULL counts as a value when ``nulls`` is true."""
    c, table = quote_identifier(column), quote_identifier(view.table)
    conditions = [f"({view.where})"] if view.where and view.where.strip() else []
    if not nulls:
        conditions.append(f"{c} IS NOT NULL")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    found = conn.execute(
        f"WITH groups AS MATERIALIZED (SELECT {c} AS value, COUNT(*) AS n FROM {table}{where} GROUP BY 1) "
        "SELECT value, n, (SELECT COUNT(*) FROM groups), (SELECT SUM(n) FROM groups) FROM groups "
        "ORDER BY n DESC, value LIMIT ?",
        (top,),
    ).fetchall()
    if not found:
        return [], 0, 0
    return [(value, int(count)) for value, count, _, _ in found], int(found[0][2]), int(found[0][3])


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return bool(kind) and kind[0] == "table"


def _estimate(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    total: int,
    top: int,
    sample_rows: int,
    should_stop: Callable[[], bool] | None,
    seed: int | None,
) -> ColumnProfile:
    """Profile ``sample_rows`` rows picked uniformly by ``rowid`` (rowids of a loaded table are dense)."""
    table, quoted = quote_identifier(view.table), quote_identifier(column)
    low, high = conn.execute(f"SELECT MIN(rowid), MAX(rowid) FROM {table}").fetchone()
    if low is None:
        return _Accumulator(top).profile(view, column)
    chooser = random.Random(seed)
    span = high - low + 1
    picks = sorted(chooser.sample(range(low, high + 1), min(span, sample_rows)))
    where = f" AND ({view.where})" if view.where and view.where.strip() else ""
    values: dict[Any, int] = {}
    read = 0
    with _stoppable(conn, should_stop):
        for start in range(0, len(picks), 500):
            chunk = picks[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for (value,) in conn.execute(f"SELECT {quoted} FROM {table} WHERE rowid IN ({marks}){where}", chunk):
                key = (type(value).__name__, value) if isinstance(value, (int, float)) else value
                values[key] = values.get(key, 0) + 1
                read += 1
            if should_stop is not None and should_stop():
                raise ProfileStopped("Profile stopped")
    accumulator = _Accumulator(top)
    unwrapped = [(key[1] if isinstance(key, tuple) else key, count) for key, count in values.items()]
    for value, count in sorted(unwrapped, key=lambda item: _sqlite_order(item[0])):
        accumulator.add(value, count)
    # The sample stands for the rows of the view: scale its counts to the view's real size.
    scale = total / read if read else 0.0
    return accumulator.profile(view, column, rows=total, scale=scale, sample_rows=read)


def _sqlite_order(value: Any) -> tuple[int, Any]:
    """SQLite's order of values: NULL, numbers, text, blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, bytes):
        return (3, value)
    return (2, str(value))


@limited
def frequencies(conn: sqlite3.Connection, view: View, column: str, limit: int = 100) -> Frequencies:
    """The most frequent values of a column in the view, like VisiData's Shift+F, in one ``GROUP BY`` pass.

    NULL counts as a value here (it is one of the things a reviewer looks for);
    ties are ordered by value, NULL first, as SQLite orders them.
    """
    _check_column(conn, view, column)
    values, distinct, total = _top_values(conn, view, column, limit, nulls=True)
    return Frequencies(column=column, values=values, distinct=distinct, total=total)
