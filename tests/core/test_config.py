"""Validation of project documents: every problem, each with its exact path and text."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import validate_document
from core.errors import ConfigError
from core.models import Credential, Project
from core.problems import lines
from tests.documents import example, rich

SECRET_TEXT = (
    "secrets are never stored in the project file; export them in the environment "
    "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or keep them in an AWS profile "
    "and use an aws-profile credential"
)
TYPES = "Boolean, Date, Datetime, Decimal, Float, Integer, String"
PLACEHOLDER_WARNING = (
    "couriers.Heap.load-operations.df-xxxxxx: no feed has this ID yet; runs will land files, then fail with "
    'Cannot find required feeds: "df-xxxxxx" until you put the real feed ID here'
)


# --- document builders: each isolates one object so an error cannot cascade -------------------

ROLE = {
    "type": "iam-role-to-role",
    "role-arn": "arn:aws:iam::123456789012:role/heap-reader",
    "external-id": "acme-42",
    "region": "us-east-1",
}


def credential(**changes: Any) -> dict[str, Any]:
    """A document holding one credential, ``heap``, with ``changes`` applied (None removes a key)."""
    body = {**ROLE, **changes}
    return {"credentials": {"heap": {k: v for k, v in body.items() if v is not _DROP}}}


_DROP = object()

USERS_ENTITY = {
    "object/type": "file",
    "object/file-pattern": "'exports/users-'yyyy-MM-dd'.avro'",
    "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"},
}
SESSIONS_ENTITY = {
    "object/type": "file",
    "object/file-pattern": "'exports/sessions-'yyyy-MM-dd'.avro'",
    "object/land-as": {"file/tag": "sessions", "file/content-type": "application/avro"},
}


def courier(**changes: Any) -> dict[str, Any]:
    """A credential and one courier, ``Heap``, in the file-pattern layout, with ``changes`` applied."""
    body: dict[str, Any] = {
        "plugin": "amazon-s3",
        "credential": "heap",
        "bucket": "heap-rs3-acme",
        "prefix": "",
        "layout": "file-pattern",
        "entities": [USERS_ENTITY, SESSIONS_ENTITY],
        "load-operations": {},
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not _DROP}
    return {"credentials": {"heap": dict(ROLE)}, "couriers": {"Heap": body}}


def entity(**changes: Any) -> dict[str, Any]:
    """A courier whose only entity is ``users`` with ``changes`` applied to it."""
    item = {**USERS_ENTITY, **changes}
    return courier(entities=[{k: v for k, v in item.items() if v is not _DROP}])


def land_as(**changes: Any) -> dict[str, Any]:
    land = {**USERS_ENTITY["object/land-as"], **changes}
    return entity(**{"object/land-as": {k: v for k, v in land.items() if v is not _DROP}})


def operations(ops: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A courier with these load operations; every df-users01 reference has a feed."""
    document = courier(**{"load-operations": ops, **changes})
    document["feeds"] = {"df-users01": {"source": "Heap", "name": "Users", "primary-key": ["user_id"]}}
    return document


def feed(**changes: Any) -> dict[str, Any]:
    """A document holding one feed, ``df-users01``, with ``changes`` applied."""
    body: dict[str, Any] = {
        "source": "Heap",
        "name": "Users",
        "primary-key": ["user_id"],
        "last-updated": "last_modified",
        "stitch": True,
        "fields": {"email": {"type": "String", "tags": ["email"]}},
    }
    body.update(changes)
    return {"feeds": {"df-users01": {k: v for k, v in body.items() if v is not _DROP}}}


def group(**changes: Any) -> dict[str, Any]:
    """The issue's example document with ``changes`` applied to the group ``Heap daily``."""
    document = example()
    body = document["courier-groups"]["Heap daily"]
    body.update(changes)
    document["courier-groups"]["Heap daily"] = {k: v for k, v in body.items() if v is not _DROP}
    return document


def member(**changes: Any) -> dict[str, Any]:
    """The example document with ``changes`` applied to the group's first courier."""
    document = example()
    document["courier-groups"]["Heap daily"]["couriers"][0].update(changes)
    return document


# --- valid documents ---------------------------------------------------------------------------


def test_issue_example_is_valid_without_warnings() -> None:
    validation = validate_document(example())
    assert lines(validation.errors) == []
    assert lines(validation.warnings) == []
    assert validation.ok
    assert set(validation.project.credentials) == {"heap"}
    assert set(validation.project.couriers) == {"Heap"}
    assert set(validation.project.feeds) == {"df-users01"}
    assert set(validation.project.groups) == {"Heap daily"}


