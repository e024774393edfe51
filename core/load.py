"""Writing decoded rows into domain tables.

A domain table is a real SQLite table named exactly ``<source>:<feed>``, with
``_pk`` first, the feed's fields, then ``_updated``. A ``load`` upserts on
``_pk``; the row with the greater-or-equal ``_updated`` wins, so later files
beat earlier ones and, inside a file, the last row wins. New columns are added
as they appear; vanished columns stay and get NULL.

Nothing here opens or commits a transaction: the caller (a run or a feed
activation) wraps each unit of work in ``store.atomic()`` together with its
cursor, so a failure or a stop leaves the table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.models import GENERATED_UPDATED, PK_COLUMN, quote_identifier
from core.store import Store, utc_now

SQLITE_TYPES = {
    "Boolean": "INTEGER",
    "Date": "TEXT",
    "Datetime": "TEXT",
    "Decimal": "TEXT",
    "Float": "REAL",
    "Integer": "INTEGER",
    "String": "TEXT",
}
FEED_TYPE_OF = {"INTEGER": "Integer", "REAL": "Float", "TEXT": "String", "": "String"}


@dataclass
class LoadCounts:
    """Rows and files a load (or a whole run) handled."""

    files: int = 0
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    reject_reasons: list[str] = field(default_factory=list)
    files_columnar: int = 0
    """Files the columnar fast path decoded (the others took the exact per-record path)."""

    def add(self, other: LoadCounts) -> None:
        """Accumulate another load's counts."""
        self.files += other.files
        self.rows_read += other.rows_read
        self.rows_inserted += other.rows_inserted
        self.rows_updated += other.rows_updated
        self.rows_rejected += other.rows_rejected
        self.files_columnar += other.files_columnar
        self.reject_reasons.extend(other.reject_reasons[: max(0, 5 - len(self.reject_reasons))])


