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

On a large table the exact pass takes seconds, so :func:`profile_column` (and
:func:`frequencies`) can instead answer from a sample: 500 short runs of 20
consecutive ``rowid``s spread evenly over the table (:func:`sample_column`). The rows
of a run share a page or two, so the sample reads about a thousand pages instead of
one page per sampled row (10,000 scattered reads in a 1.7 GB file at 5,000,000 rows);
measured 0.1–0.25 s at 5,000,000 rows on a loaded machine. Counts are scaled to the
whole table, and the answer says it is an estimate, from how many rows and how they
were picked. Neighbouring rows were often loaded together (one file, one session), so
a value that comes in clumps (a session id) is over-counted when a run hits its clump;
the spread over the whole table keeps shares of common values and rows per day close.
Values seen once or twice in the sample stand for hundreds of rows either way — as they
would with rows picked one at a time.
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

from core.browse import FilterError, Frequencies, View, check_filter, columns_of, estimate_basis, query_limit
from core.errors import CourierError
from core.models import quote_identifier

TOP_VALUES = 20
SAMPLE_ROWS = 10_000
"""Rows an estimate reads, in runs of :data:`SAMPLE_RUN` consecutive rowids spread evenly over the table."""
SAMPLE_RUN = 20
"""Consecutive rows per run of a sample (a few pages each); fewer when the sample is small (a tenth of it)."""
ESTIMATE_ABOVE = 1_000_000
"""Rows above which the table view shows an estimate first and refines it to the exact answer."""
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
    """Rows of the view in the sample of an estimate (0 when exact)."""
    sample_runs: int = 0
    """Runs of consecutive rows the sample read (0 when exact)."""
    rows_exact: bool = True
    """False when ``rows`` is itself estimated (a filtered view nobody counted: the sample's share of the table)."""

    def basis(self) -> str:
        """How the numbers were obtained, for the screen and the CLI (``exact`` or ``estimate from …``)."""
        return estimate_basis(self.exact, self.rows, self.sample_rows, self.sample_runs, self.rows_exact)


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
    if "+" not in text[10:] and "-" not in text[10:]:
        return text[:10]  # no offset: a wall-clock time, its own day (as SQLite's date() reads it)
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
        self,
        view: View,
        column: str,
        rows: int | None = None,
        scale: float = 1.0,
        sample: Sample | None = None,
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
            exact=sample is None,
            sample_rows=sample.rows if sample else 0,
            sample_runs=sample.runs if sample else 0,
            rows_exact=sample.rows_exact if sample else True,
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
    exact: bool | None = True,
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
        exact: Read every row (one SQL pass, see :func:`_exact`), estimate from ``sample_rows`` rows
            (:func:`sample_column`), or ``None``: estimate when the view is larger than
            :data:`ESTIMATE_ABOVE` rows (``rows``, else the table's rowid span — no count), else exact.
            Views (e.g. ``:resolved``) have no ``rowid`` to sample by, so they are always exact.
        top: How many of the most frequent values to keep.
        progress: Called with (rows done, rows in the view) before and after the exact pass.
        should_stop: Polled during the pass; when it returns true the pass ends with :class:`ProfileStopped`.
        seed: Fixes the sample (tests).
        rows: The view's row count when the caller knows it (the table view has counted it), so an
            estimate needs no count and comes at once.

    Raises:
        FilterError: The filter cannot run or the column does not exist (one line).
        NotFoundError: The table does not exist.
        ProfileStopped: ``should_stop`` asked to stop.
    """
    _check_column(conn, view, column)
    if _should_estimate(conn, view, exact, rows, sample_rows):
        sample = sample_column(conn, view, column, sample_rows, rows=rows, should_stop=should_stop, seed=seed)
        if sample is not None:
            return _estimate(view, column, sample, top)
    total = 0
    if progress is not None and _has_rowid(conn, view.table):
        # Only to size the progress bar at once: the largest rowid is the row count give or take deletions.
        total = int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote_identifier(view.table)}").fetchone()[0])
    with _stoppable(conn, should_stop):
        return _exact(conn, view, column, top, total, progress, should_stop)


def _should_estimate(
    conn: sqlite3.Connection, view: View, exact: bool | None, rows: int | None, sample_rows: int
) -> bool:
    """Whether to answer from a sample: asked for (``exact`` false), or ``exact`` is ``None`` and the view is large."""
    if exact or not _has_rowid(conn, view.table):
        return False
    if exact is False:
        return True
    size = rows if rows is not None else _rowid_span(conn, view.table)[2]
    return size > max(ESTIMATE_ABOVE, sample_rows)


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


def _rowid_span(conn: sqlite3.Connection, table: str) -> tuple[int, int, int]:
    """The table's lowest and highest ``rowid`` and the span between them (two seeks, no scan)."""
    # Two statements: SQLite seeks to one end of the table for a lone MIN() or MAX(), but
    # scans every row for both in one SELECT (2–3 s at 5,000,000 rows).
    quoted = quote_identifier(table)
    low = conn.execute(f"SELECT MIN(rowid) FROM {quoted}").fetchone()[0]
    high = conn.execute(f"SELECT MAX(rowid) FROM {quoted}").fetchone()[0]
    if low is None:
        return 0, -1, 0
    return int(low), int(high), int(high) - int(low) + 1


@dataclass
class Sample:
    """Values of one column in a sample of a view's rows (see :func:`sample_column`)."""

    values: list[tuple[Any, int]]
    """Each value seen (NULL included) and how many sampled rows of the view hold it, in SQLite's value order."""
    rows: int
    """Sampled rows that belong to the view (its filter holds)."""
    runs: int
    """Runs of consecutive rowids read."""
    total: int
    """Rows in the view: the caller's count, else estimated (``rows_exact`` false)."""
    rows_exact: bool

    @property
    def scale(self) -> float:
        """What one sampled row stands for in the view."""
        return self.total / self.rows if self.rows else 0.0


def sample_column(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    sample_rows: int = SAMPLE_ROWS,
    *,
    rows: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    seed: int | None = None,
) -> Sample | None:
    """Read ``column`` from about ``sample_rows`` rows of a table: short runs of consecutive rowids, spread evenly.

    The rowid range is cut into as many equal strata as there are runs, and each run of
    :data:`SAMPLE_RUN` rowids starts at a random place in its stratum (systematic sampling
    with a random start per stratum). Rows of a run share pages, so at 5,000,000 rows the
    sample reads a few hundred pages, not ten thousand scattered ones. Rowids missing
    (deleted rows) just make a run shorter. The view's filter is evaluated on each sampled row.

    Args:
        rows: The view's row count when known; otherwise the rows are the table's rowid span times
            the share of sampled rows the filter keeps (``Sample.rows_exact`` false when a filter applies).

    Returns:
        The sample, or ``None`` when the table has no more rows than the sample would read
        (the caller reads it all: exact costs no more).

    Raises:
        ProfileStopped: ``should_stop`` asked to stop.
    """
    low, _, span = _rowid_span(conn, view.table)
    if span <= sample_rows:
        return None
    length = max(1, min(SAMPLE_RUN, sample_rows // 10))
    runs = -(-sample_rows // length)
    stride = span / runs
    chooser = random.Random(seed)
    where = view.where if view.where and view.where.strip() else None
    keep = f"({where}) IS TRUE" if where else "1"
    sql = (
        f"SELECT {quote_identifier(column)}, {keep} FROM {quote_identifier(view.table)} WHERE rowid >= ? AND rowid < ?"
    )
    counts: dict[Any, int] = {}
    read = kept = 0
    with _stoppable(conn, should_stop):
        for run in range(runs):
            start = low + int(run * stride + chooser.random() * max(0.0, stride - length))
            for value, hit in conn.execute(sql, (start, start + length)):
                read += 1
                if not hit:
                    continue
                kept += 1
                # 1 and 1.0 are one value to SQLite's GROUP BY but not to Python's repr; keep the first seen.
                counts[value] = counts.get(value, 0) + 1
            if should_stop is not None and should_stop():
                raise ProfileStopped("Profile stopped")
    if rows is not None:
        total, rows_exact = rows, True
    elif where is None:
        total, rows_exact = span, True  # a loaded table's rowids are dense: its span is its row count
    else:
        total, rows_exact = round(span * kept / read) if read else 0, False
    ordered = sorted(counts.items(), key=lambda item: _sqlite_order(item[0]))
    return Sample(values=ordered, rows=kept, runs=runs, total=total, rows_exact=rows_exact)


def _estimate(view: View, column: str, sample: Sample, top: int) -> ColumnProfile:
    """A profile from a sample, its counts scaled to the view's rows."""
    accumulator = _Accumulator(top)
    for value, count in sample.values:
        accumulator.add(value, count)
    return accumulator.profile(view, column, rows=sample.total, scale=sample.scale, sample=sample)


def _sqlite_order(value: Any) -> tuple[int, Any]:
    """SQLite's order of values: NULL, numbers, text, blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, bytes):
        return (3, value)
    return (2, str(value))


def frequencies(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    limit: int = 100,
    *,
    exact: bool | None = True,
    rows: int | None = None,
    sample_rows: int = SAMPLE_ROWS,
    should_stop: Callable[[], bool] | None = None,
    seed: int | None = None,
) -> Frequencies:
    """The most frequent values of a column in the view, like VisiData's Shift+F, in one ``GROUP BY`` pass.

    NULL counts as a value here (it is one of the things a reviewer looks for);
    ties are ordered by value, NULL first, as SQLite orders them.

    Args:
        exact: Count every row; ``False``: estimate from a sample (:func:`sample_column`, counts scaled,
            ``distinct`` is what the sample saw); ``None``: estimate when the view is larger than
            :data:`ESTIMATE_ABOVE` rows, as :func:`profile_column` decides.
        rows: The view's row count when the caller has it (an estimate then needs no count).
        should_stop: Polled while counting; true ends it with :class:`ProfileStopped`. Without it
            the count runs under the connection's time budget (``Filter stopped: …``).

    Raises:
        FilterError: The filter cannot run or the column does not exist (one line).
        ProfileStopped: ``should_stop`` asked to stop.
    """
    if should_stop is None:
        with query_limit(conn):
            return _frequencies(conn, view, column, limit, exact, rows, sample_rows, None, seed)
    return _frequencies(conn, view, column, limit, exact, rows, sample_rows, should_stop, seed)


def _frequencies(
    conn: sqlite3.Connection,
    view: View,
    column: str,
    limit: int,
    exact: bool | None,
    rows: int | None,
    sample_rows: int,
    should_stop: Callable[[], bool] | None,
    seed: int | None,
) -> Frequencies:
    _check_column(conn, view, column)
    if _should_estimate(conn, view, exact, rows, sample_rows):
        sample = sample_column(conn, view, column, sample_rows, rows=rows, should_stop=should_stop, seed=seed)
        if sample is not None:
            ranked = sorted(enumerate(sample.values), key=lambda item: (-item[1][1], item[0]))[:limit]
            return Frequencies(
                column=column,
                values=[(value, round(count * sample.scale)) for _, (value, count) in ranked],
                distinct=len(sample.values),
                total=sample.total,
                exact=False,
                sample_rows=sample.rows,
                sample_runs=sample.runs,
                rows_exact=sample.rows_exact,
            )
    if should_stop is not None and should_stop():
        raise ProfileStopped("Profile stopped")  # a small view may count before SQLite's handler ever runs
    with _stoppable(conn, should_stop):
        values, distinct, total = _top_values(conn, view, column, limit, nulls=True)
    return Frequencies(column=column, values=values, distinct=distinct, total=total)
