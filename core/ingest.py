"""Applying landed files to a feed's domain table, one transaction per unit.

A unit is what must commit together: for an incremental Heap dump, one part
file and the table's cursor; for a full resync, every part of the dump (the
old rows are deleted inside the same transaction, so readers see the old table
until the new one is complete); for the file-pattern layout, a feed's whole
set of load operations (truncate included). If anything fails or the run is
stopped, the unit rolls back and the table is exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.decode import DecodeJob, DecodeSpec
from core.errors import CourierError
from core.fastload import StagedFile, Stager, Withdrawn
from core.identity import is_migrations_table, rebuild_identity
from core.load import (
    LoadCounts,
    TableWriter,
    create_like,
    drop_table,
    record_table_load,
    rejected_share_exceeded,
    replace_table,
    table_columns,
    table_exists,
)
from core.models import Feed
from core.store import Store, staging_dir, utc_now


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
    fetch: Callable[[], None] | None = None
    """Waits until the file is in place (a download still under way) and raises what the download
    raised; called just before the file is read, from the staging thread."""
    record: Callable[[], int | None] | None = None
    """Records the landed file, in the writer's thread outside any transaction, before its unit
    applies; returns its row count."""


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
    group: int = 0
    """The transaction that reads this file's staged rows: its unit's, or its own in a full resync."""
    recorded: bool = False
    columns: list[str] = field(default_factory=list)


def decode_spec(feed: Feed, table_types: dict[str, str] | None = None) -> DecodeSpec:
    """The decoder's view of a feed (and of the types a run fixed for its columns)."""
    declared = {f.name: f.type for f in feed.fields or ()}
    required = frozenset(f.name for f in feed.fields or () if f.required)
    return DecodeSpec(
        primary_key=tuple(feed.primary_key),
        last_updated=feed.last_updated,
        declared_types=declared,
        required=required,
        table_types=dict(table_types or {}),
    )


@dataclass
class ColumnMapping:
    """A domain table's source-column → column names and types, as stored in ``domain_columns``."""

    names: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    """Source column → the feed type its domain column holds."""
    kinds: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Source column → (the file type it last arrived as, that file)."""


def column_mapping(store: Store, table: str) -> ColumnMapping:
    """The stored column names and types of a domain table (empty for a new table)."""
    mapping = ColumnMapping()
    for row in store.query(
        "SELECT source_name, column_name, feed_type, source_type, source_file "
        "FROM domain_columns WHERE table_name = ? ORDER BY rowid",
        (table,),
    ):
        mapping.names[row["source_name"]] = row["column_name"]
        mapping.types[row["source_name"]] = row["feed_type"]
        if row["source_type"]:
            mapping.kinds[row["source_name"]] = (row["source_type"], row["source_file"])
    return mapping


def renamed_columns(store: Store, table: str) -> dict[str, str]:
    """Source columns a domain table stores under another name (case twins, reserved names)."""
    return {source: column for source, column in column_mapping(store, table).names.items() if source != column}


class _RunPlan:
    """Each column's name and type for a run, fixed file by file in load order, and the warnings found.

    Files are planned one at a time (:meth:`add`, in the staging thread, just before each file is
    staged, so a file still downloading is planned when it arrives); the result is what planning
    every header at once would give: a column keeps the name and type its first file fixed.
    """

    def __init__(self, store: Store, feed: Feed, writer: TableWriter) -> None:
        from core.values import feed_type_of_storage

        mapping = column_mapping(store, feed.table_name)
        self.feed = feed
        self.known = dict(mapping.names)
        """Source → column names stored before this run (their renames were announced then)."""
        self.storage = dict(table_columns(store, feed.table_name)) if writer.columns else {}
        explained = set(mapping.names.values())
        self.unexplained = [name for name in writer.columns if name not in explained]
        self.declared = {f.name: f.type for f in feed.fields or ()}
        self.names: dict[str, str] = dict(mapping.names)
        self.table_types: dict[str, str] = {}
        for source, column in self.names.items():
            if source in mapping.types:
                self.table_types[source] = mapping.types[source]
            elif column in self.storage:
                self.table_types[source] = feed_type_of_storage(self.storage[column])
        self.last = dict(mapping.kinds)
        self.warnings: dict[int, list[tuple[str, str | None]]] = {}
        """(message, file) warnings of each file, by its index, to log before its unit applies."""

    def add(self, index: int, job: DecodeJob) -> DecodeSpec:
        """Plan one more file (in load order) and return the decoder's spec for it."""
        from core.decode import source_fields
        from core.values import assign_columns, choose_type, feed_type_of_storage, lookup

        try:
            fields = source_fields(job)
        except CourierError:
            return decode_spec(self.feed, self.table_types)  # its decoder reports the failure in its own words
        names = assign_columns(list(dict.fromkeys(source.name for source in fields)), self.names, self.unexplained)
        added = [source for source in names if source not in self.names]
        for source in added:
            if names[source] in self.storage:
                self.table_types.setdefault(source, feed_type_of_storage(self.storage[names[source]]))
        warnings: list[tuple[str, str | None]] = []
        for source in fields:
            if source.name not in self.table_types:
                self.table_types[source.name] = choose_type(source, lookup(self.declared, source.name)).feed_type
            before = self.last.get(source.name)
            if before is not None and before[0] != source.kind and "null" not in (before[0], source.kind):
                target = lookup(self.declared, source.name) or self.table_types[source.name]
                warnings.append(
                    (
                        f"Type drift in {self.feed.table_name}: column {source.name} is {before[0]} in "
                        f"{before[1]} but {source.kind} in {job.label}; its values are stored as "
                        f"{target} where that loses nothing, and other rows are rejected",
                        job.label,
                    )
                )
            self.last[source.name] = (source.kind, job.label)
        self.names = names
        for source in added:
            if source not in self.known and source != names[source]:
                warnings.append(
                    (
                        f"Column {source} of {self.feed.table_name} is stored as {names[source]}, because "
                        f"{_collision(source, names)}",
                        None,
                    )
                )
        self.warnings[index] = warnings
        return decode_spec(self.feed, self.table_types)


