"""The value rules: which type a column has, what it is called, and how each value is stored.

Every decoder (fastavro's per-record path, a columnar fast path, CSV and NDJSON)
gets its rules from here, so all of them give the same tables and the same
rejected rows. The API is a per-file :class:`FilePlan` made of one
:class:`ColumnPlan` per source column::

    plan = plan_file(fields, spec)        # fields: list[SourceField] of one file
    plan.columns[i].column                # domain-table column name (after naming rules)
    plan.columns[i].feed_type             # Amperity feed type the column is stored as
    plan.columns[i].storage               # SQLite declared type: INTEGER, REAL, TEXT, BLOB or ""
    plan.columns[i].origin                # declared / table / logical type / Avro type / Heap column
    plan.columns[i].convert               # raw value -> stored value, or None when stored as read
    values = plan.convert_row(raw)        # raises ValueRejected(column, reason)
    pk = plan.key(values)                 # the ``_pk`` value; raises ValueRejected

Raw values are what fastavro yields with **logical types switched off** (see
:func:`core.avro.iter_chunks`): ``timestamp-millis`` arrives as the long it is,
``decimal`` as its two's-complement bytes, ``uuid`` as text or 16 bytes, and
text that is not UTF-8 as a ``str`` holding lone surrogates (decoded with
``surrogateescape``). Conversions here are exact or they raise.

Type precedence (DESIGN.md "Values"): the feed's declared field type, then the
type the domain table already has for the column (so a file whose Avro type
drifted is converted to the table's type, or rejected), then the Avro logical
type, then the Avro primitive type. A name never decides a type, except the
fixed list :data:`HEAP_TIMESTAMP_COLUMNS` of Heap's own timestamp columns.

Column naming (:func:`assign_columns`): a source column keeps its exact name
unless that name equals, ignoring case, a reserved name (:data:`RESERVED_COLUMNS`)
or a column the table already has under another spelling; then it gets the
suffix ``~2`` (or ``~3``, ``~4``… — the first that is free). The mapping is
stored per table, so it never changes once made.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from core.models import FEED_TYPES, GENERATED_UPDATED, PK_COLUMN

__all__ = [
    "HEAP_TIMESTAMP_COLUMNS",
    "RESERVED_COLUMNS",
    "ColumnPlan",
    "FilePlan",
    "SourceField",
    "TypeChoice",
    "ValueRejected",
    "assign_columns",
    "choose_type",
    "converter",
    "key_value",
    "plan_file",
    "storage_for",
    "text_problem",
]

HEAP_TIMESTAMP_COLUMNS = frozenset({"time", "joindate", "last_modified"})
"""Heap's documented timestamp columns (heap-connect-s3.md §3.1–3.6): stored as Datetime when the
feed declares no type and the file sends them as string, int or long. Matched exactly (case matters).
``session_time`` is not one of them: Heap's docs disagree on whether it is a timestamp."""

RESERVED_COLUMNS = (PK_COLUMN, GENERATED_UPDATED, "rowid", "oid", "_rowid_")
"""Names a source column cannot have in a domain table: Courier's own columns and SQLite's rowid aliases."""

NAME_SUFFIX = "~"
"""A renamed column is ``<name>~<n>``, n from 2."""

_TIMESTAMP_LOGICAL = frozenset(
    {
        "timestamp-millis",
        "timestamp-micros",
        "timestamp-nanos",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "local-timestamp-nanos",
    }
)
_AVRO_FEED = {
    "boolean": "Boolean",
    "int": "Integer",
    "long": "Integer",
    "float": "Float",
    "double": "Float",
    "date": "Date",
    "decimal": "Decimal",
}
_STORAGE = {
    "Boolean": "INTEGER",
    "Date": "TEXT",
    "Datetime": "TEXT",
    "Decimal": "TEXT",
    "Float": "REAL",
    "Integer": "INTEGER",
    "String": "TEXT",
}
_BINARY = frozenset({"bytes", "fixed"})
_UNTYPED = frozenset({"union"})
"""Source types whose values keep their own SQLite storage class (a column without affinity)."""

