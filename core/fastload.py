"""Staging decoded files for a set-based upsert: the fast path of a load.

A load used to decode every record into a Python tuple and hand the tuples to
``executemany``; the tuples, not SQLite, were the cost (34–41 CPU-µs a row).
Here a :class:`Stager` thread decodes each file column by column with polars
(its Avro reader is Rust, 3.5× fastavro on Heap's files) in bounded chunks of
blocks, never a whole file, and bulk-loads each chunk into a table of a private
staging database through ADBC's SQLite driver, which binds Arrow columns in C
without a Python object per value. The writer then applies each staged file to
its domain table with one ``INSERT … SELECT … ON CONFLICT DO UPDATE``
(:meth:`core.load.TableWriter.upsert_staged`), while this thread already stages
the next file: decode and write overlap on two cores, and only batches of
columns cross between the threads.

Fidelity is not traded for speed. Both paths apply the same per-file
:class:`core.values.FilePlan` (column types by declared type, table type, logical
type, Avro type or Heap column — never by a name guess). A file goes through
polars only when every column's rule is one the columnar path applies exactly
(:func:`columnar_form`): the value stored as read, an exact widening, or Heap's
timestamp forms converted as :func:`core.timestamps.to_iso_utc` does. Any value
the columnar rules do not cover (invalid UTF-8, a NaN, a timestamp before 1970
or in another text form, a union polars cannot read, a panic) sends the whole
file to the exact per-record fastavro path of :mod:`core.decode` instead, into an
untyped staging table so each value keeps the type Python gave it. Rejected rows
(an empty key or required field on the columnar path; every rule on the exact
path) are staged beside the rows, with the exact path's position, key text,
column and reason, and copied into ``rejected_rows`` in the unit's transaction.
Either way the domain table receives the staged rows through the same statement,
so both paths give the same table and the same rejected rows
(``tests/core/test_fastload.py``).

Why separate databases: ADBC's driver has its own SQLite connection (and its own
copy of SQLite), which cannot join the run's transaction. Each group of files that
one transaction reads (a unit, or one file of a full resync) is staged into its own
database file, with 64 KiB pages, no WAL and no sync, written once by this thread and
only then attached read-only to the run's connection for that transaction, and
deleted after it. A file written once and read after is consistent without locks,
which matters because two copies of SQLite in one process do not see each other's
POSIX locks (a shared WAL staging file could be checkpointed under a reader). It
also writes each staged row once instead of twice (WAL, then checkpoint). A full
resync's files are read one by one as they are staged, so its upserts overlap the
staging of the next file.

A big file that its transaction reads alone (an incremental Heap part, a file of a
full resync) is staged in up to :data:`MAX_PIECES` pieces, each its own database,
all created (with their empty tables) before the writer attaches them and begins:
the writer upserts each piece as soon as it is complete while the next is decoded,
so even a lone file overlaps decoding with writing. The writer's transaction takes
main's write lock alone (``Store.atomic(main_only=True)``), so it opens a read
transaction on a piece only when it reads it, after the piece is complete; a read
that saw fewer rows than were staged fails the load (``core.ingest``). Should a
later piece hold a value the columnar rules do not cover, the file is withdrawn and
staged again by the exact path, and the writer rolls its transaction back and reads
it anew (:class:`Withdrawn`).
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from core.decode import (
    MAX_REJECT_REASONS,
    DecodeJob,
    DecodeSpec,
    FileDecoded,
    FileFailed,
    FileStarted,
    Reject,
    RowsDecoded,
    decode_files,
)
from core.errors import CourierError, DiskFullError, disk_full_message, is_disk_full
from core.store import STAGING_PREFIX, pid_alive, private_dirs, staging_owner

CHUNK_ROWS = 32_768
"""Records per columnar chunk: big enough to amortise a call, small enough for flat memory (~25 MB)."""
CHUNK_BYTES = 16 * 1024 * 1024
"""A chunk also ends after this many compressed bytes, whatever the block sizes."""
COLUMNAR_ENV = "COURIER_COLUMNAR"
"""Set to ``0`` to stage every file through the exact per-record path (a diagnosis switch)."""
STAGE_SCHEMA = "courier_stage"
"""The name the staging database is attached under on the run's connection."""
STAGE_PAGE_SIZE = 65536
"""Pages of a staging database: appending and reading back 25-column rows costs a third less CPU than at 4 KiB."""
_STAGE_PRAGMAS = (
    f"PRAGMA page_size = {STAGE_PAGE_SIZE}",
    "PRAGMA journal_mode = MEMORY",
    "PRAGMA synchronous = OFF",
    "PRAGMA busy_timeout = 30000",
)
"""A staging database is scratch, written once and then read: never synced (a crash loses nothing), and its
journal only in memory (appended pages are not journaled, yet a rollback stays defined)."""
MAX_PIECES = 6
"""A lone big file is staged in up to this many pieces, each its own database, so its upsert starts with the
first piece while the rest is still being decoded (SQLite attaches at most 10 databases to a connection)."""
MIN_PIECE_BYTES = 1024 * 1024
"""A file is split into pieces of at least this many compressed bytes (a smaller file is one piece)."""
PIECE_CHUNKS = 4
"""A file in pieces is decoded in chunks of a quarter of an even piece, and its first piece is one chunk.

Until a piece is complete the writer has nothing to upsert: a first piece as big as the others kept it idle
for a fifth of a 100,000-row incremental load while its first 20,000 rows were decoded and then staged, so
the first piece of a file in three or more is one chunk and the other pieces share the rest evenly. And a
chunk is staged only after it is decoded, so smaller chunks complete each piece (the last one above all,
which the commit waits for) sooner after its last block is read. Chunks of 5,000 rows cost no more CPU per
row than of 20,000 (polars and ADBC on the bench's pageviews, interleaved runs)."""
REJECT_COLUMNS = ("position", "key", "column_name", "reason")
"""A staged file's rejects table: :data:`core.decode.Reject` in file order."""


