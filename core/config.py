"""Validation of Courier's configuration documents.

A project file (``courier apply``) and every editor in the TUI go through
:func:`validate_document`, which returns *every* problem at once, each prefixed
with its path in the document, e.g.
``couriers.Heap.load-operations.df-users01[1].file: "user" matches no file/tag
(known: users, sessions)``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from core.errors import ConfigError, PatternError
from core.models import (  # noqa: F401 - the patterns are re-exported for the editors
    BUCKET_RE,
    EXTERNAL_ID_RE,
    FEED_ID_RE,
    OFFSET_RE,
    REGION_RE,
    ROLE_ARN_RE,
    TAG_RE,
    WAIT_RE,
    Courier,
    CourierGroup,
    Credential,
    Entity,
    Feed,
    FeedField,
    GroupCourier,
    LoadOperation,
    Project,
    described_field,
    document_key,
    document_keys,
    field_default,
)
from core.problems import UNKNOWN_FILE_TAG, PathPart, Problem
from core.schedule import validate_cron, validate_timezone
from core.windows import json_str, parse_duration  # noqa: F401 - parse_duration is re-exported

SECRET_KEYS = (
    "secret-access-key",
    "aws-secret-access-key",
    "secret-key",
    "iam-secret-key",
    "session-token",
    "aws-session-token",
    "access-key-id",
    "aws-access-key-id",
    "iam-access-key",
    "password",
)
"""Keys that would put a secret in the project file; refused wherever they appear."""

TOP_LEVEL_KEYS = ("credentials", "couriers", "feeds", "courier-groups")
SEMANTIC_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9/_-]*$")
NAME_FORBIDDEN = ':"\n\r\t'

SEMANTIC_TAGS = (
    "given-name",
    "surname",
    "full-name",
    "generational-suffix",
    "title",
    "email",
    "phone",
    "address",
    "address2",
    "city",
    "state",
    "postal",
    "country",
    "birthdate",
    "gender",
    "company",
    "create-dt",
    "update-dt",
    "pk",
    "ck",
    "sk",
    "fk-customer",
    "fk-heap-user",
    "txn-item/order-id",
    "txn-item/order-datetime",
    "txn-item/product-id",
    "txn-item/item-quantity",
    "txn-item/item-revenue",
    "txn-item/purchase-channel",
    "txn-item/digital-channel",
    "txn-item/currency",
)
"""Amperity's common semantic tags, offered by the tag picker; custom tags are allowed too."""


