"""A changed declared type rebuilds the domain table in one transaction, or is refused (issue 9, rule 6).

Each case loads a small Avro file through a real run, changes the feed's declared type
for a column with ``apply_document`` (what ``courier apply`` and the feed editor call),
and reads the table back from SQLite.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.project import apply_document, load_project
from core.runs import RunWindow, run_courier
from core.store import Store
from tests.conftest import S3Bucket
from tests.core.test_values_runs import COURIER, FIRST_DAY, TABLE, avro, load, table

FIELDS = [{"name": "id", "type": "string"}, {"name": "score", "type": ["null", "string"]}]


def feed_with(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "feeds": {
            "df-things1": {
                "source": "Values",
                "name": "Things",
                "primary-key": ["id"],
                "error-threshold": 100,
                "fields": fields,
            }
        }
    }


def storage(db: Path) -> dict[str, tuple[str, ...]]:
    """Each column's declared type and the storage classes of its values."""
    conn = sqlite3.connect(db)
    try:
        declared = {row[1]: row[2] for row in conn.execute(f'PRAGMA table_info("{TABLE}")')}
        return {
            name: (kind, *sorted({row[0] for row in conn.execute(f'SELECT typeof("{name}") FROM "{TABLE}"')}))
            for name, kind in declared.items()
            if name not in ("_updated",)
        }
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("scores", "declared", "expected", "kind"),
    [
        (["12", "-7", None], "Integer", [12, -7, None], ("INTEGER", "integer", "null")),
        (["1.5", "2"], "Float", [1.5, 2.0], ("REAL", "real")),
        (
            ["2026-11-01T10:00:00Z", "2026-11-02 08:30:00"],
            "Datetime",
            ["2026-11-01T10:00:00.000000Z", "2026-11-02T08:30:00.000000Z"],
            ("TEXT", "text"),
        ),
        (["true", "0"], "Boolean", [1, 0], ("INTEGER", "integer")),
    ],
)
def test_a_new_declared_type_converts_every_stored_value(
    tmp_path: Path, s3_bucket: S3Bucket, scores: list[Any], declared: str, expected: list[Any], kind: tuple[str, ...]
) -> None:
    records = [{"id": str(n), "score": score} for n, score in enumerate(scores, 1)]
    db, summary = load(tmp_path, s3_bucket, [avro(FIELDS, records)])
    assert summary.status == "Succeeded", summary.message
    with Store(db) as store:
        result = apply_document(store, feed_with({"score": {"type": declared}}))
    assert f"rebuilt domain table {TABLE} (score String → {declared}; {len(scores)} rows)" in result.changes
    assert [row["score"] for row in table(db)] == expected
    assert storage(db)["score"] == kind
    assert [row["id"] for row in table(db)] == [str(n) for n in range(1, len(scores) + 1)]


def test_a_value_that_cannot_convert_refuses_the_change_and_changes_nothing(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    db, _ = load(
        tmp_path,
        s3_bucket,
        [avro(FIELDS, [{"id": "1", "score": "12"}, {"id": "2", "score": "high"}, {"id": "3", "score": "1e3"}])],
    )
    before = table(db), storage(db)
    with Store(db) as store:
        for dry_run in (True, False):
            with pytest.raises(ConfigError) as refused:
                apply_document(store, feed_with({"score": {"type": "Integer"}}), dry_run=dry_run)
            assert str(refused.value) == (
                f"feeds.df-things1.fields.score.type: 2 rows of {TABLE} hold score values that are not Integer (first: "
                "'high' is not an Integer written exactly (digits, optional minus)); keep the type, or correct "
                "the data first"
            )
        assert load_project(store).feeds["df-things1"].fields is None or all(
            field.type != "Integer" for field in load_project(store).feeds["df-things1"].fields or ()
        )
    assert (table(db), storage(db)) == before


def test_a_key_retyped_to_integer_is_one_row_with_the_integer_a_later_file_sends(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    db, _ = load(tmp_path, s3_bucket, [avro(FIELDS, [{"id": "1001", "score": "a"}, {"id": "7", "score": "b"}])])
    with Store(db) as store:
        dry = apply_document(store, feed_with({"id": {"type": "Integer"}}), dry_run=True)
        assert dry.changes[-1] == f"rebuilt domain table {TABLE} (id String → Integer; 2 rows)"
        assert storage(db)["_pk"] == ("", "text")  # a dry run changes nothing
        apply_document(store, feed_with({"id": {"type": "Integer"}}))
    assert storage(db)["_pk"] == ("", "integer") and storage(db)["id"] == ("INTEGER", "integer")
    # The next dump sends the key as a long: it updates row 1001 instead of adding a second one.
    later = avro(
        [{"name": "id", "type": "long"}, {"name": "score", "type": ["null", "string"]}], [{"id": 1001, "score": "c"}]
    )
    s3_bucket.put("things/things-2026-11-02.avro", later)
    summary = run_courier(db, COURIER, RunWindow.day(FIRST_DAY.replace(day=2)))
    assert summary.status == "Warning" and summary.message.startswith("Type drift in"), summary.message  # rule 6
    assert sorted((row["id"], row["score"]) for row in table(db)) == [(7, "b"), (1001, "c")]


def test_identity_views_still_read_the_rebuilt_table(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    db, _ = load(tmp_path, s3_bucket, [avro(FIELDS, [{"id": "1", "score": "5"}])])
    conn = sqlite3.connect(db)
    conn.execute(f'CREATE VIEW "{TABLE}:view" AS SELECT id, score FROM "{TABLE}"')
    conn.commit()
    conn.close()
    with Store(db) as store:
        apply_document(store, feed_with({"score": {"type": "Integer"}}))
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(f'SELECT id, score, typeof(score) FROM "{TABLE}:view"').fetchall() == [("1", 5, "integer")]
    finally:
        conn.close()


def test_the_stitched_key_keeps_its_type(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    # The identity view matches the key against user migrations' ids, which keep their type.
    db, _ = load(tmp_path, s3_bucket, [avro(FIELDS, [{"id": "1", "score": "5"}])])
    before = table(db), storage(db)
    document = feed_with({"id": {"type": "Integer"}})
    document["feeds"]["df-things1"]["stitch"] = True
    with Store(db) as store, pytest.raises(ConfigError) as refused:
        apply_document(store, document)
    assert str(refused.value) == (
        f"feeds.df-things1.fields.id.type: id is the key {TABLE}'s identity view matches against user "
        "migrations, so it stays String; turn stitching off first, or keep the type"
    )
    assert (table(db), storage(db)) == before