def test_empty_document_is_valid() -> None:
    validation = validate_document({})
    assert (lines(validation.errors), lines(validation.warnings)) == ([], [])
    assert validation.project == Project()


def test_document_setting_every_option_is_valid() -> None:
    validation = validate_document(rich())
    assert lines(validation.errors) == []
    assert lines(validation.warnings) == [
        PLACEHOLDER_WARNING,
        'couriers.Files.bucket: "acme-files" does not start with heap-rs3-, which Heap Connect requires',
    ]


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (courier(layout="heap-connect", entities=_DROP), "heap-connect layout without entities"),
        (
            operations({"df-users01": [{"type": "load", "file": "pageviews"}]}, layout="heap-connect", entities=_DROP),
            "heap-connect: load names any Heap table",
        ),
        (credential(type="aws-profile", profile="acme", **{"role-arn": _DROP, "external-id": _DROP}), "profile"),
        (credential(type="iam-credential", **{"role-arn": _DROP, "external-id": _DROP}), "iam-credential alone"),
        (credential(type="iam-credential"), "iam-credential assuming a role"),
        (credential(region="us-gov-west-1", **{"endpoint-url": "https://s3.example.com"}), "gov region, https"),
        (feed(fields=_DROP), "feed without fields (from the sample)"),
        (feed(**{"last-updated": None}), "generated _updated"),
        (feed(**{"primary-key": "user_id"}), "primary key as one string"),
        (feed(**{"error-threshold": 0}), "threshold 0"),
        (feed(**{"error-threshold": 100}), "threshold 100"),
        (group(schedule=None), "manual-only group"),
        (group(schedule="*/15 0-6,22,23 1-31 1-12 0-6"), "steps, ranges and lists"),
        (operations({}), "{} lands files only"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_valid_variants(document: dict[str, Any], where: str) -> None:
    validation = validate_document(document)
    assert lines(validation.errors) == [], where


# --- one problem, one exact message ------------------------------------------------------------

INVALID = [
    # document shape
    ("array", [], ["document: must be a JSON object, not an array"]),
    ("string", "x", ["document: must be a JSON object, not a string"]),
    ("null", None, ["document: must be a JSON object, not null"]),
    ("number", 3, ["document: must be a JSON object, not a number"]),
    (
        "unknown top-level key",
        {"bogus": 1},
        ["bogus: unknown field (known: credentials, couriers, feeds, courier-groups)"],
    ),
    ("section not an object", {"credentials": []}, ["credentials: must be a JSON object keyed by name, not an array"]),
    ("object not an object", {"credentials": {"heap": "x"}}, ["credentials.heap: must be a JSON object, not a string"]),
    # credentials
    (
        "unknown credential key",
        credential(colour="red"),
        ["credentials.heap.colour: unknown field (known: type, role-arn, external-id, profile, region, endpoint-url)"],
    ),
    ("credential type missing", credential(type=_DROP), ["credentials.heap.type: is required"]),
    (
        "credential type unknown",
        credential(type="password"),
        ['credentials.heap.type: "password" is not one of iam-role-to-role, aws-profile, iam-credential'],
    ),
    (
        "role-to-role without role-arn",
        credential(**{"role-arn": _DROP}),
        ["credentials.heap.role-arn: is required for an iam-role-to-role credential"],
    ),
    (
        "aws-profile without profile",
        credential(type="aws-profile", **{"role-arn": _DROP, "external-id": _DROP}),
        ["credentials.heap.profile: is required for an aws-profile credential"],
    ),
    (
        "external-id on aws-profile",
        credential(type="aws-profile", profile="acme", **{"role-arn": _DROP}),
        ["credentials.heap.external-id: only applies when a role is assumed (iam-role-to-role or iam-credential)"],
    ),
    (
        "short account in role ARN",
        credential(**{"role-arn": "arn:aws:iam::123:role/heap-reader"}),
        [
            'credentials.heap.role-arn: "arn:aws:iam::123:role/heap-reader" is not valid: '
            "expected arn:aws:iam::<12-digit account>:role/<name>"
        ],
    ),
    (
        "user ARN, not a role",
        credential(**{"role-arn": "arn:aws:iam::123456789012:user/heap"}),
        [
            'credentials.heap.role-arn: "arn:aws:iam::123456789012:user/heap" is not valid: '
            "expected arn:aws:iam::<12-digit account>:role/<name>"
        ],
    ),
    (
        "external ID with a space",
        credential(**{"external-id": "acme 42"}),
        [
            'credentials.heap.external-id: "acme 42" is not valid: '
            "2–1224 letters, digits or + = , . @ : / - with no spaces"
        ],
    ),
    (
        "external ID too short",
        credential(**{"external-id": "a"}),
        ['credentials.heap.external-id: "a" is not valid: 2–1224 letters, digits or + = , . @ : / - with no spaces'],
    ),
    (
        "region",
        credential(region="US East"),
        ['credentials.heap.region: "US East" is not valid: expected an AWS region such as us-east-1'],
    ),
    (
        "region without number",
        credential(region="us-east"),
        ['credentials.heap.region: "us-east" is not valid: expected an AWS region such as us-east-1'],
    ),
    (
        "endpoint scheme",
        credential(**{"endpoint-url": "s3.example.com:9000"}),
        ['credentials.heap.endpoint-url: "s3.example.com:9000" must start with http:// or https://'],
    ),
    (
        "endpoint ftp",
        credential(**{"endpoint-url": "ftp://s3.example.com"}),
        ['credentials.heap.endpoint-url: "ftp://s3.example.com" must start with http:// or https://'],
    ),
    # couriers
    (
        "unknown courier key",
        courier(schedule="daily"),
        [
            "couriers.Heap.schedule: unknown field (known: plugin, credential, bucket, prefix, layout, entities, "
            "load-operations)"
        ],
    ),
    ("plugin", courier(plugin="sftp"), ['couriers.Heap.plugin: "sftp" is not one of amazon-s3']),
    (
        "unknown credential",
        courier(credential="nope"),
        ['couriers.Heap.credential: "nope" is not a credential (known: heap)'],
    ),
    ("credential missing", courier(credential=_DROP), ["couriers.Heap.credential: is required"]),
    ("bucket missing", courier(bucket=_DROP), ["couriers.Heap.bucket: is required"]),
    (
        "bucket uppercase",
        courier(bucket="Heap_Bucket"),
        [
            'couriers.Heap.bucket: "Heap_Bucket" is not valid: '
            "S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens"
        ],
    ),
    (
        "bucket too short",
        courier(bucket="ab"),
        [
            'couriers.Heap.bucket: "ab" is not valid: S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens'
        ],
    ),
    (
        "bucket with s3:// scheme",
        courier(bucket="s3://heap-rs3-acme"),
        [
            'couriers.Heap.bucket: "s3://heap-rs3-acme" is not valid: '
            "S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens"
        ],
    ),
    ("layout", courier(layout="parquet"), ['couriers.Heap.layout: "parquet" is not one of file-pattern, heap-connect']),
    (
        "entities missing in file-pattern",
        courier(entities=_DROP),
        ["couriers.Heap.entities: is required in the file-pattern layout (a list of files to pull)"],
    ),
    (
        "entities not a list",
        courier(entities={"users": "x"}),
        ["couriers.Heap.entities: must be a JSON array, not an object"],
    ),
    (
        "entity unknown key",
        entity(**{"object/name": "users"}),
        [
            "couriers.Heap.entities[0].object/name: unknown field (known: object/type, object/file-pattern, "
            "object/land-as, object/optional)"
        ],
    ),
    (
        "entity type",
        entity(**{"object/type": "folder"}),
        ['couriers.Heap.entities[0].object/type: "folder" is not one of file'],
    ),
    (
        "entity pattern missing",
        entity(**{"object/file-pattern": _DROP}),
        ["couriers.Heap.entities[0].object/file-pattern: is required"],
    ),
    (
        "pattern unterminated quote",
        entity(**{"object/file-pattern": "'exports/users-yyyy"}),
        [
            "couriers.Heap.entities[0].object/file-pattern: unterminated quote at position 1 in "
            "'exports/users-yyyy: close literal text with '"
        ],
    ),
    (
        "pattern unquoted letters",
        entity(**{"object/file-pattern": "exports/users.avro"}),
        [
            'couriers.Heap.entities[0].object/file-pattern: unsupported pattern letters "exports" at position 1 in '
            "exports/users.avro: use yyyy, YYYY, MM, dd, HH, mm or ss, and quote literal text ('exports')"
        ],
    ),
    (
        "entity optional not boolean",
        entity(**{"object/optional": "yes"}),
        ["couriers.Heap.entities[0].object/optional: must be true or false, not a string"],
    ),
    (
        "land-as missing",
        entity(**{"object/land-as": _DROP}),
        ['couriers.Heap.entities[0].object/land-as: is required: {"file/tag": ..., "file/content-type": ...}'],
    ),
    (
        "land-as empty",
        entity(**{"object/land-as": {}}),
        ["couriers.Heap.entities[0].object/land-as.file/tag: is required"],
    ),
    (
        "land-as unknown key",
        land_as(**{"file/name": "x"}),
        [
            "couriers.Heap.entities[0].object/land-as.file/name: unknown field (known: file/tag, file/content-type, "
            "file/header-rows, file/separator, file/quote)"
        ],
    ),
    ("tag missing", land_as(**{"file/tag": _DROP}), ["couriers.Heap.entities[0].object/land-as.file/tag: is required"]),
    (
        "tag with a space",
        land_as(**{"file/tag": "heap users"}),
        ['couriers.Heap.entities[0].object/land-as.file/tag: "heap users" is not valid: use letters, digits, _ . or -'],
    ),
    (
        "content type",
        land_as(**{"file/content-type": "application/parquet"}),
        [
            'couriers.Heap.entities[0].object/land-as.file/content-type: "application/parquet" is not one of '
            "application/avro, text/csv, application/x-ndjson"
        ],
    ),
    (
        "header rows negative",
        land_as(**{"file/header-rows": -1}),
        ["couriers.Heap.entities[0].object/land-as.file/header-rows: must be a whole number of rows, 0 or more"],
    ),
    # load operations
    (
        "load-operations not an object",
        courier(**{"load-operations": []}),
        [
            "couriers.Heap.load-operations: must be a JSON object keyed by feed ID, not an array "
            "(use {} to land files without loading them)"
        ],
    ),
    (
        "load file matches no tag",
        operations({"df-users01": [{"type": "truncate"}, {"type": "load", "file": "user"}]}),
        ['couriers.Heap.load-operations.df-users01[1].file: "user" matches no file/tag (known: users, sessions)'],
    ),
    (
        "load without file",
        operations({"df-users01": [{"type": "load"}]}),
        ["couriers.Heap.load-operations.df-users01[0].file: is required"],
    ),
    (
        "truncate with file",
        operations({"df-users01": [{"type": "truncate", "file": "users"}]}),
        ["couriers.Heap.load-operations.df-users01[0].file: a truncate takes no file"],
    ),
    (
        "operation type missing",
        operations({"df-users01": [{"file": "users"}]}),
        ["couriers.Heap.load-operations.df-users01[0].type: is required"],
    ),
    (
        "operation type unknown",
        operations({"df-users01": [{"type": "merge", "file": "users"}]}),
        ['couriers.Heap.load-operations.df-users01[0].type: "merge" is not one of truncate, load'],
    ),
    (
        "spark-sql refused",
        operations({"df-users01": [{"type": "spark-sql"}]}),
        [
            "couriers.Heap.load-operations.df-users01[0].type: spark-sql load operations are not supported; "
            "use truncate and load"
        ],
    ),
    (
        "operation unknown key",
        operations({"df-users01": [{"type": "load", "file": "users", "sql": "x"}]}),
        ["couriers.Heap.load-operations.df-users01[0].sql: unknown field (known: type, file)"],
    ),
    (
        "operations not a list",
        operations({"df-users01": {"type": "load"}}),
        ["couriers.Heap.load-operations.df-users01: must be a JSON array of operations"],
    ),
    (
        "feed ID key too short",
        operations({"df-x": []}),
        ['couriers.Heap.load-operations.df-x: "df-x" is not a feed ID (df- followed by 6 to 8 letters or digits)'],
    ),
    (
        "feed ID key too long",
        operations({"df-123456789": []}),
        [
            'couriers.Heap.load-operations.df-123456789: "df-123456789" is not a feed ID '
            "(df- followed by 6 to 8 letters or digits)"
        ],
    ),
    (
        "feed ID key without df-",
        operations({"users": []}),
        ['couriers.Heap.load-operations.users: "users" is not a feed ID (df- followed by 6 to 8 letters or digits)'],
    ),
    (
        "heap-connect table name",
        operations({"df-users01": [{"type": "load", "file": "page views"}]}, layout="heap-connect", entities=_DROP),
        ['couriers.Heap.load-operations.df-users01[0].file: "page views" is not a Heap table name'],
    ),
    # feeds
    (
        "feed ID key",
        {"feeds": {"df-1": feed()["feeds"]["df-users01"]}},
        ["feeds.df-1: feed IDs are df- followed by 6 to 8 letters or digits, e.g. df-5Jagkabc"],
    ),
    (
        "feed ID key with underscore",
        {"feeds": {"df-user_01": feed()["feeds"]["df-users01"]}},
        ["feeds.df-user_01: feed IDs are df- followed by 6 to 8 letters or digits, e.g. df-5Jagkabc"],
    ),
    (
        "unknown feed key",
        feed(table="Heap:Users"),
        [
            "feeds.df-users01.table: unknown field (known: source, name, primary-key, last-updated, stitch, "
            "error-threshold, fields, status)"
        ],
    ),
    ("source missing", feed(source=_DROP), ["feeds.df-users01.source: is required"]),
    ("name with colon", feed(name="Heap:Users"), ["feeds.df-users01.name: \"Heap:Users\" names must not contain ':'"]),
    (
        "primary key missing",
        feed(**{"primary-key": _DROP}),
        ["feeds.df-users01.primary-key: is required: choose at least one field as the primary key"],
    ),
    (
        "primary key empty",
        feed(**{"primary-key": []}),
        ["feeds.df-users01.primary-key: choose at least one field as the primary key"],
    ),
    (
        "primary key twice",
        feed(**{"primary-key": ["user_id", "USER_ID"]}),
        ["feeds.df-users01.primary-key: lists a field twice"],
    ),
    (
        "primary key not strings",
        feed(**{"primary-key": [1]}),
        ["feeds.df-users01.primary-key: must be a JSON array of strings"],
    ),
    (
        "threshold over 100",
        feed(**{"error-threshold": 101}),
        ["feeds.df-users01.error-threshold: must be a whole percentage from 0 to 100"],
    ),
    (
        "threshold negative",
        feed(**{"error-threshold": -1}),
        ["feeds.df-users01.error-threshold: must be a whole percentage from 0 to 100"],
    ),
    (
        "threshold boolean",
        feed(**{"error-threshold": True}),
        ["feeds.df-users01.error-threshold: must be a whole percentage from 0 to 100"],
    ),
    (
        "last-updated is a Date",
        feed(fields={"last_modified": {"type": "Date"}}),
        [
            "feeds.df-users01.last-updated: a Date field is too coarse to decide which row wins; pick a Datetime or "
            "Integer field, or use null to generate an updated field"
        ],
    ),
    ("stitch not boolean", feed(stitch="yes"), ["feeds.df-users01.stitch: must be true or false, not a string"]),
    ("status", feed(status="paused"), ['feeds.df-users01.status: "paused" is not one of draft, active']),
    (
        "field type unknown",
        feed(fields={"email": {"type": "Text"}}),
        [f'feeds.df-users01.fields.email.type: "Text" is not one of {TYPES}'],
    ),
    (
        "field type lowercase",
        feed(fields={"email": {"type": "string"}}),
        [f'feeds.df-users01.fields.email.type: "string" is not one of {TYPES}'],
    ),
    (
        "field unknown key",
        feed(fields={"email": {"type": "String", "pii": True}}),
        ["feeds.df-users01.fields.email.pii: unknown field (known: type, tags, required)"],
    ),
    (
        "system column",
        feed(fields={"_pk": {"type": "String"}}),
        ['feeds.df-users01.fields._pk: "_pk" is a system column name'],
    ),
    (
        "duplicate field",
        feed(fields={"email": {}, "EMAIL": {}}),
        ["feeds.df-users01.fields.EMAIL: duplicate field (names are case-insensitive)"],
    ),
    (
        "semantic tag",
        feed(fields={"email": {"tags": ["E Mail"]}}),
        [
            'feeds.df-users01.fields.email.tags[0]: "E Mail" is not a semantic tag '
            "(lowercase letters, digits, - and /, e.g. email or fk-customer)"
        ],
    ),
    # courier groups
    (
        "unknown group key",
        group(cron="30 8 * * *"),
        [
            "courier-groups.Heap daily.cron: unknown field (known: schedule, timezone, file-dates-in-zone, enabled, "
            "couriers, run-after, run-after-offset, notify-command)"
        ],
    ),
    (
        "minute 61",
        group(schedule="61 8 * * *"),
        ["courier-groups.Heap daily.schedule: 61 is out of range for the minute field (0-59)"],
    ),
    (
        "hour 24",
        group(schedule="30 24 * * *"),
        ["courier-groups.Heap daily.schedule: 24 is out of range for the hour field (0-23)"],
    ),
    (
        "four fields",
        group(schedule="30 8 * *"),
        [
            'courier-groups.Heap daily.schedule: "30 8 * *" has 4 fields; a schedule has 5: '
            "minute hour day-of-month month day-of-week, e.g. 30 8 * * *"
        ],
    ),
    (
        "six fields",
        group(schedule="0 30 8 * * *"),
        [
            'courier-groups.Heap daily.schedule: "0 30 8 * * *" has 6 fields; a schedule has 5: '
            "minute hour day-of-month month day-of-week, e.g. 30 8 * * *"
        ],
    ),
    (
        "day of week 8",
        group(schedule="30 8 * * 8"),
        [
            "courier-groups.Heap daily.schedule: 8 is out of range for the day of week field (0-7 or SUN-SAT; 0 and 7 "
            "are Sunday)"
        ],
    ),
    (
        "day of month 0",
        group(schedule="30 8 0 * *"),
        ["courier-groups.Heap daily.schedule: 0 is out of range for the day of month field (1-31)"],
    ),
    (
        "backwards range",
        group(schedule="30 8 * * 5-1"),
        ['courier-groups.Heap daily.schedule: "5-1" is a backwards range in the day of week field'],
    ),
    (
        "step of zero",
        group(schedule="*/0 8 * * *"),
        ['courier-groups.Heap daily.schedule: "*/0" has a step of 0 in the minute field'],
    ),
    (
        "garbage minute",
        group(schedule="x 8 * * *"),
        [
            'courier-groups.Heap daily.schedule: "x" is not a valid minute: use numbers 0-59, *, '
            "lists (1,3), ranges (1-5) and steps (*/15)"
        ],
    ),
    (
        "unknown time zone",
        group(timezone="Mars/Olympus"),
        [
            'courier-groups.Heap daily.timezone: "Mars/Olympus" is not an IANA time zone, '
            "e.g. America/Los_Angeles or UTC"
        ],
    ),
    (
        "time zone suggestion",
        group(timezone="los angeles"),
        [
            'courier-groups.Heap daily.timezone: "los angeles" is not an IANA time zone '
            "(did you mean America/Los_Angeles?)"
        ],
    ),
    (
        "enabled not boolean",
        group(enabled="yes"),
        ["courier-groups.Heap daily.enabled: must be true or false, not a string"],
    ),
    ("no couriers", group(couriers=[]), ["courier-groups.Heap daily.couriers: add at least one courier to the group"]),
    (
        "unknown courier in group",
        member(courier="Nope"),
        ['courier-groups.Heap daily.couriers[0].courier: "Nope" is not a courier (known: Heap)'],
    ),
    (
        "courier twice",
        group(couriers=[{"courier": "Heap"}, {"courier": "Heap"}]),
        ['courier-groups.Heap daily.couriers[1].courier: "Heap" is already in this group'],
    ),
    (
        "wait in words",
        member(wait="2 hours"),
        [
            'courier-groups.Heap daily.couriers[0].wait: "2 hours" is not valid: '
            "use a number and s, m, h or d, e.g. 30m or 2h"
        ],
    ),
    (
        "wait in weeks",
        member(wait="1w"),
        [
            'courier-groups.Heap daily.couriers[0].wait: "1w" is not valid: use a number and s, m, h or d, e.g. 30m or 2h'
        ],
    ),
    (
        "offset in years",
        member(offset="1y"),
        [
            'courier-groups.Heap daily.couriers[0].offset: "1y" is not valid: '
            "use a number and m, h, d or w, e.g. 1d or 13h"
        ],
    ),
    (
        "negative offset",
        member(offset="-1d"),
        [
            'courier-groups.Heap daily.couriers[0].offset: "-1d" is not valid: '
            "use a number and m, h, d or w, e.g. 1d or 13h"
        ],
    ),
    (
        "member unknown key",
        member(retries=3),
        [
            "courier-groups.Heap daily.couriers[0].retries: unknown field (known: courier, wait, offset, "
            "notify-when-missing, stop-when-missing)"
        ],
    ),
    (
        "run after itself",
        group(**{"run-after": "Heap daily"}),
        ["courier-groups.Heap daily.run-after: a group cannot run after itself"],
    ),
    (
        "run after unknown group",
        group(**{"run-after": "Nightly"}),
        ['courier-groups.Heap daily.run-after: "Nightly" is not a courier group'],
    ),
]


@pytest.mark.parametrize(("document", "expected"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_document_reports_exact_problem(document: Any, expected: list[str]) -> None:
    validation = validate_document(document)
    assert lines(validation.errors) == expected
    assert not validation.ok


@pytest.mark.parametrize(
    "key",
    ["secret-access-key", "aws-secret-access-key", "session-token", "aws-session-token", "access-key-id", "secret-key"],
)
def test_secret_in_a_credential_is_refused(key: str) -> None:
    document = credential(type="iam-credential", **{key: "wJalrXUtnFEMI/K7MDENG"})
    validation = validate_document(document)
    assert lines(validation.errors) == [f"credentials.heap.{key}: {SECRET_TEXT}"]
    with pytest.raises(ConfigError):
        validation.raise_for_errors()


def test_secret_message_names_the_field_and_where_secrets_belong() -> None:
    validation = validate_document(credential(**{"secret-access-key": "x"}))
    (problem,) = lines(validation.errors)
    assert problem.startswith("credentials.heap.secret-access-key: ")
    assert "environment" in problem and "AWS profile" in problem


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"session-token": "x"}, "session-token"),
        (courier(**{"secret-access-key": "x"}), "couriers.Heap.secret-access-key"),
    ],
    ids=["top level", "in a courier"],
)
def test_secret_is_refused_anywhere(document: dict[str, Any], path: str) -> None:
    assert lines(validate_document(document).errors) == [f"{path}: {SECRET_TEXT}"]


