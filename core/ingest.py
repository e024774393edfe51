"""Applying landed files to a feed's domain table, one transaction per unit.

A unit is what must commit together: for an incremental Heap dump, one part
file and the table's cursor; for a full resync, every part of the dump (the
old rows are deleted inside the same transaction, so readers see the old table
until the new one is complete); for the file-pattern layout, a feed's whole
set of load operations (truncate included). If anything fails or the run is
stopped, the unit rolls back and the table is exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from core.decode import DecodeJob, DecodeSpec, FileDecoded, FileFailed, FileStarted, RowsDecoded, decode_files
from core.errors import CourierError
from core.identity import is_migrations_table, rebuild_identity
from core.load import LoadCounts, TableWriter, record_table_load, rejected_share_exceeded, table_exists
from core.models import Feed
from core.store import Store, utc_now


class LoadRejected(CourierError):
    """Too many rows failed type conversion; the unit was rolled back."""

    exit_code = 1


class RunStopped(Exception):
    """The run was asked to stop; the current unit was rolled back."""


@dataclass
class Cursor:
    """Where a Heap table's load stands: the last dump and part applied."""

    table: str
    courier: str
    source_table: str
    dump_id: int
    last_part: int
    last_key: str
    dump_complete: bool


@dataclass
class UnitFile:
    """One file of a unit, with what the cursor records after it."""

    job: DecodeJob
    row_count: int | None = None
    dump_id: int | None = None
    part: int | None = None
    key: str = ""
    last_in_dump: bool = True


@dataclass
class LoadUnit:
    """Files that commit together, optionally after emptying the table."""

    files: list[UnitFile]
    truncate_first: bool = False
    cursor_courier: str | None = None
    """When set, the unit writes the table's Heap cursor (for this courier and source table)."""
    source_table: str = ""


@dataclass
class IngestHooks:
    """How ingest reports back; all optional."""

    event: Callable[[str, str, str, str | None], None] = lambda stage, message, level, file: None
    """``(stage, message, level, file)`` for the run log."""
    progress: Callable[[str, int, int, int, int | None], None] = lambda label, index, total, done, rows: None
    """``(file label, file index, file count, rows done in file, rows in file)``; in-process only."""
    should_stop: Callable[[], bool] = lambda: False
    committed: Callable[[Store, LoadCounts], None] = lambda store, counts: None
    """Called inside each unit's transaction just before it commits, with the running totals."""
    run_id: int | None = None


@dataclass
class _FileState:
    unit_index: int
    file: UnitFile
    columns: list[str] = field(default_factory=list)


def decode_spec(feed: Feed) -> DecodeSpec:
    """The decoder's view of a feed."""
    declared = {f.name.lower(): f.type for f in feed.fields or ()}
    required = frozenset(f.name.lower() for f in feed.fields or () if f.required)
    return DecodeSpec(primary_key=tuple(feed.primary_key), last_updated=feed.last_updated,
                      declared_types=declared, required=required)