@dataclass
class StagedFile:
    """A file staged for its upsert, or why it could not be.

    Attributes:
        index: The file's position in the load, from 0.
        table: The staging table (unqualified) holding ``c0 … cN, _pk, _updated``, in file order.
        rejects: The staging table of its rejected rows (:data:`REJECT_COLUMNS`), or ``''`` if none.
        columns: The file's source columns, in its own schema order (``c0`` is the first).
        types: Their feed types, SQLite storage, file kinds and type origins (from the file's plan).
        rows_read: Records read from the file.
        rows_staged: Rows in the staging table (read minus rejected).
        rows_rejected: Records rejected, with up to five reasons naming the row.
        columnar: True when polars decoded it; False for the exact per-record path.
        failure: One line when the file could not be read; then nothing else is set.
        paths: The staging databases holding it: one, or one per piece.
    """

    index: int
    table: str = ""
    rejects: str = ""
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    storage: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_staged: int = 0
    rows_rejected: int = 0
    reject_reasons: list[str] = field(default_factory=list)
    columnar: bool = False
    failure: str | None = None
    paths: list[str] = field(default_factory=list)
    """The staging databases holding it: one, or one per piece (see :meth:`Stager.pieces`)."""
    piece_rows: list[int] = field(default_factory=list)
    """Rows staged in each piece, filled as each is complete (the writer checks it read them all)."""
    withdrawn: bool = False
    """Set when a piece could not be read columnar after earlier pieces were handed over: the file was staged
    again by the exact path (:meth:`Stager.wait_unit` returns the new one) and this one must be forgotten."""

    @property
    def schemas(self) -> list[str]:
        """The schema names its staging databases are attached under, in piece order (see :func:`stage_schema`)."""
        return [stage_schema(number) for number in range(max(1, len(self.paths)))]


# --- which files the columnar path may take -------------------------------------------------


_FORMS = {
    # (the file's kind, the plan's feed type) → how the columnar path stores it; see columnar_form.
    ("long", "Integer"): "integer",
    ("int", "Integer"): "integer",
    ("boolean", "Boolean"): "boolean",
    ("string", "String"): "text",
    ("enum", "String"): "text",
    ("bytes", "String"): "binary",
    ("fixed", "String"): "binary",
    ("float", "Float"): "float",
    ("double", "Float"): "float",
    ("string", "Datetime"): "heap text",
    ("long", "Datetime"): "epoch",
    ("int", "Datetime"): "epoch",
    ("timestamp-millis", "Datetime"): "instant",
    ("timestamp-micros", "Datetime"): "instant",
    ("local-timestamp-millis", "Datetime"): "local instant",
    ("local-timestamp-micros", "Datetime"): "local instant",
}
_FAST_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?Z?$"
)
""":data:`core.timestamps._FAST_ISO`, anchored: the one text form converted column-wise."""
_MAX_MICROS = 253_402_300_799_999_999
"""9999-12-31T23:59:59.999999Z in microseconds since the epoch: the last instant the exact path formats."""


class NotColumnar(Exception):
    """This chunk has a value the columnar rules do not cover; the file takes the exact path."""


def columnar_form(column: Any) -> str | None:
    """How the columnar path stores one :class:`core.values.ColumnPlan`, or ``None`` if it cannot.

    ``integer``, ``boolean``, ``text``, ``binary``: the value as read (:func:`core.values.converter`
    returns ``None`` for these pairs). ``float``: as read, but a NaN (which the exact path rejects)
    sends the file to the exact path. ``heap text``, ``epoch``, ``instant``: Datetime from Heap's plain
    text form, from epoch numbers (unit by magnitude) or from a timestamp logical type, converted as
    :mod:`core.timestamps` does; any other form or a time before 1970 sends the file to the exact path.
    """
    return _FORMS.get((column.kind, column.feed_type))


@dataclass(frozen=True)
class ColumnarPlan:
    """A file the columnar path may take: its :class:`core.values.FilePlan` and where key and ``_updated`` are."""

    plan: Any
    forms: list[str]
    key_position: int
    updated_position: int | None