def test_every_secret_field_is_reported() -> None:
    document = credential(
        type="iam-credential", **{"secret-access-key": "a", "aws-secret-access-key": "b", "session-token": "c"}
    )
    assert lines(validate_document(document).errors) == [
        f"credentials.heap.secret-access-key: {SECRET_TEXT}",
        f"credentials.heap.aws-secret-access-key: {SECRET_TEXT}",
        f"credentials.heap.session-token: {SECRET_TEXT}",
    ]


# --- warnings, not errors ----------------------------------------------------------------------


def test_bucket_without_heap_rs3_prefix_is_a_warning() -> None:
    validation = validate_document(courier(bucket="acme-exports"))
    assert lines(validation.errors) == []
    assert lines(validation.warnings) == [
        'couriers.Heap.bucket: "acme-exports" does not start with heap-rs3-, which Heap Connect requires'
    ]
    assert validation.project.couriers["Heap"].bucket == "acme-exports"


@pytest.mark.parametrize("feed_id", ["df-xxxxxx", "df-5Jagkabc"])
def test_unknown_feed_id_in_load_operations_is_a_warning(feed_id: str) -> None:
    document = courier(**{"load-operations": {feed_id: [{"type": "load", "file": "users"}]}})
    validation = validate_document(document)
    assert lines(validation.errors) == []
    assert lines(validation.warnings) == [
        f"couriers.Heap.load-operations.{feed_id}: no feed has this ID yet; runs will land files, then fail "
        f'with Cannot find required feeds: "{feed_id}" until you put the real feed ID here'
    ]
    assert [op.file for op in validation.project.couriers["Heap"].load_operations[feed_id]] == ["users"]


