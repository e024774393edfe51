"""Reading Heap Connect Avro files and turning their values into SQLite values.

Heap writes Avro object container files (usually Snappy-compressed), each with
its own writer schema. This module reads those headers cheaply, streams records
in batches of tuples, maps Avro types onto Amperity's seven feed types, and
provides the per-value converters the loader applies before inserting.

Every failure to read a file surfaces as a one-line :class:`AvroError`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import fastavro
from fastavro.read import BLOCK_READERS, LOGICAL_READERS

from core.errors import AvroError

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
        feed_type: One of :data:`FEED_TYPES`, from :func:`feed_type_for`.
    """

    name: str
    avro_type: str
    nullable: bool
    feed_type: str


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
    return AvroError(
        f"{name}: not a readable Avro file ({reason}); re-export it or remove it from the bucket"
    )


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

_DATETIME_TYPES = frozenset(
    {
        "timestamp-millis",
        "timestamp-micros",
        "timestamp-nanos",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "local-timestamp-nanos",
    }
)
_BASE_FEED = {
    "boolean": "Boolean",
    "int": "Integer",
    "long": "Integer",
    "float": "Float",
    "double": "Float",
    "date": "Date",
    "decimal": "Decimal",
}
_HEAP_TIME_NAMES = frozenset({"time", "joindate", "last_modified", "timestamp"})
_HEAP_TIME_CARRIERS = frozenset({"string", "long", "int"})


def feed_type_for(avro_field_name: str, avro_type: str) -> str:
    """Map an Avro field onto one of Amperity's seven feed types.

    Heap stores timestamps as plain strings or epoch integers, so a field whose
    name is ``time``, ``joindate``, ``last_modified``, ``timestamp`` or ends in
    ``_time``/``_at`` and whose type is string/long/int is a Datetime.
    ``session_time`` stays a String (even as a long) unless the writer declared
    a timestamp logical type, because Heap's docs disagree on whether it is a timestamp or
    seconds since the session started.

    Args:
        avro_field_name: The field name (matched case-insensitively).
        avro_type: The primitive or logical type name of the non-null branch.

    Returns:
        One of :data:`FEED_TYPES`.
    """
    if avro_type in _DATETIME_TYPES:
        return "Datetime"
    if avro_type in _HEAP_TIME_CARRIERS:
        lname = avro_field_name.lower()
        if lname == "session_time":
            return "String"
        if lname in _HEAP_TIME_NAMES or lname.endswith(("_time", "_at")):
            return "Datetime"
    return _BASE_FEED.get(avro_type, "String")


def _type_name(schema: Any, named: dict[str, str]) -> tuple[str, bool]:
    """Return ``(type name, nullable)`` for a field's schema, collecting named types."""
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        nullable = len(branches) < len(schema)
        if not branches:
            return "null", True
        if len(branches) > 1:
            return "union", nullable
        return _type_name(branches[0], named)[0], nullable
    if isinstance(schema, dict):
        base = schema.get("type")
        if base in ("record", "enum", "fixed", "error"):
            type_name = str(schema.get("name", ""))
            namespace = schema.get("namespace")
            kind = base
            logical = schema.get("logicalType")
            if base == "fixed" and logical and f"fixed-{logical}" in LOGICAL_READERS:
                kind = logical
            named[type_name] = kind
            named[type_name.rpartition(".")[2]] = kind
            if namespace:
                named[f"{namespace}.{type_name}"] = kind
            if base in ("record", "error"):
                # Nested named types must be registered so later references resolve.
                for field in schema.get("fields") or []:
                    _type_name(field.get("type"), named)
            return kind, False
        if base in ("array", "map"):
            return base, False
        logical = schema.get("logicalType")
        inner, nullable = _type_name(base, named)
        if logical and f"{inner}-{logical}" in LOGICAL_READERS:
            return str(logical), nullable
        return inner, nullable
    if isinstance(schema, str):
        if schema == "null":
            return "null", True
        return named.get(schema, schema), False
    return "unknown", False


def _fields_of(raw_fields: list[dict[str, Any]]) -> list[AvroField]:
    named: dict[str, str] = {}
    fields: list[AvroField] = []
    for raw in raw_fields:
        name = str(raw.get("name"))
        avro_type, nullable = _type_name(raw.get("type"), named)
        fields.append(AvroField(name, avro_type, nullable, feed_type_for(name, avro_type)))
    return fields


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