ORIGINS = ("declared", "table", "logical type", "Avro type", "Heap column", "file")
"""Where a column's feed type came from, as the feed editor shows it."""


class ValueRejected(ValueError):
    """One value cannot be stored exactly; its row is rejected.

    Attributes:
        column: The source column's name ('' when the row as a whole is rejected).
        reason: One line saying why, without the column name.
    """

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}" if column else reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class SourceField:
    """One column of a source file, as its header or schema describes it.

    Attributes:
        name: Exactly as the file spells it.
        kind: ``boolean``, ``int``, ``long``, ``float``, ``double``, ``string``, ``bytes``, ``fixed``,
            ``enum``, ``array``, ``map``, ``record``, ``union`` (several non-null branches), ``null``,
            or a logical type: ``timestamp-millis|micros|nanos``, ``local-timestamp-…``, ``date``,
            ``time-millis``, ``time-micros``, ``uuid``, ``decimal``. CSV and NDJSON columns are ``string``
            and ``json``.
        base: The primitive under a logical type (``long`` for ``timestamp-millis``, ``fixed`` for a
            fixed ``decimal``); equal to ``kind`` otherwise.
        nullable: The field is a union with ``null``.
        scale: A ``decimal``'s scale.
    """

    name: str
    kind: str
    base: str = ""
    nullable: bool = True
    scale: int = 0


@dataclass(frozen=True)
class TypeChoice:
    """A column's feed type and where it came from (one of :data:`ORIGINS`)."""

    feed_type: str
    origin: str


def file_type(source: SourceField) -> TypeChoice:
    """The feed type a file's own schema gives a column: logical type, then Avro type, then Heap column."""
    kind = source.kind
    if source.base in ("csv", "json"):
        # Text files carry no types: every column is String unless the feed declares one.
        return TypeChoice("String", "file")
    if kind in _TIMESTAMP_LOGICAL:
        return TypeChoice("Datetime", "logical type")
    if kind in ("date", "decimal"):
        return TypeChoice(_AVRO_FEED[kind], "logical type")
    if kind in ("uuid", "time-millis", "time-micros"):
        return TypeChoice("String", "logical type")
    if source.name in HEAP_TIMESTAMP_COLUMNS and kind in ("string", "long", "int"):
        return TypeChoice("Datetime", "Heap column")
    return TypeChoice(_AVRO_FEED.get(kind, "String"), "Avro type")


def choose_type(source: SourceField, declared: str | None = None, table: str | None = None) -> TypeChoice:
    """A column's feed type by precedence: declared, the table's existing column, then the file's schema.

    Args:
        source: The column as this file describes it.
        declared: The feed's declared type for the field, if any.
        table: The feed type the domain table's column already has, if the column exists.
    """
    if declared:
        return TypeChoice(declared, "declared")
    if table:
        return TypeChoice(table, "table")
    return file_type(source)


def storage_for(feed_type: str, kind: str) -> str:
    """The SQLite declared type of a new column: BLOB for binary String columns, none for unions."""
    if feed_type == "String" and kind in _BINARY:
        return "BLOB"
    if feed_type == "String" and kind in _UNTYPED:
        return ""
    return _STORAGE.get(feed_type, "TEXT")


def feed_type_of_storage(storage: str) -> str:
    """The feed type an existing column's declared SQLite type stands for (for tables without a feed type)."""
    return {"INTEGER": "Integer", "REAL": "Float"}.get(storage.upper(), "String")


# --- names -----------------------------------------------------------------------------------