@dataclass
class Validation:
    """The outcome of validating a document: the parsed project, errors and warnings."""

    project: Project = field(default_factory=Project)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the document has no errors (warnings allowed)."""
        return not self.errors

    def error(self, path: tuple[PathPart, ...], message: str, code: str = "") -> None:
        """Record an error about the value at ``path`` (every error is made here)."""
        self.errors.append(Problem(path, message, code))

    def warn(self, path: tuple[PathPart, ...], message: str) -> None:
        """Record a warning about the value at ``path`` (every warning is made here)."""
        self.warnings.append(Problem(path, message))

    def raise_for_errors(self) -> None:
        """Raise a :class:`ConfigError` listing every error, if there is any."""
        if self.errors:
            count = len(self.errors)
            head = str(self.errors[0]) if count == 1 else f"{self.errors[0]} (and {count - 1} more)"
            raise ConfigError(head, list(self.errors))


class _Reader:
    """Reads one JSON object with type checks, recording problems under a path."""

    def __init__(self, validation: Validation, path: tuple[PathPart, ...], data: Any, known: tuple[str, ...]) -> None:
        self.validation = validation
        self.path = path
        self.data: dict[str, Any] = {}
        if not isinstance(data, dict):
            self.error("", f"must be a JSON object, not {_json_type(data)}")
            return
        self.data = data
        for key in data:
            if key in SECRET_KEYS:
                self.error(
                    key,
                    "secrets are never stored in the project file; export them in the "
                    "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) "
                    "or keep them in an AWS profile and use an aws-profile credential",
                )
            elif key not in known:
                self.error(key, f"unknown field (known: {', '.join(known)})")

    def at(self, *key: PathPart) -> tuple[PathPart, ...]:
        return (*self.path, *key)

    def error(self, key: PathPart, message: str, code: str = "") -> None:
        self.validation.error(self.at(key) if key != "" else self.path, message, code)

    def warn(self, key: PathPart, message: str) -> None:
        self.validation.warn(self.at(key) if key != "" else self.path, message)

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        allow_empty: bool = False,
    ) -> str | None:
        if key not in self.data or self.data[key] is None:
            if required:
                self.error(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.error(key, f"must be a string, not {_json_type(value)}")
            return default
        if not value.strip() and not allow_empty:
            if required:
                self.error(key, "must not be empty")
            return default
        if pattern is not None and not pattern.match(value):
            self.error(key, f"{json_str(value)} is not valid{': ' + hint if hint else ''}")
            return default
        return value

    def whole(self, key: str, default: int | None, minimum: int | None, maximum: int | None, invalid: str) -> Any:
        """A whole number from ``minimum`` to ``maximum`` (either may be ``None``); ``null`` only when the
        default is ``None``. ``invalid`` says what it must be."""
        if key not in self.data or (self.data[key] is None and default is None):
            return default
        value = self.data[key]
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            self.error(key, invalid)
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {_json_type(value)}")
            return default
        return value

    def field(self, cls: type, name: str) -> Any:
        """Read one field of a configuration object as its model describes it (see ``core.models.described``).

        The key is the field's document key; a field without a default is required; a ``bool`` field
        is read as true or false, an ``int`` one as a whole number in its metadata's ``minimum`` to
        ``maximum``; ``choices``, ``pattern`` and ``blank`` come from its metadata. Returns
        the value, or the field's default when it is absent or has a problem (``None`` for a required one).
        """
        item = described_field(cls, name)
        key = document_key(item)
        required = item.default is MISSING
        default: Any = None if item.default is MISSING else item.default
        kind = typing.get_type_hints(cls)[name]
        if kind is bool:
            return self.boolean(key, default)
        meta = item.metadata
        if int in typing.get_args(kind) or kind is int:
            return self.whole(key, default, meta.get("minimum"), meta.get("maximum"), meta["invalid"])
        if meta.get("choices"):
            return self.choice(key, meta["choices"], required=required, default=default)
        return self.string(
            key,
            required=required,
            default=default,
            pattern=meta.get("pattern"),
            hint=meta.get("hint", ""),
            allow_empty=meta.get("blank", False),
        )

    def choice(
        self, key: str, choices: tuple[str, ...], *, required: bool = False, default: str | None = None
    ) -> str | None:
        value = self.string(key, required=required, default=default)
        if value is not None and value not in choices:
            self.error(key, f"{json_str(value)} is not one of {', '.join(choices)}")
            return default
        return value


def validate_document(
    document: Any,
    *,
    existing: Project | None = None,
    check_feeds_exist: bool = True,
) -> Validation:
    """Validate a project document and build typed models from it.

    Args:
        document: The parsed JSON document (any of its four sections may be absent).
        existing: Configuration already stored; references (a courier's credential,
            a group's couriers, load-operation feed IDs) may point into it.
        check_feeds_exist: Warn about load operations naming feeds that exist nowhere.

    Returns:
        A :class:`Validation` with the project built from the document (only the
        objects it defines), every error and every warning.
    """
    validation = Validation()
    existing = existing or Project()
    if not isinstance(document, dict):
        validation.error((), f"must be a JSON object, not {_json_type(document)}")
        return validation
    root = _Reader(validation, (), document, TOP_LEVEL_KEYS)
    project = validation.project
    _each_named(root, "credentials", lambda reader, name: _credential(reader, name), project.credentials)
    _each_named(
        root,
        "feeds",
        lambda reader, name: _feed(reader, name),
        project.feeds,
        key_check=lambda name: (
            None
            if FEED_ID_RE.match(name)
            else "feed IDs are df- followed by 6 to 8 letters or digits, e.g. df-5Jagkabc"
        ),
    )
    # References are checked against every name the document defines, even one with
    # errors of its own, so one mistake is reported once.
    credential_names = set(existing.credentials) | set(_as_dict(root.data.get("credentials")))
    feed_names = set(existing.feeds) | set(_as_dict(root.data.get("feeds")))
    _check_domain_tables(validation, existing, project)
    _each_named(
        root,
        "couriers",
        lambda reader, name: _courier(reader, name, credential_names, feed_names, check_feeds_exist),
        project.couriers,
    )
    courier_names = set(existing.couriers) | set(_as_dict(root.data.get("couriers")))
    all_group_names = set(existing.groups) | set(_as_dict(root.data.get("courier-groups")))
    _each_named(
        root,
        "courier-groups",
        lambda reader, name: _group(reader, name, courier_names, all_group_names),
        project.groups,
    )
    return validation


def _check_domain_tables(validation: Validation, existing: Project, project: Project) -> None:
    owners: dict[str, str] = {}
    merged = {**existing.feeds, **project.feeds}
    for feed_id in [*(i for i in existing.feeds if i not in project.feeds), *project.feeds]:
        feed = merged[feed_id]
        table = feed.table_name
        if table in owners:
            validation.error(
                ("feeds", feed_id),
                f'the domain table "{table}" already belongs to feed {owners[table]}; choose another feed name',
            )
        else:
            owners[table] = feed_id


def _each_named(
    root: _Reader,
    section: str,
    build: Callable[[_Reader, str], Any],
    into: dict[str, Any],
    key_check: Callable[[str], str | None] | None = None,
) -> None:
    value = root.data.get(section)
    if value is None:
        return
    if not isinstance(value, dict):
        root.error(section, f"must be a JSON object keyed by name, not {_json_type(value)}")
        return
    for name, body in value.items():
        path = (section, name)
        problem = _name_problem(name) or (key_check(name) if key_check else None)
        if problem:
            root.validation.error(path, problem)
            continue
        known = _KNOWN_KEYS[section]
        if section == "feeds" and isinstance(body, dict) and READ_ONLY_FEED_KEY in body:
            body = {key: item for key, item in body.items() if key != READ_ONLY_FEED_KEY}
        reader = _Reader(root.validation, path, body, known)
        if not reader.data:
            continue
        before = len(root.validation.errors)
        built = build(reader, name)
        if built is not None and len(root.validation.errors) == before:
            into[name] = built


def _credential(reader: _Reader, name: str) -> Credential | None:
    values = {item.name: reader.field(Credential, item.name) for item in fields(Credential) if item.name != "name"}
    kind, external_id, endpoint_url = values["type"], values["external_id"], values["endpoint_url"]
    if endpoint_url is not None and not endpoint_url.startswith(("http://", "https://")):
        reader.error("endpoint-url", f"{json_str(endpoint_url)} must start with http:// or https://")
    if kind == "iam-role-to-role" and _blank(reader.data.get("role-arn")):
        reader.error("role-arn", "is required for an iam-role-to-role credential")
    if kind == "aws-profile" and _blank(reader.data.get("profile")):
        reader.error("profile", "is required for an aws-profile credential")
    if external_id is not None and kind == "aws-profile":
        reader.error("external-id", "only applies when a role is assumed (iam-role-to-role or iam-credential)")
    if kind is None:
        return None
    return Credential(name=name, **values)


def _courier(
    reader: _Reader, name: str, credentials: set[str], feeds: set[str], check_feeds_exist: bool
) -> Courier | None:
    plugin = reader.field(Courier, "plugin")
    credential = reader.field(Courier, "credential")
    if credential is not None and credential not in credentials:
        known = ", ".join(sorted(credentials)) or "none yet"
        reader.error("credential", f"{json_str(credential)} is not a credential (known: {known})")
    bucket = reader.field(Courier, "bucket")
    if bucket is not None and not bucket.startswith("heap-rs3-"):
        reader.warn("bucket", f"{json_str(bucket)} does not start with heap-rs3-, which Heap Connect requires")
    prefix = reader.field(Courier, "prefix")
    layout = reader.field(Courier, "layout")
    entities, tags = _entities(reader, layout)
    known_tags = None if entities is None else tags
    operations = _load_operations(reader, known_tags, feeds, check_feeds_exist)
    if credential is None or bucket is None:
        return None
    return Courier(
        name=name,
        plugin=plugin,
        credential=credential,
        bucket=bucket,
        prefix=prefix,
        layout=layout,
        entities=entities,
        load_operations=operations,
    )


def _entities(reader: _Reader, layout: str) -> tuple[tuple[Entity, ...] | None, list[str]]:
    from core.patterns import parse_pattern

    raw = reader.data.get("entities")
    if raw is None:
        if layout == "file-pattern":
            reader.error("entities", "is required in the file-pattern layout (a list of files to pull)")
            return (), []
        return None, []
    if not isinstance(raw, list):
        reader.error("entities", f"must be a JSON array, not {_json_type(raw)}")
        return (), []
    entities: list[Entity] = []
    tags: list[str] = []
    for index, item in enumerate(raw):
        item_reader = _Reader(reader.validation, reader.at("entities", index), item, _ENTITY_KEYS)
        if not item_reader.data:
            continue
        item_reader.field(Entity, "object_type")
        pattern = item_reader.field(Entity, "file_pattern")
        if pattern is not None:
            try:
                parse_pattern(pattern)
            except PatternError as error:
                item_reader.error("object/file-pattern", str(error))
                pattern = None
        optional = item_reader.field(Entity, "optional")
        raw_land = item_reader.data.get("object/land-as")
        if raw_land is None:
            item_reader.error("object/land-as", 'is required: {"file/tag": ..., "file/content-type": ...}')
        land = _Reader(
            reader.validation, item_reader.at("object/land-as"), raw_land if raw_land is not None else {}, _LAND_AS_KEYS
        )
        present = isinstance(raw_land, dict)
        tag = land.field(Entity, "tag") if present else None
        content_type = land.field(Entity, "content_type") if present else None
        header_rows = land.field(Entity, "header_rows") if present else None
        if tag and tag not in tags:
            tags.append(tag)
        separator = land.field(Entity, "separator") if present else None
        quote = land.field(Entity, "quote") if present else None
        if pattern and tag and content_type:
            entities.append(
                Entity(
                    file_pattern=pattern,
                    tag=tag,
                    content_type=content_type,
                    optional=optional,
                    header_rows=header_rows,
                    separator=separator,
                    quote=quote,
                )
            )
    return tuple(entities), tags


def _load_operations(
    reader: _Reader, known_tags: list[str] | None, feeds: set[str], check_feeds_exist: bool
) -> dict[str, tuple[LoadOperation, ...]]:
    raw = reader.data.get("load-operations", {})
    path = reader.at("load-operations")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        reader.error(
            "load-operations",
            f"must be a JSON object keyed by feed ID, not {_json_type(raw)} "
            "(use {} to land files without loading them)",
        )
        return {}
    result: dict[str, tuple[LoadOperation, ...]] = {}
    for feed_id, steps in raw.items():
        feed_path = (*path, feed_id)
        if not FEED_ID_RE.match(feed_id):
            reader.validation.error(
                feed_path, f"{json_str(feed_id)} is not a feed ID (df- followed by 6 to 8 letters or digits)"
            )
            continue
        if check_feeds_exist and feed_id not in feeds:
            reader.validation.warn(
                feed_path,
                "no feed has this ID yet; runs will land files, then fail with "
                f'Cannot find required feeds: "{feed_id}" until you put the real feed ID here',
            )
        if not isinstance(steps, list):
            reader.validation.error(feed_path, "must be a JSON array of operations")
            continue
        operations: list[LoadOperation] = []
        for index, step in enumerate(steps):
            step_reader = _Reader(reader.validation, (*feed_path, index), step, document_keys(LoadOperation))
            if not step_reader.data:
                continue
            kind = step_reader.field(LoadOperation, "type")
            if kind is None:
                continue
            if kind == "truncate":
                if "file" in step_reader.data:
                    step_reader.error("file", "a truncate takes no file")
                operations.append(LoadOperation(type="truncate"))
            elif kind == "load":
                tag = step_reader.string("file", required=True)  # required by a load, unlike a truncate
                if tag is None:
                    continue
                if known_tags is not None and tag not in known_tags:
                    known = ", ".join(known_tags) or "no entities yet"
                    step_reader.error(
                        "file", f"{json_str(tag)} matches no file/tag (known: {known})", code=UNKNOWN_FILE_TAG
                    )
                    continue
                if known_tags is None and not TAG_RE.match(tag):
                    step_reader.error("file", f"{json_str(tag)} is not a Heap table name")
                    continue
                operations.append(LoadOperation(type="load", file=tag))
            elif kind == "spark-sql":
                step_reader.error("type", "spark-sql load operations are not supported; use truncate and load")
            else:
                step_reader.error("type", f"{json_str(kind)} is not one of truncate, load")
        result[feed_id] = tuple(operations)
    return result


def _feed(reader: _Reader, feed_id: str) -> Feed | None:
    source = reader.field(Feed, "source")
    name = reader.field(Feed, "name")
    for key, value in (("source", source), ("name", name)):
        if value is not None and _name_problem(value):
            reader.error(key, f"{json_str(value)} {_name_problem(value)}")
    if source is not None and source[:7].lower() == "sqlite_":
        # SQLite refuses to create any table whose name starts with sqlite_ (any case).
        reader.error(
            "source",
            f"{json_str(source)} starts with sqlite_, which SQLite reserves for its own tables, "
            "so the domain table could not be created; choose another data source name",
        )
    fields = _fields(reader)
    # Declared fields may be a subset: the rest come from the sample file's schema,
    # so the key and last-updated field are checked against the data at load time.
    status = reader.field(Feed, "status")
    primary_key = _string_list(reader, "primary-key")
    # A draft may be saved before its key is chosen (Amperity's "Save draft"); activation needs one.
    if primary_key is None and "primary-key" not in reader.data:
        reader.error("primary-key", "is required: choose at least one field as the primary key")
    if primary_key is not None and not primary_key:
        if status == "draft":
            reader.warn("primary-key", "none chosen yet: choose at least one field before activating")
        else:
            reader.error("primary-key", "choose at least one field as the primary key")
    if primary_key is not None and len({c.lower() for c in primary_key}) != len(primary_key):
        reader.error("primary-key", "lists a field twice")
    last_updated = reader.field(Feed, "last_updated")
    declared = {f.name.lower(): f.type for f in fields or ()}
    if last_updated is not None and declared.get(last_updated.lower()) == "Date":
        reader.error(
            "last-updated",
            "a Date field is too coarse to decide which row wins; "
            "pick a Datetime or Integer field, or use null to generate an updated field",
        )
    stitch = reader.field(Feed, "stitch")
    threshold = reader.field(Feed, "error_threshold")
    if source is None or name is None or primary_key is None:
        return None
    return Feed(
        id=feed_id,
        source=source,
        name=name,
        primary_key=tuple(primary_key),
        last_updated=last_updated,
        stitch=stitch,
        error_threshold=threshold,
        fields=fields,
        status=status,
    )


def _fields(reader: _Reader) -> tuple[FeedField, ...] | None:
    raw = reader.data.get("fields")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        reader.error("fields", f"must be a JSON object keyed by field name, not {_json_type(raw)}")
        return None
    fields: list[FeedField] = []
    seen: set[str] = set()
    for name, body in raw.items():
        path = reader.at("fields", name)
        if not name or name.startswith("_") and name in ("_pk", "_updated", "_uuid_pk"):
            reader.validation.error(path, f"{json_str(name)} is a system column name")
            continue
        if name.lower() in seen:
            reader.validation.error(path, "duplicate field (names are case-insensitive)")
            continue
        seen.add(name.lower())
        field_reader = _Reader(reader.validation, path, body, document_keys(FeedField))
        if not field_reader.data and not isinstance(body, dict):
            continue
        kind = field_reader.field(FeedField, "type")
        tags = _string_list(field_reader, "tags") or []
        for index, tag in enumerate(tags):
            if not SEMANTIC_TAG_RE.match(tag):
                field_reader.validation.error(
                    field_reader.at("tags", index),
                    f"{json_str(tag)} is not a semantic tag "
                    "(lowercase letters, digits, - and /, e.g. email or fk-customer)",
                )
        required = field_reader.field(FeedField, "required")
        fields.append(FeedField(name=name, type=kind, tags=tuple(tags), required=required))
    return tuple(fields)


def _group(reader: _Reader, name: str, couriers: set[str], group_names: set[str]) -> CourierGroup | None:
    schedule = reader.field(CourierGroup, "schedule")
    if schedule is not None:
        problem = validate_cron(schedule)
        if problem:
            reader.error("schedule", problem)
    timezone = reader.field(CourierGroup, "timezone")
    problem = validate_timezone(timezone)
    if problem:
        reader.error("timezone", problem)
    file_dates_in_zone = reader.field(CourierGroup, "file_dates_in_zone")
    enabled = reader.field(CourierGroup, "enabled")
    run_after = reader.field(CourierGroup, "run_after")
    if run_after is not None:
        if run_after == name:
            reader.error("run-after", "a group cannot run after itself")
        elif run_after not in group_names:
            reader.error("run-after", f"{json_str(run_after)} is not a courier group")
    run_after_offset = reader.field(CourierGroup, "run_after_offset")
    notify_command = reader.field(CourierGroup, "notify_command")
    raw = reader.data.get("couriers")
    members: list[GroupCourier] = []
    if not isinstance(raw, list) or not raw:
        reader.error("couriers", "add at least one courier to the group")
    else:
        seen: set[str] = set()
        for index, item in enumerate(raw):
            item_reader = _Reader(reader.validation, reader.at("couriers", index), item, _GROUP_COURIER_KEYS)
            if not item_reader.data:
                continue
            courier = item_reader.field(GroupCourier, "courier")
            if courier is not None and courier not in couriers:
                known = ", ".join(sorted(couriers)) or "none yet"
                item_reader.error("courier", f"{json_str(courier)} is not a courier (known: {known})")
            if courier in seen:
                item_reader.error("courier", f"{json_str(courier)} is already in this group")
            seen.add(courier or "")
            wait = item_reader.field(GroupCourier, "wait")
            offset = item_reader.field(GroupCourier, "offset")
            notify = item_reader.field(GroupCourier, "notify_when_missing")
            stop = item_reader.field(GroupCourier, "stop_when_missing")
            if courier is not None:
                members.append(
                    GroupCourier(
                        courier=courier, wait=wait, offset=offset, notify_when_missing=notify, stop_when_missing=stop
                    )
                )
    return CourierGroup(
        name=name,
        couriers=tuple(members),
        schedule=schedule,
        timezone=timezone,
        file_dates_in_zone=file_dates_in_zone,
        enabled=enabled,
        run_after=run_after,
        notify_command=notify_command,
        run_after_offset=run_after_offset,
    )


def _string_list(reader: _Reader, key: str) -> list[str] | None:
    if key not in reader.data:
        return None
    value = reader.data[key]
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.error(key, "must be a JSON array of strings")
        return None
    return list(value)


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "names must not be empty"
    if name != name.strip():
        return "names must not start or end with spaces"
    bad = sorted({ch for ch in name if ch in NAME_FORBIDDEN})
    if bad:
        return f"names must not contain {' '.join(repr(ch) for ch in bad)}"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


READ_ONLY_FEED_KEY = "column-names"
"""Written by ``courier export`` (source column → domain column, for renamed columns); ignored on apply."""
_ENTITY_KEYS = document_keys(Entity)
_LAND_AS_KEYS = document_keys(Entity, within="object/land-as")
_GROUP_COURIER_KEYS = document_keys(GroupCourier)
_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "credentials": document_keys(Credential),
    "couriers": document_keys(Courier),
    "feeds": document_keys(Feed),
    "courier-groups": document_keys(CourierGroup),
}
