"""Read-only SQL over the domain tables and ``:resolved`` views, paged, time-limited, remembered.

A question the filter cannot express (a join, a ``GROUP BY``) runs here, on the
read-only connection of :func:`core.browse.open_reader`: ``mode=ro``,
``query_only`` and an authorizer that allows only reading, so a query can never
change data, whatever it says. A time limit (SQLite's progress handler) stops a
runaway query with one line instead of hanging the screen. Results come a page
at a time (``LIMIT``/``OFFSET`` over the query: an arbitrary query has no key
to page by). The last queries are kept in the database they ran on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.browse import PAGE_ROWS, columns_of
from core.errors import CourierError
from core.store import Store, utc_now

QUERY_SECONDS = 30.0
"""How long one query (one page of it) may run before it is stopped."""
RECENT_QUERIES = 50


class QueryError(CourierError):
    """A query cannot run (syntax, an unknown name, a write, too long); nothing was changed."""


@dataclass
class QueryPage:
    """One page of a query's result."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    offset: int
    """Rows of the result before this page."""
    has_after: bool


EXAMPLE_QUERY = 'SELECT country, COUNT(*) FROM "Heap:Pageviews" GROUP BY 1'
"""The SQL pane's placeholder: a grouped query over a Heap table."""


def starter_query(table: str, limit: int = 100) -> str:
    """The query the SQL pane opens with for a table: its first ``limit`` rows."""
    from core.models import quote_identifier

    return f"SELECT * FROM {quote_identifier(table)} LIMIT {limit}"


@contextmanager
def time_limit(
    conn: sqlite3.Connection, seconds: float | None, should_stop: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Interrupt the statements run inside the block after ``seconds`` or when ``should_stop()`` is true.

    SQLite calls the progress handler every 10,000 virtual-machine steps (well
    under a millisecond), so the limit holds even inside one long ``GROUP BY``.
    An interrupted statement raises ``sqlite3.OperationalError("interrupted")``;
    :func:`run_query` turns it into one line.
    """
    deadline = time.monotonic() + seconds if seconds is not None else None

    def check() -> int:
        if deadline is not None and time.monotonic() > deadline:
            return 1
        return 1 if should_stop is not None and should_stop() else 0

    conn.set_progress_handler(check, 10_000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def normalise_sql(sql: str) -> str:
    """The query without surrounding space and one trailing ``;`` (people type it)."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def run_query(
    conn: sqlite3.Connection,
    sql: str,
    *,
    offset: int = 0,
    limit: int = PAGE_ROWS,
    seconds: float | None = QUERY_SECONDS,
    should_stop: Callable[[], bool] | None = None,
) -> QueryPage:
    """One page of a read-only query's result.

    Args:
        conn: A connection from :func:`core.browse.open_reader` (its authorizer refuses writes).
        sql: One ``SELECT`` (or ``WITH … SELECT``, ``VALUES``); a trailing ``;`` is allowed.
        offset: Rows of the result to skip (the page number times the page size).
        limit: Rows per page.
        seconds: Time limit for the page (``None``: none).
        should_stop: Polled while the query runs; true stops it with :class:`QueryError`.

    Raises:
        QueryError: Empty, more than one statement, not a read, a syntax or name error, or stopped;
            the message is one line.
    """
    text = normalise_sql(sql)
    if not text:
        raise QueryError('Type a query, e.g. SELECT country, COUNT(*) FROM "Heap:Pageviews" GROUP BY 1')
    if not sqlite3.complete_statement(text + ";"):
        raise QueryError("The query is not complete (an unclosed quote or bracket?)")
    try:
        with time_limit(conn, seconds, should_stop):
            # EXPLAIN compiles without running: the authorizer refuses a write, and a second
            # statement is refused, before anything is read.
            conn.execute(f"EXPLAIN {text}").fetchall()
            cursor = conn.execute(f"SELECT * FROM ({text}) LIMIT ? OFFSET ?", (limit + 1, max(0, offset)))
            columns = [item[0] for item in cursor.description or ()]
            rows = [tuple(row) for row in cursor.fetchall()]
    except (sqlite3.Error, sqlite3.Warning) as error:
        raise QueryError(_one_line(error, seconds)) from None
    return QueryPage(columns=columns, rows=rows[:limit], offset=max(0, offset), has_after=len(rows) > limit)


def _one_line(error: Exception, seconds: float | None) -> str:
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "one statement at a time" in message:
        return "One statement at a time: remove everything after the first ;"
    if "interrupt" in message:
        limit = f" after {seconds:g} s" if seconds is not None else ""
        return f"Query stopped{limit}; narrow it with WHERE or LIMIT"
    if "not authorized" in message or "prohibited" in message or "readonly" in message:
        return "Queries are read-only here: only SELECT (and WITH, VALUES) can run"
    return f"Query error: {message}"


def catalog(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Domain tables and ``:resolved`` views with their columns, by name (for completion)."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name LIKE '%:%' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: columns_of(conn, name) for name in names}


def remember_query(store: Store, sql: str) -> None:
    """Keep ``sql`` as the newest recent query of this database (once; the oldest beyond 50 go)."""
    text = normalise_sql(sql)
    if not text:
        return
    with store.atomic():
        store.execute(
            "INSERT INTO recent_queries (sql, ran_at) VALUES (?, ?) "
            "ON CONFLICT (sql) DO UPDATE SET ran_at = excluded.ran_at",
            (text, utc_now()),
        )
        store.execute(
            "DELETE FROM recent_queries WHERE id NOT IN "
            "(SELECT id FROM recent_queries ORDER BY ran_at DESC, id DESC LIMIT ?)",
            (RECENT_QUERIES,),
        )


def recent_queries(store: Store) -> list[str]:
    """This database's recent queries, newest first."""
    return [row["sql"] for row in store.query("SELECT sql FROM recent_queries ORDER BY ran_at DESC, id DESC")]
