"""Heap Connect courier runs end to end: boto3 over HTTP against the local moto server, into SQLite.

The expected tables come from a small reference model of Heap's rules written
here (replay the dumps in numeric order: a full dump replaces, an incremental
one upserts on the key, the last-updated field or the later file wins), fed
with the generated objects decoded by fastavro directly, never through core.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from core.errors import CourierError
from core.feeds import activate_feed, view_landed_file
from core.heap import discover, list_manifests
from core.project import apply_document
from core.runs import (
    RunEvent,
    RunProgress,
    RunSummary,
    RunWindow,
    get_run,
    list_landed_files,
    request_stop,
    run_courier,
    run_events,
)
from core.store import Store
from core.tables import first_rows, list_domain_tables
from tests.conftest import (
    HEAP_DOMAIN_TABLES,
    HEAP_TABLE_OF_FEED,
    HEAP_TODAY,
    TEST_ACCESS_KEY,
    TEST_REGION,
    TEST_SECRET_KEY,
    S3Bucket,
    _admin_client,
    heap_document,
    heap_objects,
    read_avro,
)

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
DUMPS = (998, 1004, 1011, 1020)
KEYS = {"users": "user_id", "sessions": "session_id", "user_migrations": "from_user_id"}
TIME_FORMS = {"users": "micros", "sessions": "millis"}
TIME_COLUMNS = ("time", "joindate", "last_modified")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RESYNC = 1020
RESYNC_MANIFEST = f"manifests/sync_{RESYNC}.json"
_buckets = itertools.count(1)


# --- the environment, buckets and databases ------------------------------------------------------


@pytest.fixture(scope="module")
def module_aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same fake, leak-proof AWS environment as ``aws_env``, for module-scoped loads."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.upper().startswith("AWS_"):
                patch.delenv(name)
        missing = tmp_path_factory.mktemp("aws-config-module") / "absent"
        for name, value in {
            "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
            "AWS_DEFAULT_REGION": TEST_REGION,
            "AWS_CONFIG_FILE": str(missing / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(missing / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "BOTO_CONFIG": str(missing / "boto.cfg"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }.items():
            patch.setenv(name, value)
        yield


def new_heap_bucket(endpoint: str, client: Any, data: Any, *, without: tuple[str, ...] = ()) -> S3Bucket:
    """A new bucket holding the generated objects, except the keys in ``without``."""
    bucket = S3Bucket(endpoint, client, f"heap-rs3-ingest-{next(_buckets)}")
    client.create_bucket(Bucket=bucket.name)
    objects = heap_objects(data, bucket.name)
    bucket.put_many({key: body for key, body in objects.items() if key not in without})
    return bucket


def configure(db: Path, bucket: S3Bucket, **document: Any) -> None:
    with Store(db) as store:
        apply_document(store, heap_document(bucket.endpoint, bucket.name, **document))


def run(db: Path, window: RunWindow | None = None, **kwargs: Any) -> RunSummary:
    return run_courier(db, "Heap", window or RunWindow.all(), **kwargs)


def events(db: Path, run_id: int) -> list[RunEvent]:
    with Store(db) as store:
        return run_events(store, run_id)


def query(db: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(row) for row in conn.execute(sql, parameters)]
    finally:
        conn.close()


def columns_of(db: Path, table: str) -> list[str]:
    return [row[1] for row in query(db, f'PRAGMA table_info("{table}")')]


def table_dump(db: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every column and every row of a domain table or view, ordered by ``_pk``."""
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY _pk')
        return [d[0] for d in cursor.description], [tuple(row) for row in cursor]
    finally:
        conn.close()