def _collision(source: str, names: dict[str, str]) -> str:
    from core.values import RESERVED_COLUMNS

    if source.lower() in {name.lower() for name in RESERVED_COLUMNS}:
        return f"{source} is reserved (Courier's _pk and _updated, SQLite's rowid, oid and _rowid_)"
    twins = [other for other in names if other != source and other.lower() == source.lower()]
    return f"SQLite column names ignore case and {', '.join(twins)} came first" if twins else "its name was taken"


def _record_columns(store: Store, table: str, plan: _RunPlan, staged: StagedFile, label: str) -> None:
    """Remember each source column's domain name, feed type, and the type and file it last came in."""
    store.conn.executemany(
        "INSERT INTO domain_columns (table_name, source_name, column_name, feed_type, source_type, source_file) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_name, source_name) DO UPDATE SET "
        "feed_type = excluded.feed_type, source_type = excluded.source_type, source_file = excluded.source_file",
        [
            (table, source, plan.names.get(source, source), kind, file_kind, label)
            for source, kind, file_kind in zip(staged.columns, staged.types, staged.kinds or staged.types)
        ],
    )


KEEP_REJECTS = 10_000
"""Rejected rows kept per unit when the unit itself is rolled back (the threshold was exceeded)."""


def _copy_rejects(
    store: Store,
    run_id: int | None,
    table: str,
    file: str,
    staged: StagedFile,
    limit: int | None = None,
    schemas: list[str] | None = None,
) -> int:
    """Copy a staged file's rejected rows (of ``schemas``, default all its pieces) into ``rejected_rows``.

    Rows go in file order, at most ``limit`` of them; returns how many were copied.
    """
    copied = 0
    for schema in staged.schemas if schemas is None else schemas:
        if not staged.rejects or (limit is not None and copied >= limit):
            break
        before = store.conn.total_changes
        store.conn.execute(
            "INSERT INTO rejected_rows (run_id, table_name, file, position, key, column_name, reason, at) "
            f'SELECT ?, ?, ?, position, key, column_name, reason, ? FROM {schema}."{staged.rejects}" '
            f"ORDER BY rowid{'' if limit is None else f' LIMIT {int(limit) - copied}'}",
            (run_id, table, file, utc_now()),
        )
        copied += store.conn.total_changes - before
    return copied