def test_feed_id_known_only_to_the_database_is_not_warned_about() -> None:
    existing = validate_document(feed()).project
    document = courier(**{"load-operations": {"df-users01": [{"type": "load", "file": "users"}]}})
    validation = validate_document(document, existing=existing)
    assert (lines(validation.errors), lines(validation.warnings)) == ([], [])


def test_references_may_point_into_the_existing_configuration() -> None:
    existing = Project(credentials={"heap": Credential(name="heap", type="aws-profile", profile="acme")})
    document = courier()
    del document["credentials"]
    assert lines(validate_document(document, existing=existing).errors) == []
    assert lines(validate_document(document).errors) == [
        'couriers.Heap.credential: "heap" is not a credential (known: none yet)'
    ]


def test_heap_connect_layout_may_omit_entities() -> None:
    validation = validate_document(courier(layout="heap-connect", entities=_DROP))
    assert lines(validation.errors) == []
    assert validation.project.couriers["Heap"].entities is None
    assert validation.project.couriers["Heap"].known_tags() is None


# --- many problems at once ---------------------------------------------------------------------


def test_every_problem_is_returned_at_once() -> None:
    document = example()
    document["bogus"] = True
    document["credentials"]["other"] = {"type": "aws-profile"}
    document["couriers"]["Files"] = {"credential": "heap", "bucket": "Bad_Bucket", "layout": "heap-connect"}
    document["feeds"]["df-users01"]["error-threshold"] = 200
    document["courier-groups"]["Heap daily"]["schedule"] = "61 8 * * *"
    validation = validate_document(document)
    assert sorted(lines(validation.errors)) == sorted(
        [
            "bogus: unknown field (known: credentials, couriers, feeds, courier-groups)",
            "credentials.other.profile: is required for an aws-profile credential",
            'couriers.Files.bucket: "Bad_Bucket" is not valid: '
            "S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens",
            "feeds.df-users01.error-threshold: must be a whole percentage from 0 to 100",
            "courier-groups.Heap daily.schedule: 61 is out of range for the minute field (0-59)",
        ]
    )
    with pytest.raises(ConfigError) as raised:
        validation.raise_for_errors()
    assert raised.value.problems == validation.errors
    assert str(raised.value) == f"{validation.errors[0]} (and 4 more)"