def table_exists(store: Store, table: str) -> bool:
    """True when a table (or view) with this exact name exists."""
    return bool(store.query("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (table,)))


def table_columns(store: Store, table: str) -> list[tuple[str, str]]:
    """``(name, declared SQLite type)`` of a table's columns, in order (a table of the main database)."""
    # Qualified: an unqualified table_info opens a read transaction on every attached database, and the
    # fast path attaches staging databases that are still being written (core.fastload).
    rows = store.execute(f"PRAGMA main.table_info({quote_identifier(table)})").fetchall()
    return [(row[1], row[2] or "") for row in rows]


class TableWriter:
    """Upserts rows into one domain table inside the caller's transaction.

    Args:
        store: The open database (the caller holds the transaction).
        table: The domain table's exact name.
    """

    def __init__(self, store: Store, table: str) -> None:
        self.store = store
        self.table = table
        self.quoted = quote_identifier(table)
        self._columns: list[str] | None = None
        self._statements: dict[tuple[str, ...], str] = {}

    @property
    def columns(self) -> list[str]:
        """The table's field columns (without ``_pk`` and ``_updated``); empty if the table is missing."""
        if self._columns is None:
            self._columns = [
                name for name, _ in table_columns(self.store, self.table) if name not in (PK_COLUMN, GENERATED_UPDATED)
            ]
        return self._columns

    def prepare(self, columns: list[str], types: list[str], storage: list[str] | None = None) -> list[str]:
        """Create the table or add missing columns; return the table's names for ``columns``.

        ``columns`` are domain-column names (already distinct ignoring case, see
        :func:`core.values.assign_columns`); a new column gets ``storage``'s SQLite type
        if given, else the one for its feed type in ``types``.
        """
        declared = storage if storage is not None else [SQLITE_TYPES.get(kind, "TEXT") for kind in types]
        if not table_exists(self.store, self.table):
            definitions = [f"{quote_identifier(PK_COLUMN)} NOT NULL"]
            definitions += [f"{quote_identifier(name)} {kind}".rstrip() for name, kind in zip(columns, declared)]
            definitions.append(quote_identifier(GENERATED_UPDATED))
            self.store.execute(f"CREATE TABLE {self.quoted} ({', '.join(definitions)})")
            self.store.execute(
                f"CREATE UNIQUE INDEX {quote_identifier(self.table + ':_pk')} "
                f"ON {self.quoted} ({quote_identifier(PK_COLUMN)})"
            )
            self._columns = list(columns)
            self._statements.clear()
            return list(columns)
        present = set(self.columns)
        existing = {name.lower(): name for name in self.columns}
        resolved: list[str] = []
        for name, kind in zip(columns, declared):
            if name in present:
                resolved.append(name)
                continue
            if name.lower() in existing:
                resolved.append(existing[name.lower()])
                continue
            self.store.execute(f"ALTER TABLE {self.quoted} ADD COLUMN {quote_identifier(name)} {kind}".rstrip())
            self.columns.append(name)
            present.add(name)
            existing[name.lower()] = name
            self._statements.clear()
            resolved.append(name)
        return resolved

    def _statement(self, columns: tuple[str, ...], source: str | None = None) -> str:
        statement = self._statements.get((*columns, source or ""))
        if statement is None:
            present = {name.lower() for name in columns}
            vanished = [name for name in self.columns if name.lower() not in present]
            names = [*columns, PK_COLUMN, GENERATED_UPDATED]
            assignments = [f"{quote_identifier(n)} = excluded.{quote_identifier(n)}" for n in columns]
            assignments += [f"{quote_identifier(n)} = NULL" for n in vanished]
            assignments.append(
                f"{quote_identifier(GENERATED_UPDATED)} = excluded.{quote_identifier(GENERATED_UPDATED)}"
            )
            updated = quote_identifier(GENERATED_UPDATED)
            verb = "INSERT"
            if source is None:
                rows = f"VALUES ({', '.join('?' * len(names))})"
            else:
                # OR FAIL: a statement that writes many rows and may abort on a constraint (here the NOT NULL of
                # _pk) makes SQLite copy every page it changes to a statement journal, a temp file outside
                # Courier's directories, so that it can undo only that statement. FAIL keeps a failing
                # statement's earlier rows instead, and the load's transaction rolls back whole on any error,
                # so the journal is never needed: the upsert of 100,000 rows into 4,000,000 wrote 16 MB less, and
                # one piece took 0.07 s instead of 0.11-0.16 s. A NULL _pk (both paths reject an empty key first) still fails loudly.
                verb = "INSERT OR FAIL"
                # Staged columns are c0..cN in file order. ORDER BY rowid applies the rows in file order, so the
                # last of several rows with one key wins exactly as with executemany; it also settles SQLite's
                # parsing ambiguity between a SELECT's ON and an upsert's ON CONFLICT.
                picked = [f"c{position}" for position in range(len(columns))] + [PK_COLUMN, GENERATED_UPDATED]
                rows = f"SELECT {', '.join(picked)} FROM {source} ORDER BY rowid"
            statement = (
                f"{verb} INTO {self.quoted} ({', '.join(quote_identifier(n) for n in names)}) {rows} "
                f"ON CONFLICT ({quote_identifier(PK_COLUMN)}) DO UPDATE SET {', '.join(assignments)} "
                f"WHERE excluded.{updated} >= {self.quoted}.{updated} OR {self.quoted}.{updated} IS NULL"
            )
            self._statements[(*columns, source or "")] = statement
        return statement

    def upsert(self, columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        """Upsert rows (``columns`` values, then ``_pk``, ``_updated``); return ``(inserted, updated)``."""
        conn = self.store.conn
        max_rowid = f"SELECT COALESCE(MAX(rowid), 0) FROM {self.quoted}"
        before_rowid = conn.execute(max_rowid).fetchone()[0]
        before_changes = conn.total_changes
        conn.executemany(self._statement(tuple(columns)), rows)
        changed = conn.total_changes - before_changes
        # New rows always take rowids above the current maximum, so the rowid
        # jump counts inserts without a per-row lookup.
        inserted = conn.execute(max_rowid).fetchone()[0] - before_rowid
        return inserted, changed - inserted

    def upsert_staged(self, columns: list[str], source: str) -> tuple[int, int]:
        """Upsert every row of a staging table in one statement; return ``(inserted, updated)``.

        Args:
            columns: The table's names for the staged columns ``c0 … cN`` (from :meth:`prepare`).
            source: The qualified, quoted staging table, holding ``c0 … cN, _pk, _updated``
                in file order (see :mod:`core.fastload`).

        The rule is :meth:`upsert`'s, row for row: the row whose ``_updated`` is
        greater or equal wins, so later files and later rows of a file win.
        """
        conn = self.store.conn
        max_rowid = f"SELECT COALESCE(MAX(rowid), 0) FROM {self.quoted}"
        before_rowid = conn.execute(max_rowid).fetchone()[0]
        before_changes = conn.total_changes
        conn.execute(self._statement(tuple(columns), source))
        changed = conn.total_changes - before_changes
        inserted = conn.execute(max_rowid).fetchone()[0] - before_rowid
        return inserted, changed - inserted

    def forget_columns(self) -> None:
        """Read the table's columns again on next use (it was replaced, see :func:`replace_table`)."""
        self._columns = None
        self._statements.clear()

    def truncate(self) -> None:
        """Empty the table (inside the caller's transaction)."""
        if table_exists(self.store, self.table):
            self.store.execute(f"DELETE FROM {self.quoted}")


def create_like(store: Store, table: str, new: str, storage: dict[str, str] | None = None) -> None:
    """Create the empty table ``new`` with ``table``'s columns, declared types and unique ``_pk`` index.

    Args:
        store: The open database (the caller holds the transaction).
        table: An existing domain table.
        new: The name for the copy (must not exist).
        storage: Declared SQLite types to use instead of ``table``'s, by column name.
    """
    storage = storage or {}
    definitions = []
    for name, declared in table_columns(store, table):
        kind = storage.get(name, declared)
        definitions.append(f"{quote_identifier(name)} {kind}".rstrip() + (" NOT NULL" if name == PK_COLUMN else ""))
    store.execute(f"CREATE TABLE {quote_identifier(new)} ({', '.join(definitions)})")
    # Index names are global, and the one for `table` is taken until it is dropped: alternate
    # between two, so replace_table never rebuilds an index on a full table.
    index = f"{table}:_pk"
    if store.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)):
        index += "~2"
    store.execute(
        f"CREATE UNIQUE INDEX {quote_identifier(index)} ON {quote_identifier(new)} ({quote_identifier(PK_COLUMN)})"
    )


def replace_table(store: Store, table: str, new: str) -> None:
    """Drop ``table`` (if it exists) and rename ``new`` to it, inside the caller's transaction: O(1), no copy."""
    store.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
    # Views (the identity views) name the table; SQLite's modern rename re-checks every view and
    # fails while the table is briefly missing. The legacy rename leaves their text alone, and
    # the text names the table the new one becomes.
    store.execute("PRAGMA legacy_alter_table = ON")
    try:
        store.execute(f"ALTER TABLE {quote_identifier(new)} RENAME TO {quote_identifier(table)}")
    finally:
        store.execute("PRAGMA legacy_alter_table = OFF")


def drop_table(store: Store, table: str) -> None:
    """Drop a table if it exists (a shadow table left by a killed load)."""
    store.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")


def record_table_load(store: Store, table: str, feed_id: str | None, run_id: int | None) -> None:
    """Note when a domain table was last loaded, and by which run."""
    store.execute(
        "INSERT INTO domain_tables (name, feed_id, last_loaded_at, last_run_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET feed_id = excluded.feed_id, last_loaded_at = excluded.last_loaded_at, "
        "last_run_id = excluded.last_run_id",
        (table, feed_id, utc_now(), run_id),
    )


def rejected_share_exceeded(rows_read: int, rows_rejected: int, threshold_percent: int) -> bool:
    """True when rejected rows are more than the feed's error threshold (a percentage)."""
    if rows_rejected == 0:
        return False
    if rows_read == 0:
        return True
    return rows_rejected * 100 > threshold_percent * rows_read
