"""Reviewing a domain table a page at a time: keyset paging, filters, sorting, frequencies, export.

Nothing here loads a whole table: pages come from keyset queries on the
unique ``_pk`` (or on ``(column, _pk)`` when sorted by a column), so the first
page and a jump to any key cost the same on a million rows as on a hundred.
User filters are SQL ``WHERE`` conditions run on a read-only connection with an
authorizer that refuses anything but reading, so a filter can never change data.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.models import PK_COLUMN, quote_identifier

PAGE_ROWS = 100
QUERY_SECONDS = 10.0
"""Longest a filtered or sorted query may run before it is stopped (between rows, for exports)."""
PROGRESS_INTERVAL = 1000
"""SQLite virtual-machine instructions between two checks of a query's limit."""
WRITE_WORDS = re.compile(
    r"\b(insert|update|delete|drop|alter|create|replace|attach|detach|pragma|vacuum|reindex|begin|commit|"
    r"rollback|savepoint|release)\b",
    re.IGNORECASE,
)


class FilterError(CourierError):
    """A filter or sort the user typed cannot run; nothing was changed."""


@dataclass(frozen=True)
class View:
    """What part of a table to show: an optional filter and sort column."""

    table: str
    where: str | None = None
    sort: str | None = None
    """Column to sort by; ``None`` means key order (``_pk``)."""
    descending: bool = False


@dataclass
class Page:
    """Rows of one page and the keys to continue from."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    has_before: bool
    has_after: bool
    first_key: tuple[Any, ...] | None = None
    last_key: tuple[Any, ...] | None = None


@dataclass
class Frequencies:
    """How often each value of a column occurs in the current view."""

    column: str
    values: list[tuple[Any, int]] = field(default_factory=list)
    """Most frequent values first (NULL counts as a value), with their counts (scaled, for an estimate)."""
    distinct: int = 0
    """Distinct values in the view (for an estimate: in the sample, a lower bound)."""
    total: int = 0
    exact: bool = True
    sample_rows: int = 0
    """Rows of the view in the sample of an estimate (0 when exact); see ``core.profile.sample_column``."""
    sample_runs: int = 0
    rows_exact: bool = True
    """False when ``total`` is itself estimated (a filtered view nobody counted)."""

    def basis(self) -> str:
        """``exact, all N rows`` or ``estimate from …`` (see :func:`estimate_basis`)."""
        return estimate_basis(self.exact, self.total, self.sample_rows, self.sample_runs, self.rows_exact)


def estimate_basis(exact: bool, rows: int, sample_rows: int, sample_runs: int, rows_exact: bool = True) -> str:
    """How counts were obtained, for the screens and the CLI.

    ``exact, all N rows``, or ``estimate from n sampled rows of N (r runs of consecutive rows spread
    evenly over the table)`` — ``of about N`` when the row count is itself estimated.
    """
    if exact:
        return f"exact, all {rows:,} rows"
    about = "" if rows_exact else "about "
    return (
        f"estimate from {sample_rows:,} sampled rows of {about}{rows:,} "
        f"({sample_runs:,} runs of consecutive rows spread evenly over the table)"
    )


class ReaderConnection(sqlite3.Connection):
    """A read-only connection that carries the limits :func:`query_limit` applies to it."""

    limit_seconds: float | None = QUERY_SECONDS
    limit_steps: int | None = None
    active_limit: QueryLimit | None = None


class QueryLimit:
    """A time and step budget for one query, checked by SQLite's progress handler.

    Args:
        seconds: Wall-clock budget, or ``None`` for none.
        steps: Budget in SQLite virtual-machine instructions (counted in units of
            :data:`PROGRESS_INTERVAL`), or ``None`` for none; deterministic, so tests use it.
    """

    def __init__(self, seconds: float | None, steps: int | None) -> None:
        self.seconds = seconds
        self.steps = steps
        self.exceeded = False
        self.reset()

    def reset(self) -> None:
        """Start the budget again (an export does so after every batch of rows it writes)."""
        self.deadline = None if self.seconds is None else time.monotonic() + self.seconds
        self.used = 0

    def check(self) -> int:
        """SQLite's progress handler: non-zero interrupts the running statement."""
        self.used += PROGRESS_INTERVAL
        if (self.steps is not None and self.used > self.steps) or (
            self.deadline is not None and time.monotonic() > self.deadline
        ):
            self.exceeded = True
            return 1
        return 0

    def describe(self) -> str:
        """What was exceeded, for the one-line error."""
        if self.steps is not None and self.used > self.steps:
            return f"more than {self.steps:,} SQLite steps"
        return f"more than {self.seconds:g} s"


