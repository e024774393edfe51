"""New feed IDs, sample files of feeds, and "Fill in feed IDs" for a courier's load operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import NotFoundError
from core.feeds import (
    feed_samples,
    fill_feed_ids,
    new_feed_id,
    sample_file_ids,
    set_sample_file,
    suggested_feed_name,
)
from core.models import FEED_ID_RE
from core.project import apply_document, load_project
from core.store import Store

CREDENTIAL = {"s3": {"type": "aws-profile", "profile": "heap"}}


def feed(name: str, status: str = "active") -> dict[str, Any]:
    return {"source": "Heap", "name": name, "primary-key": ["id"], "status": status}


def land(store: Store, tag: str, courier: str = "Heap") -> int:
    store.execute(
        "INSERT INTO landed_files (courier, key, tag, size, etag, content_type, local_path, landed_at) "
        "VALUES (?, ?, ?, 1, 'e', 'application/avro', 'p', 'now')",
        (courier, f"{tag}-{len(store.query('SELECT id FROM landed_files'))}.avro", tag),
    )
    return int(store.query("SELECT MAX(id) AS id FROM landed_files")[0]["id"])


def test_new_feed_ids_are_valid_and_fresh() -> None:
    ids = {new_feed_id() for _ in range(50)}
    assert all(FEED_ID_RE.match(feed_id) for feed_id in ids) and len(ids) == 50
    assert new_feed_id({"df-aaaaaaaa"}) != "df-aaaaaaaa"


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("users", "Users"),
        ("user_migrations", "User Migrations"),
        ("checkout_complete_order", "Checkout Complete Order"),
        ("daily-orders", "Daily Orders"),
    ],
)
def test_suggested_feed_names(tag: str, name: str) -> None:
    assert suggested_feed_name(tag) == name


@pytest.mark.parametrize(
    ("operations", "feeds", "samples", "expected", "problem"),
    [
        # One active feed made from a users sample: the placeholder is replaced, the truncate kept.
        (
            {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
            {"df-usr00001": feed("Users")},
            {"df-usr00001": "users"},
            {"df-usr00001": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
            None,
        ),
        # Order is kept; known feeds are left alone.
        (
            {"df-ses00001": [{"type": "load", "file": "sessions"}], "df-xxxxxx": [{"type": "load", "file": "users"}]},
            {"df-usr00001": feed("Users"), "df-ses00001": feed("Sessions")},
            {"df-usr00001": "users", "df-ses00001": "sessions"},
            {"df-ses00001": [{"type": "load", "file": "sessions"}], "df-usr00001": [{"type": "load", "file": "users"}]},
            None,
        ),
        (
            {"df-xxxxxx": [{"type": "load", "file": "users"}]},
            {"df-usr00001": feed("Users"), "df-usr00002": feed("Users 2")},
            {"df-usr00001": "users", "df-usr00002": "users"},
            None,
            "several active feeds were made from a users sample (df-usr00001 (Heap:Users), df-usr00002 (Heap:Users 2))",
        ),
        (
            {"df-xxxxxx": [{"type": "load", "file": "users"}]},
            {"df-usr00001": feed("Users", "draft")},
            {"df-usr00001": "users"},
            None,
            "is still a draft",
        ),
        (
            {"df-xxxxxx": [{"type": "load", "file": "users"}]},
            {},
            {},
            None,
            "no active feed was made from a users sample",
        ),
        ({"df-xxxxxx": [{"type": "truncate"}]}, {}, {}, None, "loads no file"),
        (
            {"df-usr00001": [{"type": "load", "file": "users"}], "df-xxxxxx": [{"type": "load", "file": "users"}]},
            {"df-usr00001": feed("Users")},
            {"df-usr00001": "users"},
            None,
            "already has load operations",
        ),
    ],
)
def test_fill_feed_ids(
    tmp_path: Path,
    operations: dict[str, Any],
    feeds: dict[str, Any],
    samples: dict[str, str],
    expected: dict[str, Any] | None,
    problem: str | None,
) -> None:
    with Store(tmp_path / "c.db") as store:
        apply_document(
            store,
            {
                "credentials": CREDENTIAL,
                "feeds": feeds,
                "couriers": {
                    "Heap": {
                        "credential": "s3",
                        "bucket": "heap-rs3-acme",
                        "layout": "heap-connect",
                        "load-operations": operations,
                    }
                },
            },
        )
        for feed_id, tag in samples.items():
            set_sample_file(store, feed_id, land(store, tag))
        assert feed_samples(store) == {feed_id: ("Heap", tag) for feed_id, tag in samples.items()}
        fill = fill_feed_ids(load_project(store), "Heap", feed_samples(store))
    if expected is not None:
        assert fill.operations == expected and fill.changed and not fill.problems
    else:
        assert fill.operations == operations and not fill.changed
        assert problem is not None and problem in fill.problems[0]


def test_set_sample_file_checks_both_ends(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        apply_document(store, {"feeds": {"df-usr00001": feed("Users")}})
        with pytest.raises(NotFoundError):
            set_sample_file(store, "df-nope0001", None)
        with pytest.raises(NotFoundError):
            set_sample_file(store, "df-usr00001", 99)
        file_id = land(store, "users")
        set_sample_file(store, "df-usr00001", file_id)
        assert sample_file_ids(store) == {"df-usr00001": file_id}
        apply_document(store, {"feeds": {"df-usr00001": {**feed("Users"), "stitch": True}}})
        assert sample_file_ids(store) == {"df-usr00001": file_id}  # saving the feed keeps its sample


def test_fill_prefers_feeds_made_from_this_couriers_samples(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        apply_document(
            store,
            {
                "credentials": CREDENTIAL,
                "feeds": {"df-usr00001": feed("Users"), "df-exp00001": feed("Export Users")},
                "couriers": {
                    "Heap": {
                        "credential": "s3",
                        "bucket": "heap-rs3-acme",
                        "layout": "heap-connect",
                        "load-operations": {"df-xxxxxx": [{"type": "load", "file": "users"}]},
                    }
                },
            },
        )
        set_sample_file(store, "df-usr00001", land(store, "users"))
        set_sample_file(store, "df-exp00001", land(store, "users", courier="Heap exports"))
        fill = fill_feed_ids(load_project(store), "Heap", feed_samples(store))
    assert fill.replaced == [("df-xxxxxx", "df-usr00001")]