def apply_units(
    store: Store, feed: Feed, units: list[LoadUnit], hooks: IngestHooks, parallel: bool | None = None
) -> LoadCounts:
    """Apply units in order, each in its own transaction; returns the totals.

    Every file is planned by the value rules (:mod:`core.values`) and staged by a
    :class:`core.fastload.Stager` (columnar decoding where the file's plan allows it,
    the exact per-record path otherwise); each staged file is applied with one
    set-based upsert and its rejected rows are copied into ``rejected_rows``. With
    ``parallel`` left as ``None`` or true the stager runs in a thread one unit ahead
    of the writer; ``False`` stages each unit just before its transaction, in this
    thread. Must be called outside a transaction (the staging database is attached
    for the duration).

    Raises:
        LoadRejected: a unit had more rejected rows than the feed's error threshold.
        RunStopped: ``hooks.should_stop()`` turned true; the current unit rolled back.
        CourierError: a file could not be read (the message names it).
    """
    totals = LoadCounts()
    flat: list[_FileState] = []
    for unit_index, unit in enumerate(units):
        for position, file in enumerate(unit.files):
            # A full resync commits each file on its own, so its files are staged (and read) one by one.
            starts_group = bool(flat) and (position == 0 or unit.truncate_first)
            flat.append(_FileState(unit_index, file, (flat[-1].group if flat else 0) + starts_group))
    if not flat:
        return totals
    if store.in_transaction:
        raise RuntimeError("apply_units commits unit by unit, so it must not run inside a transaction")
    writer = TableWriter(store, feed.table_name)
    jobs = [state.file.job for state in flat]
    plan = _RunPlan(store, feed, writer)

    def prepare(index: int) -> DecodeSpec:
        fetch = flat[index].file.fetch
        if fetch is not None:
            fetch()
        return plan.add(index, jobs[index])

    file_count = len(flat)
    stage_root = staging_dir(store.path)
    with (
        _writer_cache(store),
        Stager(
            jobs,
            [state.group for state in flat],
            decode_spec(feed),
            threaded=parallel is not False,
            prepare=prepare,
            directory=str(stage_root),
        ) as stager,
    ):
        first = 0
        for unit in units:
            states = flat[first : first + len(unit.files)]
            first += len(unit.files)
            if not states:
                continue
            hooks.progress(states[0].file.job.label, first - len(states) + 1, file_count, 0, states[0].file.row_count)
            staging = _Staging(store, stager, unit, hooks, plan)
            if unit.truncate_first:
                unit_counts = _apply_resync(store, feed, unit, states, staging, writer, hooks, plan, file_count, totals)
            else:
                unit_counts = _apply_unit(store, feed, unit, states, staging, writer, hooks, plan, file_count, totals)
            totals.add(unit_counts)
            hooks.event(
                "Domain transaction closed",
                f"{feed.table_name}: {totals.rows_inserted:,} inserted, {totals.rows_updated:,} updated so far",
                "info",
                None,
            )
    return totals


WRITER_CACHE_KIB = 65536
"""Page cache of the writer's connection while it applies units, in KiB (SQLite's default is 2,000).

The set-based upsert walks the domain table's primary-key B-tree once per staged row;
with the default cache, a table of a few hundred MB re-reads its interior pages from the
OS on every file. The cache is the connection's, freed when the load ends.
"""


@contextmanager
def _writer_cache(store: Store) -> Iterator[None]:
    """Raise the writer's page cache to :data:`WRITER_CACHE_KIB` for a load, and put it back after."""
    previous = int(store.conn.execute("PRAGMA cache_size").fetchone()[0])
    store.conn.execute(f"PRAGMA cache_size = {-WRITER_CACHE_KIB}")
    try:
        yield
    finally:
        store.conn.execute(f"PRAGMA cache_size = {previous}")


