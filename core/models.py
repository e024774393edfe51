"""Typed models of Courier's configuration, in Amperity's vocabulary.

These are plain values: validation lives in ``core.config`` and persistence in
``core.project``. Field names follow the project file's JSON keys with ``-``
and ``/`` turned into ``_``.
"""

from __future__ import annotations

import re
import typing
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

CREDENTIAL_TYPES = ("iam-role-to-role", "aws-profile", "iam-credential")
LAYOUTS = ("file-pattern", "heap-connect")
CONTENT_TYPES = ("application/avro", "text/csv", "application/x-ndjson")
FEED_TYPES = ("Boolean", "Date", "Datetime", "Decimal", "Float", "Integer", "String")
FEED_ID_RE = re.compile(r"^df-[A-Za-z0-9]{6,8}$")
PLACEHOLDER_FEED_ID = "df-xxxxxx"
GENERATED_UPDATED = "_updated"
"""System column that decides which row wins an upsert."""
PK_COLUMN = "_pk"
"""System column holding the primary key value (JSON text when composite)."""


@dataclass(frozen=True)
class Credential:
    """How to reach a bucket. Never holds a secret."""

    name: str
    type: str
    """One of ``CREDENTIAL_TYPES``."""
    role_arn: str | None = None
    """Role assumed with STS (``iam-role-to-role``; optional for ``iam-credential``)."""
    external_id: str | None = None
    """External ID passed to STS when assuming ``role_arn``."""
    profile: str | None = None
    """Named AWS profile (``aws-profile``; optional for ``iam-credential``)."""
    region: str | None = None
    endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO, LocalStack, the embedded demo)."""


@dataclass(frozen=True)
class Entity:
    """One element of a courier's entities list: a file to pull."""

    file_pattern: str
    tag: str
    """``file/tag``: load operations name the file by this."""
    content_type: str = "application/avro"
    optional: bool = False
    header_rows: int | None = None
    separator: str | None = None
    quote: str | None = None


@dataclass(frozen=True)
class LoadOperation:
    """One step of a feed's load operations: ``truncate`` or ``load``."""

    type: str
    file: str | None = None
    """The ``file/tag`` a ``load`` reads."""


@dataclass(frozen=True)
class Courier:
    """An Amazon S3 courier: where the files are and which feeds they load."""

    name: str
    credential: str
    bucket: str
    prefix: str = ""
    layout: str = "file-pattern"
    entities: tuple[Entity, ...] | None = None
    """``None`` only in the heap-connect layout: every Heap table is available."""
    load_operations: dict[str, tuple[LoadOperation, ...]] = field(default_factory=dict)
    """Feed ID → operations, in document order."""
    plugin: str = "amazon-s3"

    def known_tags(self) -> list[str] | None:
        """The file tags load operations may name, or ``None`` when any Heap table may be named."""
        if self.entities is None:
            return None
        return list(dict.fromkeys(entity.tag for entity in self.entities))


@dataclass(frozen=True)
class FeedField:
    """A column of a feed's domain table."""

    name: str
    type: str = "String"
    tags: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Feed:
    """How files load into the domain table ``<source>:<name>``."""

    id: str
    source: str
    name: str
    primary_key: tuple[str, ...]
    last_updated: str | None = None
    """Field whose value decides which row wins; ``None`` means a generated ``_updated``."""
    stitch: bool = False
    error_threshold: int = 1
    """Largest share of rejected rows (percent, 0–100) before a load fails."""
    fields: tuple[FeedField, ...] | None = None
    """``None`` until the fields come from a sample file's schema."""
    status: str = "active"
    """``draft`` until activated; only active feeds can be loaded by a courier."""

    @property
    def table_name(self) -> str:
        """The domain table's exact name."""
        return domain_table_name(self.source, self.name)


# --- one description per object -----------------------------------------------------------------
#
# A configuration object's dataclass is its one description: each field's project-document key
# is its name with ``_`` as ``-`` and its SQL column is its name, unless the field's metadata
# says otherwise (``described``). ``core.config`` takes the known document keys and defaults from
# it, ``core.project`` its SQL columns and its exported document, and the editors their defaults,
# so a new field is declared once (its validation, migration and widget aside).

NOT_IN_DOCUMENT = ""
"""A field's ``document`` key when the document holds it elsewhere (a name is the object's key)."""
NOT_STORED = ""
"""A field's ``column`` when the object's table does not hold it (its rows live in a child table)."""


