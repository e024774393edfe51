"""Sort indexes built on demand: what serves a sort on a column other than the key.

The table view pages by keyset on ``(column, _pk)`` when sorted by a column. Without an
index that order is a full scan and a sort of the table for every page (about a second at
5,000,000 rows); with an index on ``(column, _pk)`` the first page is a walk of the first
hundred index entries. Indexes are not free — every later load keeps them up to date —
so Courier builds one only when the user asks, and drops it on request.

Courier's own indexes are named ``courier-sort:<table>:<column>`` (``~2`` appended while a
rebuilt copy of the table exists beside the original, since index names are global), so
they can be told from the ``_pk`` index and from any index a user made in an ``sqlite3``
shell. They survive a full resync and a declared-type rebuild: :func:`copy_sort_indexes`
builds the same indexes on the new table after its rows are in, before the swap (building
once on a full table sorts; keeping an index up to date during the load inserts at random
and measured 4× slower on a 1,000,000-row text column).

Building holds SQLite's write lock for as long as ``CREATE INDEX`` runs (SQLite cannot
build an index in pieces): about 12 s at 5,000,000 rows, longer on a larger table. A build
refuses to start while a run is loading and can be cancelled at any time (rolled back,
nothing half-built). While it runs, a marker file beside the database (``<db>-index-build``,
with the builder's pid) tells every other Courier writer that meets the busy lock to keep
waiting — and to say what for — rather than fail after its busy timeout
(:meth:`core.store.Store._waiting`), so a build never has to give up on a large table. A
marker left by a killed build names a dead process and is ignored.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import CourierError, DatabaseBusyError, NotFoundError
from core.models import PK_COLUMN, quote_identifier
from core.store import Store, index_build_marker, pid_alive

SORT_INDEX_PREFIX = "courier-sort:"
"""Every index Courier builds for a sort is named ``courier-sort:<table>:<column>`` (or with ``~2``)."""
STEPS_PER_ROW = 10
"""SQLite virtual-machine steps ``CREATE INDEX`` takes per row (measured: 10.0 at 1,000,000 rows, any column)."""
PROGRESS_STEPS = 1_000
"""Steps between two calls of the progress handler (about 100 rows; well under a millisecond)."""


class SortIndexStopped(CourierError):
    """An index build was cancelled (or ran out of the time it was given); nothing was built."""

    exit_code = 1


@dataclass(frozen=True)
class SortIndex:
    """One of Courier's sort indexes."""

    name: str
    table: str
    column: str


def index_name(table: str, column: str) -> str:
    """``courier-sort:<table>:<column>``, the name of the sort index on ``table``'s ``column``."""
    return f"{SORT_INDEX_PREFIX}{table}:{column}"


def sort_indexes(conn: sqlite3.Connection, table: str | None = None) -> list[SortIndex]:
    """Courier's sort indexes, of one table or of all, by table and column.

    ``conn`` is a store connection (``PRAGMA index_info`` is refused on the read-only reader).
    """
    rows = conn.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, ?) = ? "
        "AND (? IS NULL OR tbl_name = ?) ORDER BY tbl_name, name",
        (len(SORT_INDEX_PREFIX), SORT_INDEX_PREFIX, table, table),
    ).fetchall()
    found = []
    for name, owner in rows:
        columns = [row[2] for row in conn.execute(f"PRAGMA index_info({quote_identifier(name)})")]
        if columns:
            found.append(SortIndex(name, owner, columns[0]))
    return sorted(found, key=lambda index: (index.table, index.column))


def serving_index(conn: sqlite3.Connection, table: str, column: str) -> str | None:
    """The name of an index whose first column is ``column`` (Courier's or anyone's), or ``None``.

    The key needs none: ``_pk`` has its unique index from the start.
    """
    for row in conn.execute(f"PRAGMA index_list({quote_identifier(table)})").fetchall():
        first = conn.execute(f"PRAGMA index_info({quote_identifier(row[1])})").fetchone()
        if first is not None and first[2] == column:
            return str(row[1])
    return None