@dataclass
class _Staging:
    """How the writer reaches the staged files of one unit (see :meth:`read`)."""

    store: Store
    stager: Stager
    unit: LoadUnit
    hooks: IngestHooks
    plan: _RunPlan

    @contextmanager
    def read(self, states: list[_FileState]) -> Iterator[list[StagedFile]]:
        """Wait until the files of one transaction are staged and attach them; detach and delete them after.

        Enter outside a transaction. Before yielding, the files' row counts are recorded,
        their planning warnings logged, and a file that could not be read fails the load.

        Raises:
            RunStopped: a stop was asked for while waiting.
            CourierError: a file could not be read (the message names the object).
        """
        stager, hooks = self.stager, self.hooks
        staged = stager.wait_unit(states[0].group, hooks.should_stop)
        try:
            if hooks.should_stop():
                raise RunStopped()
            for state, result in zip(states, staged):
                if state.file.record is not None and not state.recorded:
                    state.file.row_count = state.file.record()
                    state.recorded = True
                for message, file in self.plan.warnings.pop(result.index, []):
                    hooks.event("Loading data", message, "warning", file)
            for state, result in zip(states, staged):
                if result.failure is not None:
                    raise CourierError(_failure_text(result.failure, state.file, self.unit))
            stager.attach(self.store.conn, staged)
            try:
                yield staged
            finally:
                stager.detach(self.store.conn)
        finally:
            stager.release(staged)


def _apply_unit(
    store: Store,
    feed: Feed,
    unit: LoadUnit,
    states: list[_FileState],
    staging: _Staging,
    writer: TableWriter,
    hooks: IngestHooks,
    plan: _RunPlan,
    file_count: int,
    totals: LoadCounts,
) -> LoadCounts:
    """Upsert one unit's staged files, keep their rejected rows, write its cursor and commit, or roll it all back.

    When the unit has more rejected rows than the feed's error threshold it rolls back,
    and then up to :data:`KEEP_REJECTS` of its rejected rows are kept (so the user sees why).
    A unit that replaces the table goes through :func:`_apply_resync` instead.
    """
    while True:
        unit_counts = LoadCounts()
        with staging.read(states) as staged:
            try:
                with store.atomic(main_only=True):
                    for state, result in zip(states, staged):
                        _load_file(store, feed, state, result, writer, staging, plan, file_count, unit_counts)
                        _write_unit_cursor(store, feed, unit, state)
                    _check_unit(feed, unit_counts, hooks)
                    _close_unit(store, feed, states, hooks, totals, unit_counts)
            except Withdrawn:
                writer.forget_columns()  # the rollback took back any column the first attempt added
                continue
            except LoadRejected:
                # The unit rolled back, but its rejected rows must stay visible: keep them after.
                with store.atomic():
                    room = KEEP_REJECTS
                    for state, result in zip(states, staged):
                        room -= _copy_rejects(
                            store, hooks.run_id, feed.table_name, state.file.key or state.file.job.label, result, room
                        )
                raise
        return unit_counts


SHADOW_SUFFIX = "~resync"
"""A full resync loads into ``<table>~resync`` and renames it over the table when every file is in."""


def _apply_resync(
    store: Store,
    feed: Feed,
    unit: LoadUnit,
    states: list[_FileState],
    staging: _Staging,
    writer: TableWriter,
    hooks: IngestHooks,
    plan: _RunPlan,
    file_count: int,
    totals: LoadCounts,
) -> LoadCounts:
    """Replace the table with a unit's files (a full resync), holding the write lock only briefly.

    The files load into a shadow table, one short transaction each (with their rejected
    rows), and a last short transaction renames the shadow over the table together with
    the cursor. Readers see the old table until then, and another writer (``courier
    apply``, the TUI, another run) waits seconds for the lock, never the whole resync
    (issue 10, item 4). A stop, a failure or a kill at any point leaves the old table and
    cursor; the shadow is dropped at once, or by the next load of the table.
    """
    table = feed.table_name
    shadow = TableWriter(store, table + SHADOW_SUFFIX)
    unit_counts = LoadCounts()
    try:
        with store.atomic():
            drop_table(store, shadow.table)  # left by a killed load
            if table_exists(store, table):
                create_like(store, table, shadow.table)
        hooks.event(
            "Loading data", f"Loading {table} afresh; it is replaced when every file of the dump is in", "info", None
        )
        for state in states:
            # Each file is read as soon as it is staged, while the next one is being staged.
            while True:
                try:
                    with staging.read([state]) as staged, store.atomic(main_only=True):
                        _load_file(store, feed, state, staged[0], shadow, staging, plan, file_count, unit_counts)
                except Withdrawn:
                    shadow.forget_columns()  # the rollback took back any column the first attempt added
                    continue
                break
        _check_unit(feed, unit_counts, hooks)
        _copy_sort_indexes(store, table, shadow.table, hooks)
        with store.atomic():
            replace_table(store, table, shadow.table)
            writer.forget_columns()
            _write_unit_cursor(store, feed, unit, states[-1])
            _close_unit(store, feed, states, hooks, totals, unit_counts)
    except BaseException:
        try:
            with store.atomic():
                drop_table(store, shadow.table)
        except Exception:  # noqa: BLE001 - the first error is the one to report; the next load drops it
            pass
        raise
    return unit_counts