def described(
    default: Any = MISSING, *, document: str | None = None, column: str | None = None, omit: tuple[Any, ...] = ()
) -> Any:
    """A dataclass field whose document key or SQL column differ from its name.

    Args:
        default: The field's default (immutable values only).
        document: Its project-document key; ``NOT_IN_DOCUMENT`` keeps it out of the body.
        column: Its column in the object's table; ``NOT_STORED`` keeps it out of the row.
        omit: Values the exported document leaves out (a key added later, whose absence means them).
    """
    metadata: dict[str, Any] = {"omit": omit}
    if document is not None:
        metadata["document"] = document
    if column is not None:
        metadata["column"] = column
    return field(default=default, metadata=metadata)


def document_key(item: Field[Any]) -> str:
    """The project-document key of a field (its name with ``-`` for ``_`` unless its metadata names one)."""
    return str(item.metadata.get("document", item.name.replace("_", "-")))


def document_keys(cls: type) -> tuple[str, ...]:
    """The document keys an object's body may hold, in declaration order (``core.config``'s known keys)."""
    return tuple(key for key in map(document_key, fields(cls)) if key != NOT_IN_DOCUMENT)


def field_default(cls: type, name: str) -> Any:
    """The declared default of one field (what a document or form that leaves it out means)."""
    for item in fields(cls):
        if item.name == name:
            if item.default is MISSING:
                raise KeyError(f"{cls.__name__}.{name} has no default")
            return item.default
    raise KeyError(f"{cls.__name__} has no field {name}")


def to_document(obj: Any) -> dict[str, Any]:
    """An object's body in project-document form; nested objects (tuples of dataclasses) become lists."""
    body: dict[str, Any] = {}
    for item in fields(obj):
        key = document_key(item)
        value = getattr(obj, item.name)
        if key == NOT_IN_DOCUMENT or (item.metadata.get("omit") and value in item.metadata["omit"]):
            continue
        if isinstance(value, tuple) and value and hasattr(value[0], "__dataclass_fields__"):
            value = [to_document(member) for member in value]
        body[key] = value
    return body


def stored_columns(cls: type) -> tuple[str, ...]:
    """The SQL columns of an object's table, in declaration order."""
    return tuple(
        column for column in (item.metadata.get("column", item.name) for item in fields(cls)) if column != NOT_STORED
    )


def to_row(obj: Any) -> tuple[Any, ...]:
    """An object's values for :func:`stored_columns` (booleans as SQLite's 0 and 1)."""
    return tuple(
        int(value) if isinstance(value, bool) else value
        for item in fields(obj)
        if item.metadata.get("column", item.name) != NOT_STORED
        for value in (getattr(obj, item.name),)
    )


def from_row(cls: type, row: Any, **children: Any) -> Any:
    """An object from its table's row (``children`` give the fields held in child tables)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = dict(children)
    for item in fields(cls):
        column = item.metadata.get("column", item.name)
        if column == NOT_STORED:
            continue
        value = row[column]
        values[item.name] = bool(value) if hints[item.name] is bool else value
    return cls(**values)


@dataclass(frozen=True)
class GroupCourier:
    """A courier's row in a courier group (a ``group_couriers`` row; ``couriers[]`` in the document)."""

    courier: str
    wait: str = "0m"
    """How long to poll for missing data, e.g. ``30m`` or ``2h``."""
    offset: str = described("0d", column="offset_text")
    """Load data this much older than the scheduled time, e.g. ``1d``."""
    notify_when_missing: bool = False
    stop_when_missing: bool = False


@dataclass(frozen=True)
class CourierGroup:
    """Couriers run as a unit, by hand or on a cron schedule (a ``courier_groups`` row)."""

    name: str = described(document=NOT_IN_DOCUMENT)
    schedule: str | None = None
    """Five-field cron in ``timezone``; ``None`` means manual runs only."""
    timezone: str = "UTC"
    file_dates_in_zone: bool = False
    enabled: bool = True
    couriers: tuple[GroupCourier, ...] = described((), column=NOT_STORED)
    """The couriers in run order (rows of ``group_couriers``)."""
    run_after: str | None = None
    """Another group (the constraint) whose run for this window, moved back by ``run_after_offset``, must have
    succeeded first."""
    run_after_offset: str = described("0d", omit=("0d", "0m", "0h", "0w"))
    """The constraint's offset (seed step 8): how much older the upstream run's window is than this group's."""
    notify_command: str | None = None
    """Shell command given the run's JSON summary on stdin when it ends."""


@dataclass
class Project:
    """The whole configuration, as one project file holds it."""

    credentials: dict[str, Credential] = field(default_factory=dict)
    couriers: dict[str, Courier] = field(default_factory=dict)
    feeds: dict[str, Feed] = field(default_factory=dict)
    groups: dict[str, CourierGroup] = field(default_factory=dict)


def domain_table_name(source: str, feed_name: str) -> str:
    """Amperity's domain table name, ``<data-source-name>:<feed-name>``."""
    return f"{source}:{feed_name}"


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQLite (names like ``Heap:Users`` need it)."""
    return '"' + name.replace('"', '""') + '"'