def columnar_plan(job: DecodeJob, spec: DecodeSpec) -> ColumnarPlan | None:
    """The columnar plan of ``job`` under ``spec``, or ``None`` when it must take the exact path.

    The plan is :func:`core.decode.file_plan`'s, the one the exact path applies. The file
    qualifies when it is Avro, the feed's key is one field whose value is stored as read, the
    key and last-updated fields are in the file (else the exact path reports it in its own
    words), and every column has a :func:`columnar_form`.
    """
    if job.content_type != "application/avro" or len(spec.primary_key) != 1:
        return None
    from core.decode import file_plan, source_fields
    from core.errors import CourierError
    from core.values import find_field

    try:
        fields = source_fields(job)
    except CourierError:
        return None  # the exact path reports the failure in its own words
    plan = file_plan(fields, spec)
    if len(plan.key_positions) != 1:
        return None
    names = [source.name for source in fields]
    updated = find_field(names, spec.last_updated) if spec.last_updated else None
    if spec.last_updated and updated is None:
        return None
    if any(source.kind == "enum" and source.nullable for source in fields):
        return None  # polars 2.1 panics ("unreachable") on an enum inside a union with null
    forms = [columnar_form(column) for column in plan.columns]
    key = plan.key_positions[0]
    if forms[key] not in ("integer", "text", "binary", "boolean"):
        return None  # a rejected row's key text is made from the raw value, which then equals the stored one
    if any(form is None for form in forms):
        return None
    return ColumnarPlan(plan, [form for form in forms if form is not None], key, updated)


# --- reading Avro in chunks of blocks ------------------------------------------------------


def _read_long(fo: BinaryIO) -> int | None:
    """Read one zig-zag varint; ``None`` at a clean end of file."""
    shift = result = 0
    while True:
        byte = fo.read(1)
        if not byte:
            if shift:
                raise EOFError("the file ends inside a number")
            return None
        value = byte[0]
        result |= (value & 0x7F) << shift
        if not value & 0x80:
            return (result >> 1) ^ -(result & 1)
        shift += 7


def _read_header(fo: BinaryIO) -> tuple[bytes, bytes]:
    """Return ``(the header's bytes, the sync marker)`` of an Avro container file."""
    if fo.read(4) != b"Obj\x01":
        raise ValueError("not an Avro container file")
    while True:
        count = _read_long(fo)
        if count is None:
            raise EOFError("the header is cut short")
        if count == 0:
            break
        if count < 0:
            count = -count
            _read_long(fo)
        for _ in range(2 * count):
            size = _read_long(fo)
            if size is None or size < 0:
                raise EOFError("the header is cut short")
            fo.seek(size, io.SEEK_CUR)
    sync = fo.read(16)
    if len(sync) != 16:
        raise EOFError("the header is cut short")
    end = fo.tell()
    fo.seek(0)
    return fo.read(end), sync


def iter_block_chunks(
    path: str, chunk_rows: int = CHUNK_ROWS, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[int, bytes]]:
    """Split an Avro file into small self-contained Avro files of consecutive blocks.

    Each piece is the file's own header followed by whole blocks holding at
    least ``chunk_rows`` records (or ``chunk_bytes`` compressed bytes), so any
    Avro reader decodes it and memory stays bounded by the piece, whatever the
    file size. Blocks are copied, never decompressed here.

    Yields:
        ``(records in the piece, the piece's bytes)`` in file order.

    Raises:
        ValueError, EOFError: the framing is damaged (the exact path then names the problem).
    """
    with open(path, "rb") as fo:
        header, sync = _read_header(fo)
        parts: list[bytes] = [header]
        rows = size = 0
        while True:
            count = _read_long(fo)
            if count is None:
                break
            length = _read_long(fo)
            if length is None or length < 0 or count < 0:
                raise EOFError("a block header is cut short")
            data = fo.read(length + 16)
            if len(data) != length + 16 or data[-16:] != sync:
                raise ValueError("a block is cut short or its sync marker is wrong")
            # The block's two varints are re-encoded rather than re-read from the file.
            parts.append(_long_bytes(count) + _long_bytes(length) + data)
            rows += count
            size += length
            if rows >= chunk_rows or size >= chunk_bytes:
                yield rows, b"".join(parts)
                parts, rows, size = [header], 0, 0
        if rows:
            yield rows, b"".join(parts)