def apply_units(store: Store, feed: Feed, units: list[LoadUnit], hooks: IngestHooks,
                parallel: bool | None = None) -> LoadCounts:
    """Apply units in order, each in its own transaction; returns the totals.

    Raises:
        LoadRejected: a unit had more rejected rows than the feed's error threshold.
        RunStopped: ``hooks.should_stop()`` turned true; the current unit rolled back.
        CourierError: a file could not be read (the message names it).
    """
    totals = LoadCounts()
    flat: list[_FileState] = [_FileState(unit_index, file) for unit_index, unit in enumerate(units)
                              for file in unit.files]
    if not flat:
        return totals
    writer = TableWriter(store, feed.table_name)
    spec = decode_spec(feed)
    unit_counts = LoadCounts()
    stack: ExitStack | None = None
    current_unit = -1
    file_count = len(flat)
    rows_done = 0
    events = decode_files([state.file.job for state in flat], spec, parallel=parallel)
    try:
        for decoded in events:
            state = flat[decoded.index]
            unit = units[state.unit_index]
            if isinstance(decoded, FileStarted):
                if state.unit_index != current_unit:
                    current_unit = state.unit_index
                    stack = ExitStack()
                    stack.enter_context(store.atomic())
                    unit_counts = LoadCounts()
                    if unit.truncate_first:
                        writer.truncate()
                        hooks.event("Loading data", f"Emptied {feed.table_name} before loading", "info", None)
                known = {name.lower() for name in writer.columns}
                state.columns = writer.prepare(decoded.columns, decoded.types)
                added = [name for name in state.columns if name.lower() not in known]
                if known and added:
                    hooks.event("Loading data", f"Schema change: added column{'s' if len(added) > 1 else ''} "
                                f"{', '.join(added)} to {feed.table_name}", "info", state.file.job.label)
                rows_done = 0
                hooks.progress(state.file.job.label, decoded.index + 1, file_count, 0, state.file.row_count)
            elif isinstance(decoded, RowsDecoded):
                if hooks.should_stop():
                    raise RunStopped()
                inserted, updated = writer.upsert(state.columns, decoded.rows)
                unit_counts.rows_inserted += inserted
                unit_counts.rows_updated += updated
                rows_done += len(decoded.rows)
                hooks.progress(state.file.job.label, decoded.index + 1, file_count, rows_done,
                               state.file.row_count)
            elif isinstance(decoded, FileFailed):
                raise CourierError(_failure_text(decoded.message, state.file, unit))
            elif isinstance(decoded, FileDecoded):
                if hooks.should_stop():
                    raise RunStopped()
                unit_counts.files += 1
                unit_counts.rows_read += decoded.rows_read
                unit_counts.rows_rejected += decoded.rows_rejected
                unit_counts.reject_reasons.extend(decoded.reject_reasons)
                hooks.event("Ingest files progress",
                            f"{state.file.job.label} ({decoded.index + 1}/{file_count}): "
                            f"{decoded.rows_read:,} rows read, {decoded.rows_rejected:,} rejected",
                            "info", state.file.job.label)
                last_of_unit = decoded.index + 1 == len(flat) or flat[decoded.index + 1].unit_index != current_unit
                if unit.cursor_courier is not None:
                    _write_cursor(store, Cursor(
                        table=feed.table_name, courier=unit.cursor_courier, source_table=unit.source_table,
                        dump_id=state.file.dump_id or 0, last_part=state.file.part or 0, last_key=state.file.key,
                        dump_complete=state.file.last_in_dump))
                if last_of_unit:
                    if rejected_share_exceeded(unit_counts.rows_read, unit_counts.rows_rejected,
                                               feed.error_threshold):
                        reasons = "; ".join(unit_counts.reject_reasons[:2])
                        raise LoadRejected(
                            f"{feed.table_name}: {unit_counts.rows_rejected:,} of {unit_counts.rows_read:,} rows "
                            f"rejected, more than the feed's {feed.error_threshold}% error threshold "
                            f"({reasons}); the table was left as it was")
                    if is_migrations_table(state.columns):
                        rebuild_identity(store, feed.source, feed.table_name)
                    record_table_load(store, feed.table_name, feed.id, hooks.run_id)
                    running = LoadCounts()
                    running.add(totals)
                    running.add(unit_counts)
                    hooks.committed(store, running)
                    hooks.event("Committing domain transactions", f"Committing {feed.table_name}", "info", None)
                    assert stack is not None
                    stack.close()
                    stack = None
                    totals.add(unit_counts)
                    unit_counts = LoadCounts()
                    hooks.event("Domain transaction closed", f"{feed.table_name}: {totals.rows_inserted:,} "
                                f"inserted, {totals.rows_updated:,} updated so far", "info", None)
    except BaseException:
        if stack is not None:
            stack.__exit__(*_current_exception())
        raise
    finally:
        events.close()
    return totals


def empty_table(store: Store, feed: Feed, courier: str, source_table: str, dump_id: int, run_id: int | None) -> None:
    """Apply a full resync that delivered no files: the domain table exists and is empty, the cursor moves on.

    On a fresh database the table is created with the feed's declared fields
    (``_pk`` and ``_updated`` always), so the result is the same empty table as
    on a database that held rows; later files add their columns as usual.
    """
    writer = TableWriter(store, feed.table_name)
    with store.atomic():
        if not table_exists(store, feed.table_name):
            writer.prepare([field.name for field in feed.fields or ()], [field.type for field in feed.fields or ()])
        writer.truncate()
        _write_cursor(store, Cursor(table=feed.table_name, courier=courier, source_table=source_table,
                                    dump_id=dump_id, last_part=-1, last_key="", dump_complete=True))
        record_table_load(store, feed.table_name, feed.id, run_id)


def _failure_text(message: str, file: UnitFile, unit: LoadUnit) -> str:
    """Name the object, not just the landed file, and give advice that fits the layout."""
    if file.key and file.job.label in message:
        message = message.replace(file.job.label, file.key, 1)
    if unit.cursor_courier is not None:
        message = message.replace(
            "re-export it or remove it from the bucket",
            f"ask Heap to resync the {unit.source_table} table; the next run resumes from this file")
    return message


def _current_exception() -> tuple:
    import sys

    return sys.exc_info()


def read_cursor(store: Store, table: str) -> Cursor | None:
    """A Heap table's cursor, if it has been loaded before."""
    rows = store.query("SELECT * FROM cursors WHERE table_name = ?", (table,))
    if not rows:
        return None
    row = rows[0]
    return Cursor(table=row["table_name"], courier=row["courier"], source_table=row["source_table"],
                  dump_id=row["dump_id"], last_part=row["last_part"], last_key=row["last_key"],
                  dump_complete=bool(row["dump_complete"]))


def _write_cursor(store: Store, cursor: Cursor) -> None:
    store.execute(
        "INSERT INTO cursors (table_name, courier, source_table, dump_id, last_part, last_key, dump_complete, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(table_name) DO UPDATE SET "
        "courier = excluded.courier, source_table = excluded.source_table, dump_id = excluded.dump_id, "
        "last_part = excluded.last_part, last_key = excluded.last_key, dump_complete = excluded.dump_complete, "
        "updated_at = excluded.updated_at",
        (cursor.table, cursor.courier, cursor.source_table, cursor.dump_id, cursor.last_part, cursor.last_key,
         int(cursor.dump_complete), utc_now()))


def clear_cursor(store: Store, table: str) -> None:
    """Forget a table's cursor (the next run starts from the latest full dump)."""
    store.execute("DELETE FROM cursors WHERE table_name = ?", (table,))
