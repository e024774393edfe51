"""Rebuilding a domain table when the user changes a field's declared type (issue 9, rule 6).

A domain column's SQLite type follows the feed type it was made with, and SQLite's
column affinity keeps converting new values to that type. So when a feed's declared
type for a field changes (String → Integer, say), the table is rebuilt with the new
column type and every stored value converted by the same rules a run uses
(:data:`core.values.BY_FEED_TYPE`), in the caller's transaction — the feed's new
definition and its table commit together.

A value that cannot be converted exactly refuses the change (one line naming the table,
the column, how many rows and the first offending value); nothing is changed and no
row is ever dropped. Keys that become equal after conversion (the text ``"1001"`` and
the integer ``1001``) are one row, the newer ``_updated`` winning — rule 4's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from core.models import GENERATED_UPDATED, PK_COLUMN, Feed, quote_identifier
from core.problems import Problem
from core.store import Store

__all__ = ["Retyped", "retype_table"]


@dataclass(frozen=True)
class Retyped:
    """A domain table rebuilt to new column types.

    Attributes:
        table: The domain table's name.
        columns: ``(column, old feed type, new feed type)`` for each column whose type changed.
        rows: Rows in the rebuilt table.
        merged: Rows that became one with another because their keys became equal.
    """

    table: str
    columns: tuple[tuple[str, str, str], ...]
    rows: int
    merged: int

    def describe(self) -> str:
        """One line for ``courier apply`` and the feed editor, e.g. ``rebuilt domain table Heap:Users (…)``."""
        changed = ", ".join(f"{column} {old} → {new}" for column, old, new in self.columns)
        merged = f"; {self.merged:,} rows merged with a key now equal to theirs" if self.merged else ""
        return f"rebuilt domain table {self.table} ({changed}; {self.rows:,} rows){merged}"


def retype_table(store: Store, feed: Feed, *, dry_run: bool = False) -> Retyped | None:
    """Rebuild ``feed``'s domain table so every column holds the feed type the feed now declares.

    Call inside the transaction that writes the feed. ``None`` when the table does not
    exist or no declared type differs from the type a column holds.

    Args:
        store: The open database (the caller holds the transaction).
        feed: The feed as it is being saved.
        dry_run: Check every value and say what would change, without writing.

    Raises:
        ConfigError: a stored value cannot be converted exactly (the path is the field's
            ``type``); nothing was changed.
    """
    from core.ingest import column_mapping
    from core.load import create_like, drop_table, replace_table, table_columns, table_exists
    from core.sort_index import copy_sort_indexes
    from core.values import BY_FEED_TYPE, key_value, lookup, storage_for

    table = feed.table_name
    if not table_exists(store, table):
        return None
    mapping = column_mapping(store, table)
    declared = {field.name: field.type for field in feed.fields or ()}
    changes: dict[str, tuple[str, str, str]] = {}  # column -> (source, old, new)
    for source, old in mapping.types.items():
        new = lookup(declared, source)
        if new and new != old:
            changes[mapping.names.get(source, source)] = (source, old, new)
    if not changes:
        return None
    columns = table_columns(store, table)
    names = [name for name, _ in columns]
    missing = [column for column in changes if column not in names]
    changes = {column: change for column, change in changes.items() if column not in missing}
    if not changes:
        return None
    if feed.stitch:
        keys = {key.lower() for key in feed.primary_key}
        stitched = [change for change in changes.values() if change[0].lower() in keys]
        if stitched:
            source, old, new = stitched[0]
            problem = Problem(
                ("feeds", feed.id, "fields", source, "type"),
                f"{source} is the key {table}'s identity view matches "
                f"against user migrations, so it stays {old}; turn stitching off first, or keep the type",
            )
            raise ConfigError(str(problem), [problem])
    positions = {name: position for position, name in enumerate(names)}
    key_positions = [positions.get(mapping.names.get(key, key)) for key in feed.primary_key]
    rekey = all(position is not None for position in key_positions) and any(
        names[position] in changes for position in key_positions if position is not None
    )
    converts = [(positions[column], BY_FEED_TYPE[new], source) for column, (source, _, new) in changes.items()]

    quoted = quote_identifier(table)
    rows: list[list[Any]] = []
    failures: dict[str, list[str]] = {}
    for raw in store.conn.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):
        row = list(raw)
        for position, convert, source in converts:
            value = row[position]
            if value is None:
                continue
            try:
                row[position] = convert(value)
            except (ValueError, TypeError, ArithmeticError, OverflowError) as error:
                failures.setdefault(source, []).append(str(error))
        if rekey:
            row[positions[PK_COLUMN]] = key_value(
                [
                    row[position]
                    for position in key_positions  # type: ignore[index]
                    if position is not None
                ]
            )
        rows.append(row)
    if failures:
        source, reasons = next(iter(failures.items()))
        new = next(change[2] for change in changes.values() if change[0] == source)
        rows_text = f"{len(reasons):,} row{'s' if len(reasons) != 1 else ''} of {table}"
        verb = "holds" if len(reasons) == 1 else "hold"
        problem = Problem(
            ("feeds", feed.id, "fields", source, "type"),
            f"{rows_text} {verb} {source} values that are not {new} (first: {reasons[0]}); keep the "
            "type, or correct the data first",
        )
        raise ConfigError(str(problem), [problem])

    merged = len(rows) - len({row[positions[PK_COLUMN]] for row in rows}) if rekey else 0
    result = Retyped(
        table, tuple((column, old, new) for column, (_, old, new) in changes.items()), len(rows) - merged, merged
    )
    if dry_run:
        return result
    kinds = {source: kind for source, (kind, _) in mapping.kinds.items()}
    storage = {name: storage_for(new, kinds.get(source, "string")) for name, (source, _, new) in changes.items()}
    rebuilt = table + "~retype"
    drop_table(store, rebuilt)
    create_like(store, table, rebuilt, storage)
    quoted_new = quote_identifier(rebuilt)
    updated = quote_identifier(GENERATED_UPDATED)
    store.conn.executemany(
        f"INSERT INTO {quoted_new} VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({quote_identifier(PK_COLUMN)}) DO UPDATE SET "
        + ", ".join(f"{quote_identifier(name)} = excluded.{quote_identifier(name)}" for name in names)
        + f" WHERE excluded.{updated} >= {quoted_new}.{updated} OR {quoted_new}.{updated} IS NULL",
        rows,
    )
    copy_sort_indexes(store, table, rebuilt)  # the user's sort indexes stay (core.sort_index)
    replace_table(store, table, rebuilt)
    store.conn.executemany(
        "UPDATE domain_columns SET feed_type = ? WHERE table_name = ? AND source_name = ?",
        [(new, table, source) for source, _, new in changes.values()],
    )
    return result