def _long_bytes(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# --- the staging thread ---------------------------------------------------------------------


class _Cancelled(Exception):
    pass


class Withdrawn(Exception):
    """The file being read was staged again by the exact path: roll its transaction back and read it anew."""


def stage_schema(piece: int) -> str:
    """The schema a staging database is attached under on the writer's connection: the file's piece ``piece``."""
    return STAGE_SCHEMA if piece == 0 else f"{STAGE_SCHEMA}{piece}"


class Stager:
    """Stages the files of a load, in order, ahead of the writer that upserts them.

    Args:
        jobs: Every file of the load, in the order it is applied.
        group_of: For each file, the number of the transaction that reads it (non-decreasing):
            a unit's, or for a full resync (one short transaction per file) the file's own.
        spec: The feed's key, last-updated field and declared types.
        threaded: Stage in a background thread (the default) so decoding overlaps
            writing; ``False`` stages each group in the caller's thread when asked.
        directory: Where the staging databases go, in a folder of their own made there (a load passes
            :func:`core.store.staging_dir`, beside the database; the default, the system's temp
            directory, is for tests). A full disk there fails the load with
            :class:`core.errors.DiskFullError` naming the folder.
        prepare: Called with a file's index just before that file is staged, in load order and in
            the staging thread; returns the spec for that file (the run's plan fixes column types
            file by file, and may first wait for the file's download). Without it, ``spec`` serves all.

    Each group is staged into its own database file (:meth:`group_path`), written once
    and then only read: the writer attaches it (:meth:`attach`) for the transaction that
    reads it, and :meth:`release` deletes it. Use as a context manager; leaving it stops
    the thread and deletes the staging directory. Staging runs at most one group ahead of
    the writer, so the disk used is bounded by two groups, and memory by one chunk.
    """

    def __init__(
        self,
        jobs: list[DecodeJob],
        group_of: list[int],
        spec: DecodeSpec,
        *,
        threaded: bool = True,
        directory: str | None = None,
        prepare: Callable[[int], DecodeSpec] | None = None,
    ) -> None:
        self.jobs = jobs
        self.group_of = group_of
        self.spec = spec
        self.prepare = prepare
        self.threaded = threaded
        self.columnar = os.environ.get(COLUMNAR_ENV, "1") != "0"
        try:
            if directory is not None:
                private_dirs(Path(directory))
                _remove_dead_loads(Path(directory))
            self.directory = tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=directory)
        except OSError as error:
            raise _staging_failure(error, directory or tempfile.gettempdir()) from None
        self._results: dict[int, StagedFile] = {}
        self._lock = threading.Condition()
        self._allowed_group = 0
        """The writer is on this group; staging may go up to the end of the next."""
        self._cancel = False
        self._error: BaseException | None = None
        self._adbc: Any = None
        self._conn: sqlite3.Connection | None = None
        self._open_path: str | None = None
        self._thread: threading.Thread | None = None
        self._pieces_done: dict[int, int] = {}
        """For a file being staged in pieces (by ``id``), how many of its pieces are complete."""
        self._attached: set[int] = set()
        """Files in pieces (by ``id``) whose databases the writer has attached: only then are they written to."""
        self.awaiting_attach: set[int] = set()
        """Files in pieces (by ``id``) handed to the writer, whose staging waits until it has attached them."""
        self._read_only: bool | None = None
        """Whether SQLite honours ``mode=ro`` in an ATTACH (found out on the first attach)."""

    # -- lifecycle

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop staging, close the staging connections and delete the staging databases."""
        with self._lock:
            self._cancel = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close_connections()
        shutil.rmtree(self.directory, ignore_errors=True)

    def group_path(self, group: int) -> str:
        """The staging database of one group (a file name; it exists once the group is staged)."""
        return os.path.join(self.directory, f"g{group}.db")

    def attach(self, conn: sqlite3.Connection, files: list[StagedFile]) -> None:
        """Attach the staging databases of one transaction's files to the writer's connection.

        Call outside a transaction, after :meth:`wait_unit` returned the files, and :meth:`detach`
        after the transaction that read them. The databases of a file in pieces are attached
        under :attr:`StagedFile.schemas` (its pieces may still be being staged: read each after
        :meth:`pieces` yields it); the others are complete. Read-only when SQLite honours URI file
        names, so the writer's ``BEGIN IMMEDIATE`` takes no lock on them; where URIs are off (a
        build without ``SQLITE_USE_URI``) read-write, which is harmless: the writer only reads them.
        """
        paths = [path for staged in files for path in staged.paths]
        for number, path in enumerate(dict.fromkeys(paths)):
            self._attach_one(conn, path, stage_schema(number))
        with self._lock:
            # The pieces' data may be written now: ATTACH has read each database's schema.
            self._attached.update(id(staged) for staged in files)
            self._lock.notify_all()

    def _attach_one(self, conn: sqlite3.Connection, path: str, schema: str) -> None:
        resolved = Path(path).resolve()
        if self._read_only is not False:
            try:
                conn.execute(f"ATTACH DATABASE ? AS {schema}", ("file:" + resolved.as_posix() + "?mode=ro",))
                files = {row[1]: row[2] for row in conn.execute("PRAGMA database_list")}
                self._read_only = Path(files.get(schema) or "") == resolved
                if self._read_only:
                    return
                conn.execute(f"DETACH DATABASE {schema}")
            except sqlite3.OperationalError:
                self._read_only = False
        conn.execute(f"ATTACH DATABASE ? AS {schema}", (str(resolved),))

    def _start(self) -> None:
        if self.threaded and self.jobs and self._thread is None and not self._cancel:
            self._thread = threading.Thread(target=self._run, name="courier-stager", daemon=True)
            self._thread.start()

    @staticmethod
    def detach(conn: sqlite3.Connection) -> None:
        """Detach every staging database (outside a transaction); nothing happens when none is attached."""
        for number in range(MAX_PIECES):
            try:
                conn.execute(f"DETACH DATABASE {stage_schema(number)}")
            except sqlite3.OperationalError:
                pass  # not attached (the attach failed, or was never reached); nothing to undo

    # -- the writer's side

    def wait_unit(self, group: int, should_stop: Callable[[], bool] = lambda: False) -> list[StagedFile]:
        """Block until every file of ``group`` is staged (or failed); return them in order.

        Returns an empty list when ``should_stop()`` turned true while waiting.

        Raises:
            BaseException: whatever went wrong inside the staging thread, re-raised here.
        """
        indexes = [i for i, g in enumerate(self.group_of) if g == group]
        self._start()
        with self._lock:
            self._allowed_group = max(self._allowed_group, group)
            self._lock.notify_all()
        if not self.threaded:
            for index in indexes:
                if index not in self._results:
                    try:
                        self._results[index] = self._stage(index)
                    except BaseException as error:
                        if is_disk_full(error):
                            raise _staging_failure(error, self.directory) from None
                        raise
            self._close_connections()
            return [self._results[index] for index in indexes]
        done: list[StagedFile] = []
        for index in indexes:
            with self._lock:
                while index not in self._results and self._error is None:
                    if should_stop():
                        return []
                    self._lock.wait(0.2)
                if self._error is not None:
                    raise self._error
                done.append(self._results[index])
        return done

    def pieces(self, staged: StagedFile, should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """Yield the schema of each piece of ``staged`` as soon as it is staged, in order.

        Stops early (yielding nothing more) when ``should_stop()`` turns true; the caller checks it.
        A file in one database yields that one schema at once.

        Raises:
            Withdrawn: the file was staged again by the exact path after a piece the columnar
                path could not read; roll back and read the new one from :meth:`wait_unit`.
            BaseException: whatever went wrong inside the staging thread.
        """
        for number, schema in enumerate(staged.schemas):
            with self._lock:
                while number >= self._pieces_done.get(id(staged), len(staged.schemas)) and not staged.withdrawn:
                    if self._error is not None:
                        raise self._error
                    if should_stop():
                        return
                    self._lock.wait(0.2)
                if staged.withdrawn:
                    raise Withdrawn(staged.columns)
            yield schema

    def release(self, files: list[StagedFile]) -> None:
        """The writer has finished with these files (and detached them): their staging databases go."""
        for path in {path for staged in files for path in staged.paths}:
            try:
                os.remove(path)
            except OSError:
                pass  # already gone; the directory goes on close

    # -- the staging side

    def _run(self) -> None:
        try:
            for index in range(len(self.jobs)):
                with self._lock:
                    while not self._cancel and self.group_of[index] > self._allowed_group + 1:
                        self._lock.wait(0.5)
                    if self._cancel:
                        return
                staged_file = self._stage(index)
                if index + 1 == len(self.jobs) or self.group_of[index + 1] != self.group_of[index]:
                    # The group is complete: nothing writes its database again, so the writer may read it.
                    self._close_connections()
                with self._lock:
                    self._results[index] = staged_file
                    self._lock.notify_all()
        except _Cancelled:
            return
        except BaseException as error:  # handed to the writer, which raises it in its own thread
            if is_disk_full(error):
                error = _staging_failure(error, self.directory)
            with self._lock:
                self._error = error
                self._lock.notify_all()

    def _check(self) -> None:
        if self._cancel:
            raise _Cancelled()

    def _connections(self, index: int) -> tuple[Any, sqlite3.Connection]:
        """The staging connections to the database of file ``index``'s group (opened on first use)."""
        return self._connect(self.group_path(self.group_of[index]))

    def _connect(self, path: str) -> tuple[Any, sqlite3.Connection]:
        """Staging connections (ADBC's and the standard module's) to one staging database."""
        if self._open_path != path:
            self._close_connections()
            self._open_path = path
        if self._conn is None:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in _STAGE_PRAGMAS:
                self._conn.execute(pragma)
        if self._adbc is None:
            import adbc_driver_sqlite.dbapi as adbc

            self._adbc = adbc.connect(path, autocommit=True)
            cursor = self._adbc.cursor()
            try:
                for pragma in _STAGE_PRAGMAS:
                    cursor.execute(pragma)
            finally:
                cursor.close()
        return self._adbc, self._conn

    def _close_connections(self) -> None:
        if self._adbc is not None:
            try:
                self._adbc.close()
            except Exception:  # noqa: BLE001 - closing scratch; nothing to report
                pass
            self._adbc = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._open_path = None

    def _drop(self, index: int) -> None:
        """Drop what a failed columnar attempt staged of file ``index`` (the exact path stages it again)."""
        _, conn = self._connections(index)
        conn.execute(f'DROP TABLE IF EXISTS "{_table(index)}"')
        conn.execute(f'DROP TABLE IF EXISTS "{_rejects_table(index)}"')

    def piece_path(self, index: int, piece: int) -> str:
        """The staging database of piece ``piece`` of file ``index`` (a file staged in pieces)."""
        return os.path.join(self.directory, f"f{index}-{piece}.db")

    def _piece_count(self, index: int, job: DecodeJob) -> int:
        """How many pieces to stage file ``index`` in: several only for a big file read alone by its transaction."""
        if not self.threaded or self.group_of.count(self.group_of[index]) > 1:
            return 1
        try:
            size = os.path.getsize(job.path)
        except OSError:
            return 1
        return max(1, min(MAX_PIECES, size // MIN_PIECE_BYTES))

    def _stage(self, index: int) -> StagedFile:
        job = self.jobs[index]
        spec = self.spec if self.prepare is None else self.prepare(index)
        plan = columnar_plan(job, spec) if self.columnar else None
        if plan is not None:
            count = self._piece_count(index, job)
            try:
                return self._stage_columnar(index, job, plan, count)
            except _Cancelled:
                raise
            except BaseException as error:  # noqa: BLE001 - polars panics are BaseException
                if isinstance(error, (KeyboardInterrupt, SystemExit)) or is_disk_full(error):
                    raise  # a full disk fails the exact path too: say so now, not after decoding it again
                self._close_connections()
                if count > 1:
                    self._withdraw(index)
                else:
                    self._drop(index)
        return self._stage_exact(index, job, spec)

    def _withdraw(self, index: int) -> None:
        """Take back a file whose first pieces the writer may have read: it starts over with the exact path's."""
        with self._lock:
            withdrawn = self._results.pop(index, None)
            if withdrawn is not None:
                withdrawn.withdrawn = True
                self._pieces_done.pop(id(withdrawn), None)
            self._lock.notify_all()

    def _piece_done(self, staged: StagedFile, done: int) -> None:
        with self._lock:
            self._pieces_done[id(staged)] = done
            if done == len(staged.paths):
                self._pieces_done.pop(id(staged))
            self._lock.notify_all()

    def _stage_columnar(self, index: int, job: DecodeJob, columnar: ColumnarPlan, count: int = 1) -> StagedFile:
        import polars as pl

        plan = columnar.plan
        columns = [column.source for column in plan.columns]
        table = _table(index)
        staged = _described(StagedFile(index, table=table, columnar=True), plan)
        outputs = [f"c{position}" for position in range(len(columns))]
        if count == 1:
            staged.paths = [self.group_path(self.group_of[index])]
        else:
            staged.paths = [self.piece_path(index, piece) for piece in range(count)]
            staged.rejects = _rejects_table(index)
        for path in staged.paths:
            # No declared types: a value keeps the storage class ADBC binds (the type polars gave it).
            _, conn = self._connect(path)
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            conn.execute(f'CREATE TABLE "{table}" ({", ".join([*outputs, *_derived(columnar, job, outputs)])})')
            if staged.rejects:
                conn.execute(f'DROP TABLE IF EXISTS "{staged.rejects}"')
                conn.execute(f'CREATE TABLE "{staged.rejects}" ({", ".join(REJECT_COLUMNS)})')
        piece_bytes = first_bytes = chunk_bytes = CHUNK_BYTES
        if count > 1:
            # Every piece's database exists with its tables, so the writer can attach them all and begin its
            # transaction now, reading each piece as it is complete.
            self._close_connections()
            size = os.path.getsize(job.path)
            piece_bytes = first_bytes = max(MIN_PIECE_BYTES, size // count)
            chunk_bytes = max(1, min(CHUNK_BYTES, piece_bytes // PIECE_CHUNKS))
            if count >= 3:
                # The first piece is one chunk, and the rest of the file is shared evenly (see PIECE_CHUNKS).
                first_bytes = chunk_bytes
                piece_bytes = max(MIN_PIECE_BYTES, (size - first_bytes) // (count - 1))
            with self._lock:
                self._pieces_done[id(staged)] = 0
                self._results[index] = staged
                self._lock.notify_all()
                # ATTACH reads each database's first page and schema: while this thread's copy of SQLite wrote
                # a piece, the writer's copy (whose POSIX locks it cannot see) read a torn page and the load
                # failed with "database disk image is malformed". Nothing is written until all are attached.
                self.awaiting_attach.add(id(staged))
                while id(staged) not in self._attached and not self._cancel:
                    self._lock.wait(0.2)
                self.awaiting_attach.discard(id(staged))
                self._attached.discard(id(staged))  # an id may be reused by a later file
            self._check()

        def chunks() -> Iterator[tuple[int, bytes, int]]:
            first_row = 0
            for rows, piece in iter_block_chunks(job.path, chunk_bytes=chunk_bytes):
                yield rows, piece, first_row
                first_row += rows

        def decode(chunk: tuple[int, bytes, int]) -> tuple[int, Any, list[Reject], int]:
            rows, piece, first_row = chunk
            frame = pl.read_avro(io.BytesIO(piece))
            if frame.height != rows or frame.columns != columns:
                raise ValueError("polars read a different shape than the file declares")
            frame = frame.select(
                [_stored(frame, name, form).alias(out) for name, form, out in zip(columns, columnar.forms, outputs)]
            )
            frame, rejects = _row_rules(frame, columnar, outputs, first_row)
            return rows, frame, rejects, len(piece)

        number = filled = 0
        # Decoding the next chunks (polars, GIL released) overlaps staging this one (ADBC, GIL released).
        with closing(_in_order(chunks(), decode)) as decoded:
            for rows, frame, rejects, size in decoded:
                self._check()
                staged.rows_read += rows
                staged.rows_rejected += len(rejects)
                for row, _, source, text in rejects[: max(0, MAX_REJECT_REASONS - len(staged.reject_reasons))]:
                    staged.reject_reasons.append(f"{job.label} row {row}: {source}: {text}")
                adbc, conn = self._connect(staged.paths[number])
                if frame.height:
                    cursor = adbc.cursor()
                    try:
                        cursor.adbc_ingest(table, frame, mode="append")
                    finally:
                        cursor.close()
                staged.rows_staged += frame.height
                if rejects:
                    self._stage_rejects(staged, rejects, conn)
                filled += size
                if number < count - 1 and filled >= (first_bytes if number == 0 else piece_bytes):
                    self._close_connections()
                    number += 1
                    filled = 0
                    staged.piece_rows.append(staged.rows_staged - sum(staged.piece_rows))
                    self._piece_done(staged, number)
        self._close_connections()
        while len(staged.piece_rows) < count:
            staged.piece_rows.append(staged.rows_staged - sum(staged.piece_rows))
        if count > 1:
            self._piece_done(staged, count)
        return staged

    def _stage_rejects(self, staged: StagedFile, rejects: list[Reject], conn: sqlite3.Connection | None = None) -> None:
        conn = conn or self._connections(staged.index)[1]
        if not staged.rejects:
            staged.rejects = _rejects_table(staged.index)
            conn.execute(f'DROP TABLE IF EXISTS "{staged.rejects}"')
            conn.execute(f'CREATE TABLE "{staged.rejects}" ({", ".join(REJECT_COLUMNS)})')
        conn.executemany(f'INSERT INTO "{staged.rejects}" VALUES (?, ?, ?, ?)', rejects)

    def _stage_exact(self, index: int, job: DecodeJob, spec: DecodeSpec) -> StagedFile:
        _, conn = self._connections(index)
        table = _table(index)
        staged = StagedFile(index, table=table, paths=[self.group_path(self.group_of[index])])
        insert = ""
        conn.execute("BEGIN")
        try:
            # Big files still decode in helper processes (by chunks of blocks) on this path.
            for event in decode_files([job], spec, parallel=None if self.threaded else False):
                self._check()
                if isinstance(event, FileStarted):
                    staged.columns, staged.types = event.columns, event.types
                    staged.storage, staged.kinds, staged.origins = event.storage, event.kinds, event.origins
                    names = [f"c{position}" for position in range(len(event.columns))] + ["_pk", "_updated"]
                    # No declared types: every value keeps the type the exact path gave it.
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                    conn.execute(f'CREATE TABLE "{table}" ({", ".join(names)})')
                    insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(names))})'
                elif isinstance(event, RowsDecoded):
                    conn.executemany(insert, event.rows)
                    staged.rows_staged += len(event.rows)
                    if event.rejects:
                        self._stage_rejects(staged, event.rejects, conn)
                elif isinstance(event, FileDecoded):
                    staged.rows_read = event.rows_read
                    staged.rows_rejected = event.rows_rejected
                    staged.reject_reasons = list(event.reject_reasons)
                elif isinstance(event, FileFailed):
                    conn.execute("ROLLBACK")
                    return StagedFile(index, failure=event.message)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return staged


DECODERS = 2
"""Chunks of a file decoded at once, each in its own thread, while the staging thread stages the one before.

polars decodes a chunk with the GIL released, and its decoding costs more than ADBC's staging of it, so one
decoding thread set the pace of a lone file (an incremental part) with the writer waiting between pieces."""


def _in_order(items: Iterator[Any], work: Callable[[Any], Any], workers: int = DECODERS) -> Generator[Any, None, None]:
    """Yield ``work(item)`` for each of ``items`` in order, while ``workers`` threads already work on the next.

    At most ``workers`` results are made ahead of the one the caller holds, so memory stays bounded
    by a few chunks. An exception in ``work`` (a polars panic included) is raised here when its item's
    turn comes. Close the generator (``contextlib.closing``) when stopping early: work not yet started
    is cancelled and the threads end after their current item.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="courier-decoder")
    pending: deque[Future[Any]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _staging_failure(error: BaseException, where: str) -> CourierError:
    """The one-line error for a staging folder that cannot be made or written (``where``)."""
    if is_disk_full(error):
        return DiskFullError(disk_full_message(Path(where).parent, "staging a file for its load"))
    reason = getattr(error, "strerror", None) or str(error)
    return CourierError(f"cannot make a staging folder in {where}: {reason}")


def _remove_dead_loads(directory: Path) -> None:
    """Delete the staging folders of loads whose process is gone (killed mid-load): they would fill the disk."""
    try:
        entries = list(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        owner = staging_owner(entry.name)
        if owner is not None and not pid_alive(owner):
            shutil.rmtree(entry, ignore_errors=True)


def _table(index: int) -> str:
    return f"f{index}"


def _rejects_table(index: int) -> str:
    return f"r{index}"


def _described(staged: StagedFile, plan: Any) -> StagedFile:
    """Fill a staged file's column description from its plan (what the exact path's FileStarted says)."""
    staged.columns = [column.source for column in plan.columns]
    staged.types = [column.feed_type for column in plan.columns]
    staged.storage = [column.storage for column in plan.columns]
    staged.kinds = [column.kind for column in plan.columns]
    staged.origins = [column.origin for column in plan.columns]
    return staged


def _derived(columnar: ColumnarPlan, job: DecodeJob, outputs: list[str]) -> list[str]:
    """The staging table's ``_pk`` and ``_updated``, as columns SQLite derives when they are read.

    ``_pk`` is the key column's stored value (a single-field key, see :meth:`core.values.FilePlan.key`)
    and ``_updated`` the last-updated column's or the file's order key. Deriving them instead of
    binding two more values per row took a tenth off staging a chunk (measured with ADBC on the
    bench's pageviews), and the upsert reads the same ``_pk, _updated`` as from the exact path's table.
    """
    if columnar.updated_position is None:
        # The order key holds an S3 object key for a file-pattern courier (any text, quotes included): as the
        # hex of its UTF-8 bytes cast to text, the literal is exactly the string the exact path binds.
        updated = f"CAST(X'{job.order_key.encode('utf-8').hex()}' AS TEXT)"
    else:
        updated = outputs[columnar.updated_position]
    return [f"_pk AS ({outputs[columnar.key_position]}) VIRTUAL", f"_updated AS ({updated}) VIRTUAL"]


def _stored(frame: Any, name: str, form: str) -> Any:
    """The expression giving a column's stored value (see :func:`columnar_form`).

    Raises:
        NotColumnar: a value of this chunk is one the exact path would convert otherwise or reject.
    """
    import polars as pl

    column = pl.col(name)
    if form in ("integer", "boolean"):
        # SQLite stores a boolean as the integer 0 or 1, as it does Python's True and False.
        return column.cast(pl.Int64)
    if form == "text":
        return column.cast(pl.String)  # an enum arrives as a categorical
    if form == "binary":
        return column
    series = frame.get_column(name)
    if form == "float":
        if series.is_nan().any():
            raise NotColumnar(f"{name}: a NaN, which the exact path rejects")
        return column.cast(pl.Float64)  # an Avro float widens to the same double as in fastavro
    if form == "heap text":
        # Heap's text form: validate the shape and the calendar date, splice the rest, pad the fraction.
        shaped = series.str.contains(_FAST_ISO)
        days = series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        if (
            shaped.null_count() != series.null_count()
            or not shaped.fill_null(True).all()
            or days.null_count() != series.null_count()
            or series.str.starts_with("0000").any()
        ):
            raise NotColumnar(f"{name}: a value is not in Heap's plain timestamp form")
        # The shape is checked: after the 19 characters of date and time come ".", 1-6 digits, and "Z" or
        # nothing; slicing costs a third of what extracting the digits with a regex did.
        fraction = column.str.slice(20).str.strip_chars_end("Z").str.pad_end(6, "0")
        return pl.concat_str(
            [column.str.slice(0, 10), pl.lit("T"), column.str.slice(11, 8), pl.lit("."), fraction, pl.lit("Z")]
        )
    if form == "epoch":
        # Epoch numbers: the unit follows from the magnitude (ns, µs, ms, s), as in core.timestamps._from_int.
        if series.null_count() < len(series) and series.min() < 0:
            raise NotColumnar(f"{name}: a timestamp before 1970")
        if ((series.cast(pl.Int64) >= 10**17) & (series.cast(pl.Int64) % 1000 != 0)).any():
            raise NotColumnar(f"{name}: nanoseconds below a microsecond, which the exact path rejects")
        value = column.cast(pl.Int64)
        micros = (
            pl.when(value >= 10**17)
            .then(value // 1000)
            .when(value >= 10**14)
            .then(value)
            .when(value >= 10**11)
            .then(value * 1000)
            .otherwise(value * 1_000_000)
        )
        largest = frame.select(micros.max()).item()
        if largest is not None and largest > _MAX_MICROS:
            raise NotColumnar(f"{name}: a timestamp after the year 9999")
        return micros.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
    # A timestamp logical type: polars decoded it to an instant in UTC (or a naive local time). The range
    # is checked on the numbers the file holds, before any cast (an overflowing cast panics in polars).
    physical = series.to_physical()
    per_micro = {"ms": 1000, "us": 1}.get(series.dtype.time_unit or "")  # type: ignore[attr-defined]
    if per_micro is None:
        raise NotColumnar(f"{name}: a timestamp unit the columnar path does not convert")
    if physical.null_count() < len(physical) and (physical.min() < 0 or physical.max() > _MAX_MICROS // per_micro):
        raise NotColumnar(f"{name}: a timestamp outside 1970 to 9999")
    # A local timestamp is a wall-clock time in no zone: no "Z" (as core.values stores it).
    zone = "" if form == "local instant" else "Z"
    return column.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S.%6f" + zone)


def _row_rules(frame: Any, columnar: ColumnarPlan, outputs: list[str], first_row: int) -> tuple[Any, list[Reject]]:
    """Drop rejected rows; return ``(frame, rejects)`` (``_pk`` and ``_updated`` are derived, see :func:`_derived`).

    The rules :meth:`core.values.FilePlan.convert_row` and :meth:`~core.values.FilePlan.key`
    apply after conversion, in their order and words: a required field that is empty, then an
    empty primary key. (Conversion itself never rejects here: such a chunk raised
    :class:`NotColumnar`.) Rejects are :data:`core.decode.Reject` tuples, as the exact path makes them.
    """
    import polars as pl

    plan = columnar.plan

    def empty(position: int) -> Any:
        column = pl.col(outputs[position])
        if frame.schema[outputs[position]] == pl.String:
            return column.is_null() | (column == "")
        return column.is_null()

    checks: list[tuple[Any, str, str]] = [
        (empty(position), plan.columns[position].source, "a required field is empty") for position in plan.required
    ]
    checks.append(
        (empty(columnar.key_position), plan.columns[columnar.key_position].source, "the primary key is empty")
    )
    rejects: list[Reject] = []
    bad = pl.any_horizontal([condition for condition, _, _ in checks])
    if frame.select(bad.any()).item():
        column_of: Any = pl.lit(None, dtype=pl.String)
        reason_of: Any = pl.lit(None, dtype=pl.String)
        for condition, source, text in reversed(checks):
            column_of = pl.when(condition).then(pl.lit(source)).otherwise(column_of)
            reason_of = pl.when(condition).then(pl.lit(text)).otherwise(reason_of)
        key = outputs[columnar.key_position]
        numbered = (
            frame.with_row_index("_row", offset=first_row + 1)
            .filter(bad)
            .select("_row", key, column_of.alias("_column"), reason_of.alias("_reason"))
        )
        width = len(plan.columns)
        for row, value, source, text in numbered.iter_rows():
            raw: list[Any] = [None] * width
            raw[columnar.key_position] = value
            rejects.append((row, plan.key_text(tuple(raw)), source, text))
        frame = frame.filter(~bad)
    return frame, rejects
