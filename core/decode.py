"""Decoding landed files into rows ready for a domain table.

Decoding is the slow half of a load, so for big loads it runs in a separate
process that stays ahead of the single SQLite writer, passing converted batches
through a bounded queue (memory stays flat whatever the file size). Files are
always emitted strictly in the order given: the writer applies them in
(dump, part) or (day, key) order and a newer row can never be overtaken by an
older one.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BATCH_ROWS = 2000
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
"""Below this much data, starting a decoder process costs more than it saves."""
QUEUE_BATCHES = 4
MAX_REJECT_REASONS = 5


@dataclass(frozen=True)
class DecodeSpec:
    """What a decoder needs to know about the feed (picklable).

    The value rules themselves are in :mod:`core.values`; this carries their inputs.
    """

    primary_key: tuple[str, ...]
    last_updated: str | None
    declared_types: dict[str, str] = field(default_factory=dict)
    """Field name → feed type, for fields the feed declares (exact name; a unique case-insensitive match counts)."""
    required: frozenset[str] = frozenset()
    """Names of fields that must have a value; rows without one are rejected."""
    table_types: dict[str, str] = field(default_factory=dict)
    """Source column → feed type the run fixed for it: the domain table's column type, or the first
    file's. A later file whose type drifted is converted to it exactly or its rows are rejected."""


@dataclass(frozen=True)
class DecodeJob:
    """One landed file to decode."""

    path: str
    content_type: str
    order_key: str
    """Generated ``_updated`` value: sorts later files after earlier ones."""
    label: str
    header_rows: int | None = None
    separator: str | None = None
    quote: str | None = None


@dataclass
class FileStarted:
    """A file's columns (its own schema order) and how each is stored (from its :class:`~core.values.FilePlan`)."""

    index: int
    columns: list[str]
    """Source column names, exactly as the file spells them."""
    types: list[str]
    """Feed type of each column."""
    storage: list[str] = field(default_factory=list)
    """SQLite declared type for each column, should it be created."""
    kinds: list[str] = field(default_factory=list)
    """The file's own type for each column (Avro type or logical type; ``string`` for CSV)."""
    origins: list[str] = field(default_factory=list)
    """Where each feed type came from (:data:`core.values.ORIGINS`)."""


Reject = tuple[int, str | None, str, str]
"""A rejected row: (row number in its file from 1, key as text or ``None``, source column or '', reason)."""


@dataclass
class RowsDecoded:
    """A batch of converted rows: the file's columns, then ``_pk`` and ``_updated``; and the rows rejected."""

    index: int
    rows: list[tuple[Any, ...]]
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class FileDecoded:
    """A file finished decoding."""

    index: int
    rows_read: int
    rows_rejected: int
    reject_reasons: list[str]


@dataclass
class FileFailed:
    """A file could not be read; ``message`` is one line."""

    index: int
    message: str


DecodeEvent = FileStarted | RowsDecoded | FileDecoded | FileFailed


def decode_files(jobs: list[DecodeJob], spec: DecodeSpec, *, parallel: bool | None = None) -> Iterator[DecodeEvent]:
    """Decode files in order, yielding their events.

    Args:
        jobs: Files in the order they must be applied.
        spec: The feed's key, last-updated field and declared types.
        parallel: Decode in a helper process; by default only when the files are big.
    """
    if parallel is None:
        parallel = sum(_size(job.path) for job in jobs) >= PARALLEL_MIN_BYTES
    # Only Avro files can be split between decoders (by their blocks).
    parallel = parallel and all(job.content_type == "application/avro" for job in jobs)
    if not parallel:
        yield from _decode_all(jobs, spec)
        return
    started = False
    try:
        for event in _decode_in_process(jobs, spec):
            started = True
            yield event
    except _DecoderDied:
        if started:
            raise RuntimeError("a decoder process ended unexpectedly") from None
        # Some hosts cannot start a helper process (e.g. an unimportable __main__): decode here instead.
        yield from _decode_all(jobs, spec)


class _DecoderDied(Exception):
    pass


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def decoder_count() -> int:
    """How many decoder processes to run: one per core, at least two (the writer mostly waits on them)."""
    import os

    return int(os.environ.get("COURIER_DECODERS", 0)) or max(2, min(4, os.cpu_count() or 2))


