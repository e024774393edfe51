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

Fidelity is not traded for speed. A file goes through polars only when every
column it loads is one whose stored value is the decoded value itself (see
:func:`columnar_plan`); otherwise, or when polars cannot read the file (invalid
UTF-8, a union it does not know, a panic), the file is staged through the exact
per-record fastavro path of :mod:`core.decode` instead, into an untyped staging
table so each value keeps the type Python gave it. Either way the domain table
receives the staged rows through the same statement, so both paths give the same
table and the same rejected rows (``tests/test_fastload.py``).

Why a separate database: ADBC's driver has its own SQLite connection, which cannot
join the run's transaction. The staging file is in WAL mode and attached to the
run's connection read-only, so the run's transaction never takes a write lock on
it and this thread can stage the next unit meanwhile. A read transaction sees the
staging database as it was when the transaction began, so every file of a unit is
staged before the unit's transaction begins (:meth:`Stager.wait_unit`).
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
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
    RowsDecoded,
    decode_files,
)

CHUNK_ROWS = 32_768
"""Records per columnar chunk: big enough to amortise a call, small enough for flat memory (~25 MB)."""
CHUNK_BYTES = 16 * 1024 * 1024
"""A chunk also ends after this many compressed bytes, whatever the block sizes."""
COLUMNAR_ENV = "COURIER_COLUMNAR"
"""Set to ``0`` to stage every file through the exact per-record path (a diagnosis switch)."""
STAGE_SCHEMA = "courier_stage"
"""The name the staging database is attached under on the run's connection."""

_IDENTITY = {
    # Avro type → the feed type whose stored value is the decoded value unchanged.
    "long": "Integer",
    "int": "Integer",
    "double": "Float",
    "float": "Float",
    "string": "String",
}


@dataclass
class StagedFile:
    """A file staged for its upsert, or why it could not be.

    Attributes:
        index: The file's position in the load, from 0.
        table: The staging table (unqualified) holding ``c0 … cN, _pk, _updated``, in file order.
        columns: The file's columns, in its own schema order (``c0`` is the first).
        types: Their feed types.
        rows_read: Records read from the file.
        rows_staged: Rows in the staging table (read minus rejected).
        rows_rejected: Records rejected, with up to five reasons naming the row.
        columnar: True when polars decoded it; False for the exact per-record path.
        failure: One line when the file could not be read; then nothing else is set.
    """

    index: int
    table: str = ""
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_staged: int = 0
    rows_rejected: int = 0
    reject_reasons: list[str] = field(default_factory=list)
    columnar: bool = False
    failure: str | None = None


# --- which files the columnar path may take -------------------------------------------------


_EPOCH_DATETIME = frozenset({"string", "long", "int"})
"""Avro types a Datetime column may arrive as and still be converted column-wise."""
_LOGICAL_DATETIME = frozenset({"timestamp-millis", "timestamp-micros",
                               "local-timestamp-millis", "local-timestamp-micros"})
_FAST_ISO = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
             r"(?:\.[0-9]{1,6})?Z?$")
""":data:`core.avro._FAST_ISO`, anchored: the one text form converted column-wise."""
_MAX_MICROS = 253_402_300_799_999_999
"""9999-12-31T23:59:59.999999Z in microseconds since the epoch: the last instant the exact path formats."""


class NotColumnar(Exception):
    """This chunk has a value the columnar conversion does not cover; the file takes the exact path."""