@contextmanager
def query_limit(
    conn: sqlite3.Connection, *, seconds: float | None = None, steps: int | None = None, label: str = "Filter"
) -> Iterator[QueryLimit]:
    """Run the block's queries under a time/step budget; any SQLite error becomes one :class:`FilterError` line.

    Used around every query that holds user-written SQL (filters, sorts, and the
    read-only SQL pane), in paging, counting and export alike, so a query can
    neither hang the screen nor escape as a traceback. Nested use shares the
    outermost budget.

    Args:
        conn: A connection from :func:`open_reader` (its limits are the defaults) or any connection.
        seconds: Time budget; default the connection's (``QUERY_SECONDS``, or ``COURIER_QUERY_SECONDS``).
        steps: Step budget; default the connection's (none).
        label: What the user typed, for the message: ``Filter error: …`` / ``Query error: …``.

    Raises:
        FilterError: ``{label} error: <SQLite's message>``, or ``{label} stopped: it ran for more than 10 s;
            narrow it`` when the budget ran out.
    """
    active = getattr(conn, "active_limit", None)
    if active is not None:
        yield active
        return
    limit = QueryLimit(
        seconds if seconds is not None else getattr(conn, "limit_seconds", QUERY_SECONDS),
        steps if steps is not None else getattr(conn, "limit_steps", None),
    )
    conn.set_progress_handler(limit.check, PROGRESS_INTERVAL)
    owns = isinstance(conn, ReaderConnection)
    if owns:
        conn.active_limit = limit  # type: ignore[attr-defined]
    try:
        yield limit
    except sqlite3.DatabaseError as error:
        if limit.exceeded:
            raise FilterError(
                f"{label} stopped: it ran for {limit.describe()}; narrow it (e.g. a condition on "
                "the key or a shorter time range)"
            ) from None
        message = " ".join(str(error).split())
        if "not authorized" in message:
            message = "only reading is allowed"
        raise FilterError(f"{label} error: {message}") from None
    finally:
        conn.set_progress_handler(None, 0)
        if owns:
            conn.active_limit = None  # type: ignore[attr-defined]


def open_reader(db_path: Path | str, *, seconds: float | None = None, steps: int | None = None) -> sqlite3.Connection:
    """A read-only connection that refuses every statement that could write.

    ``seconds`` and ``steps`` are the budget :func:`query_limit` gives each query on it
    (default ``QUERY_SECONDS``, or ``COURIER_QUERY_SECONDS`` from the environment; no step budget).
    """
    path = Path(db_path).expanduser().resolve()
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False, factory=ReaderConnection)
        conn.limit_seconds = seconds if seconds is not None else _env_seconds()
        conn.limit_steps = steps
        conn.execute("PRAGMA query_only = 1")
    except sqlite3.DatabaseError as error:
        raise CourierError(f"Cannot read the Courier database {path}: {error}") from None
    conn.set_authorizer(_read_only_authorizer)
    return conn


def _env_seconds() -> float:
    text = os.environ.get("COURIER_QUERY_SECONDS", "").strip()
    try:
        value = float(text) if text else QUERY_SECONDS
    except ValueError:
        return QUERY_SECONDS
    return value if value > 0 else QUERY_SECONDS


_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _read_only_authorizer(action: int, arg1: Any, arg2: Any, database: Any, trigger: Any) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 in ("table_info", "table_xinfo", "query_only"):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's or view's columns; raises :class:`NotFoundError` when it does not exist."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (table,)
    ).fetchone()
    if not exists:
        raise NotFoundError(f'There is no domain table "{table}"')
    return [row[1] for row in conn.execute(f"PRAGMA table_info({quote_identifier(table)})")]