def iter_batches(
    path: str | Path, columns: list[str], batch_size: int = 5000
) -> Iterator[list[tuple[Any, ...]]]:
    """Stream a file's records as batches of tuples, one value per requested column.

    The file is read record by record with its own writer schema; it is never
    loaded whole. Column names match the writer schema case-insensitively, and a
    column the file lacks yields ``None``.

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
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            records = fastavro.reader(fo)
            raw_fields = _record_fields(records.metadata, name)
            by_lower: dict[str, str] = {}
            for raw in raw_fields:
                by_lower.setdefault(str(raw.get("name")).lower(), str(raw.get("name")))
            getter = _row_getter([by_lower.get(c.lower()) for c in columns])
            batch: list[tuple[Any, ...]] = []
            for record in records:
                batch.append(getter(record))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc


def iter_chunks(
    path: str | Path, columns: list[str], chunk_rows: int, worker: int, workers: int
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """Stream one decoder's share of a file, for decoding a file in several processes at once.

    The file's blocks are grouped into chunks of consecutive blocks holding at
    least ``chunk_rows`` records; chunk ``c`` belongs to decoder ``c % workers``.
    Every decoder reads the same block headers, so all agree on the chunks, and
    blocks of other decoders' chunks are skipped without decoding their records.

    Args:
        path: The Avro file.
        columns: The columns wanted, in tuple order (matched case-insensitively).
        chunk_rows: The least number of records in a chunk.
        worker: This decoder's number, from 0.
        workers: How many decoders share the file.

    Yields:
        ``(number of the chunk's first row, counting from 0; the chunk's rows)`` for
        each of this decoder's chunks, in file order.

    Raises:
        AvroError: The file cannot be read.
    """
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            blocks = fastavro.block_reader(fo)
            raw_fields = _record_fields(blocks.metadata, name)
            by_lower: dict[str, str] = {}
            for raw in raw_fields:
                by_lower.setdefault(str(raw.get("name")).lower(), str(raw.get("name")))
            getter = _row_getter([by_lower.get(c.lower()) for c in columns])
            chunk = in_chunk = seen = 0
            chunk_start = 0
            batch: list[tuple[Any, ...]] = []
            for block in blocks:
                if chunk % workers == worker:
                    batch.extend(map(getter, block))
                in_chunk += block.num_records
                seen += block.num_records
                if in_chunk >= chunk_rows:
                    if chunk % workers == worker:
                        yield chunk_start, batch
                        batch = []
                    chunk += 1
                    in_chunk = 0
                    chunk_start = seen
            if in_chunk and chunk % workers == worker:
                yield chunk_start, batch
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc


def read_rows(path: str | Path, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Read the first rows of a file for previews.

    Args:
        path: The Avro file.
        limit: The maximum number of rows to return.

    Returns:
        The column names in writer-schema order and up to ``limit`` rows of raw
        values (as fastavro decodes them).

    Raises:
        AvroError: The file cannot be read.
    """
    name = Path(path).name
    with _open(path, name) as fo:
        try:
            records = fastavro.reader(fo)
            columns = [str(raw.get("name")) for raw in _record_fields(records.metadata, name)]
            getter = _row_getter(list(columns))
            rows = [getter(record) for record in islice(records, max(limit, 0))]
        except AvroError:
            raise
        except Exception as exc:
            raise _failure(name, exc, fo) from exc
    return columns, rows


# --- timestamps ------------------------------------------------------------------

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NS_THRESHOLD = 10**17
_US_THRESHOLD = 10**14
_MS_THRESHOLD = 10**11
_FAST_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z?"
)
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LONG_FRACTION = re.compile(r"(\.[0-9]{6})[0-9]+")
_ZEROS = ("", "00000Z", "0000Z", "000Z", "00Z", "0Z", "Z")
"""The zeros (and ``Z``) that pad an n-digit fraction to six digits."""


@lru_cache(maxsize=8192)
def _day_prefix(days: int) -> str:
    """Return ``YYYY-MM-DDT`` for a day number counted from 1970-01-01."""
    try:
        day = date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError) as exc:
        raise ValueError("timestamp is outside the years 1-9999") from exc
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T"


@lru_cache(maxsize=8192)
def _date_text_prefix(text: str) -> str:
    """Validate a ``YYYY-MM-DD`` string and return it with the ``T`` separator."""
    date.fromisoformat(text)
    return text + "T"