def test_one_problem_raises_with_just_that_line() -> None:
    validation = validate_document(group(schedule="61 8 * * *"))
    with pytest.raises(ConfigError) as raised:
        validation.raise_for_errors()
    assert str(raised.value) == "courier-groups.Heap daily.schedule: 61 is out of range for the minute field (0-59)"


# --- one mistake is one problem: errors must not cascade into references -----------------------


def test_invalid_credential_is_one_problem_not_three() -> None:
    document = example()
    document["credentials"]["heap"]["region"] = "nowhere"
    assert lines(validate_document(document).errors) == [
        'credentials.heap.region: "nowhere" is not valid: expected an AWS region such as us-east-1'
    ]


def test_invalid_courier_is_one_problem_not_two() -> None:
    document = example()
    document["couriers"]["Heap"]["bucket"] = "Heap_Bucket"
    assert lines(validate_document(document).errors) == [
        'couriers.Heap.bucket: "Heap_Bucket" is not valid: '
        "S3 bucket names are 3–63 lowercase letters, digits, dots and hyphens"
    ]


def test_bad_file_pattern_does_not_hide_its_tag_from_load_operations() -> None:
    document = operations({"df-users01": [{"type": "load", "file": "users"}]})
    document["couriers"]["Heap"]["entities"][0]["object/file-pattern"] = "'exports/users-yyyy"
    assert lines(validate_document(document).errors) == [
        "couriers.Heap.entities[0].object/file-pattern: unterminated quote at position 1 in "
        "'exports/users-yyyy: close literal text with '"
    ]


