"""Reading Heap Connect Avro files and turning their values into SQLite values.

Heap writes Avro object container files (usually Snappy-compressed), each with
its own writer schema. This module reads those headers cheaply, streams records
in batches of tuples, maps Avro types onto Amperity's seven feed types, and
provides the per-value converters the loader applies before inserting.

Every failure to read a file surfaces as a one-line :class:`AvroError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import fastavro
from fastavro.read import BLOCK_READERS

from core.errors import AvroError
from core.timestamps import day_prefix as _day_prefix  # noqa: F401  (re-exported)
from core.timestamps import from_datetime as _from_datetime  # noqa: F401
from core.timestamps import from_micros as _from_micros  # noqa: F401
from core.timestamps import to_iso_utc  # noqa: F401  (re-exported for callers of core.avro)
from core.values import SourceField, file_type

__all__ = [
    "FEED_TYPES",
    "AvroField",
    "AvroInfo",
    "converter_for",
    "feed_type_for",
    "inspect_file",
    "iter_batches",
    "read_rows",
    "to_iso_utc",
]

FEED_TYPES = ("Boolean", "Date", "Datetime", "Decimal", "Float", "Integer", "String")
"""Amperity's seven feed field types; every Avro field maps onto one of them."""


@dataclass(frozen=True)
class AvroField:
    """One top-level field of a file's writer schema.

    Attributes:
        name: The field name exactly as the writer spelled it.
        avro_type: The primitive or logical type name of the non-null branch,
            e.g. ``"long"``, ``"string"``, ``"timestamp-micros"``; ``"union"``
            when a union has several non-null branches.
        nullable: Whether the field is a union that includes ``"null"``.
        feed_type: One of :data:`FEED_TYPES`, from the file alone (:func:`core.values.file_type`).
        origin: Where ``feed_type`` came from: ``logical type``, ``Avro type`` or ``Heap column``.
        base: The primitive under a logical type (``long`` for ``timestamp-millis``).
        scale: A ``decimal``'s scale.
    """

    name: str
    avro_type: str
    nullable: bool
    feed_type: str
    origin: str = "Avro type"
    base: str = ""
    scale: int = 0

    def source(self) -> SourceField:
        """The field as the value rules (:mod:`core.values`) see it."""
        return SourceField(self.name, self.avro_type, self.base or self.avro_type, self.nullable, self.scale)


@dataclass(frozen=True)
class AvroInfo:
    """What a file's header says, plus an optional record count.

    Attributes:
        fields: The writer schema's fields, in schema order.
        codec: The block codec, e.g. ``"null"``, ``"snappy"``, ``"deflate"``.
        row_count: The number of records, or ``None`` when not counted.
    """

    fields: list[AvroField]
    codec: str
    row_count: int | None


# --- errors --------------------------------------------------------------------


def _reason(exc: BaseException, at_end: bool = False) -> str:
    """Return a short, single-line explanation of why a file could not be read.

    ``at_end`` says the reader had consumed the whole file when it failed, which
    means the file was cut short rather than damaged in the middle.
    """
    text = " ".join(str(exc).split())
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, OSError):
        return (exc.strerror or type(exc).__name__).lower()
    if text.startswith("Unrecognized codec"):
        return f"unsupported codec {text.rpartition(':')[2].strip()!r}"
    if isinstance(exc, EOFError) or at_end:
        return "it ends in the middle of a block, so it looks truncated"
    if "cannot read header" in text:
        return "its header is damaged"
    if "sync marker" in text:
        return "a block's sync marker is missing, so the file is corrupt"
    if type(exc).__name__ in ("DecompressionError", "error") or "decompress" in text.lower():
        return "a compressed block is corrupt"
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason if len(reason) <= 100 else reason[:97] + "..."


def _unreadable(name: str, reason: str) -> AvroError:
    return AvroError(f"{name}: not a readable Avro file ({reason}); re-export it or remove it from the bucket")