@lru_cache(maxsize=16384)
def _minute_prefix(minutes: int) -> str:
    """Return ``YYYY-MM-DDTHH:MM:`` for a minute number counted from the epoch."""
    days, minute_of_day = divmod(minutes, 1440)
    hours, minute = divmod(minute_of_day, 60)
    return "%s%02d:%02d:" % (_day_prefix(days), hours, minute)


def _from_micros(micros: int) -> str:
    # A week of events spans ~10k distinct minutes, so caching the minute prefix
    # leaves only the seconds and fraction to format per value.
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    return "%s%02d.%06dZ" % (_minute_prefix(minutes), second, fraction)


def _from_int(value: int) -> str:
    magnitude = value if value >= 0 else -value
    if magnitude >= _US_THRESHOLD:
        if magnitude >= _NS_THRESHOLD:
            return _from_micros(value // 1000)
        return _from_micros(value)
    if magnitude >= _MS_THRESHOLD:
        return _from_micros(value * 1000)
    return _from_micros(value * 1_000_000)


def _from_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a timestamp")
    magnitude = abs(value)
    if magnitude >= _NS_THRESHOLD:
        micros = value / 1000
    elif magnitude >= _US_THRESHOLD:
        micros = value
    elif magnitude >= _MS_THRESHOLD:
        micros = value * 1000
    else:
        micros = value * 1_000_000
    return _from_micros(round(micros))


def _from_datetime(value: datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        try:
            value = value.astimezone(timezone.utc)
        except OverflowError as exc:
            raise ValueError("timestamp is outside the years 1-9999 in UTC") from exc
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _from_text(text: str) -> str:
    if _FAST_ISO.fullmatch(text):
        # The common Heap form: validate the calendar date once per distinct day
        # and splice the rest, padding the fraction so text order is time order.
        if len(text) > 20 and text[19] == ".":
            fraction = text[20:-1] if text[-1] == "Z" else text[20:]
            return _date_text_prefix(text[:10]) + text[11:20] + fraction + _ZEROS[len(fraction)]
        return _date_text_prefix(text[:10]) + text[11:19] + ".000000Z"
    stripped = text.strip()
    if _INTEGER_TEXT.fullmatch(stripped):
        return _from_int(int(stripped))
    if _FLOAT_TEXT.fullmatch(stripped):
        return _from_float(float(stripped))
    if _DATE_ONLY.fullmatch(stripped):
        return _date_text_prefix(stripped) + "00:00:00.000000Z"
    if not stripped or not stripped[:1].isdigit():
        raise ValueError(f"{text!r} is not a timestamp")
    # fromisoformat keeps at most microseconds but rejects some longer fractions.
    candidate = _LONG_FRACTION.sub(r"\1", stripped)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a timestamp") from exc
    return _from_datetime(parsed)


def to_iso_utc(value: object) -> str | None:
    """Normalise a Heap timestamp to ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.

    Accepts ``None``; datetimes (naive ones are taken as UTC); dates (midnight);
    epoch numbers whose unit follows from their magnitude (≥1e17 ns, ≥1e14 µs,
    ≥1e11 ms, otherwise seconds), also as numeric strings; and ISO-ish strings
    ``YYYY-MM-DD HH:MM:SS[.ffffff]``, ``YYYY-MM-DDTHH:MM:SS[.f…][Z|±HH:MM]`` or
    ``YYYY-MM-DD`` (no zone means UTC). The output always has six fraction
    digits, so comparing the strings compares the instants.

    Args:
        value: The raw value from an Avro record.

    Returns:
        The normalised string, or ``None`` for ``None``.

    Raises:
        ValueError: The value is not a timestamp in any accepted form.
    """
    kind = type(value)
    if kind is int:
        return _from_int(value)  # type: ignore[arg-type]
    if kind is str:
        return _from_text(value)  # type: ignore[arg-type]
    if value is None:
        return None
    if kind is float:
        return _from_float(value)  # type: ignore[arg-type]
    if isinstance(value, datetime):
        return _from_datetime(value)
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T00:00:00.000000Z"
    if isinstance(value, int) and not isinstance(value, bool):
        return _from_int(int(value))
    raise ValueError(f"{value!r} is not a timestamp")


# --- converters ------------------------------------------------------------------

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_TRUE_TEXT = frozenset({"true", "1"})
_FALSE_TEXT = frozenset({"false", "0"})


def _finite_decimal(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return number


def _to_integer(value: object) -> int | None:
    kind = type(value)
    if kind is int:
        result: int = value  # type: ignore[assignment]
    elif value is None:
        return None
    elif kind is bool:
        raise TypeError("a boolean is not an Integer")
    elif kind is str:
        text = value.strip()  # type: ignore[union-attr]
        if _INTEGER_TEXT.fullmatch(text):
            result = int(text)
        else:
            number = _finite_decimal(text)
            if number != number.to_integral_value():
                raise ValueError(f"{value!r} is not a whole number")
            result = int(number)
    elif kind is float or isinstance(value, Decimal):
        number_value: Any = value
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        if isinstance(value, Decimal) and (
            not value.is_finite() or value != value.to_integral_value()
        ):
            raise ValueError(f"{value!r} is not a whole number")
        result = int(number_value)
    elif isinstance(value, int):
        result = int(value)
    else:
        raise TypeError(f"{type(value).__name__} is not an Integer")
    if not _INT64_MIN <= result <= _INT64_MAX:
        raise ValueError(f"{result} does not fit a 64-bit integer")
    return result


def _to_float(value: object) -> float | None:
    kind = type(value)
    if kind is float:
        result: float = value  # type: ignore[assignment]
    elif value is None:
        return None
    elif kind is bool:
        raise TypeError("a boolean is not a Float")
    elif kind is str:
        text = value.strip()  # type: ignore[union-attr]
        if "_" in text:
            raise ValueError(f"{value!r} is not a number")
        result = float(text)
    elif isinstance(value, (int, float, Decimal)):
        try:
            result = float(value)
        except OverflowError as exc:
            raise ValueError(f"{value!r} is too large for a Float") from exc
    else:
        raise TypeError(f"{type(value).__name__} is not a Float")
    if result != result:
        raise ValueError("NaN is not a storable Float")
    return result


def _to_decimal(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a Decimal")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        # repr gives the shortest round-tripping digits, not the binary expansion.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return format(value, "f")
    if isinstance(value, str):
        return format(_finite_decimal(value.strip()), "f")
    raise TypeError(f"{type(value).__name__} is not a Decimal")


def _to_boolean(value: object) -> int | None:
    if value is None:
        return None
    if value is True or value is False:
        return 1 if value else 0
    if type(value) is int:
        if value in (0, 1):
            return value  # type: ignore[return-value]
        raise ValueError(f"{value!r} is not a Boolean (use 0 or 1)")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXT:
            return 1
        if text in _FALSE_TEXT:
            return 0
        raise ValueError(f"{value!r} is not a Boolean (use true or false)")
    raise TypeError(f"{type(value).__name__} is not a Boolean")


def _to_date(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            return _date_text_prefix(text)[:10]
        return to_iso_utc(text)[:10]  # type: ignore[index]
    if isinstance(value, datetime):
        return _from_datetime(value)[:10]
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, bool):
        raise TypeError("a boolean is not a Date")
    if isinstance(value, (int, float)):
        return to_iso_utc(value)[:10]  # type: ignore[index]
    raise TypeError(f"{type(value).__name__} is not a Date")


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _to_string(value: object) -> str | None:
    if type(value) is str or value is None:
        return value  # type: ignore[return-value]
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_CONVERTERS: dict[str, Callable[[object], object]] = {
    "Boolean": _to_boolean,
    "Date": _to_date,
    "Datetime": to_iso_utc,
    "Decimal": _to_decimal,
    "Float": _to_float,
    "Integer": _to_integer,
    "String": _to_string,
}


def converter_for(feed_type: str) -> Callable[[object], object]:
    """Return the function that turns a raw Avro value into its stored SQLite value.

    ``None`` always stays ``None``. Integer → int (numeric strings and whole
    floats accepted, booleans rejected, must fit 64 bits); Float → float (NaN
    rejected); Decimal → plain decimal text; Boolean → 1/0 (bool, 0/1,
    "true"/"false"); Date → ``YYYY-MM-DD``; Datetime → :func:`to_iso_utc`;
    String → text (strings unchanged, dicts/lists as sorted-key JSON, bytes
    decoded as UTF-8 with replacement).

    Args:
        feed_type: One of :data:`FEED_TYPES`.

    Returns:
        A converter that raises ``ValueError`` or ``TypeError`` on a value it
        cannot convert, so the caller can reject that row.

    Raises:
        ValueError: ``feed_type`` is not one of :data:`FEED_TYPES`.
    """
    try:
        return _CONVERTERS[feed_type]
    except KeyError:
        raise ValueError(
            f"unknown feed type {feed_type!r}; use one of {', '.join(FEED_TYPES)}"
        ) from None