def _check_target(store: Store, table: str, column: str) -> None:
    kind = store.query("SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (table,))
    if not kind or ":" not in table:
        raise NotFoundError(f'There is no domain table "{table}"')
    if kind[0]["type"] == "view":
        base = table.rsplit(":", 1)[0]
        raise CourierError(f'"{table}" is a view and cannot be indexed; index its table "{base}" instead')
    columns = [row[1] for row in store.execute(f"PRAGMA table_info({quote_identifier(table)})")]
    if column not in columns:
        raise NotFoundError(f'There is no column "{column}" in {table} (columns: {", ".join(columns)})')
    if column == PK_COLUMN:
        raise CourierError(f"{table} is already in key order ({PK_COLUMN} has its own index); nothing to build")


def running_run(store: Store) -> str | None:
    """One line naming a run of this database that is still running (its process alive), or ``None``."""
    rows = store.query(
        "SELECT id, kind, target, pid FROM runs WHERE status IN ('Running', 'Stopping') ORDER BY id DESC"
    )
    for row in rows:
        if row["pid"] is None or pid_alive(int(row["pid"])):
            return f'run {row["id"]} ({row["kind"]} "{row["target"]}", pid {row["pid"]})'
    return None


def _claim(marker: Path, what: str) -> None:
    """Write the build marker (``<pid> <what>``); called with the write lock held, so one build owns it."""
    try:
        marker.write_text(f"{os.getpid()} {what}", encoding="utf-8")
    except OSError:
        pass  # other writers then meet a plain busy timeout: they lose the wait, not their data


def _release(marker: Path) -> None:
    """Remove the build marker if this process wrote it (after the commit or rollback, so no writer
    that meets the lock while the index pages are committed gives up in that moment)."""
    try:
        if marker.read_text(encoding="utf-8").split(" ", 1)[0] == str(os.getpid()):
            marker.unlink(missing_ok=True)
    except (OSError, UnicodeDecodeError):
        pass


class _Budget:
    """SQLite's progress handler for a build: reports progress, and stops on cancel or after the lock budget."""

    def __init__(
        self,
        expected_steps: int,
        progress: Callable[[int, int], None] | None,
        should_stop: Callable[[], bool] | None,
        seconds: float | None,
    ) -> None:
        self.expected = max(1, expected_steps)
        self.progress = progress
        self.should_stop = should_stop
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.steps = 0
        self.why: str | None = None

    def __call__(self) -> int:
        self.steps += PROGRESS_STEPS
        if self.progress is not None:
            # The sort inside CREATE INDEX is one VM step: hold at 99 % until the statement ends.
            self.progress(min(self.steps, self.expected * 99 // 100), self.expected)
        if self.should_stop is not None and self.should_stop():
            self.why = "cancelled"
            return 1
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.why = "held"
            return 1
        return 0


def _create(
    store: Store,
    table: str,
    column: str,
    name: str,
    *,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
    seconds: float | None,
) -> None:
    """``CREATE INDEX`` under a progress handler, in the caller's transaction; raises SortIndexStopped."""
    rows = store.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote_identifier(table)}").fetchone()[0]
    budget = _Budget(int(rows) * STEPS_PER_ROW, progress, should_stop, seconds)
    store.conn.set_progress_handler(budget, PROGRESS_STEPS)
    try:
        store.conn.execute(
            f"CREATE INDEX {quote_identifier(name)} ON {quote_identifier(table)} "
            f"({quote_identifier(column)}, {quote_identifier(PK_COLUMN)})"
        )
    except sqlite3.OperationalError as error:
        if budget.why == "cancelled":
            raise SortIndexStopped(f"Index build on {table} ({column}) cancelled; nothing was built") from None
        if budget.why == "held":
            raise SortIndexStopped(
                f"Index build on {table} ({column}) gave up after {seconds:g} s, its limit; nothing was built"
            ) from None
        raise CourierError(f"Cannot build the sort index on {table} ({column}): {error}") from None
    finally:
        store.conn.set_progress_handler(None, 0)
    if progress is not None:
        progress(budget.expected, budget.expected)


def build_sort_index(
    store: Store,
    table: str,
    column: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    seconds: float | None = None,
) -> tuple[SortIndex, bool]:
    """Build the index on ``(column, _pk)`` of a domain table, in its own transaction.

    Args:
        store: The open database (no transaction open).
        table: A domain table (not a view).
        column: One of its columns other than ``_pk``.
        progress: Called with (steps done, steps expected) — SQLite VM steps, estimated from the row count.
        should_stop: Polled every :data:`PROGRESS_STEPS` steps; true cancels the build.
        seconds: Longest to hold the write lock, or ``None`` (the default): as long as the build takes —
            Courier's other writers wait for it (see the module's notes).

    Returns:
        The index and whether it was built now (``False``: it already existed).

    Raises:
        NotFoundError: no such table or column; CourierError: a view, the key, or a run is loading.
        SortIndexStopped: cancelled, or ``seconds`` ran out; nothing was built.
        DatabaseBusyError: another writer held the lock past the busy timeout.
    """
    _check_target(store, table, column)
    existing = [index for index in sort_indexes(store.conn, table) if index.column == column]
    if existing:
        return existing[0], False
    marker = index_build_marker(store.path)
    name = index_name(table, column)
    try:
        with store.atomic():
            # Checked with the write lock held, so no run can start between the check and the build.
            run = running_run(store)
            if run is not None:
                raise DatabaseBusyError(
                    f"{run} is loading into this database; build the index when it ends (building holds the "
                    "write lock the run needs)"
                )
            _claim(marker, f"on {table} ({column})")
            _create(store, table, column, name, progress=progress, should_stop=should_stop, seconds=seconds)
    finally:
        _release(marker)
    return SortIndex(name, table, column), True


def drop_sort_index(store: Store, table: str, column: str) -> SortIndex:
    """Drop Courier's sort index on ``table``'s ``column``.

    Raises:
        NotFoundError: no such table, or Courier has no sort index on that column (the line lists the ones it has).
    """
    if not store.query("SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'", (table,)):
        raise NotFoundError(f'There is no domain table "{table}"')
    indexes = sort_indexes(store.conn, table)
    found = [index for index in indexes if index.column == column]
    if not found:
        have = ", ".join(index.column for index in indexes) or "none"
        raise NotFoundError(f"{table} has no sort index on {column} (sort indexes: {have})")
    with store.atomic():
        store.execute(f"DROP INDEX {quote_identifier(found[0].name)}")
    return found[0]


def copy_sort_indexes(
    store: Store, table: str, new: str, should_stop: Callable[[], bool] | None = None
) -> list[SortIndex]:
    """Build ``table``'s sort indexes on ``new`` (a full copy about to replace it), in the caller's transaction.

    A full resync and a declared-type rebuild call this after the new table's rows are in
    and before the swap, so the indexes the user built are there when the new table is.
    Names alternate with ``~2`` because the old table's indexes keep theirs until it is dropped.

    Raises:
        SortIndexStopped: ``should_stop`` asked to stop (the caller rolls back).
    """
    copied = []
    for index in sort_indexes(store.conn, table):
        base = index_name(table, index.column)
        name = base + "~2" if index.name == base else base
        _create(store, new, index.column, name, progress=None, should_stop=should_stop, seconds=None)
        copied.append(SortIndex(name, table, index.column))
    return copied
