"""Project documents shared by the configuration, project and CLI tests.

Every test gets its own deep copy (``example()``), so tests may mutate freely.
"""

from __future__ import annotations

import copy
from typing import Any

# The example project document from issue 2, verbatim.
EXAMPLE: dict[str, Any] = {
    "credentials": {
        "heap": {
            "type": "iam-role-to-role",
            "role-arn": "arn:aws:iam::123456789012:role/heap-reader",
            "external-id": "acme-42",
            "region": "us-east-1",
            "endpoint-url": None,
        }
    },
    "couriers": {
        "Heap": {
            "plugin": "amazon-s3",
            "credential": "heap",
            "bucket": "heap-rs3-acme",
            "prefix": "",
            "layout": "heap-connect",
            "entities": [
                {
                    "object/type": "file",
                    "object/file-pattern": "'exports/users-'yyyy-MM-dd'.avro'",
                    "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"},
                }
            ],
            "load-operations": {"df-users01": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
        }
    },
    "feeds": {
        "df-users01": {
            "source": "Heap",
            "name": "Users",
            "primary-key": ["user_id"],
            "last-updated": "last_modified",
            "stitch": True,
            "fields": {"email": {"type": "String", "tags": ["email"]}},
        }
    },
    "courier-groups": {
        "Heap daily": {
            "schedule": "30 8 * * *",
            "timezone": "America/Los_Angeles",
            "file-dates-in-zone": False,
            "enabled": True,
            "couriers": [
                {
                    "courier": "Heap",
                    "wait": "2h",
                    "offset": "1d",
                    "notify-when-missing": True,
                    "stop-when-missing": False,
                }
            ],
        }
    },
}

# Every optional field set to a non-default value, to prove nothing is lost on a round trip.
RICH: dict[str, Any] = {
    "credentials": {
        "heap": {
            "type": "iam-role-to-role",
            "role-arn": "arn:aws:iam::123456789012:role/heap-reader",
            "external-id": "acme-42",
            "region": "eu-west-1",
            "endpoint-url": "http://127.0.0.1:9000",
        },
        "local": {"type": "aws-profile", "profile": "acme-dev"},
        "keys": {"type": "iam-credential", "region": "us-west-2"},
    },
    "couriers": {
        "Heap": {
            "credential": "heap",
            "bucket": "heap-rs3-acme",
            "prefix": "exports/2026",
            "layout": "heap-connect",
            "load-operations": {"df-xxxxxx": []},
        },
        "Files": {
            "credential": "local",
            "bucket": "acme-files",
            "layout": "file-pattern",
            "entities": [
                {
                    "object/type": "file",
                    "object/file-pattern": "'users/'yyyy'/'MM'/users-'dd'.csv'",
                    "object/land-as": {
                        "file/tag": "users",
                        "file/content-type": "text/csv",
                        "file/header-rows": 1,
                        "file/separator": ";",
                        "file/quote": '"',
                    },
                    "object/optional": True,
                },
                {
                    "object/type": "file",
                    "object/file-pattern": "'events/'yyyy-MM-dd'/*.ndjson'",
                    "object/land-as": {"file/tag": "events", "file/content-type": "application/x-ndjson"},
                },
            ],
            "load-operations": {
                "df-users02": [{"type": "truncate"}, {"type": "load", "file": "users"}],
                "df-Events1": [{"type": "load", "file": "events"}],
            },
        },
    },
    "feeds": {
        "df-users02": {
            "source": "Files",
            "name": "Users",
            "primary-key": ["id", "region"],
            "last-updated": None,
            "stitch": False,
            "error-threshold": 5,
            "status": "draft",
            "fields": {
                "id": {"type": "Integer", "required": True},
                "region": {"type": "String", "tags": ["state"]},
                "born": {"type": "Date", "tags": ["birthdate"]},
                "seen": {"type": "Datetime", "tags": ["update-dt", "custom-tag"]},
                "score": {"type": "Float"},
                "spend": {"type": "Decimal"},
                "vip": {"type": "Boolean"},
            },
        },
        "df-Events1": {"source": "Files", "name": "Events", "primary-key": "event_id"},
    },
    "courier-groups": {
        "Nightly": {
            "schedule": "0 2 * * 1-5",
            "timezone": "Europe/Berlin",
            "file-dates-in-zone": True,
            "enabled": False,
            "couriers": [
                {"courier": "Files", "wait": "30m", "offset": "13h"},
                {"courier": "Heap", "stop-when-missing": True},
            ],
            "notify-command": "mail -s courier ops@example.com",
        },
        "Manual": {"couriers": [{"courier": "Heap"}], "run-after": "Nightly"},
    },
}


def example() -> dict[str, Any]:
    """A fresh copy of the issue's example document."""
    return copy.deepcopy(EXAMPLE)


def rich() -> dict[str, Any]:
    """A fresh copy of the document that sets every optional field."""
    return copy.deepcopy(RICH)
