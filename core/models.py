"""Typed models of Courier's configuration, in Amperity's vocabulary.

These are plain values: validation lives in ``core.config`` and persistence in
``core.project``. Field names follow the project file's JSON keys with ``-``
and ``/`` turned into ``_``.
"""

from __future__ import annotations

import json
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


# --- one description per object -----------------------------------------------------------------
#
# A configuration object's dataclass is its one description. Each field's project-document key is
# its name with ``_`` as ``-`` and its SQL column is its name, unless the field's metadata says
# otherwise (``described``); its type and default say whether the document must hold it, and its
# metadata the values it may take (``choices``, ``pattern``). ``core.config`` validates documents
# from these (known keys, required keys, types, defaults, choices, patterns), ``core.project``
# takes its SQL columns and its exported document from them, and the editors their defaults and
# field names, so a new field is declared once (rules across fields, its migration and its widget
# aside).

NOT_IN_DOCUMENT = ""
"""A field's ``document`` key when the document holds it elsewhere (a name is the object's key)."""
NOT_STORED = ""
"""A field's ``column`` when the object's table does not hold it (its rows live in a child table)."""

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
WAIT_RE = re.compile(r"^(\d+)(s|m|h|d)$")
OFFSET_RE = re.compile(r"^(\d+)(m|h|d|w)$")
OFFSET_HINT = "use a number and m, h, d or w, e.g. 1d or 13h"


def described(
    default: Any = MISSING,
    *,
    document: str | None = None,
    column: str | None = None,
    omit: tuple[Any, ...] = (),
    within: str | None = None,
    keyed: str | None = None,
    present: str | None = None,
    as_json: bool = False,
    choices: tuple[str, ...] = (),
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
    blank: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
    invalid: str = "must be a whole number",
    kw_only: bool = False,
) -> Any:
    """A dataclass field with what the document, the table and validation need to know beyond its name and type.

    Args:
        default: The field's default (immutable values only); without one the document must hold the key.
        document: Its project-document key; ``NOT_IN_DOCUMENT`` keeps it out of the body.
        column: Its column in the object's table; ``NOT_STORED`` keeps it out of the row.
        omit: Values the exported document leaves out (a key added later, whose absence means them).
        within: The document key of the object it is nested in (``object/land-as`` for an entity's tag).
        keyed: For a tuple of objects: the document holds them as an object keyed by this field of each.
        present: For an optional tuple of child rows: the column that says whether it is set at all.
        as_json: The column holds the value (a tuple of strings) as a JSON array.
        choices: The only values the document may give.
        pattern: What a string value must match; ``hint`` says how, in the problem.
        blank: An empty string is a value (a prefix), not a missing one.
        minimum: The smallest whole number allowed (``int`` fields); ``maximum`` the largest.
        invalid: What the problem says when an ``int`` field's value is not allowed.
        kw_only: Passed to ``dataclasses.field`` (a defaulted field declared early, for document order).
    """
    metadata: dict[str, Any] = {
        "omit": omit,
        "choices": choices,
        "pattern": pattern,
        "hint": hint,
        "blank": blank,
        "minimum": minimum,
        "maximum": maximum,
        "invalid": invalid,
    }
    for key, value in (
        ("document", document),
        ("column", column),
        ("within", within),
        ("keyed", keyed),
        ("present", present),
    ):
        if value is not None:
            metadata[key] = value
    if as_json:
        metadata["json"] = True
    return field(default=default, metadata=metadata, kw_only=kw_only)


def document_key(item: Field[Any]) -> str:
    """The project-document key of a field (its name with ``-`` for ``_`` unless its metadata names one)."""
    return str(item.metadata.get("document", item.name.replace("_", "-")))


def document_keys(cls: type, within: str | None = None) -> tuple[str, ...]:
    """The keys an object's body may hold, in declaration order (``core.config``'s known keys).

    With ``within``, the keys of the object nested under that key instead (``object/land-as``).
    """
    keys: list[str] = []
    for item in fields(cls):
        nest = item.metadata.get("within")
        key = document_key(item) if nest == within else nest if within is None else None
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def described_field(cls: type, name: str) -> Field[Any]:
    """One field of a configuration object, by its Python name."""
    for item in fields(cls):
        if item.name == name:
            return item
    raise KeyError(f"{cls.__name__} has no field {name}")