def test_invalid_feed_does_not_also_warn_that_the_feed_is_missing() -> None:
    document = example()
    document["feeds"]["df-users01"]["error-threshold"] = 200
    validation = validate_document(document)
    assert lines(validation.errors) == ["feeds.df-users01.error-threshold: must be a whole percentage from 0 to 100"]
    assert lines(validation.warnings) == []


# --- present-but-empty required values must not slip through ----------------------------------


@pytest.mark.parametrize("value", [None, ""], ids=["null", "empty"])
def test_role_to_role_needs_a_role_arn_value(value: Any) -> None:
    assert lines(validate_document(credential(**{"role-arn": value})).errors) == [
        "credentials.heap.role-arn: is required for an iam-role-to-role credential"
    ]


@pytest.mark.parametrize("value", [None, ""], ids=["null", "empty"])
def test_aws_profile_needs_a_profile_value(value: Any) -> None:
    document = credential(type="aws-profile", profile=value, **{"role-arn": _DROP, "external-id": _DROP})
    assert lines(validate_document(document).errors) == [
        "credentials.heap.profile: is required for an aws-profile credential"
    ]


# --- models built from a valid document --------------------------------------------------------


def test_models_carry_every_value() -> None:
    project = validate_document(rich()).project
    files = project.couriers["Files"]
    assert files.entities[0].header_rows == 1 and files.entities[0].optional is True
    assert files.entities[0].separator == ";" and files.entities[0].quote == '"'
    assert files.known_tags() == ["users", "events"]
    assert list(files.load_operations) == ["df-users02", "df-Events1"]
    users = project.feeds["df-users02"]
    assert users.table_name == "Files:Users"
    assert users.primary_key == ("id", "region")
    assert users.last_updated is None and users.status == "draft" and users.error_threshold == 5
    assert [(f.name, f.type) for f in users.fields][:3] == [("id", "Integer"), ("region", "String"), ("born", "Date")]
    assert project.feeds["df-Events1"].primary_key == ("event_id",)
    assert project.feeds["df-Events1"].fields is None
    nightly = project.groups["Nightly"]
    assert (nightly.timezone, nightly.file_dates_in_zone, nightly.enabled) == ("Europe/Berlin", True, False)
    assert [(m.courier, m.wait, m.offset, m.stop_when_missing) for m in nightly.couriers] == [
        ("Files", "30m", "13h", False),
        ("Heap", "0m", "0d", True),
    ]
    assert project.groups["Manual"].run_after == "Nightly"
    assert project.groups["Manual"].schedule is None and project.groups["Manual"].timezone == "UTC"