def assign_columns(sources: Iterable[str], known: dict[str, str], existing: Iterable[str] = ()) -> dict[str, str]:
    """Give each new source column its domain-table column name, deterministically.

    Args:
        sources: Source column names in the order first seen (files in load order, schema order).
        known: Source name → column name already assigned for this table (kept as they are).
        existing: Column names the table has that ``known`` does not explain (tables made before
            the mapping was stored); a source name equal to one of them maps onto it.

    Returns:
        The mapping for every name in ``sources`` and ``known``. A name keeps itself unless it equals a
        reserved name or a taken column ignoring case (SQLite compares names that way); then it
        becomes ``name~2``, ``name~3``… — the first free one.
    """
    mapping = dict(known)
    existing = list(existing)
    taken = {name.lower() for name in mapping.values()}
    taken.update(name.lower() for name in existing)
    reserved = {name.lower() for name in RESERVED_COLUMNS}
    exact_existing = set(existing) - set(mapping.values())
    for source in sources:
        if source in mapping:
            continue
        if source in exact_existing:
            mapping[source] = source
            exact_existing.discard(source)
            continue
        lowered = source.lower()
        if lowered not in taken and lowered not in reserved:
            mapping[source] = source
            taken.add(lowered)
            continue
        number = 2
        while f"{lowered}{NAME_SUFFIX}{number}" in taken or f"{lowered}{NAME_SUFFIX}{number}" in reserved:
            number += 1
        name = f"{source}{NAME_SUFFIX}{number}"
        mapping[source] = name
        taken.add(name.lower())
    return mapping


# --- text ------------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (it holds bytes that were not UTF-8), or ``None``."""
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = value[error.start]
        code = ord(bad)
        if 0xDC80 <= code <= 0xDCFF:
            return f"text is not valid UTF-8 (byte 0x{code - 0xDC00:02x} at character {error.start + 1})"
        return f"text holds an unpaired surrogate U+{code:04X} at character {error.start + 1}"
    return None


def _check_text(value: Any) -> Any:
    if type(value) is str and not value.isascii():
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    return value


# --- converters --------------------------------------------------------------------------------

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_FLOAT_EXACT = 2**53
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _int_range(value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"{value} does not fit SQLite's 64-bit integers")
    return value