def field_default(cls: type, name: str) -> Any:
    """The declared default of one field (what a document or form that leaves it out means)."""
    item = described_field(cls, name)
    if item.default is MISSING:
        raise KeyError(f"{cls.__name__}.{name} has no default")
    return item.default


def to_document(obj: Any) -> dict[str, Any]:
    """An object's body in project-document form (tuples become lists, nested objects their bodies)."""
    body: dict[str, Any] = {}
    for item in fields(obj):
        key = document_key(item)
        value = getattr(obj, item.name)
        if key == NOT_IN_DOCUMENT or value in item.metadata.get("omit", ()):
            continue
        if "keyed" in item.metadata:
            value = {getattr(member, item.metadata["keyed"]): to_document(member) for member in value}
        else:
            value = _document_value(value)
        nest = item.metadata.get("within")
        (body.setdefault(nest, {}) if nest else body)[key] = value
    return body


def _document_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_document_value(member) for member in value]
    if isinstance(value, dict):
        return {key: _document_value(member) for key, member in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return to_document(value)
    return value


def _column(item: Field[Any]) -> str:
    return str(item.metadata.get("present", item.metadata.get("column", item.name)))


def stored_columns(cls: type) -> tuple[str, ...]:
    """The SQL columns of an object's table, in declaration order."""
    return tuple(column for column in map(_column, fields(cls)) if column != NOT_STORED)


def to_row(obj: Any) -> tuple[Any, ...]:
    """An object's values for :func:`stored_columns` (booleans as SQLite's 0 and 1, lists as JSON)."""
    values: list[Any] = []
    for item in fields(obj):
        if _column(item) == NOT_STORED:
            continue
        value = getattr(obj, item.name)
        if "present" in item.metadata:
            value = value is not None
        elif item.metadata.get("json"):
            value = json.dumps(list(value))
        values.append(int(value) if isinstance(value, bool) else value)
    return tuple(values)


def from_row(cls: type, row: Any, **children: Any) -> Any:
    """An object from its table's row (``children`` give the fields held in child tables)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = dict(children)
    for item in fields(cls):
        column = _column(item)
        if column == NOT_STORED:
            continue
        value = row[column]
        if "present" in item.metadata:
            values[item.name] = children.get(item.name, ()) if value else None
        elif item.metadata.get("json"):
            values[item.name] = tuple(json.loads(value))
        else:
            values[item.name] = bool(value) if hints[item.name] is bool else value
    return cls(**values)


@dataclass(frozen=True)
class Credential:
    """How to reach a bucket. Never holds a secret."""

    name: str = described(document=NOT_IN_DOCUMENT)
    type: str = described(choices=CREDENTIAL_TYPES)
    role_arn: str | None = described(
        None, pattern=ROLE_ARN_RE, hint="expected arn:aws:iam::<12-digit account>:role/<name>"
    )
    """Role assumed with STS (``iam-role-to-role``; optional for ``iam-credential``)."""
    external_id: str | None = described(
        None, pattern=EXTERNAL_ID_RE, hint="2–1224 letters, digits or + = , . @ : / - with no spaces"
    )
    """External ID passed to STS when assuming ``role_arn``."""
    profile: str | None = None
    """Named AWS profile (``aws-profile``; optional for ``iam-credential``)."""
    region: str | None = described(None, pattern=REGION_RE, hint="expected an AWS region such as us-east-1")
    endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO, LocalStack, the embedded demo)."""


@dataclass(frozen=True)
class Entity:
    """One element of a courier's entities list: a file to pull (an ``entities`` row)."""

    object_type: str = described("file", document="object/type", column=NOT_STORED, choices=("file",), kw_only=True)
    """Amperity's ``object/type``: always ``file``."""
    file_pattern: str = described(document="object/file-pattern")
    tag: str = described(
        document="file/tag", within="object/land-as", pattern=TAG_RE, hint="use letters, digits, _ . or -"
    )
    """``file/tag``: load operations name the file by this."""
    content_type: str = described(
        "application/avro", document="file/content-type", within="object/land-as", choices=CONTENT_TYPES
    )
    header_rows: int | None = described(
        None,
        document="file/header-rows",
        within="object/land-as",
        omit=(None,),
        minimum=0,
        invalid="must be a whole number of rows, 0 or more",
    )
    separator: str | None = described(None, document="file/separator", within="object/land-as", omit=(None,))
    quote: str | None = described(None, document="file/quote", within="object/land-as", omit=(None,))
    optional: bool = described(False, document="object/optional", omit=(False,))


@dataclass(frozen=True)
class LoadOperation:
    """One step of a feed's load operations: ``truncate`` or ``load`` (a ``load_operations`` row)."""

    type: str
    file: str | None = described(None, omit=(None,))
    """The ``file/tag`` a ``load`` reads."""


@dataclass(frozen=True)
class Courier:
    """An Amazon S3 courier: where the files are and which feeds they load (a ``couriers`` row)."""

    name: str = described(document=NOT_IN_DOCUMENT)
    plugin: str = described("amazon-s3", choices=("amazon-s3",), kw_only=True)
    credential: str = described()
    bucket: str = described(
        pattern=BUCKET_RE, hint="S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens"
    )
    prefix: str = described("", blank=True)
    layout: str = described("file-pattern", choices=LAYOUTS)
    entities: tuple[Entity, ...] | None = described(None, omit=(None,), present="has_entities")
    """``None`` only in the heap-connect layout: every Heap table is available (rows of ``entities``)."""
    load_operations: dict[str, tuple[LoadOperation, ...]] = field(default_factory=dict, metadata={"column": NOT_STORED})
    """Feed ID → operations, in document order (rows of ``load_operations``)."""

    def known_tags(self) -> list[str] | None:
        """The file tags load operations may name, or ``None`` when any Heap table may be named."""
        if self.entities is None:
            return None
        return list(dict.fromkeys(entity.tag for entity in self.entities))


@dataclass(frozen=True)
class FeedField:
    """A column of a feed's domain table (a ``feed_fields`` row; ``fields.<name>`` in the document)."""

    name: str = described(document=NOT_IN_DOCUMENT)
    type: str = described("String", choices=FEED_TYPES)
    tags: tuple[str, ...] = described((), as_json=True)
    required: bool = False


@dataclass(frozen=True)
class Feed:
    """How files load into the domain table ``<source>:<name>`` (a ``feeds`` row)."""

    id: str = described(document=NOT_IN_DOCUMENT)
    source: str = described()
    name: str = described()
    primary_key: tuple[str, ...] = described(as_json=True)
    last_updated: str | None = None
    """Field whose value decides which row wins; ``None`` means a generated ``_updated``."""
    stitch: bool = False
    error_threshold: int = described(1, minimum=0, maximum=100, invalid="must be a whole percentage from 0 to 100")
    """Largest share of rejected rows (percent, 0–100) before a load fails."""
    fields: tuple[FeedField, ...] | None = described(None, omit=(None,), keyed="name", present="has_fields")
    """``None`` until the fields come from a sample file's schema (rows of ``feed_fields``)."""
    status: str = described("active", choices=("draft", "active"), omit=("active",))
    """``draft`` until activated; only active feeds can be loaded by a courier."""

    @property
    def table_name(self) -> str:
        """The domain table's exact name."""
        return domain_table_name(self.source, self.name)


@dataclass(frozen=True)
class GroupCourier:
    """A courier's row in a courier group (a ``group_couriers`` row; ``couriers[]`` in the document)."""

    courier: str
    wait: str = described("0m", pattern=WAIT_RE, hint="use a number and s, m, h or d, e.g. 30m or 2h")
    """How long to poll for missing data, e.g. ``30m`` or ``2h``."""
    offset: str = described("0d", column="offset_text", pattern=OFFSET_RE, hint=OFFSET_HINT)
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
    run_after_offset: str = described("0d", omit=("0d", "0m", "0h", "0w"), pattern=OFFSET_RE, hint=OFFSET_HINT)
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