def columnar_plan(job: DecodeJob, spec: DecodeSpec) -> tuple[list[str], list[str], list[str]] | None:
    """Return ``(columns, feed types, Avro types)`` when polars may decode ``job``; ``None`` sends it to the exact path.

    A column qualifies when its stored value is the decoded value itself (a plain
    ``long``/``int``/``double``/``float``/``string`` stored as the feed type it already
    is), or when it is a Datetime arriving as Heap's text form, as epoch numbers or
    as a ``timestamp-millis``/``-micros`` logical type (converted column-wise exactly
    as :func:`core.avro.to_iso_utc` does; a chunk holding any value outside the forms
    covered raises :class:`NotColumnar` and the file takes the exact path). Case
    twins (``Name`` and ``name``) and composite keys go to the exact path, which owns
    their rules.
    """
    if job.content_type != "application/avro" or len(spec.primary_key) != 1:
        return None
    from core.avro import inspect_file
    from core.errors import CourierError

    try:
        info = inspect_file(job.path)
    except CourierError:
        return None  # the exact path reports the failure in its own words
    columns = [f.name for f in info.fields]
    if len({name.lower() for name in columns}) != len(columns):
        return None
    types = [spec.declared_types.get(f.name.lower(), f.feed_type) for f in info.fields]
    for avro_field, kind in zip(info.fields, types):
        if _IDENTITY.get(avro_field.avro_type) == kind:
            continue
        if kind == "Datetime" and (avro_field.avro_type in _EPOCH_DATETIME or avro_field.avro_type in _LOGICAL_DATETIME):
            continue
        return None
    return columns, types, [f.avro_type for f in info.fields]


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