def _integer(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return _int_range(value)
    if kind is bool:
        raise ValueError(f"{value!r} is a boolean, not an Integer")
    if kind is str:
        text = _check_text(value)
        if not _CANONICAL_INT.fullmatch(text):
            raise ValueError(f"{_show(text)} is not an Integer written exactly (digits, optional minus)")
        return _int_range(int(text))
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return _int_range(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError(f"{value} is not a whole number")
        return _int_range(int(value))
    raise ValueError(f"a {_kind_name(value)} is not an Integer")


def _float(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        if value != value:
            raise ValueError("NaN cannot be stored (SQLite turns NaN into NULL)")
        return value
    if kind is int:
        result = float(value)
        if abs(value) > _FLOAT_EXACT and int(result) != value:
            raise ValueError(f"{value} has more digits than a Float holds")
        return result
    if kind is bool:
        raise ValueError(f"{value!r} is a boolean, not a Float")
    if kind is str:
        text = _check_text(value)
        try:
            result = float(text)
        except ValueError:
            raise ValueError(f"{_show(text)} is not a number") from None
        if result != result:
            raise ValueError("NaN cannot be stored (SQLite turns NaN into NULL)")
        if "_" in text or text != text.strip():
            raise ValueError(f"{_show(text)} is not a number written exactly")
        return result
    if isinstance(value, Decimal):
        result = float(value)
        if not math.isfinite(result) or Decimal(repr(result)) != value:
            raise ValueError(f"{value} has more digits than a Float holds")
        return result
    raise ValueError(f"a {_kind_name(value)} is not a Float")


def _boolean(value: Any) -> Any:
    if value is True or value is False:
        return 1 if value else 0
    if type(value) is int:
        if value in (0, 1):
            return value
        raise ValueError(f"{value} is not a Boolean (0 or 1)")
    if type(value) is str:
        text = _check_text(value).lower()
        if text in ("true", "1"):
            return 1
        if text in ("false", "0"):
            return 0
        raise ValueError(f"{_show(value)} is not a Boolean (true or false)")
    raise ValueError(f"a {_kind_name(value)} is not a Boolean")


def _decimal_text(number: Decimal) -> str:
    if not number.is_finite():
        raise ValueError(f"{number} is not a finite number")
    return format(number, "f")


def _decimal(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        text = _check_text(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{_show(text)} is not a Decimal") from None
        if text != text.strip() or "_" in text:
            raise ValueError(f"{_show(text)} is not a Decimal written exactly")
        return _decimal_text(number)
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        # repr gives the shortest digits that read back as the same double.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if kind is bool:
        raise ValueError(f"{value!r} is a boolean, not a Decimal")
    raise ValueError(f"a {_kind_name(value)} is not a Decimal")


def _unscaled(data: bytes, scale: int) -> str:
    """An Avro decimal's two's-complement big-endian bytes as plain decimal text, exactly."""
    unscaled = int.from_bytes(data, "big", signed=True)
    if scale <= 0:
        return str(unscaled * 10 ** (-scale))
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    sign = "-" if unscaled < 0 else ""
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def _avro_decimal(scale: int) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray)):
            return _unscaled(bytes(value), scale)
        return _decimal(value)

    return convert


def _date_from_days(days: int) -> str:
    from core.timestamps import day_prefix as _day_prefix

    return _day_prefix(days)[:10]


def _date(value: Any) -> Any:
    from core.timestamps import to_iso_utc

    if type(value) is str:
        text = _check_text(value)
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            date.fromisoformat(text)
            return text
        raise ValueError(f"{_show(text)} is not a date (YYYY-MM-DD)")
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if type(value) in (int, float):
        stamp = to_iso_utc(value)
        if not stamp.endswith("T00:00:00.000000Z"):  # type: ignore[union-attr]
            raise ValueError(f"{value!r} is {stamp}, which has a time of day a Date cannot hold")
        return stamp[:10]  # type: ignore[index]
    raise ValueError(f"a {_kind_name(value)} is not a Date")


def _datetime(value: Any) -> Any:
    """Heap's tolerant timestamp forms (:func:`core.avro.to_iso_utc`), for declared and Heap columns."""
    from core.timestamps import to_iso_utc

    if type(value) is bool:
        raise ValueError(f"{value!r} is a boolean, not a Datetime")
    if type(value) is str:
        _check_text(value)
    try:
        return to_iso_utc(value)
    except (ValueError, OverflowError) as error:
        raise ValueError(str(error)) from None


def _timestamp(unit: int) -> Callable[[Any], Any]:
    """A timestamp logical type: the long counts ``unit`` per second, so no guessing."""
    from core.timestamps import from_datetime as _from_datetime
    from core.timestamps import from_micros as _from_micros

    def convert(value: Any) -> Any:
        if type(value) is int:
            if unit == 1000:
                micros = value * 1000
            elif unit == 1_000_000:
                micros = value
            else:
                micros, nanos = divmod(value, 1000)
                if nanos:
                    raise ValueError(f"{value} ns has nanoseconds, and a Datetime holds microseconds")
            try:
                return _from_micros(micros)
            except (ValueError, OverflowError):
                raise ValueError(f"{value} is outside the years 1-9999") from None
        if hasattr(value, "tzinfo"):
            return _from_datetime(value)
        return _datetime(value)

    return convert


def _time_of_day(unit: int) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if type(value) is not int:
            return _string(value)
        micros = value * (1_000_000 // unit)
        if not 0 <= micros < 86_400_000_000:
            raise ValueError(f"{value} is not a time of day")
        seconds, fraction = divmod(micros, 1_000_000)
        return "%02d:%02d:%02d.%06d" % (seconds // 3600, seconds // 60 % 60, seconds % 60, fraction)

    return convert


def _uuid(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 16:
            raise ValueError(f"{len(value)} bytes is not a uuid")
        return str(uuid.UUID(bytes=bytes(value)))
    if type(value) is str:
        _check_text(value)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(f"{_show(value)} is not a uuid") from None
    return _string(value)


def _json_value(value: Any) -> Any:
    """A container as Avro's JSON encoding: bytes as text of code points 0-255, field order kept."""
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, Decimal):
        # Only NDJSON gives a nested Decimal: a number no double holds as written. JSON text
        # would turn it into a string or a rounded number, so the row is rejected instead.
        raise ValueError(f"{value} inside a nested value is a number a Float cannot hold exactly")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} inside a nested value has no JSON form")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _string(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return _check_text(value)
    if kind is bytes or kind is bytearray:
        return bytes(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if value != value:
            raise ValueError("NaN cannot be stored as text exactly")
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(_json_value(value), ensure_ascii=False, separators=(",", ":"))
        return _check_text(text)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise ValueError(f"a {_kind_name(value)} has no text form")


def _untyped(value: Any) -> Any:
    """A value of a several-branch union: scalars keep their own storage class, containers become JSON."""
    kind = type(value)
    if kind is int:
        return _int_range(value)
    if kind is float:
        return _float(value)
    if kind is bool:
        return value
    return _string(value)


_BY_FEED_TYPE: dict[str, Callable[[Any], Any]] = {
    "Boolean": _boolean,
    "Date": _date,
    "Datetime": _datetime,
    "Decimal": _decimal,
    "Float": _float,
    "Integer": _integer,
    "String": _string,
}

_NATIVE = {
    ("long", "Integer"),
    ("int", "Integer"),
    ("boolean", "Boolean"),
    ("string", "String"),
    ("enum", "String"),
    ("bytes", "String"),
    ("fixed", "String"),
}
"""(source kind, feed type) pairs whose raw value is already the stored value (text is checked for
UTF-8 separately, only in blocks that had undecodable text)."""


def converter(source: SourceField, feed_type: str) -> Callable[[Any], Any] | None:
    """The function turning a raw value of ``source`` into its stored value as ``feed_type``.

    Returns ``None`` when the raw value is stored as it is. A converter never sees ``None`` and
    raises ``ValueError`` (one line, no column name) for a value it cannot store exactly.

    Raises:
        ValueError: ``feed_type`` is not one of Amperity's seven types.
    """
    if feed_type not in FEED_TYPES:
        raise ValueError(f"unknown feed type {feed_type!r}; use one of {', '.join(FEED_TYPES)}")
    kind = source.kind
    if (kind, feed_type) in _NATIVE:
        return None
    if kind in ("float", "double") and feed_type == "Float":
        return _float
    if kind == "union" and feed_type == "String":
        return _untyped
    if kind == "decimal":
        decimal = _avro_decimal(source.scale)
        if feed_type == "Decimal":
            return decimal
        chained = _BY_FEED_TYPE[feed_type]
        return lambda value: chained(decimal(value) if isinstance(value, (bytes, bytearray)) else value)
    if kind in _TIMESTAMP_LOGICAL:
        unit = 1000 if kind.endswith("millis") else 1_000_000 if kind.endswith("micros") else 1_000_000_000
        stamp = _timestamp(unit)
        if kind.startswith("local-"):
            # A local timestamp is a wall-clock time in no zone (Avro spec): stored without the
            # "Z" that would claim it is UTC.
            utc_stamp = stamp

            def stamp(value: Any) -> Any:
                text = utc_stamp(value)
                return text[:-1] if type(value) is int and text.endswith("Z") else text

        if feed_type == "Datetime":
            return stamp
        if feed_type in ("Integer", "Float", "Decimal"):
            return _BY_FEED_TYPE[feed_type]
        if feed_type == "Date":
            return lambda value: stamp(value)[:10]
        return lambda value: stamp(value) if type(value) is int else _string(value)
    if kind == "date":
        if feed_type in ("Date", "Datetime", "String"):
            suffix = "T00:00:00.000000Z" if feed_type == "Datetime" else ""

            def from_days(value: Any) -> Any:
                if type(value) is int:
                    return _date_from_days(value) + suffix
                return _BY_FEED_TYPE[feed_type](value)

            return from_days
        return _BY_FEED_TYPE[feed_type]
    if kind in ("time-millis", "time-micros") and feed_type == "String":
        return _time_of_day(1000 if kind == "time-millis" else 1_000_000)
    if kind == "uuid" and feed_type == "String":
        return _uuid
    return _BY_FEED_TYPE[feed_type]


# --- plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnPlan:
    """How one source column of one file is stored.

    Attributes:
        source: The source column name, exactly as the file spells it.
        column: The domain-table column name (see :func:`assign_columns`).
        kind: The file's type for the column (:attr:`SourceField.kind`).
        feed_type: One of Amperity's seven types; what the value is converted to.
        origin: Where ``feed_type`` came from (:data:`ORIGINS`).
        storage: The SQLite declared type for a new column.
        convert: Raw value → stored value (raises ``ValueError``), or ``None``: stored as read.
    """

    source: str
    column: str
    kind: str
    feed_type: str
    origin: str
    storage: str
    convert: Callable[[Any], Any] | None


@dataclass
class FilePlan:
    """The plans of every column of one file, plus its key rule (see the module docstring)."""

    columns: list[ColumnPlan]
    key_positions: list[int] = field(default_factory=list)
    key_names: tuple[str, ...] = ()
    required: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._active = [
            (position, plan.convert, plan.source)
            for position, plan in enumerate(self.columns)
            if plan.convert is not None
        ]
        self._text = [
            (position, plan.source)
            for position, plan in enumerate(self.columns)
            if plan.convert is None and plan.kind in ("string", "enum", "json", "union")
        ]

    def convert_row(self, raw: tuple[Any, ...], check_text: bool = False) -> tuple[Any, ...]:
        """Convert one row of raw values (in ``columns`` order) to stored values.

        Args:
            raw: The raw values.
            check_text: Also check text stored as read for undecodable bytes (set for rows of
                blocks that were decoded with ``surrogateescape``, and for CSV).

        Raises:
            ValueRejected: a value cannot be stored exactly, or a required field is empty.
        """
        values = list(raw)
        for position, convert, source in self._active:
            value = values[position]
            if value is not None:
                try:
                    values[position] = convert(value)  # type: ignore[misc]
                except (ValueError, TypeError, ArithmeticError, OverflowError) as error:
                    raise ValueRejected(source, str(error)) from None
        if check_text:
            for position, source in self._text:
                value = values[position]
                if type(value) is str and not value.isascii():
                    problem = text_problem(value)
                    if problem:
                        raise ValueRejected(source, problem)
        for position in self.required:
            if values[position] is None or values[position] == "":
                raise ValueRejected(self.columns[position].source, "a required field is empty")
        return tuple(values)

    def key(self, values: tuple[Any, ...]) -> Any:
        """The ``_pk`` of a converted row: the key's value, or a JSON array for a composite key.

        Raises:
            ValueRejected: a key field is empty.
        """
        positions = self.key_positions
        if len(positions) == 1:
            pk = values[positions[0]]
            if pk is None or pk == "":
                raise ValueRejected(self.columns[positions[0]].source, "the primary key is empty")
            return pk
        parts = [values[position] for position in positions]
        for position, part in zip(positions, parts):
            if part is None or part == "":
                raise ValueRejected(self.columns[position].source, "a primary key field is empty")
        return key_value(parts)

    def key_text(self, raw: tuple[Any, ...]) -> str | None:
        """The key of a raw row as readable text for a rejected-row record, or ``None``."""
        try:
            parts = [raw[position] for position in self.key_positions]
        except IndexError:
            return None
        if not parts or any(part is None for part in parts):
            return None
        shown = [
            bytes(part).hex()
            if isinstance(part, (bytes, bytearray))
            else str(part).encode("utf-8", "backslashreplace").decode("utf-8")
            for part in parts
        ]
        return shown[0] if len(shown) == 1 else json.dumps(shown, ensure_ascii=False)


def key_value(parts: list[Any]) -> Any:
    """The ``_pk`` of a key's stored parts: the one part itself, or a JSON array for a composite key."""
    if len(parts) == 1:
        return parts[0]
    # Binary parts as {"b": hex}: a string can never look like that, so distinct keys stay distinct.
    return json.dumps(
        [{"b": bytes(part).hex()} if isinstance(part, (bytes, bytearray)) else part for part in parts],
        ensure_ascii=False,
    )


def find_field(names: list[str], wanted: str) -> int | None:
    """The position of ``wanted`` in ``names``: the exact spelling, else the only case-insensitive match."""
    if wanted in names:
        return names.index(wanted)
    lowered = [position for position, name in enumerate(names) if name.lower() == wanted.lower()]
    return lowered[0] if len(lowered) == 1 else None


def lookup(mapping: dict[str, Any], name: str) -> Any:
    """``mapping[name]``, else the value of the only key equal to ``name`` ignoring case, else ``None``."""
    if name in mapping:
        return mapping[name]
    found = [value for key, value in mapping.items() if key.lower() == name.lower()]
    return found[0] if len(found) == 1 else None


def plan_file(
    fields: list[SourceField],
    *,
    declared: dict[str, str] | None = None,
    table_types: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    primary_key: tuple[str, ...] = (),
    required: Iterable[str] = (),
) -> FilePlan:
    """The plan for one file.

    Args:
        fields: The file's columns in its own order.
        declared: The feed's declared types by field name (exact names; a unique case-insensitive
            match also counts).
        table_types: Feed types the run has fixed for columns by source name (the domain table's
            existing columns and the first file of the run that had the column).
        names: Source name → domain column name (:func:`assign_columns`); a missing name keeps itself.
        primary_key: The feed's key fields (each must be in ``fields``; the caller checks).
        required: Field names that must have a value.
    """
    declared = declared or {}
    table_types = table_types or {}
    names = names or {}
    plans = []
    for source in fields:
        choice = choose_type(source, lookup(declared, source.name), table_types.get(source.name))
        if choice.origin == "table":
            # The run fixed the type from an earlier file; say where it really came from when it agrees.
            own = file_type(source)
            if own.feed_type == choice.feed_type:
                choice = own
        plans.append(
            ColumnPlan(
                source=source.name,
                column=names.get(source.name, source.name),
                kind=source.kind,
                feed_type=choice.feed_type,
                origin=choice.origin,
                storage=storage_for(choice.feed_type, source.kind),
                convert=converter(source, choice.feed_type),
            )
        )
    source_names = [source.name for source in fields]
    key_positions = [find_field(source_names, key) for key in primary_key]
    required_positions = [
        position for position in (find_field(source_names, name) for name in required) if position is not None
    ]
    return FilePlan(plans, [p for p in key_positions if p is not None], tuple(primary_key), required_positions)


def _show(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return repr(shown.encode("utf-8", "backslashreplace").decode("utf-8"))


def _kind_name(value: Any) -> str:
    names: dict[type, str] = {bytes: "binary value", bytearray: "binary value", dict: "record or map", list: "array"}
    return names.get(type(value), type(value).__name__)


BY_FEED_TYPE = _BY_FEED_TYPE
"""Feed type → exact converter (public name for :func:`core.avro.converter_for`)."""