def _record_fields(metadata: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Return the raw top-level fields of a file's writer schema, checking the codec."""
    codec = metadata.get("avro.codec", "null") or "null"
    if codec not in BLOCK_READERS:
        raise _unreadable(name, f"unsupported codec {codec!r}")
    raw = metadata.get("avro.schema")
    try:
        schema = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError as exc:
        raise _unreadable(name, "its embedded schema is not valid JSON") from exc
    if not isinstance(schema, dict) or schema.get("type") != "record":
        kind = schema.get("type") if isinstance(schema, dict) else schema
        raise _unreadable(name, f"its top-level schema is {kind!r}, not a record")
    fields = schema.get("fields")
    if not isinstance(fields, list):
        raise _unreadable(name, "its record schema has no field list")
    return fields


# --- schema → feed types -------------------------------------------------------

_LOGICAL = {
    "long": {
        "timestamp-millis",
        "timestamp-micros",
        "timestamp-nanos",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "local-timestamp-nanos",
        "time-micros",
    },
    "int": {"date", "time-millis"},
    "string": {"uuid"},
    "bytes": {"decimal"},
    "fixed": {"decimal", "uuid"},
}
"""The logical types Courier applies itself, by the primitive they annotate (others are ignored)."""


def feed_type_for(avro_field_name: str, avro_type: str) -> str:
    """Map an Avro field onto one of Amperity's seven feed types, from the file alone.

    The type comes from the Avro logical type, then the primitive type, never from
    the name — except Heap's own timestamp columns (:data:`core.values.HEAP_TIMESTAMP_COLUMNS`,
    exact names) sent as string/int/long, which are Datetime.

    Args:
        avro_field_name: The field name.
        avro_type: The primitive or logical type name of the non-null branch.

    Returns:
        One of :data:`FEED_TYPES`.
    """
    return file_type(SourceField(avro_field_name, avro_type, avro_type)).feed_type


_Info = tuple[str, str, int]
"""(kind, base primitive, decimal scale) of a schema."""


def _type_info(schema: Any, named: dict[str, _Info]) -> tuple[_Info, bool]:
    """Return ``((kind, base, scale), nullable)`` for a field's schema, collecting named types."""
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        nullable = len(branches) < len(schema)
        if not branches:
            return ("null", "null", 0), True
        if len(branches) > 1:
            for branch in branches:
                _type_info(branch, named)
            return ("union", "union", 0), nullable
        return _type_info(branches[0], named)[0], nullable
    if isinstance(schema, dict):
        base = schema.get("type")
        logical = schema.get("logicalType")
        scale = schema.get("scale", 0) if logical == "decimal" else 0
        scale = scale if isinstance(scale, int) else 0
        if base in ("record", "enum", "fixed", "error"):
            type_name = str(schema.get("name", ""))
            namespace = schema.get("namespace")
            kind = logical if base == "fixed" and logical in _LOGICAL["fixed"] else base
            if kind == "uuid" and schema.get("size") != 16:
                kind = "fixed"
            info = (str(kind), str(base), scale)
            named[type_name] = info
            named[type_name.rpartition(".")[2]] = info
            if namespace:
                named[f"{namespace}.{type_name}"] = info
            if base in ("record", "error"):
                # Nested named types must be registered so later references resolve.
                for field in schema.get("fields") or []:
                    _type_info(field.get("type"), named)
            return info, False
        if base in ("array", "map"):
            _type_info(schema.get("items") if base == "array" else schema.get("values"), named)
            return (str(base), str(base), 0), False
        (inner, inner_base, _), nullable = _type_info(base, named)
        if logical and inner == inner_base and logical in _LOGICAL.get(inner, ()):
            return (str(logical), inner, scale), nullable
        return (inner, inner_base, 0), nullable
    if isinstance(schema, str):
        if schema == "null":
            return ("null", "null", 0), True
        return named.get(schema, (schema, schema, 0)), False
    return ("unknown", "unknown", 0), False


def _fields_of(raw_fields: list[dict[str, Any]]) -> list[AvroField]:
    named: dict[str, _Info] = {}
    fields: list[AvroField] = []
    for raw in raw_fields:
        name = str(raw.get("name"))
        (kind, base, scale), nullable = _type_info(raw.get("type"), named)
        choice = file_type(SourceField(name, kind, base, nullable, scale))
        fields.append(AvroField(name, kind, nullable, choice.feed_type, choice.origin, base, scale))
    return fields


def _strip_logical_types(schema: Any) -> None:
    """Remove every ``logicalType`` from a parsed writer schema, in place.

    fastavro applies logical types while decoding, and one value it cannot represent
    (a ``timestamp-millis`` past year 9999, a ``uuid`` that is not one) raises in the
    middle of a block, failing the whole file. Without them fastavro yields the raw
    long, int, string or bytes, and :mod:`core.values` converts each exactly or rejects
    its row. The reader's record generator holds this same dict, so this works when
    done after the reader is made and before the first record is read.
    """
    if isinstance(schema, dict):
        schema.pop("logicalType", None)
        for value in schema.values():
            if isinstance(value, (dict, list)):
                _strip_logical_types(value)
    elif isinstance(schema, list):
        for value in schema:
            _strip_logical_types(value)


# --- reading -------------------------------------------------------------------


_MAGIC = b"Obj\x01"


def _open(path: str | Path, name: str) -> BinaryIO:
    """Open ``path`` positioned at its start, after checking the Avro magic bytes."""
    try:
        fo = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise _unreadable(name, _reason(exc)) from exc
    try:
        magic = fo.read(4)
        fo.seek(0)
    except OSError as exc:
        fo.close()
        raise _unreadable(name, _reason(exc)) from exc
    if magic != _MAGIC:
        fo.close()
        found = "the file is empty" if not magic else "no Avro header, so it is not an Avro container file"
        raise _unreadable(name, found)
    return fo


def _failure(name: str, exc: Exception, fo: BinaryIO) -> AvroError:
    """Describe a read failure, telling truncation (reader at end of file) from damage."""
    try:
        at_end = fo.tell() >= os.fstat(fo.fileno()).st_size
    except (OSError, ValueError):
        at_end = False
    return _unreadable(name, _reason(exc, at_end))


def inspect_file(path: str | Path, count_rows: bool = False) -> AvroInfo:
    """Read a file's header (and optionally count its records) without decoding rows.

    Args:
        path: The Avro file.
        count_rows: Also count records by summing each block's record count;
            blocks are decompressed (which verifies them) but never decoded.

    Returns:
        The fields in writer-schema order, the codec, and the row count if asked.

    Raises:
        AvroError: The file cannot be opened or is not readable Avro.
    """
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            if count_rows:
                blocks = fastavro.block_reader(fo)
                metadata = blocks.metadata
                raw_fields = _record_fields(metadata, name)
                row_count: int | None = sum(block.num_records for block in blocks)
            else:
                metadata = fastavro.reader(fo).metadata
                raw_fields = _record_fields(metadata, name)
                row_count = None
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc
    codec = metadata.get("avro.codec", "null") or "null"
    return AvroInfo(fields=_fields_of(raw_fields), codec=codec, row_count=row_count)


_ABSENT = object()
"""A dict key no record has, so ``record.get(_ABSENT)`` yields ``None``."""


def _row_getter(keys: list[str | None]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Build the fastest callable turning a record dict into a tuple of ``keys``."""
    if not keys:
        return lambda record: ()
    if all(k is not None for k in keys):
        if len(keys) == 1:
            only = keys[0]
            return lambda record: (record[only],)
        return itemgetter(*keys)  # type: ignore[arg-type]
    lookup = [_ABSENT if k is None else k for k in keys]
    return lambda record: tuple(map(record.get, lookup))


def _decoded_blocks(blocks: Any, wanted: Callable[[int], bool]) -> Iterator[tuple[int, list[Any], bool]]:
    """Decode the blocks ``wanted(block number)`` selects; yield ``(records before it, records, dirty)``.

    A block is decoded with strict UTF-8 first (no cost on clean data). Only when one of
    its strings is not UTF-8 is it decoded again with ``surrogateescape``, so every other
    value of the block survives and ``dirty`` tells the caller to check its text
    (:func:`core.values.text_problem`) and reject just the rows that hold bad bytes.
    Any other decode error is a damaged block and propagates.
    """
    _strip_logical_types(blocks.writer_schema)
    seen = 0
    for number, block in enumerate(blocks):
        count = block.num_records
        if wanted(number):
            dirty = False
            try:
                records = list(block)
            except UnicodeDecodeError:
                options = block.options
                previous = options.get("handle_unicode_errors", "strict")
                options["handle_unicode_errors"] = "surrogateescape"
                try:
                    block.bytes_.seek(0)
                    records = list(block)
                finally:
                    options["handle_unicode_errors"] = previous
                dirty = True
            yield seen, records, dirty
        seen += count


def iter_batches(path: str | Path, columns: list[str], batch_size: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """Stream a file's records as batches of tuples of raw values, one per requested column.

    Values are raw (logical types are not applied: see :func:`_strip_logical_types`);
    :mod:`core.values` turns them into stored values. Undecodable text arrives with
    lone surrogates in place of its bad bytes. The file is read block by block with
    its own writer schema; it is never loaded whole. Column names match the writer
    schema exactly, else case-insensitively; a column the file lacks yields ``None``.

    Args:
        path: The Avro file.
        columns: The columns wanted, in the order each tuple should hold them.
        batch_size: The maximum number of tuples per yielded list.

    Yields:
        Lists of at most ``batch_size`` tuples; a new list each time.

    Raises:
        AvroError: The file cannot be read, including corruption found mid-way
            (after the batches before the damage were yielded).
        ValueError: ``batch_size`` is less than 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    batch: list[tuple[Any, ...]] = []
    for _, rows, _dirty in iter_chunks(path, columns, batch_size, 0, 1):
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def _getter_for(raw_fields: list[dict[str, Any]], columns: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    from core.values import find_field

    names = [str(raw.get("name")) for raw in raw_fields]
    positions = [find_field(names, column) for column in columns]
    return _row_getter([None if position is None else names[position] for position in positions])


def iter_chunks(
    path: str | Path, columns: list[str], chunk_rows: int, worker: int, workers: int
) -> Iterator[tuple[int, list[tuple[Any, ...]], bool]]:
    """Stream one decoder's share of a file as raw values, for decoding a file in several processes.

    The file's blocks are grouped into chunks of consecutive blocks holding at
    least ``chunk_rows`` records; chunk ``c`` belongs to decoder ``c % workers``.
    Every decoder reads the same block headers, so all agree on the chunks, and
    blocks of other decoders' chunks are skipped without decoding their records.
    Values are raw, as in :func:`iter_batches`.

    Args:
        path: The Avro file.
        columns: The columns wanted, in tuple order (exact names, else case-insensitive).
        chunk_rows: The least number of records in a chunk.
        worker: This decoder's number, from 0.
        workers: How many decoders share the file.

    Yields:
        ``(number of the chunk's first row, counting from 0; the chunk's rows; dirty)`` for
        each of this decoder's chunks, in file order. ``dirty`` is true when a block of the
        chunk held text that is not UTF-8 (its rows must have their text checked).

    Raises:
        AvroError: The file cannot be read.
    """
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            blocks = fastavro.block_reader(fo)
            raw_fields = _record_fields(blocks.metadata, name)
            getter = _getter_for(raw_fields, columns)
            # Chunk boundaries depend only on block sizes, which every decoder reads alike.
            sizes: list[int] = []
            chunk_of: list[int] = []
            state = {"chunk": 0, "in_chunk": 0}

            def mine(number: int) -> bool:
                return chunk_of[number] % workers == worker

            def counted() -> Iterator[Any]:
                for block in blocks:
                    chunk_of.append(state["chunk"])
                    sizes.append(block.num_records)
                    state["in_chunk"] += block.num_records
                    if state["in_chunk"] >= chunk_rows:
                        state["chunk"] += 1
                        state["in_chunk"] = 0
                    yield block

            class _Blocks:
                writer_schema = blocks.writer_schema

                def __iter__(self) -> Iterator[Any]:
                    return counted()

            current = -1
            start = 0
            batch: list[tuple[Any, ...]] = []
            dirty = False
            for first, records, block_dirty in _decoded_blocks(_Blocks(), mine):
                number = len(chunk_of) - 1
                chunk = chunk_of[number]
                if chunk != current:
                    if current >= 0 and current % workers == worker:
                        yield start, batch, dirty
                    current, start, batch, dirty = chunk, first, [], False
                batch.extend(map(getter, records))
                dirty = dirty or block_dirty
            # Chunks that ended in blocks this decoder skipped, and the last one.
            if current >= 0:
                yield start, batch, dirty
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc


def read_rows(path: str | Path, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Read the first rows of a file, as raw values (logical types not applied).

    Args:
        path: The Avro file.
        limit: The maximum number of rows to return.

    Returns:
        The column names in writer-schema order and up to ``limit`` rows of raw values.

    Raises:
        AvroError: The file cannot be read.
    """
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            blocks = fastavro.block_reader(fo)
            columns = [str(raw.get("name")) for raw in _record_fields(blocks.metadata, name)]
            getter = _row_getter(list(columns))
            rows: list[tuple[Any, ...]] = []
            for _, records, _dirty in _decoded_blocks(blocks, lambda number: True):
                rows.extend(getter(record) for record in records[: max(limit, 0) - len(rows)])
                if len(rows) >= limit:
                    break
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc
    return columns, rows


# --- timestamps ------------------------------------------------------------------


def converter_for(feed_type: str) -> Callable[[object], object]:
    """Return the function that turns a value into its stored SQLite value as ``feed_type``.

    The rules live in :mod:`core.values` (this is its converter for a value whose
    source type is unknown, e.g. CSV text). ``None`` always stays ``None``.

    Returns:
        A converter that raises ``ValueError`` on a value it cannot store exactly.

    Raises:
        ValueError: ``feed_type`` is not one of :data:`FEED_TYPES`.
    """
    from core.values import BY_FEED_TYPE as _BY_FEED_TYPE

    if feed_type not in _BY_FEED_TYPE:
        raise ValueError(f"unknown feed type {feed_type!r}; use one of {', '.join(FEED_TYPES)}")
    convert = _BY_FEED_TYPE[feed_type]
    return lambda value: None if value is None else convert(value)