def iter_block_chunks(path: str, chunk_rows: int = CHUNK_ROWS,
                      chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
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


class Stager:
    """Stages the files of a load, in order, ahead of the writer that upserts them.

    Args:
        jobs: Every file of the load, in the order it is applied.
        unit_of: For each file, the number of the unit it commits in (non-decreasing).
        spec: The feed's key, last-updated field and declared types.
        threaded: Stage in a background thread (the default) so decoding overlaps
            writing; ``False`` stages each unit in the caller's thread when asked.
        directory: Where the staging database goes (default: the system temp dir).

    Use as a context manager; leaving it stops the thread and deletes the staging
    database. Staging runs at most one unit ahead of the writer, so the disk used
    is bounded by two units, and memory by one chunk.
    """

    def __init__(self, jobs: list[DecodeJob], unit_of: list[int], spec: DecodeSpec, *,
                 threaded: bool = True, directory: str | None = None) -> None:
        self.jobs = jobs
        self.unit_of = unit_of
        self.spec = spec
        self.threaded = threaded
        self.columnar = os.environ.get(COLUMNAR_ENV, "1") != "0"
        self._dir = tempfile.mkdtemp(prefix="courier-stage-", dir=directory)
        self.path = os.path.join(self._dir, "stage.db")
        self._results: dict[int, StagedFile] = {}
        self._released: list[StagedFile] = []
        self._lock = threading.Condition()
        self._allowed_unit = 0
        """The writer is on this unit; staging may go up to the end of the next."""
        self._cancel = False
        self._error: BaseException | None = None
        self._adbc: Any = None
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        # Created here, in WAL mode, so the writer can attach it before anything is staged. WAL mode is
        # kept in the file's header, which SQLite writes only once the file holds something: hence a table.
        conn = sqlite3.connect(self.path)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS courier_stage_header (n INTEGER)")
            conn.commit()
        finally:
            conn.close()

    # -- lifecycle

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop staging, close the staging connections and delete the staging database."""
        with self._lock:
            self._cancel = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close_connections()
        shutil.rmtree(self._dir, ignore_errors=True)

    def attach(self, conn: sqlite3.Connection) -> None:
        """Attach the staging database to the writer's connection (outside a transaction) and start staging.

        Read-only when SQLite honours URI file names, so the writer's ``BEGIN IMMEDIATE`` takes
        no lock on it and the thread keeps staging during the writer's transactions. Where
        URIs are off (a build without ``SQLITE_USE_URI``), it is attached read-write and each
        unit is staged in the writer's thread before its transaction instead.
        """
        resolved = Path(self.path).resolve()
        try:
            conn.execute(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", ("file:" + resolved.as_posix() + "?mode=ro",))
            files = {row[1]: row[2] for row in conn.execute("PRAGMA database_list")}
            read_only = Path(files.get(STAGE_SCHEMA) or "") == resolved
            if not read_only:
                conn.execute(f"DETACH DATABASE {STAGE_SCHEMA}")
        except sqlite3.OperationalError:
            read_only = False
        if not read_only:
            conn.execute(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", (str(resolved),))
            self.threaded = False
        self._start()

    def _start(self) -> None:
        if self.threaded and self.jobs and self._thread is None and not self._cancel:
            self._thread = threading.Thread(target=self._run, name="courier-stager", daemon=True)
            self._thread.start()

    @staticmethod
    def detach(conn: sqlite3.Connection) -> None:
        """Detach the staging database (outside a transaction)."""
        try:
            conn.execute(f"DETACH DATABASE {STAGE_SCHEMA}")
        except sqlite3.OperationalError:
            pass  # never attached (the attach failed); nothing to undo

    # -- the writer's side

    def wait_unit(self, unit: int, should_stop: Callable[[], bool] = lambda: False) -> list[StagedFile]:
        """Block until every file of ``unit`` is staged (or failed); return them in order.

        Returns an empty list when ``should_stop()`` turned true while waiting.

        Raises:
            BaseException: whatever went wrong inside the staging thread, re-raised here.
        """
        indexes = [i for i, u in enumerate(self.unit_of) if u == unit]
        self._start()
        with self._lock:
            self._allowed_unit = max(self._allowed_unit, unit)
            self._lock.notify_all()
        if not self.threaded:
            for index in indexes:
                if index not in self._results:
                    self._results[index] = self._stage(index)
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

    def release(self, files: list[StagedFile]) -> None:
        """The writer has committed these files: their staging tables may go."""
        tables = [staged for staged in files if staged.table]
        if not self.threaded:
            self._drop(tables)
            return
        with self._lock:
            self._released.extend(tables)
            self._lock.notify_all()

    # -- the staging side

    def _run(self) -> None:
        try:
            for index in range(len(self.jobs)):
                with self._lock:
                    while not self._cancel and self.unit_of[index] > self._allowed_unit + 1:
                        self._lock.wait(0.5)
                    if self._cancel:
                        return
                    released, self._released = self._released, []
                self._drop(released)
                staged_file = self._stage(index)
                with self._lock:
                    self._results[index] = staged_file
                    self._lock.notify_all()
        except _Cancelled:
            return
        except BaseException as error:  # handed to the writer, which raises it in its own thread
            with self._lock:
                self._error = error
                self._lock.notify_all()

    def _check(self) -> None:
        if self._cancel:
            raise _Cancelled()

    def _connections(self) -> tuple[Any, sqlite3.Connection]:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            # The staging file is scratch: losing it in a crash loses nothing, so never sync it.
            self._conn.execute("PRAGMA synchronous = OFF")
        if self._adbc is None:
            import adbc_driver_sqlite.dbapi as adbc

            self._adbc = adbc.connect(self.path, autocommit=True)
            cursor = self._adbc.cursor()
            try:
                cursor.execute("PRAGMA synchronous = OFF")
                cursor.execute("PRAGMA busy_timeout = 30000")
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

    def _drop(self, files: list[StagedFile]) -> None:
        if not files:
            return
        _, conn = self._connections()
        for staged in files:
            conn.execute(f'DROP TABLE IF EXISTS "{staged.table}"')

    def _stage(self, index: int) -> StagedFile:
        job = self.jobs[index]
        plan = columnar_plan(job, self.spec) if self.columnar else None
        if plan is not None:
            try:
                return self._stage_columnar(index, job, *plan)
            except _Cancelled:
                raise
            except BaseException as error:  # noqa: BLE001 - polars panics are BaseException
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise
                self._drop([StagedFile(index, table=_table(index))])
        return self._stage_exact(index, job)

    def _stage_columnar(self, index: int, job: DecodeJob, columns: list[str], types: list[str],
                        avro_types: list[str]) -> StagedFile:
        import polars as pl

        adbc, _ = self._connections()
        spec = self.spec
        lowered = [name.lower() for name in columns]
        failure = _missing_fields(job, spec, columns, lowered)
        if failure is not None:
            return StagedFile(index, failure=failure)
        key_positions = [lowered.index(key.lower()) for key in spec.primary_key]
        updated_position = lowered.index(spec.last_updated.lower()) if spec.last_updated else None
        required = [(position, columns[position]) for position, name in enumerate(lowered) if name in spec.required]
        table = _table(index)
        staged = StagedFile(index, table=table, columns=columns, types=types, columnar=True)
        outputs = [f"c{position}" for position in range(len(columns))]

        def decoded() -> Iterator[tuple[int, Any, int]]:
            first_row = 0
            for rows, piece in iter_block_chunks(job.path):
                frame = pl.read_avro(io.BytesIO(piece))
                if frame.height != rows or frame.columns != columns:
                    raise ValueError("polars read a different shape than the file declares")
                frame = frame.select([_stored(frame, name, kind, avro_type).alias(out)
                                      for name, kind, avro_type, out in zip(columns, types, avro_types, outputs)])
                frame, rejected = _apply_row_rules(frame, job, spec, columns, outputs, key_positions,
                                                   updated_position, required, first_row, staged)
                first_row += rows
                yield rows, frame, rejected

        created = False
        cursor = adbc.cursor()
        try:
            # Decoding the next chunk (polars, GIL released) overlaps staging this one (ADBC, GIL released).
            for rows, frame, rejected in _ahead(decoded()):
                self._check()
                staged.rows_read += rows
                staged.rows_rejected += rejected
                if frame.height or not created:
                    cursor.adbc_ingest(table, frame, mode="append" if created else "create")
                    created = True
                staged.rows_staged += frame.height
        finally:
            cursor.close()
        return staged

    def _stage_exact(self, index: int, job: DecodeJob) -> StagedFile:
        _, conn = self._connections()
        table = _table(index)
        staged = StagedFile(index, table=table)
        insert = ""
        conn.execute("BEGIN")
        try:
            # Big files still decode in helper processes (by chunks of blocks) on this path.
            for event in decode_files([job], self.spec, parallel=None if self.threaded else False):
                self._check()
                if isinstance(event, FileStarted):
                    staged.columns, staged.types = event.columns, event.types
                    names = [f"c{position}" for position in range(len(event.columns))] + ["_pk", "_updated"]
                    # No declared types: every value keeps the type the exact path gave it.
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                    conn.execute(f'CREATE TABLE "{table}" ({", ".join(names)})')
                    insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(names))})'
                elif isinstance(event, RowsDecoded):
                    conn.executemany(insert, event.rows)
                    staged.rows_staged += len(event.rows)
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


def _ahead(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """Yield ``items`` while a helper thread already produces the next ``depth`` of them.

    An exception in the helper (including a polars panic) is raised here, in order; if the
    consumer stops early, the helper notices within a fraction of a second and ends.
    """
    import queue

    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            message: tuple[str, Any] = ("end", None)
        except BaseException as error:  # noqa: BLE001 - handed over and raised by the consumer
            message = ("error", error)
        while not stop.is_set():
            try:
                handoff.put(message, timeout=0.2)
                return
            except queue.Full:
                continue

    helper = threading.Thread(target=produce, name="courier-decoder", daemon=True)
    helper.start()
    try:
        while True:
            try:
                kind, value = handoff.get(timeout=0.2)
            except queue.Empty:
                if not helper.is_alive() and handoff.empty():
                    raise RuntimeError("the decoding thread ended without finishing its file")
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        helper.join()


def _table(index: int) -> str:
    return f"f{index}"


def _missing_fields(job: DecodeJob, spec: DecodeSpec, columns: list[str], lowered: list[str]) -> str | None:
    """The exact path's message for a key or last-updated field the file lacks (same words)."""
    missing = [key for key in spec.primary_key if key.lower() not in lowered]
    if missing:
        return (f"{job.label}: primary key field{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} not in the file (columns: {', '.join(columns[:12])}"
                f"{'…' if len(columns) > 12 else ''}); fix the feed's primary key")
    if spec.last_updated and spec.last_updated.lower() not in lowered:
        return (f"{job.label}: last-updated field {spec.last_updated} is not in the file; "
                "pick another field or generate an updated field")
    return None


def _stored(frame: Any, name: str, kind: str, avro_type: str) -> Any:
    """The expression giving a column's stored value, or :class:`NotColumnar` when a value is not covered."""
    import polars as pl

    column = pl.col(name)
    if kind == "Integer":
        return column.cast(pl.Int64)
    if kind == "Float":
        return column.cast(pl.Float64)
    if kind != "Datetime":
        return column
    series = frame.get_column(name)
    if avro_type == "string":
        # Heap's text form: validate the shape and the calendar date, splice the rest, pad the fraction.
        shaped = series.str.contains(_FAST_ISO)
        days = series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        if (shaped.null_count() != series.null_count() or not shaped.fill_null(True).all()
                or days.null_count() != series.null_count() or series.str.starts_with("0000").any()):
            raise NotColumnar(f"{name}: a value is not in Heap's plain timestamp form")
        fraction = column.str.extract(r"\.([0-9]{1,6})", 1).fill_null("").str.pad_end(6, "0")
        return pl.concat_str([column.str.slice(0, 10), pl.lit("T"), column.str.slice(11, 8), pl.lit("."),
                              fraction, pl.lit("Z")])
    if avro_type in _EPOCH_DATETIME:
        # Epoch numbers: the unit follows from the magnitude (ns, µs, ms, s), as in core.avro._from_int.
        if series.null_count() < len(series) and series.min() < 0:
            raise NotColumnar(f"{name}: a timestamp before 1970")
        value = column.cast(pl.Int64)
        micros = (pl.when(value >= 10**17).then(value // 1000)
                  .when(value >= 10**14).then(value)
                  .when(value >= 10**11).then(value * 1000)
                  .otherwise(value * 1_000_000))
        if frame.select(micros.max()).item() is not None and frame.select(micros.max()).item() > _MAX_MICROS:
            raise NotColumnar(f"{name}: a timestamp after the year 9999")
        return micros.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
    # A timestamp logical type: polars decoded it to an instant in UTC (or a naive local time).
    micros = series.cast(pl.Datetime("us")).dt.epoch("us")
    if micros.null_count() < len(micros) and (micros.min() < 0 or micros.max() > _MAX_MICROS):
        raise NotColumnar(f"{name}: a timestamp outside 1970 to 9999")
    return column.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ")


def _apply_row_rules(frame: Any, job: DecodeJob, spec: DecodeSpec, columns: list[str], outputs: list[str],
                     key_positions: list[int], updated_position: int | None,
                     required: list[tuple[int, str]], first_row: int, staged: StagedFile) -> tuple[Any, int]:
    """Add ``_pk`` and ``_updated``, drop rejected rows; return ``(frame, rows rejected)``.

    The same rules, in the same order and with the same words, as :func:`core.decode.decode_file`:
    a required field that is empty, then an empty or incomplete primary key.
    """
    import polars as pl

    def empty(position: int) -> Any:
        column = pl.col(outputs[position])
        if frame.schema[outputs[position]] == pl.String:
            return column.is_null() | (column == "")
        return column.is_null()

    checks: list[tuple[Any, str]] = [(empty(position), f"required field {name} is empty")
                                     for position, name in required]
    if len(key_positions) == 1:
        checks.append((empty(key_positions[0]), f"primary key {spec.primary_key[0]} is empty"))
    else:
        incomplete = pl.any_horizontal([empty(position) for position in key_positions])
        checks.append((incomplete, f"primary key {', '.join(spec.primary_key)} is incomplete"))
    reason: Any = pl.lit(None, dtype=pl.String)
    for condition, text in reversed(checks):
        reason = pl.when(condition).then(pl.lit(text)).otherwise(reason)
    frame = frame.with_columns(reason.alias("_reason"))
    bad = frame.filter(pl.col("_reason").is_not_null())
    rejected = bad.height
    if rejected:
        room = MAX_REJECT_REASONS - len(staged.reject_reasons)
        if room > 0:
            numbered = frame.with_row_index("_row", offset=first_row + 1).filter(pl.col("_reason").is_not_null())
            for row, text in numbered.select("_row", "_reason").head(room).iter_rows():
                staged.reject_reasons.append(f"{job.label} row {row}: {text}")
        frame = frame.filter(pl.col("_reason").is_null())
    frame = frame.drop("_reason")
    pk = pl.col(outputs[key_positions[0]])  # columnar_plan sends composite keys to the exact path
    updated = pl.lit(job.order_key) if updated_position is None else pl.col(outputs[updated_position])
    return frame.with_columns(pk.alias("_pk"), updated.alias("_updated")), rejected