def limited(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a reading function under :func:`query_limit` (its first argument is the connection)."""
    import functools

    @functools.wraps(function)
    def limited(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
        with query_limit(conn):
            return function(conn, *args, **kwargs)

    return limited


@limited
def check_filter(conn: sqlite3.Connection, view: View) -> None:
    """Raise :class:`FilterError` with one line when the view's filter or sort cannot run."""
    columns = columns_of(conn, view.table)
    if view.sort is not None and view.sort not in columns:
        raise FilterError(f'There is no column "{view.sort}" in {view.table}')
    if view.where is None or not view.where.strip():
        return
    word = WRITE_WORDS.search(_strip_strings(view.where))
    if word or ";" in _strip_strings(view.where):
        found = word.group(1).upper() if word else ";"
        raise FilterError(
            f"Filters are read-only conditions (found {found}); write a WHERE condition "
            "such as country = 'US' AND time >= '2026-11-20'"
        )
    try:
        conn.execute(f"SELECT 1 FROM {quote_identifier(view.table)} WHERE {view.where} LIMIT 0").fetchall()
    except sqlite3.DatabaseError as error:
        limit = getattr(conn, "active_limit", None)
        if limit is not None and limit.exceeded:
            raise  # query_limit reports the budget, not SQLite's "interrupted"
        message = str(error)
        if "not authorized" in message:
            message = "only reading is allowed in a filter"
        raise FilterError(f"Filter error: {message}") from None


def _strip_strings(sql: str) -> str:
    """The SQL with string literals and quoted names emptied (a column may be named "update")."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]", "''", sql)


def _order_columns(view: View) -> list[str]:
    return [view.sort, PK_COLUMN] if view.sort and view.sort != PK_COLUMN else [PK_COLUMN]


def _where(view: View, extra: str | None = None) -> str:
    parts = [f"({view.where})" for _ in [0] if view.where and view.where.strip()]
    if extra:
        parts.append(extra)
    return f" WHERE {' AND '.join(parts)}" if parts else ""


def _keyset_condition(
    view: View, key: tuple[Any, ...], forward: bool, inclusive: bool = False
) -> tuple[str, list[Any]]:
    """Rows after (or before) ``key`` in the view's order; NULLs sort first, as in SQLite.

    ``inclusive`` keeps the row at ``key`` itself (used to start a page at a row).
    """
    ascending = forward != view.descending
    op = ">" if ascending else "<"
    pk_op = op + "=" if inclusive else op
    if len(key) == 1:
        return f"{quote_identifier(PK_COLUMN)} {pk_op} ?", [key[0]]
    value, pk = key
    column, pk_column = quote_identifier(view.sort or PK_COLUMN), quote_identifier(PK_COLUMN)
    if value is None:
        if ascending:
            return f"(({column} IS NULL AND {pk_column} {pk_op} ?) OR {column} IS NOT NULL)", [pk]
        return f"({column} IS NULL AND {pk_column} {pk_op} ?)", [pk]
    if ascending:
        # The leading range term is implied by the rest; it lets SQLite seek an index on (column, _pk)
        # to the key instead of walking the index from its start (core.sort_index).
        return (
            f"({column} >= ? AND ({column} > ? OR ({column} = ? AND {pk_column} {pk_op} ?)))",
            [value, value, value, pk],
        )
    return f"({column} < ? OR ({column} = ? AND {pk_column} {pk_op} ?) OR {column} IS NULL)", [value, value, pk]


def _order_by(view: View, forward: bool) -> str:
    ascending = forward != view.descending
    direction = "ASC" if ascending else "DESC"
    return ", ".join(f"{quote_identifier(c)} {direction}" for c in _order_columns(view))


@limited
def fetch_page(
    conn: sqlite3.Connection,
    view: View,
    *,
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
    at: tuple[Any, ...] | None = None,
    last: bool = False,
    limit: int = PAGE_ROWS,
) -> Page:
    """One page of the view, found by key (never by offset).

    Args:
        conn: A connection from :func:`open_reader`.
        view: The table, filter and sort.
        after: The page that follows this key (the next page, or a one-row scroll down).
        before: The page that ends just before this key (the previous page).
        at: The page that starts with the row at this key.
        last: The last page of the view.
        limit: Rows per page.

    Without ``after``, ``before``, ``at`` or ``last`` this is the first page.

    Raises:
        FilterError: The view's filter or sort cannot run (one line, nothing changed).
        NotFoundError: The table does not exist.
    """
    check_filter(conn, view)
    columns = columns_of(conn, view.table)
    key_positions = [columns.index(c) for c in _order_columns(view)]
    forward = before is None and not last
    condition: str | None = None
    params: list[Any] = []
    if after is not None:
        condition, params = _keyset_condition(view, after, True)
    elif at is not None:
        condition, params = _keyset_condition(view, at, True, inclusive=True)
    elif before is not None:
        condition, params = _keyset_condition(view, before, False)
    sql = (
        f"SELECT * FROM {quote_identifier(view.table)}{_where(view, condition)} "
        f"ORDER BY {_order_by(view, forward)} LIMIT ?"
    )
    rows = [tuple(row) for row in conn.execute(sql, (*params, limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    page = Page(columns=columns, rows=rows, has_before=False, has_after=False)
    if rows:
        page.first_key = tuple(rows[0][p] for p in key_positions)
        page.last_key = tuple(rows[-1][p] for p in key_positions)
        if forward:
            page.has_after = more
            page.has_before = condition is not None and _exists(conn, view, page.first_key, False)
        else:
            page.has_before = more
            page.has_after = condition is not None and _exists(conn, view, page.last_key, True)
    return page


def key_of(page: Page, row: tuple[Any, ...], view: View) -> tuple[Any, ...]:
    """The keyset key of one of a page's rows (what ``after``/``before``/``at`` take)."""
    return tuple(row[page.columns.index(c)] for c in _order_columns(view))


def _exists(conn: sqlite3.Connection, view: View, key: tuple[Any, ...], forward: bool) -> bool:
    condition, params = _keyset_condition(view, key, forward)
    sql = f"SELECT 1 FROM {quote_identifier(view.table)}{_where(view, condition)} LIMIT 1"
    return conn.execute(sql, params).fetchone() is not None


@limited
def jump_to_key(conn: sqlite3.Connection, view: View, text: str, limit: int = PAGE_ROWS) -> Page:
    """The page starting at the first row whose key (or sort column) is at or after ``text``.

    ``text`` is compared as a number when the column holds numbers. Past the end,
    the last page is returned.
    """
    check_filter(conn, view)
    column = view.sort or PK_COLUMN
    value = _typed_value(conn, view, column, text)
    op = "<=" if view.descending else ">="
    sql = (
        f"SELECT {quote_identifier(column)}, {quote_identifier(PK_COLUMN)} FROM {quote_identifier(view.table)}"
        f"{_where(view, f'{quote_identifier(column)} {op} ?')} ORDER BY {_order_by(view, True)} LIMIT 1"
    )
    found = conn.execute(sql, (value,)).fetchone()
    if found is None:
        return fetch_page(conn, view, last=True, limit=limit)
    return _page_from(conn, view, found, limit)


def _typed_value(conn: sqlite3.Connection, view: View, column: str, text: str) -> Any:
    """``text`` as the type the column holds (numbers compare below text in SQLite)."""
    text = text.strip()
    quoted = quote_identifier(column)
    kind = conn.execute(
        f"SELECT typeof({quoted}) FROM {quote_identifier(view.table)} WHERE {quoted} IS NOT NULL LIMIT 1"
    ).fetchone()
    if kind and kind[0] in ("integer", "real"):
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
    return text


@limited
def jump_to_fraction(conn: sqlite3.Connection, view: View, fraction: float, limit: int = PAGE_ROWS) -> Page:
    """The page at a position in the view, e.g. 0.5 for the middle (walks the key index, not the rows)."""
    total = count_rows(conn, view)
    offset = max(0, min(total - 1, int(total * fraction)))
    columns = ", ".join(quote_identifier(c) for c in _order_columns(view))
    sql = (
        f"SELECT {columns} FROM {quote_identifier(view.table)}{_where(view)} "
        f"ORDER BY {_order_by(view, True)} LIMIT 1 OFFSET ?"
    )
    found = conn.execute(sql, (offset,)).fetchone()
    if found is None:
        return fetch_page(conn, view, limit=limit)
    return _page_from(conn, view, found, limit)


def _page_from(conn: sqlite3.Connection, view: View, key_row: tuple[Any, ...], limit: int) -> Page:
    key = tuple(key_row) if view.sort and view.sort != PK_COLUMN else (key_row[-1],)
    return fetch_page(conn, view, at=key, limit=limit)


@limited
def rows_before(conn: sqlite3.Connection, view: View, key: tuple[Any, ...]) -> int:
    """How many rows of the view come before ``key`` (for "rows x–y of N")."""
    check_filter(conn, view)
    condition, params = _keyset_condition(view, key, False)
    return int(
        conn.execute(
            f"SELECT COUNT(*) FROM {quote_identifier(view.table)}{_where(view, condition)}", params
        ).fetchone()[0]
    )


@limited
def count_rows(conn: sqlite3.Connection, view: View) -> int:
    """Rows in the view (with its filter)."""
    check_filter(conn, view)
    return int(conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(view.table)}{_where(view)}").fetchone()[0])


def export_csv(
    conn: sqlite3.Connection,
    view: View,
    path: Path | str,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    chunk: int = 5000,
) -> int:
    """Write the view to a CSV file in the view's order, streaming; returns the rows written.

    The file is written beside its final name and renamed at the end, so a
    stopped or failed export never leaves a partial file behind.
    """
    check_filter(conn, view)
    target = Path(path).expanduser()
    total = count_rows(conn, view)
    temporary = target.with_name(target.name + ".part")
    written = 0
    try:
        # Exported rows are customer data: private to the user, like the database.
        descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.chmod(temporary, 0o600)
        with open(descriptor, "w", newline="", encoding="utf-8") as handle, query_limit(conn) as limit:
            writer = csv.writer(handle)
            writer.writerow(columns_of(conn, view.table))
            cursor = conn.execute(
                f"SELECT * FROM {quote_identifier(view.table)}{_where(view)} ORDER BY {_order_by(view, True)}"
            )
            while True:
                # The budget bounds the wait for each batch, not the whole (possibly long) export.
                limit.reset()
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                writer.writerows(rows)
                written += len(rows)
                if progress:
                    progress(written, total)
                if should_stop and should_stop():
                    raise CourierError("Export stopped; no file was written")
        temporary.replace(target)
    except OSError as error:
        raise CourierError(f"Cannot write {target}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return written


def sql_literal(value: Any) -> str:
    """A value as an SQL literal, for conditions built from a cell (``'it''s'``, ``42``, ``X'00ff'``)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    return "'" + str(value).replace("'", "''") + "'"


def equals_condition(column: str, value: Any) -> str:
    """A filter condition matching one value of a column (``"country" = 'US'`` or ``"country" IS NULL``)."""
    quoted = quote_identifier(column)
    return f"{quoted} IS NULL" if value is None else f"{quoted} = {sql_literal(value)}"


def combine_filters(where: str | None, condition: str) -> str:
    """``where AND condition`` (each kept in parentheses), or just the condition."""
    if where and where.strip():
        return f"({where.strip()}) AND {condition}"
    return condition


def contains_condition(column: str, text: str) -> str:
    """A filter condition for values of a column containing ``text`` (ASCII case-insensitive, as LIKE is).

    Numbers and datetimes are matched on their text, so ``/2026-11-25`` finds a day and
    ``/42`` finds 42 and 1420. ``%`` and ``_`` in ``text`` are literal characters.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"CAST({quote_identifier(column)} AS TEXT) LIKE {sql_literal('%' + escaped + '%')} ESCAPE '\\'"