def _copy_sort_indexes(store: Store, table: str, shadow: str, hooks: IngestHooks) -> None:
    """Build the table's sort indexes on the full shadow, in their own transaction, before the swap.

    Built once on the full shadow (a sort) rather than kept up to date while its files load
    (random inserts, 4× slower on a 1,000,000-row text column), so a resync keeps the
    indexes the user asked for at the least cost (:mod:`core.sort_index`).
    """
    from core.sort_index import SortIndexStopped, copy_sort_indexes, sort_indexes

    if not table_exists(store, table) or not sort_indexes(store.conn, table):
        return
    try:
        with store.atomic():
            copied = copy_sort_indexes(store, table, shadow, hooks.should_stop)
    except SortIndexStopped:
        raise RunStopped() from None
    hooks.event(
        "Loading data",
        f"Built sort index{'es' if len(copied) > 1 else ''} on "
        f"{', '.join(index.column for index in copied)} for the new {table}",
        "info",
        None,
    )


def _load_file(
    store: Store,
    feed: Feed,
    state: _FileState,
    result: StagedFile,
    target: TableWriter,
    staging: _Staging,
    plan: _RunPlan,
    file_count: int,
    counts: LoadCounts,
) -> None:
    """Upsert one staged file into ``target`` with its rejected rows, and count it (in the caller's transaction).

    A file staged in pieces is upserted piece by piece as each is staged.

    Raises:
        Withdrawn: the file was staged again (roll back and read it anew).
        RunStopped: a stop was asked for.
    """
    hooks = staging.hooks
    index = result.index
    label = state.file.job.label
    where = state.file.key or label
    known = {name.lower() for name in target.columns}
    state.columns = target.prepare(
        [plan.names.get(name, name) for name in result.columns], result.types, result.storage or None
    )
    _record_columns(store, feed.table_name, plan, result, where)
    added = [name for name in state.columns if name.lower() not in known]
    if known and added:
        hooks.event(
            "Loading data",
            f"Schema change: added column{'s' if len(added) > 1 else ''} {', '.join(added)} to {feed.table_name}",
            "info",
            label,
        )
    if hooks.should_stop():
        raise RunStopped()
    inserted = updated = 0
    for schema in staging.stager.pieces(result, hooks.should_stop):
        _copy_rejects(store, hooks.run_id, feed.table_name, where, result, schemas=[schema])
        piece_inserted, piece_updated = target.upsert_staged(state.columns, f'{schema}."{result.table}"')
        _check_piece_read(store, result, schema)
        inserted += piece_inserted
        updated += piece_updated
    if hooks.should_stop():
        raise RunStopped()
    counts.rows_inserted += inserted
    counts.rows_updated += updated
    hooks.progress(label, index + 1, file_count, result.rows_read, state.file.row_count)
    counts.files += 1
    counts.files_columnar += result.columnar
    counts.rows_read += result.rows_read
    counts.rows_rejected += result.rows_rejected
    counts.reject_reasons.extend(result.reject_reasons)
    hooks.event(
        "Ingest files progress",
        f"{label} ({index + 1}/{file_count}): {result.rows_read:,} rows read, {result.rows_rejected:,} rejected",
        "info",
        label,
    )


def _check_piece_read(store: Store, staged: StagedFile, schema: str) -> None:
    """Fail loudly, never lose rows, if a staged piece was read before it was complete.

    Rows are appended to a staging table with rowids 1…n, so its largest rowid is the
    number of rows the read saw; it must be what the stager wrote in that piece.
    """
    piece = staged.schemas.index(schema)
    if piece >= len(staged.piece_rows):
        return
    seen = store.conn.execute(f'SELECT COALESCE(MAX(rowid), 0) FROM {schema}."{staged.table}"').fetchone()[0]
    if seen != staged.piece_rows[piece]:
        raise RuntimeError(
            f"read {seen:,} staged rows of {staged.piece_rows[piece]:,} from piece {piece + 1} of file "
            f"{staged.index + 1} (a staging database was read before it was complete)"
        )