def _decode_in_process(jobs: list[DecodeJob], spec: DecodeSpec) -> Iterator[DecodeEvent]:
    import multiprocessing
    import queue as queue_module

    # spawn, not fork: the TUI and the scheduler call this from threads.
    context = multiprocessing.get_context("spawn")
    workers = decoder_count()
    queues = [context.Queue(maxsize=QUEUE_BATCHES) for _ in range(workers)]
    # Every decoder reads every file but decodes only its share of the chunks (chunk c goes to
    # decoder c % n); reading chunk c from decoder c % n gives the rows back in file order.
    processes = [
        context.Process(target=_decoder_main, args=(jobs, spec, queues[n], n, workers), daemon=True)
        for n in range(workers)
    ]
    for process in processes:
        process.start()

    def receive(worker: int) -> DecodeEvent:
        while True:
            try:
                return queues[worker].get(timeout=1.0)  # type: ignore[no-any-return]
            except queue_module.Empty:
                if not processes[worker].is_alive():
                    raise _DecoderDied() from None

    try:
        for _ in range(len(jobs)):
            starts = [receive(worker) for worker in range(workers)]
            failed = next((event for event in starts if isinstance(event, FileFailed)), None)
            if failed is not None:
                yield failed
                return
            yield starts[0]
            chunk = 0
            while True:
                event = receive(chunk % workers)
                if isinstance(event, RowsDecoded):
                    yield event
                    chunk += 1
                    continue
                if isinstance(event, FileFailed):
                    yield event
                    return
                # The first decoder out of chunks ends the file; the others must be done too.
                ends = [event] + [receive(worker) for worker in range(workers) if worker != chunk % workers]
                failed = next((end for end in ends if isinstance(end, FileFailed)), None)
                if failed is not None:
                    yield failed
                    return
                done = [end for end in ends if isinstance(end, FileDecoded)]
                reasons = sorted((reason for end in done for reason in end.reject_reasons), key=_reason_row)[
                    :MAX_REJECT_REASONS
                ]
                yield FileDecoded(
                    event.index, sum(end.rows_read for end in done), sum(end.rows_rejected for end in done), reasons
                )
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        for source in queues:
            source.close()
            source.cancel_join_thread()


def _reason_row(reason: str) -> int:
    marker = reason.rfind(" row ")
    digits = reason[marker + 5 :].split(":", 1)[0] if marker >= 0 else ""
    return int(digits) if digits.isdigit() else 0


def _exit_with_parent() -> None:
    """End this decoder as soon as the process that started it ends, for any reason (kill -9 included).

    A decoder blocked on a full queue would otherwise wait forever for a writer
    that is gone. The parent's sentinel becomes ready when the parent exits; a
    daemon thread waits on it and ends the process without cleanup (the queue
    has no reader left to flush to).
    """
    import multiprocessing
    import os
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="courier-parent-watch", daemon=True).start()


def _decoder_main(jobs: list[DecodeJob], spec: DecodeSpec, queue: Any, worker: int, workers: int) -> None:
    _exit_with_parent()
    for index, job in enumerate(jobs):
        failed = False
        for event in decode_file(index, job, spec, shard=(worker, workers)):
            queue.put(event)
            failed = failed or isinstance(event, FileFailed)
        if failed:
            return


def _decode_all(jobs: list[DecodeJob], spec: DecodeSpec) -> Iterator[DecodeEvent]:
    for index, job in enumerate(jobs):
        yield from decode_file(index, job, spec)


def decode_file(
    index: int, job: DecodeJob, spec: DecodeSpec, shard: tuple[int, int] | None = None
) -> Iterator[DecodeEvent]:
    """Decode one file; a read failure ends it with a :class:`FileFailed` event.

    Each row goes through the file's :class:`~core.values.FilePlan`: a value that cannot
    be stored exactly rejects its row (reported in :attr:`RowsDecoded.rejects`), never
    the file. With ``shard=(worker, workers)`` only that decoder's chunks of an Avro file
    are decoded, and every one of them is reported, even when all its rows were rejected.
    """
    from core.errors import CourierError
    from core.values import ValueRejected, find_field

    try:
        fields, batches = _open(job, shard)
    except CourierError as error:
        yield FileFailed(index, str(error))
        return
    columns = [source.name for source in fields]
    missing = [key for key in spec.primary_key if find_field(columns, key) is None]
    if missing:
        yield FileFailed(
            index,
            f"{job.label}: primary key field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} not in the file (columns: {', '.join(columns[:12])}"
            f"{'…' if len(columns) > 12 else ''}); fix the feed's primary key",
        )
        return
    if spec.last_updated and find_field(columns, spec.last_updated) is None:
        yield FileFailed(
            index,
            f"{job.label}: last-updated field {spec.last_updated} is not in the file; "
            "pick another field or generate an updated field",
        )
        return
    plan = file_plan(fields, spec)
    yield FileStarted(
        index,
        columns,
        [c.feed_type for c in plan.columns],
        [c.storage for c in plan.columns],
        [c.kind for c in plan.columns],
        [c.origin for c in plan.columns],
    )
    convert_row = plan.convert_row
    make_key = plan.key
    updated_position = find_field(columns, spec.last_updated) if spec.last_updated else None
    rows_read = rows_rejected = 0
    reasons: list[str] = []
    try:
        for first_row, batch, dirty in batches:
            out: list[tuple[Any, ...]] = []
            rejects: list[Reject] = []
            append = out.append
            for offset, raw in enumerate(batch, first_row + 1):
                rows_read += 1
                try:
                    values = convert_row(raw, dirty)
                    pk = make_key(values)
                    updated = job.order_key if updated_position is None else values[updated_position]
                except ValueRejected as error:
                    rows_rejected += 1
                    rejects.append((offset, plan.key_text(raw), error.column, error.reason))
                    if len(reasons) < MAX_REJECT_REASONS:
                        reasons.append(f"{job.label} row {offset}: {error}")
                    continue
                append((*values, pk, updated))
            if out or rejects or shard is not None:
                yield RowsDecoded(index, out, rejects)
    except CourierError as error:
        yield FileFailed(index, str(error))
        return
    yield FileDecoded(index, rows_read, rows_rejected, reasons)