def snapshot(db: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every domain table and identity view, in full."""
    names = [
        row[0]
        for row in query(
            db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name LIKE '%:%' ORDER BY name"
        )
    ]
    return {name: table_dump(db, name) for name in names}


def rows_by_pk(db: Path, table: str) -> dict[Any, dict[str, Any]]:
    columns, rows = table_dump(db, table)
    return {row[0]: dict(zip(columns, row)) for row in rows}


def cursor_of(db: Path, table: str) -> tuple[Any, ...] | None:
    rows = query(
        db,
        "SELECT courier, source_table, dump_id, last_part, dump_complete FROM cursors WHERE table_name = ?",
        (table,),
    )
    return rows[0] if rows else None


# --- the reference model ---------------------------------------------------------------------


def manifest(data: Any, dump_id: int) -> dict[str, Any]:
    return json.loads(data.objects[f"manifests/sync_{dump_id}.json"])


def part_of(key: str) -> int:
    return int(key.rsplit("/", 1)[1].split("-")[1])


def dump_keys(data: Any, dump_id: int, table: str) -> list[str]:
    """The table's part keys in a dump, in numeric part order (from the manifest)."""
    for entry in manifest(data, dump_id)["tables"]:
        if entry["name"] == table:
            return sorted((uri.split("/", 3)[3] for uri in entry["files"]), key=part_of)
    return []


def is_incremental(data: Any, dump_id: int, table: str) -> bool | None:
    for entry in manifest(data, dump_id)["tables"]:
        if entry["name"] == table:
            return bool(entry["incremental"])
    return None


def iso(value: Any, form: str) -> str | None:
    if value is None:
        return None
    if form == "micros":
        moment = EPOCH + timedelta(microseconds=value)
    elif form == "millis":
        moment = EPOCH + timedelta(milliseconds=value)
    else:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as the domain table should hold it: timestamps as ISO 8601 UTC text."""
    form = TIME_FORMS.get(table, "string")
    return {column: iso(value, form) if column in TIME_COLUMNS else value for column, value in record.items()}


@dataclass
class Expected:
    rows: dict[Any, dict[str, Any]]
    """Key → the row (fields, ``_pk``, ``_updated``) the table should hold."""
    files: list[str]
    """The keys a cold start applies, in order."""
    rows_read: int
    origin: dict[Any, int]
    """Key → the dump whose version of the row won."""


def expected_table(
    data: Any, table: str, *, dumps: tuple[int, ...] = DUMPS, stop_after: tuple[int, int] | None = None
) -> Expected:
    """Replay the dumps in numeric order the way Heap says a loader must.

    ``stop_after=(dump, part)`` stops after that part (a load that failed on the next one).
    """
    key = KEYS.get(table, "event_id")
    present = [d for d in sorted(dumps) if is_incremental(data, d, table) is not None]
    fulls = [d for d in present if not is_incremental(data, d, table)]
    start = fulls[-1] if fulls else (present[0] if present else None)
    state: dict[Any, dict[str, Any]] = {}
    origin: dict[Any, int] = {}
    files: list[str] = []
    rows_read = 0
    for dump_id in present:
        if dump_id < (start or 0):
            continue
        if not is_incremental(data, dump_id, table):
            state, origin = {}, {}
        for part_key in dump_keys(data, dump_id, table):
            files.append(part_key)
            for record in read_avro(data.objects[part_key]):
                rows_read += 1
                row = stored(table, record)
                row["_pk"] = record[key]
                row["_updated"] = (
                    row["last_modified"] if table == "users" else f"heap:{dump_id:015d}:{part_of(part_key):09d}"
                )
                old = state.get(record[key])
                if old is None or row["_updated"] >= old["_updated"]:
                    state[record[key]] = row
                    origin[record[key]] = dump_id
            if stop_after == (dump_id, part_of(part_key)):
                return Expected(state, files, rows_read, origin)
    return Expected(state, files, rows_read, origin)


def assert_table_matches(db: Path, table: str, expected: Expected) -> None:
    actual = rows_by_pk(db, table)
    assert sorted(actual) == sorted(expected.rows)
    for pk, row in expected.rows.items():
        have = actual[pk]
        want = {column: row.get(column) for column in have}
        assert have == want, pk
        extra = set(row) - set(have)
        assert not extra, extra


# --- a full load, shared by the read-only tests ------------------------------------------------


@dataclass
class Loaded:
    db: Path
    bucket: S3Bucket
    run: RunSummary
    snapshot: dict[str, tuple[list[str], list[tuple[Any, ...]]]]


@pytest.fixture(scope="module")
def reference(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, tmp_path_factory: pytest.TempPathFactory
) -> Loaded:
    """The generated bucket loaded in one uninterrupted run."""
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data)
    db = tmp_path_factory.mktemp("reference") / "reference.db"
    configure(db, bucket)
    summary = run(db)
    return Loaded(db, bucket, summary, snapshot(db))


def test_full_load_gives_every_table_the_expected_rows(reference: Loaded, heap_data: Any) -> None:
    assert reference.run.status == "Succeeded", reference.run.message
    assert reference.run.message is None
    counts = {table: len(reference.snapshot[name][1]) for table, name in HEAP_DOMAIN_TABLES.items()}
    assert counts == {table: heap_data.summary[table] for table in HEAP_DOMAIN_TABLES}
    for table, name in HEAP_DOMAIN_TABLES.items():
        assert_table_matches(reference.db, name, expected_table(heap_data, table))


def test_full_load_counts(reference: Loaded, heap_data: Any) -> None:
    models = [expected_table(heap_data, table) for table in HEAP_TABLE_OF_FEED.values()]
    files = sum(len(m.files) for m in models)
    rows_read = sum(m.rows_read for m in models)
    inserted = sum(heap_data.summary[table] for table in HEAP_TABLE_OF_FEED.values())

    run_ = reference.run
    assert (run_.files, run_.rows_read, run_.rows_inserted, run_.rows_updated, run_.rows_rejected) == (
        files,
        rows_read,
        inserted,
        rows_read - inserted,
        0,
    )
    # Asked for all data, a heap-connect courier records what it did: every dump newer than the cursors.
    assert run_.window == RunWindow.new_dumps()
    assert run_.finished_at is not None and run_.finished_at >= run_.started_at
    messages = [e.message for e in events(reference.db, run_.id)]
    assert messages[:2] == [
        "Run Heap for every complete Heap dump newer than the tables' cursors (manual)",
        "all data does not apply to a heap-connect courier: Heap's manifests and the tables' cursors decide what "
        "loads, not file dates",
    ]


def test_full_load_lands_only_manifest_files_in_numeric_dump_and_part_order(reference: Loaded, heap_data: Any) -> None:
    planned = [key for table in HEAP_TABLE_OF_FEED.values() for key in expected_table(heap_data, table).files]
    landed_events = [e.file for e in events(reference.db, reference.run.id) if e.message.startswith("Landed ")]

    # Dumps as numbers (998 < 1004 < 1011 < 1020), parts as numbers, whatever order the manifests list them.
    assert landed_events == planned
    pageviews = [key for key in planned if "/pageviews/" in key]
    assert [(int(k.split("/")[0][5:]), part_of(k)) for k in pageviews] == sorted(
        (int(k.split("/")[0][5:]), part_of(k)) for k in pageviews
    )
    assert [k.split("/")[0] for k in pageviews][:1] == ["sync_998"]
    listed = [
        uri.split("/", 3)[3]
        for entry in manifest(heap_data, 998)["tables"]
        if entry["name"] == "pageviews"
        for uri in entry["files"]
    ]
    assert listed != sorted(listed, key=part_of)  # the manifest really is shuffled

    with Store(reference.db) as store:
        landed = list_landed_files(store, "Heap")
    keys = {item.key for item in landed}
    assert keys == set(planned)
    # Never read: the half-written dump without a manifest, another tool's manifest copies,
    # property definitions, _event_metadata, and dumps older than a table's latest full resync.
    assert not [k for k in keys if k.startswith(("sync_1031/", "imported_manifests/", "manifests/"))]
    assert not [k for k in keys if "_event_metadata" in k or k.endswith(".json")]
    assert not [k for k in keys if "/checkout_complete_order/" in k and not k.startswith("sync_1020/")]
    assert not [k for k in keys if "/user_migrations/" in k and not k.startswith("sync_1020/")]


def test_half_written_dump_never_reaches_the_tables(reference: Loaded, heap_data: Any) -> None:
    decoy = [key for key in heap_data.objects if key.startswith("sync_1031/")]
    decoy_users = {record["user_id"] for key in decoy for record in read_avro(heap_data.objects[key])}

    assert decoy_users
    assert not decoy_users & set(rows_by_pk(reference.db, "Heap:Users"))


def test_later_dumps_win_by_dump_number(reference: Loaded, heap_data: Any) -> None:
    # Pageviews have no last-updated field: the later dump (1011 > 998 as numbers) must win.
    resent = {
        record["event_id"]: record
        for key in dump_keys(heap_data, 1011, "pageviews")
        for record in read_avro(heap_data.objects[key])
        if " | " in (record["title"] or "")
    }
    first = {
        record["event_id"]: record
        for dump_id in (998, 1004)
        for key in dump_keys(heap_data, dump_id, "pageviews")
        for record in read_avro(heap_data.objects[key])
    }
    resent = {event_id: record for event_id, record in resent.items() if event_id in first}
    pageviews = rows_by_pk(reference.db, "Heap:Pageviews")

    assert resent
    for event_id, record in resent.items():
        assert pageviews[event_id]["title"] == record["title"]
        assert pageviews[event_id]["title"] != first[event_id]["title"]
        assert pageviews[event_id]["heap_device_id"] == record["heap_device_id"]
        assert pageviews[event_id]["_updated"].startswith("heap:000000000001011:")

    # Users changed in a later dump end with that dump's values.
    users = rows_by_pk(reference.db, "Heap:Users")
    seen: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for dump_id in DUMPS:
        for key in dump_keys(heap_data, dump_id, "users"):
            for record in read_avro(heap_data.objects[key]):
                seen.setdefault(record["user_id"], []).append((dump_id, record))
    changed = {user_id: versions for user_id, versions in seen.items() if len(versions) > 1}
    assert len(changed) >= 3
    assert {versions[-1][0] for versions in changed.values()} >= {1011, 1020}
    for user_id, versions in changed.items():
        latest = stored("users", versions[-1][1])
        assert {column: users[user_id][column] for column in latest} == latest
        assert users[user_id]["email"] == versions[-1][1]["email"]


def test_full_resync_replaces_the_table_while_incremental_tables_upsert(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data, without=(RESYNC_MANIFEST,))
    db = tmp_path / "resync.db"
    configure(db, bucket)
    first = run(db)
    assert first.status == "Succeeded", first.message
    before_checkout = set(rows_by_pk(db, "Heap:Checkout Complete Order"))
    before_pageviews = set(rows_by_pk(db, "Heap:Pageviews"))
    assert_table_matches(
        db,
        "Heap:Checkout Complete Order",
        expected_table(heap_data, "checkout_complete_order", dumps=(998, 1004, 1011)),
    )

    bucket.put(RESYNC_MANIFEST, heap_objects(heap_data, bucket.name)[RESYNC_MANIFEST])
    second = run(db)

    assert second.status == "Succeeded", second.message
    resync_ids = {
        record["event_id"]
        for key in dump_keys(heap_data, RESYNC, "checkout_complete_order")
        for record in read_avro(heap_data.objects[key])
    }
    checkout = set(rows_by_pk(db, "Heap:Checkout Complete Order"))
    gone = before_checkout - resync_ids
    assert gone, "the generated resync must drop rows the old dumps had"
    assert checkout == resync_ids
    assert not gone & checkout
    pageviews = set(rows_by_pk(db, "Heap:Pageviews"))
    assert before_pageviews < pageviews
    assert len(pageviews) == heap_data.summary["pageviews"]
    messages = [e.message for e in events(db, second.id)]
    assert "Loading Heap:Checkout Complete Order afresh; it is replaced when every file of the dump is in" in messages
    assert "Loading Heap:Pageviews afresh; it is replaced when every file of the dump is in" not in messages
    # Applied dump by dump, the result is the same as a cold start from the latest full dumps.
    assert snapshot(db) == reference.snapshot


def test_schema_drift_adds_columns_and_leaves_old_rows_null(reference: Loaded, heap_data: Any) -> None:
    from core.heapgen import PAGEVIEW_COLUMNS, USER_COLUMNS

    assert columns_of(reference.db, "Heap:Users") == ["_pk", *USER_COLUMNS, "_updated", "plan"]
    assert columns_of(reference.db, "Heap:Pageviews") == ["_pk", *PAGEVIEW_COLUMNS, "_updated", "heap_device_id"]

    for table, name, column in (("users", "Heap:Users", "plan"), ("pageviews", "Heap:Pageviews", "heap_device_id")):
        model = expected_table(heap_data, table)
        old = {pk for pk, dump_id in model.origin.items() if dump_id < 1011}
        rows = rows_by_pk(reference.db, name)
        assert old and len(old) < len(rows)
        assert {pk for pk, row in rows.items() if row[column] is None} >= old
        assert all(rows[pk][column] is None for pk in old)
        assert [pk for pk in rows if pk not in old and rows[pk][column] is not None]
    messages = [e.message for e in events(reference.db, reference.run.id)]
    assert "Schema change: added column plan to Heap:Users" in messages
    assert "Schema change: added column heap_device_id to Heap:Pageviews" in messages


def test_identity_views_resolve_chains(reference: Loaded, heap_data: Any) -> None:
    migrations = {
        record["from_user_id"]: record["to_user_id"]
        for key in dump_keys(heap_data, RESYNC, "user_migrations")
        for record in read_avro(heap_data.objects[key])
    }
    chains = [(a, b, migrations[b]) for a, b in migrations.items() if b in migrations]
    assert chains, "the generated migrations hold an a→b→c chain"
    a, b, c = chains[0]

    views = sorted(t.name for t in list_domain_tables(Store(reference.db)) if t.kind == "view")
    assert views == [
        "Heap:Checkout Complete Order:resolved",
        "Heap:Order Confirmation:resolved",
        "Heap:Pageviews:resolved",
        "Heap:Sessions:resolved",
        "Heap:Users:resolved",
    ]
    resolved = query(
        reference.db, 'SELECT user_id, resolved_user_id FROM "Heap:Pageviews:resolved" WHERE user_id IN (?, ?)', (a, b)
    )
    assert a in {row[0] for row in resolved}  # the generated chain start has pageviews
    assert set(resolved) <= {(a, c), (b, c)}
    assert query(reference.db, 'SELECT resolved_user_id FROM "Heap:Users:resolved" WHERE user_id = ?', (b,)) == [(c,)]
    # Stored rows keep the raw id; every migrated user resolves to the end of its chain.
    assert query(reference.db, 'SELECT COUNT(*) FROM "Heap:Pageviews" WHERE user_id = ?', (a,)) == query(
        reference.db,
        'SELECT COUNT(*) FROM "Heap:Pageviews:resolved" WHERE resolved_user_id = ? AND user_id = ?',
        (c, a),
    )

    def final(user: int) -> int:
        while user in migrations:
            user = migrations[user]
        return user

    for user_id, resolved_id in query(reference.db, 'SELECT user_id, resolved_user_id FROM "Heap:Sessions:resolved"'):
        assert resolved_id == final(user_id)
    _, view_rows = table_dump(reference.db, "Heap:Pageviews:resolved")
    assert len(view_rows) == heap_data.summary["pageviews"]


def test_resolve_chains_follows_chains_and_cuts_cycles() -> None:
    from core.identity import resolve_chains

    assert resolve_chains({1: 2, 2: 3, 10: 11}) == {1: 3, 2: 3, 10: 11}
    assert resolve_chains({1: 2, 2: 3, 3: 1, 4: 1, 5: 5}) == {2: 1, 3: 1, 4: 1}
    assert resolve_chains({7: 8, 8: 7}) == {8: 7}
    assert resolve_chains({}) == {}


def test_the_three_timestamp_forms_are_stored_as_iso_utc(reference: Loaded, heap_data: Any) -> None:
    user = read_avro(heap_data.objects[dump_keys(heap_data, 998, "users")[0]])[0]
    session = read_avro(heap_data.objects[dump_keys(heap_data, 998, "sessions")[0]])[0]
    pageview = read_avro(heap_data.objects[dump_keys(heap_data, 998, "pageviews")[0]])[0]
    assert isinstance(user["joindate"], int) and user["joindate"] > 10**14  # epoch microseconds
    assert isinstance(session["time"], int) and 10**11 < session["time"] < 10**14  # epoch milliseconds
    assert isinstance(pageview["time"], str)  # "2026-11-20 13:03:30.002"

    [(joindate,)] = query(reference.db, 'SELECT joindate FROM "Heap:Users" WHERE _pk = ?', (user["user_id"],))
    [(session_time,)] = query(reference.db, 'SELECT time FROM "Heap:Sessions" WHERE _pk = ?', (session["session_id"],))
    [(pageview_time,)] = query(reference.db, 'SELECT time FROM "Heap:Pageviews" WHERE _pk = ?', (pageview["event_id"],))
    assert joindate == (EPOCH + timedelta(microseconds=user["joindate"])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert session_time == (EPOCH + timedelta(milliseconds=session["time"])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert pageview_time == pageview["time"].replace(" ", "T") + "000Z"
    for table, column in (
        ("Heap:Users", "joindate"),
        ("Heap:Users", "last_modified"),
        ("Heap:Sessions", "time"),
        ("Heap:Pageviews", "time"),
        ("Heap:User Migrations", "time"),
        ("Heap:Checkout Complete Order", "time"),
    ):
        values = [row[0] for row in query(reference.db, f'SELECT "{column}" FROM "{table}"')]
        assert values and all(ISO.match(value) for value in values), (table, column)


def test_rerun_without_new_dumps_loads_nothing_and_changes_nothing(reference: Loaded, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    source, target = sqlite3.connect(reference.db), sqlite3.connect(db)
    source.backup(target)
    source.close()
    target.close()
    landed_before = query(db, "SELECT id, key, etag, landed_at FROM landed_files ORDER BY id")
    cursors_before = query(db, "SELECT table_name, dump_id, last_part, last_key, dump_complete FROM cursors")

    again = run(db)

    assert again.status == "Succeeded", again.message
    assert (again.files, again.rows_read, again.rows_inserted, again.rows_updated, again.rows_rejected) == (0,) * 5
    assert snapshot(db) == reference.snapshot
    assert query(db, "SELECT id, key, etag, landed_at FROM landed_files ORDER BY id") == landed_before
    assert query(db, "SELECT table_name, dump_id, last_part, last_key, dump_complete FROM cursors") == cursors_before
    messages = [e.message for e in events(db, again.id)]
    for name in HEAP_DOMAIN_TABLES.values():
        assert f"{name} is up to date (sync_1020)" in messages
    assert messages[-1].startswith("Completed in 0 minutes ")


def test_cursors_record_the_last_dump_and_part(reference: Loaded, heap_data: Any) -> None:
    for table, name in HEAP_DOMAIN_TABLES.items():
        last = expected_table(heap_data, table).files[-1]
        assert cursor_of(reference.db, name) == ("Heap", table, int(last.split("/")[0][5:]), part_of(last), 1)


# --- failures, resuming and stopping ----------------------------------------------------------------


def test_a_corrupt_part_fails_the_run_and_a_rerun_resumes_without_duplicates_or_loss(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data)
    db = tmp_path / "resume.db"
    configure(db, bucket)
    broken = dump_keys(heap_data, 1011, "pageviews")[1]
    original = heap_data.objects[broken]
    bucket.put(broken, b"this is not an Avro file at all" * 20)

    failed = run(db)

    assert failed.status == "Failed"
    assert broken.rsplit("/", 1)[1] in failed.message
    assert "\n" not in failed.message
    failed_events = events(db, failed.id)
    assert failed_events[-1].level == "error" and failed_events[-1].message == failed.message
    # Everything before the bad part is committed and consistent; nothing after it was touched.
    assert_table_matches(db, "Heap:Pageviews", expected_table(heap_data, "pageviews", stop_after=(1011, 0)))
    assert cursor_of(db, "Heap:Pageviews") == ("Heap", "pageviews", 1011, 0, 0)
    assert "Heap:Users" not in snapshot(db)
    for name in ("Heap:Sessions", "Heap:User Migrations", "Heap:Checkout Complete Order"):
        assert table_dump(db, name) == reference.snapshot[name]

    bucket.put(broken, original)
    resumed = run(db)

    assert resumed.status == "Succeeded", resumed.message
    pageviews_left = expected_table(heap_data, "pageviews")
    skipped = expected_table(heap_data, "pageviews", stop_after=(1011, 0))
    users = expected_table(heap_data, "users")
    assert resumed.files == len(pageviews_left.files) - len(skipped.files) + len(users.files)
    assert resumed.rows_read == pageviews_left.rows_read - skipped.rows_read + users.rows_read
    assert any("(resuming)" in e.message and "Heap:Pageviews" in e.message for e in events(db, resumed.id))
    assert snapshot(db) == reference.snapshot


def test_a_corrupt_file_in_a_full_resync_leaves_the_table_as_it_was(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data, without=(RESYNC_MANIFEST,))
    db = tmp_path / "resync-corrupt.db"
    configure(db, bucket)
    assert run(db).status == "Succeeded"
    before = table_dump(db, "Heap:Checkout Complete Order")
    cursor_before = cursor_of(db, "Heap:Checkout Complete Order")
    broken = dump_keys(heap_data, RESYNC, "checkout_complete_order")[-1]
    original = heap_data.objects[broken]
    bucket.put(broken, original[: len(original) // 2])  # cut off mid-block, after the first part loaded
    bucket.put(RESYNC_MANIFEST, heap_objects(heap_data, bucket.name)[RESYNC_MANIFEST])

    failed = run(db)

    assert failed.status == "Failed"
    assert broken.rsplit("/", 1)[1] in failed.message
    assert table_dump(db, "Heap:Checkout Complete Order") == before
    assert cursor_of(db, "Heap:Checkout Complete Order") == cursor_before
    assert before[1] and cursor_before == ("Heap", "checkout_complete_order", 1011, 0, 1)

    bucket.put(broken, original)
    fixed = run(db)

    assert fixed.status == "Succeeded", fixed.message
    assert snapshot(db) == reference.snapshot


def _stop_on_pageviews(trigger: Any) -> tuple[list[Any], Any]:
    """A listener that calls ``trigger(event)`` on the first progress event of the pageviews load."""
    seen: list[Any] = []
    armed = {"pageviews": False, "fired": False}

    def listener(event: Any) -> None:
        seen.append(event)
        if isinstance(event, RunEvent) and event.stage == "Ingest started" and "Heap:Pageviews" in event.message:
            armed["pageviews"] = True
        elif isinstance(event, RunProgress) and armed["pageviews"] and not armed["fired"]:
            armed["fired"] = True
            trigger(event)

    return seen, listener


@pytest.mark.parametrize("how", ["event", "request_stop"])
def test_stop_rolls_back_the_current_file_and_a_rerun_converges(
    s3_server: str,
    s3_admin: Any,
    heap_data: Any,
    module_aws_env: None,
    reference: Loaded,
    tmp_path: Path,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data, without=(RESYNC_MANIFEST,))
    db = tmp_path / "stop.db"
    # The run looks for the stop flag at every check, so the next one after the request sees it.
    monkeypatch.setattr("core.run_records.STOP_CHECK_SECONDS", 0.0)
    configure(db, bucket)
    assert run(db).status == "Succeeded"
    before = snapshot(db)
    bucket.put(RESYNC_MANIFEST, heap_objects(heap_data, bucket.name)[RESYNC_MANIFEST])
    stop = threading.Event()

    def trigger(event: RunProgress) -> None:
        if how == "event":
            stop.set()
        else:
            request_stop(db, event.run_id)

    seen, listener = _stop_on_pageviews(trigger)
    result: list[RunSummary] = []
    worker = threading.Thread(target=lambda: result.append(run(db, listener=listener, stop=stop, parallel=False)))
    worker.start()
    worker.join(timeout=60)

    assert not worker.is_alive()
    stopped = result[0]
    assert stopped.status == "Stopped"
    assert stopped.message == "Stopped by request; the file being loaded was rolled back"
    stages = [e.stage for e in events(db, stopped.id)]
    assert stages[-2:] == ["Stopping", "Stopped"]
    assert any(isinstance(e, RunProgress) for e in seen)
    # The table being loaded is exactly as before the run; tables loaded earlier in the run kept their load.
    after = snapshot(db)
    assert after["Heap:Pageviews"] == before["Heap:Pageviews"]
    assert after["Heap:Users"] == before["Heap:Users"]
    assert after["Heap:Sessions"] == reference.snapshot["Heap:Sessions"]
    assert cursor_of(db, "Heap:Pageviews") == ("Heap", "pageviews", 1011, 2, 1)
    assert not list((tmp_path / "stop-landing" / ".stop").glob("*"))

    rerun = run(db)

    assert rerun.status == "Succeeded", rerun.message
    assert snapshot(db) == reference.snapshot


# --- sample files, missing feeds, activation --------------------------------------------------------


def test_missing_feed_lands_the_files_then_fails_with_amperitys_message(heap_bucket: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    configure(
        db,
        heap_bucket,
        feeds={},
        load_operations={"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
    )

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message == 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'
    messages = [(e.level, e.message) for e in events(db, failed.id)]
    assert messages[-2:] == [
        ("error", "Error running load-operations task"),
        ("error", 'Cannot find required feeds: "df-xxxxxx"'),
    ]
    with Store(db) as store:
        landed = list_landed_files(store, "Heap")
        assert list_domain_tables(store) == []
    assert landed
    assert [item.landed_at for item in landed] == sorted((item.landed_at for item in landed), reverse=True)
    assert failed.files == len(landed)


def test_empty_load_operations_land_the_newest_samples_and_load_nothing(
    heap_bucket: S3Bucket, heap_data: Any, tmp_path: Path
) -> None:
    db = tmp_path / "samples.db"
    configure(db, heap_bucket, feeds={}, load_operations={})

    sampled = run(db)

    assert sampled.status == "Succeeded", sampled.message
    with Store(db) as store:
        landed = list_landed_files(store, "Heap")
        assert list_domain_tables(store) == []
    expected = {table: dump_keys(heap_data, RESYNC, table)[0] for table in HEAP_TABLE_OF_FEED.values()}
    assert {item.tag: item.key for item in landed} == expected
    assert len(landed) == len(expected) == sampled.files
    assert [item.id for item in landed] == sorted((item.id for item in landed), reverse=True)
    assert [item.landed_at for item in landed] == sorted((item.landed_at for item in landed), reverse=True)
    users = next(item for item in landed if item.tag == "users")
    assert users.row_count == len(read_avro(heap_data.objects[users.key]))
    assert users.dump_id == RESYNC and users.part == 0
    assert [field["name"] for field in users.fields][:2] == ["user_id", "identity"]
    assert next(f for f in users.fields if f["name"] == "joindate")["feed_type"] == "Datetime"
    assert next(f for f in users.fields if f["name"] == "user_id")["feed_type"] == "Integer"
    assert Path(users.local_path).read_bytes() == heap_data.objects[users.key]
    assert (sampled.rows_read, sampled.rows_inserted) == (0, 0)


def test_activating_a_feed_loads_its_sample(heap_bucket: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "activate.db"
    configure(
        db,
        heap_bucket,
        load_operations={},
        feeds={
            "df-hpusers": {
                "source": "Heap",
                "name": "Users",
                "primary-key": ["user_id"],
                "last-updated": "last_modified",
                "status": "draft",
            }
        },
    )
    assert run(db).status == "Succeeded"
    with Store(db) as store:
        users = next(item for item in list_landed_files(store, "Heap") if item.tag == "users")
        columns, rows = view_landed_file(store, users.id)
    records = read_avro(heap_data.objects[users.key])
    assert columns == list(records[0])
    # The sample view shows what the table will hold: Heap's own timestamp columns as ISO UTC text.
    from core.timestamps import to_iso_utc
    from core.values import HEAP_TIMESTAMP_COLUMNS

    assert rows == [
        tuple(
            to_iso_utc(value) if name in HEAP_TIMESTAMP_COLUMNS and value is not None else value
            for name, value in record.items()
        )
        for record in records
    ]
    assert len(rows) <= 200

    counts = activate_feed(db, "df-hpusers", users.id)

    assert (counts.rows_read, counts.rows_inserted, counts.rows_rejected) == (len(records),) * 2 + (0,)
    assert query(db, "SELECT status, sample_file_id FROM feeds WHERE id = 'df-hpusers'") == [("active", users.id)]
    assert query(db, 'SELECT COUNT(*) FROM "Heap:Users"') == [(users.row_count,)]
    with Store(db) as store:
        first_columns, first = first_rows(store, "Heap:Users", 3)
    assert first_columns[0] == "_pk" and len(first) == 3
    assert [row[0] for row in first] == sorted(record["user_id"] for record in records)[:3]


def test_a_draft_feed_stops_a_loading_run(heap_bucket: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "draft.db"
    configure(
        db,
        heap_bucket,
        load_operations={"df-hpusers": [{"type": "load", "file": "users"}]},
        feeds={"df-hpusers": {"source": "Heap", "name": "Users", "primary-key": ["user_id"], "status": "draft"}},
    )

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message == (
        "Feed df-hpusers is still a draft: activate it in the feed editor before the courier can load"
    )
    assert query(db, "SELECT name FROM sqlite_master WHERE name LIKE 'Heap:%'") == []


# --- manifests in the bucket -------------------------------------------------------------------------


def test_list_manifests_reads_only_manifest_keys_in_numeric_order(heap_bucket: S3Bucket) -> None:
    heap_bucket.put_many(
        {
            "manifests/sync_1040.json.tmp": b"{",
            "manifests/latest.json": b"{",
            "manifests/old/sync_1050.json": b"{",
            "manifests/sync_abc.json": b"{",
        }
    )

    manifests = list_manifests(heap_bucket.source())

    assert [m.dump_id for m in manifests] == [998, 1004, 1011, 1020]
    assert manifests[0].tables["pageviews"].keys[0].startswith("sync_998/pageviews/part-00000-")
    assert "_event_metadata" in manifests[0].tables


def test_a_bad_manifest_fails_the_run_naming_it(heap_bucket: S3Bucket, tmp_path: Path) -> None:
    heap_bucket.put("manifests/sync_1040.json", b'{"dump_id": 1040, "tables": [')
    db = tmp_path / "bad-manifest.db"
    configure(db, heap_bucket)

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message.startswith("manifests/sync_1040.json is not a valid Heap manifest (")
    assert failed.message.endswith("); ask Heap to re-send that sync")
    assert query(db, "SELECT COUNT(*) FROM landed_files") == [(0,)]


def test_a_file_listed_in_a_manifest_but_missing_fails_the_run(
    heap_bucket: S3Bucket, heap_data: Any, tmp_path: Path
) -> None:
    gone = dump_keys(heap_data, 1004, "users")[1]
    heap_bucket.delete(gone)
    db = tmp_path / "gone.db"
    configure(db, heap_bucket, load_operations={"df-hpusers": [{"type": "load", "file": "users"}]})

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message == (
        f"s3://{heap_bucket.name}/{gone} is listed in manifest sync_1004 but is not in the "
        "bucket: Heap may have deleted it; ask Heap to resync users"
    )


def test_discover_generates_entities_feeds_and_load_operations(heap_bucket: S3Bucket) -> None:
    found = discover(heap_bucket.source())

    tables = [
        "user_migrations",
        "_key_events_pm__order_confirmation_page_complete_order",
        "checkout_complete_order",
        "pageviews",
        "sessions",
        "users",
    ]
    assert found.dump_ids == [998, 1004, 1011, 1020]
    assert list(found.tables) == tables
    assert found.tables["users"][-1] == "plan"
    assert found.tables["pageviews"][-1] == "heap_device_id"
    assert [e["object/land-as"]["file/tag"] for e in found.entities] == tables
    keys = {feed["name"]: (feed["primary-key"], feed["last-updated"]) for feed in found.feeds.values()}
    assert keys == {
        "User Migrations": (["from_user_id"], None),
        "_key_events_pm__order_confirmation_page_complete_order": (["event_id"], None),
        "checkout_complete_order": (["event_id"], None),
        "Pageviews": (["event_id"], None),
        "Sessions": (["session_id"], None),
        "Users": (["user_id"], "last_modified"),
    }
    assert {feed_id: ops for feed_id, ops in found.load_operations.items()} == {
        feed_id: [{"type": "load", "file": table}] for feed_id, table in zip(found.feeds, tables)
    }
    assert all(re.match(r"^df-[A-Za-z0-9]{6,8}$", feed_id) for feed_id in found.feeds)


def test_discovered_configuration_applies_and_loads(heap_bucket: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    found = discover(heap_bucket.source())
    db = tmp_path / "discovered.db"
    document = heap_document(
        heap_bucket.endpoint, heap_bucket.name, feeds=found.feeds, load_operations=found.load_operations
    )
    with Store(db) as store:
        apply_document(store, document)

    loaded = run(db)

    assert loaded.status == "Succeeded", loaded.message
    with Store(db) as store:
        counts = {t.name: t.rows for t in list_domain_tables(store) if t.kind == "table"}
    assert sorted(counts.values()) == sorted(heap_data.summary.values())


# --- S3 errors ---------------------------------------------------------------------------------------


def test_missing_bucket_fails_the_run_with_one_line(s3_server: str, aws_env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "nobucket.db"
    with Store(db) as store:
        apply_document(store, heap_document(s3_server, "heap-rs3-does-not-exist"))

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message == (
        'Bucket "heap-rs3-does-not-exist" does not exist: check the courier\'s bucket name '
        "(Heap buckets start with heap-rs3-)"
    )
    assert events(db, failed.id)[-1].message == failed.message


def _set_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


_users = itertools.count(1)


@pytest.fixture
def powerless_keys(s3_server: str, aws_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Keys of an IAM user with no permissions, with moto's IAM checks on (as tests/core/test_s3.py does)."""
    iam = _admin_client(s3_server, "iam")
    name = f"courier-ingest-powerless-{next(_users)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    _set_auth(s3_server, "0")
    try:
        yield {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    finally:
        _set_auth(s3_server, "inf")


def test_access_denied_fails_the_run_with_one_line(
    heap_bucket: S3Bucket, powerless_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "denied.db"
    configure(db, heap_bucket)
    for name, value in powerless_keys.items():
        monkeypatch.setenv(name, value)

    failed = run(db)

    assert failed.status == "Failed"
    assert failed.message == (
        f'Access denied to s3://{heap_bucket.name}/: the credential "local-s3" needs '
        "s3:ListBucket and s3:GetObject on this bucket"
    )
    assert powerless_keys["AWS_SECRET_ACCESS_KEY"] not in json.dumps([e.message for e in events(db, failed.id)])


# --- the live event stream, decoding in a helper process, prefixes, run bookkeeping -------------------


def test_the_listener_gets_every_stored_event_exactly_once_in_order(heap_bucket: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "listener.db"
    configure(db, heap_bucket)
    streamed: list[RunEvent] = []

    result = run(db, listener=lambda event: streamed.append(event) if isinstance(event, RunEvent) else None)

    assert result.status == "Succeeded", result.message
    stored = events(db, result.id)
    # What `courier run` prints and the TUI's live log shows must be the stored log, not a superset.
    assert [(e.stage, e.message) for e in streamed] == [(e.stage, e.message) for e in stored]


def test_decoding_in_a_helper_process_gives_the_same_tables(
    heap_bucket: S3Bucket, reference: Loaded, tmp_path: Path
) -> None:
    db = tmp_path / "parallel.db"
    configure(db, heap_bucket)

    result = run(db, parallel=True)

    assert result.status == "Succeeded", result.message
    assert (result.files, result.rows_read, result.rows_inserted, result.rows_updated) == (
        reference.run.files,
        reference.run.rows_read,
        reference.run.rows_inserted,
        reference.run.rows_updated,
    )
    assert snapshot(db) == reference.snapshot


def test_a_courier_prefix_is_honoured(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = S3Bucket(s3_server, s3_admin, f"heap-rs3-ingest-{next(_buckets)}")
    s3_admin.create_bucket(Bucket=bucket.name)
    plain = f"s3://{bucket.name}/".encode()
    bucket.put_many(
        {
            f"acme/{key}": body.replace(plain, plain + b"acme/") if key.endswith(".json") else body
            for key, body in heap_objects(heap_data, bucket.name).items()
        }
    )
    bucket.put_many(
        {key: body for key, body in heap_objects(heap_data, bucket.name).items() if key.startswith("sync_1031/")}
    )
    document = heap_document(bucket.endpoint, bucket.name)
    document["couriers"]["Heap"]["prefix"] = "acme/"
    db = tmp_path / "prefixed.db"
    with Store(db) as store:
        apply_document(store, document)

    result = run(db)

    assert result.status == "Succeeded", result.message
    assert snapshot(db) == reference.snapshot
    keys = [row[0] for row in query(db, "SELECT key FROM landed_files")]
    assert keys and all(key.startswith("acme/sync_") for key in keys)


def test_a_dead_runs_row_is_reconciled_and_a_live_one_blocks_a_second_run(
    heap_bucket: S3Bucket, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from core.errors import CourierError
    from core.runs import get_run, reconcile_stale_runs

    db = tmp_path / "stale.db"
    configure(db, heap_bucket, load_operations={})
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_pid = int(ended.stdout)
    insert = (
        "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, pid) "
        "VALUES ('courier', 'Heap', 'manual', 'all', 'Running', '2026-11-25T00:00:00.000000Z', ?)"
    )
    with Store(db) as store:
        store.execute(insert, (dead_pid,))
        assert reconcile_stale_runs(store) == 1
        dead = get_run(store, 1)
        store.execute(insert, (os.getpid(),))
        assert reconcile_stale_runs(store) == 0

    assert (dead.status, dead.message) == (
        "Failed",
        f"Interrupted: the process running it (pid {dead_pid}) ended; "
        "nothing half-loaded was kept, run it again to resume",
    )
    assert dead.finished_at is not None
    with pytest.raises(CourierError) as caught:
        run(db)
    assert str(caught.value) == (
        f'Courier "Heap" is already running (run 2, pid {os.getpid()}); wait for it to finish or stop it'
    )
    assert query(db, "SELECT id, status FROM runs ORDER BY id") == [(1, "Failed"), (2, "Running")]


# --- honest Heap Connect runs: new dumps, or one table rebuilt from its latest full dump ----------------


def test_a_day_never_applies_to_a_heap_connect_run(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data)
    db = tmp_path / "day.db"
    configure(db, bucket)
    first = run(db, RunWindow.day(HEAP_TODAY))
    assert first.status == "Succeeded", first.message
    assert first.window == RunWindow.new_dumps() and first.window.describe() == "new Heap dumps"
    assert first.to_json()["window"] == {"kind": "new dumps", "start": None, "end": None}
    text = " ".join(e.message for e in events(db, first.id))
    assert f"{HEAP_TODAY.isoformat()} does not apply to a heap-connect courier" in text
    # Every dump loaded whatever the day: the same tables as the reference load.
    assert snapshot(db) == reference.snapshot
    again = run(db, RunWindow.new_dumps())
    assert (again.status, again.files, again.window) == ("Succeeded", 0, RunWindow.new_dumps())
    assert any(e.message.endswith("is up to date (sync_1020)") for e in events(db, again.id))


def test_rebuild_reloads_one_table_from_its_latest_full_dump(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, reference: Loaded, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data)
    db = tmp_path / "rebuild.db"
    configure(db, bucket)
    assert run(db).status == "Succeeded"
    conn = sqlite3.connect(db)
    with conn:  # damage two tables; only the rebuilt one comes back
        conn.execute(
            'DELETE FROM "Heap:Checkout Complete Order" WHERE _pk IN '
            '(SELECT _pk FROM "Heap:Checkout Complete Order" LIMIT 3)'
        )
        conn.execute('DELETE FROM "Heap:Pageviews" WHERE _pk IN (SELECT _pk FROM "Heap:Pageviews" LIMIT 3)')
    conn.close()
    damaged_pageviews = table_dump(db, "Heap:Pageviews")

    rebuilt = run(db, RunWindow.rebuild("Heap:Checkout Complete Order"))

    assert rebuilt.status == "Succeeded", rebuilt.message
    assert rebuilt.window.describe() == "rebuild Heap:Checkout Complete Order"
    assert rebuilt.to_json()["window"] == {
        "kind": "rebuild",
        "start": None,
        "end": None,
        "table": "Heap:Checkout Complete Order",
    }
    with Store(db) as store:
        assert get_run(store, rebuilt.id).window == RunWindow.rebuild("Heap:Checkout Complete Order")
    assert table_dump(db, "Heap:Checkout Complete Order") == reference.snapshot["Heap:Checkout Complete Order"]
    assert table_dump(db, "Heap:Pageviews") == damaged_pageviews
    started = [e.message for e in events(db, rebuilt.id) if e.stage == "Ingest started"]
    # Only the latest full dump of that table (the resync), none of the dumps it supersedes.
    assert len(started) == 1 and started[0].endswith(f"in dump sync_{RESYNC}")
    assert any(e.message.startswith("Loading Heap:Checkout Complete Order afresh") for e in events(db, rebuilt.id))


def test_heap_windows_are_checked_before_a_run_starts(
    s3_server: str, s3_admin: Any, heap_data: Any, module_aws_env: None, tmp_path: Path
) -> None:
    bucket = new_heap_bucket(s3_server, s3_admin, heap_data)
    db = tmp_path / "checked.db"
    configure(db, bucket)
    with Store(db) as store:
        apply_document(
            store,
            {
                "couriers": {
                    "Files": {
                        "credential": "local-s3",
                        "bucket": bucket.name,
                        "layout": "file-pattern",
                        "entities": [
                            {"object/file-pattern": "'users-'yyyy-MM-dd'.avro'", "object/land-as": {"file/tag": "u"}}
                        ],
                        "load-operations": {},
                    }
                }
            },
        )
    with pytest.raises(
        CourierError,
        match=r'does not load a table named "Heap:Nope" \(tables it can rebuild: '
        r"Heap:User Migrations, .*Heap:Users\)",
    ):
        run(db, RunWindow.rebuild("Heap:Nope"))
    with pytest.raises(CourierError, match=r'Courier "Files" finds its files by date \(file-pattern layout\)'):
        run_courier(db, "Files", RunWindow.new_dumps())
    assert query(db, "SELECT COUNT(*) FROM runs") == [(0,)]