def _write_unit_cursor(store: Store, feed: Feed, unit: LoadUnit, state: _FileState) -> None:
    if unit.cursor_courier is not None:
        _write_cursor(
            store,
            Cursor(
                table=feed.table_name,
                courier=unit.cursor_courier,
                source_table=unit.source_table,
                dump_id=state.file.dump_id or 0,
                last_part=state.file.part or 0,
                last_key=state.file.key,
                dump_complete=state.file.last_in_dump,
            ),
        )


def _check_unit(feed: Feed, unit_counts: LoadCounts, hooks: IngestHooks) -> None:
    """Raise when the unit must not commit: a stop was asked for, or too many rows were rejected."""
    if hooks.should_stop():
        raise RunStopped()
    if rejected_share_exceeded(unit_counts.rows_read, unit_counts.rows_rejected, feed.error_threshold):
        reasons = "; ".join(unit_counts.reject_reasons[:2])
        raise LoadRejected(
            f"{feed.table_name}: {unit_counts.rows_rejected:,} of {unit_counts.rows_read:,} rows "
            f"rejected, more than the feed's {feed.error_threshold}% error threshold "
            f"({reasons}); the table was left as it was"
        )


def _close_unit(
    store: Store, feed: Feed, states: list[_FileState], hooks: IngestHooks, totals: LoadCounts, unit_counts: LoadCounts
) -> None:
    """The last writes of a unit's transaction: identity views, the load record, the run's counts."""
    if is_migrations_table(states[-1].columns):
        rebuild_identity(store, feed.source, feed.table_name)
    record_table_load(store, feed.table_name, feed.id, hooks.run_id)
    running = LoadCounts()
    running.add(totals)
    running.add(unit_counts)
    hooks.committed(store, running)
    hooks.event("Committing domain transactions", f"Committing {feed.table_name}", "info", None)


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
        _write_cursor(
            store,
            Cursor(
                table=feed.table_name,
                courier=courier,
                source_table=source_table,
                dump_id=dump_id,
                last_part=-1,
                last_key="",
                dump_complete=True,
            ),
        )
        record_table_load(store, feed.table_name, feed.id, run_id)


def _failure_text(message: str, file: UnitFile, unit: LoadUnit) -> str:
    """Name the object, not just the landed file, and give advice that fits the layout."""
    if file.key and file.job.label in message:
        message = message.replace(file.job.label, file.key, 1)
    if unit.cursor_courier is not None:
        message = message.replace(
            "re-export it or remove it from the bucket",
            f"ask Heap to resync the {unit.source_table} table; the next run resumes from this file",
        )
    return message


def read_cursor(store: Store, table: str) -> Cursor | None:
    """A Heap table's cursor, if it has been loaded before."""
    rows = store.query("SELECT * FROM cursors WHERE table_name = ?", (table,))
    if not rows:
        return None
    row = rows[0]
    return Cursor(
        table=row["table_name"],
        courier=row["courier"],
        source_table=row["source_table"],
        dump_id=row["dump_id"],
        last_part=row["last_part"],
        last_key=row["last_key"],
        dump_complete=bool(row["dump_complete"]),
    )


def _write_cursor(store: Store, cursor: Cursor) -> None:
    store.execute(
        "INSERT INTO cursors (table_name, courier, source_table, dump_id, last_part, last_key, dump_complete, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(table_name) DO UPDATE SET "
        "courier = excluded.courier, source_table = excluded.source_table, dump_id = excluded.dump_id, "
        "last_part = excluded.last_part, last_key = excluded.last_key, dump_complete = excluded.dump_complete, "
        "updated_at = excluded.updated_at",
        (
            cursor.table,
            cursor.courier,
            cursor.source_table,
            cursor.dump_id,
            cursor.last_part,
            cursor.last_key,
            int(cursor.dump_complete),
            utc_now(),
        ),
    )


def clear_cursor(store: Store, table: str) -> None:
    """Forget a table's cursor (the next run starts from the latest full dump)."""
    store.execute("DELETE FROM cursors WHERE table_name = ?", (table,))