def file_plan(fields: list[Any], spec: DecodeSpec) -> Any:
    """The :class:`~core.values.FilePlan` of a file with these fields under a feed's spec."""
    from core.values import plan_file

    return plan_file(
        fields,
        declared=spec.declared_types,
        table_types=spec.table_types,
        primary_key=spec.primary_key,
        required=spec.required,
    )


Batches = Iterator[tuple[int, list[tuple[Any, ...]], bool]]
"""``(number of the batch's first row from 0, raw rows, dirty)`` in file order; ``dirty``: check text."""


def _numbered(batches: Iterator[list[tuple[Any, ...]]], dirty: bool) -> Batches:
    seen = 0
    for batch in batches:
        yield seen, batch, dirty
        seen += len(batch)


def source_fields(job: DecodeJob) -> list[Any]:
    """A file's columns as :class:`~core.values.SourceField` (header only for Avro and CSV).

    Raises:
        CourierError: the file cannot be read.
    """
    return _open(job, None, header_only=True)[0]


def _open(job: DecodeJob, shard: tuple[int, int] | None = None, header_only: bool = False) -> tuple[list[Any], Batches]:
    if job.content_type == "application/avro":
        from core.avro import inspect_file, iter_chunks

        info = inspect_file(job.path)
        fields = [f.source() for f in info.fields]
        if header_only:
            return fields, iter(())
        worker, workers = shard if shard is not None else (0, 1)
        return fields, iter_chunks(job.path, [f.name for f in fields], BATCH_ROWS, worker, workers)
    if job.content_type == "text/csv":
        return _open_csv(job, header_only)
    if job.content_type == "application/x-ndjson":
        return _open_ndjson(job)
    from core.errors import AvroError

    raise AvroError(f"{job.label}: content type {job.content_type} cannot be loaded")


def _open_csv(job: DecodeJob, header_only: bool = False) -> tuple[list[Any], Batches]:
    from core.errors import AvroError
    from core.values import SourceField

    try:
        # surrogateescape: a cell that is not UTF-8 rejects its row (checked per row), not the file.
        handle = open(job.path, newline="", encoding="utf-8-sig", errors="surrogateescape")
        reader = csv.reader(handle, delimiter=job.separator or ",", quotechar=job.quote or '"')
        header_rows = 1 if job.header_rows is None else job.header_rows
        header: list[str] = []
        for _ in range(header_rows):
            header = next(reader, [])
    except (OSError, csv.Error) as error:
        raise AvroError(f"{job.label}: not a readable CSV file ({error})") from error
    if not header:
        first = next(reader, None)
        width = len(first) if first else 0
        header = [f"column_{n + 1}" for n in range(width)]
        pending = [first] if first else []
    else:
        pending = []
    fields = [SourceField(name, "string", "csv") for name in header]
    if header_only:
        handle.close()
        return fields, iter(())

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        try:
            batch: list[tuple[Any, ...]] = []
            for row in [*pending, *reader]:
                cells = [cell if cell != "" else None for cell in row[: len(header)]]
                cells.extend([None] * (len(header) - len(cells)))
                batch.append(tuple(cells))
                if len(batch) >= BATCH_ROWS:
                    yield batch
                    batch = []
            if batch:
                yield batch
        except csv.Error as error:
            raise AvroError(f"{job.label}: not a readable CSV file ({error})") from error
        finally:
            handle.close()

    return fields, _numbered(batches(), True)


def json_number(text: str) -> Any:
    """A JSON number with a fraction or exponent: a float when a double holds it as written, else its Decimal.

    ``json.loads`` alone turns ``1e400`` into ``inf`` and ``0.10000000000000000001`` into
    ``0.1``; the value rules then store the Decimal exactly, or reject the row.
    """
    from decimal import Decimal

    number = float(text)
    if math.isfinite(number) and Decimal(repr(number)) == Decimal(text):
        return number
    return Decimal(text)


def _open_ndjson(job: DecodeJob) -> tuple[list[Any], Batches]:
    from core.errors import AvroError
    from core.values import SourceField

    columns: dict[str, None] = {}
    try:
        with open(job.path, encoding="utf-8", errors="surrogateescape") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    record = json.loads(line, parse_float=json_number)
                    if not isinstance(record, dict):
                        raise ValueError(f"line {number} is not a JSON object")
                    columns.update(dict.fromkeys(record))
    except (OSError, ValueError) as error:
        raise AvroError(f"{job.label}: not a readable NDJSON file ({error})") from error
    names = list(columns)

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        batch: list[tuple[Any, ...]] = []
        with open(job.path, encoding="utf-8", errors="surrogateescape") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line, parse_float=json_number)
                    batch.append(tuple(record.get(name) for name in names))
                    if len(batch) >= BATCH_ROWS:
                        yield batch
                        batch = []
        if batch:
            yield batch

    return [SourceField(name, "json", "json") for name in names], _numbered(batches(), True)
