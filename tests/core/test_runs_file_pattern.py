"""File-pattern courier runs over the local S3 server: windows, per-day order, upserts, thresholds.

The data is the generator's seven daily files per table (``exports/<table>-<D>.avro``,
D = 2026-11-19 … 2026-11-25), plus small Avro files written here where a test
needs exact, hand-picked rows.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from core.feeds import activate_feed, view_landed_file
from core.heapgen import PAGEVIEW_COLUMNS, USER_COLUMNS, heap_schema, pageview_records, write_avro
from core.project import apply_document
from core.runs import RunSummary, RunWindow, list_landed_files, run_courier, run_events
from core.store import Store
from core.tables import list_domain_tables
from tests.conftest import HEAP_TODAY, TEST_REGION, S3Bucket, read_avro

COURIER = "Exports"
DAYS = [HEAP_TODAY - timedelta(days=n) for n in range(6, -1, -1)]  # 2026-11-19 … 2026-11-25
TABLES = ("users", "sessions", "pageviews")
KEYS = {"users": "user_id", "sessions": "session_id", "pageviews": "event_id"}
FEEDS = {
    "df-exusers": {"source": "Exports", "name": "Users", "primary-key": ["user_id"], "last-updated": "last_modified"},
    "df-exsessn": {"source": "Exports", "name": "Sessions", "primary-key": ["session_id"]},
    "df-expgvws": {"source": "Exports", "name": "Pageviews", "primary-key": ["event_id"]},
}
LOADS = {
    "df-exusers": [{"type": "load", "file": "users"}],
    "df-exsessn": [{"type": "load", "file": "sessions"}],
    "df-expgvws": [{"type": "load", "file": "pageviews"}],
}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def entity(table: str, *, optional: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "object/type": "file",
        "object/file-pattern": f"'exports/{table}-'yyyy-MM-dd'.avro'",
        "object/land-as": {"file/tag": table, "file/content-type": "application/avro"},
    }
    if optional:
        item["object/optional"] = True
    return item


def configure(
    db: Path,
    bucket: S3Bucket,
    *,
    entities: list[dict[str, Any]] | None = None,
    feeds: dict[str, Any] | None = None,
    load_operations: dict[str, Any] | None = None,
) -> None:
    document = {
        "credentials": {"local-s3": {"type": "iam-credential", "endpoint-url": bucket.endpoint, "region": TEST_REGION}},
        "feeds": FEEDS if feeds is None else feeds,
        "couriers": {
            COURIER: {
                "credential": "local-s3",
                "bucket": bucket.name,
                "layout": "file-pattern",
                "entities": [entity(t) for t in TABLES] if entities is None else entities,
                "load-operations": LOADS if load_operations is None else load_operations,
            }
        },
    }
    with Store(db) as store:
        apply_document(store, document)


def run(db: Path, window: RunWindow) -> RunSummary:
    return run_courier(db, COURIER, window)


def landed_keys(db: Path, run_id: int) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT key FROM landed_files WHERE run_id = ? ORDER BY id", (run_id,))]
    finally:
        conn.close()


def rows(db: Path, table: str) -> dict[Any, dict[str, Any]]:
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY _pk')
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row)) for row in cursor}
    finally:
        conn.close()


def table_dump(db: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(row) for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY _pk')]
    finally:
        conn.close()


def key(table: str, day: date) -> str:
    return f"exports/{table}-{day.isoformat()}.avro"


def micros_iso(value: int) -> str:
    return (EPOCH + timedelta(microseconds=value)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def exports(s3_bucket: S3Bucket, heap_data: Any) -> S3Bucket:
    """A bucket holding only the generated daily files."""
    s3_bucket.put_many({k: v for k, v in heap_data.objects.items() if k.startswith("exports/")})
    return s3_bucket


def day_records(heap_data: Any, table: str, day: date) -> list[dict[str, Any]]:
    return read_avro(heap_data.objects[key(table, day)])


# --- windows -------------------------------------------------------------------------------------


def test_a_day_run_lands_exactly_that_days_files(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    configure(db, exports)
    day = date(2026, 11, 22)

    result = run(db, RunWindow.day(day))

    assert result.status == "Succeeded", result.message
    assert landed_keys(db, result.id) == [key("pageviews", day), key("sessions", day), key("users", day)]
    for table, name in (
        ("users", "Exports:Users"),
        ("sessions", "Exports:Sessions"),
        ("pageviews", "Exports:Pageviews"),
    ):
        assert set(rows(db, name)) == {r[KEYS[table]] for r in day_records(heap_data, table, day)}
    read = sum(len(day_records(heap_data, t, day)) for t in TABLES)
    assert (result.files, result.rows_read, result.rows_inserted + result.rows_updated) == (3, read, read)
    with Store(db) as store:
        messages = [e.message for e in run_events(store, result.id)]
    assert "Found 3 files for 2026-11-22" in messages


def test_a_period_excludes_its_end_day(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "period.db"
    configure(db, exports)

    result = run(db, RunWindow.period(date(2026, 11, 20), date(2026, 11, 23)))

    assert result.status == "Succeeded", result.message
    days = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    # Per-day order: every file of a day before any file of the next day.
    assert landed_keys(db, result.id) == [key(t, d) for d in days for t in ("pageviews", "sessions", "users")]
    assert set(rows(db, "Exports:Pageviews")) == {
        r["event_id"] for d in days for r in day_records(heap_data, "pageviews", d)
    }


def test_an_all_data_run_loads_every_day(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "all.db"
    configure(db, exports)

    result = run(db, RunWindow.all())

    assert result.status == "Succeeded", result.message
    assert sorted(landed_keys(db, result.id)) == sorted(key(t, d) for t in TABLES for d in DAYS)
    assert result.files == 21
    with Store(db) as store:
        counts = {t.name: t.rows for t in list_domain_tables(store)}
    assert counts == {
        "Exports:Users": heap_data.daily_summary["users"],
        "Exports:Sessions": heap_data.daily_summary["sessions"],
        "Exports:Pageviews": heap_data.daily_summary["pageviews"],
    }


@pytest.mark.parametrize("last_updated", ["last_modified", None])
def test_later_days_win(exports: S3Bucket, heap_data: Any, tmp_path: Path, last_updated: str | None) -> None:
    feeds = {"df-exusers": dict(FEEDS["df-exusers"], **{"last-updated": last_updated})}
    db = tmp_path / "order.db"
    configure(db, exports, feeds=feeds, load_operations={"df-exusers": LOADS["df-exusers"]})

    result = run(db, RunWindow.all())

    assert result.status == "Succeeded", result.message
    latest: dict[int, tuple[date, dict[str, Any]]] = {}
    for day in DAYS:
        for record in day_records(heap_data, "users", day):
            latest[record["user_id"]] = (day, record)
    recurring = [
        user
        for user in latest
        if sum(user in {r["user_id"] for r in day_records(heap_data, "users", d)} for d in DAYS) > 1
    ]
    assert recurring
    table = rows(db, "Exports:Users")
    assert set(table) == set(latest)
    for user_id, (day, record) in latest.items():
        row = table[user_id]
        assert row["email"] == record["email"]
        assert row["last_modified"] == micros_iso(record["last_modified"])
        assert row["joindate"] == micros_iso(record["joindate"])
        if last_updated is None:
            assert row["_updated"] == f"file:{day.isoformat()}T00:00:00:{key('users', day)}"
        else:
            assert row["_updated"] == row["last_modified"]


# --- last-updated, truncate ------------------------------------------------------------------------


def _user(user_id: int, email: str, modified_us: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(USER_COLUMNS)
    row.update(user_id=user_id, email=email, joindate=1_700_000_000_000_000, last_modified=modified_us)
    return row


def test_last_updated_decides_which_row_wins_whatever_the_file_order(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    schema = heap_schema("users", USER_COLUMNS)
    newer, older = 1_795_000_000_000_000, 1_794_000_000_000_000
    s3_bucket.put(
        key("users", date(2026, 11, 24)),
        write_avro([_user(1, "first@example.com", newer), _user(2, "two-a@example.com", older)], schema),
    )
    s3_bucket.put(
        key("users", date(2026, 11, 25)),
        write_avro(
            [
                _user(1, "stale@example.com", older),
                _user(2, "two-b@example.com", newer),
                _user(3, "three@example.com", older),
            ],
            schema,
        ),
    )
    both = {
        "df-exusers": FEEDS["df-exusers"],
        "df-exusrs2": {"source": "Exports", "name": "Users by file", "primary-key": ["user_id"]},
    }
    db = tmp_path / "lu.db"
    configure(
        db,
        s3_bucket,
        entities=[entity("users")],
        feeds=both,
        load_operations={"df-exusers": LOADS["df-exusers"], "df-exusrs2": LOADS["df-exusers"]},
    )

    result = run(db, RunWindow.period(date(2026, 11, 24), date(2026, 11, 26)))

    assert result.status == "Succeeded", result.message
    by_field = {pk: row["email"] for pk, row in rows(db, "Exports:Users").items()}
    by_file = {pk: row["email"] for pk, row in rows(db, "Exports:Users by file").items()}
    assert by_field == {1: "first@example.com", 2: "two-b@example.com", 3: "three@example.com"}
    assert by_file == {1: "stale@example.com", 2: "two-b@example.com", 3: "three@example.com"}
    # Two feeds × five rows read; the stale row of user 1 updates only the feed without last-updated.
    assert (result.rows_read, result.rows_inserted, result.rows_updated) == (10, 6, 3)


def test_truncate_then_load_replaces_the_table(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "truncate.db"
    configure(
        db,
        exports,
        feeds={"df-exusers": FEEDS["df-exusers"]},
        load_operations={"df-exusers": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
    )
    first_day, second_day = date(2026, 11, 22), date(2026, 11, 23)
    assert run(db, RunWindow.day(first_day)).status == "Succeeded"
    first_ids = {r["user_id"] for r in day_records(heap_data, "users", first_day)}
    assert set(rows(db, "Exports:Users")) == first_ids

    second = run(db, RunWindow.day(second_day))

    assert second.status == "Succeeded", second.message
    second_ids = {r["user_id"] for r in day_records(heap_data, "users", second_day)}
    assert first_ids - second_ids
    assert set(rows(db, "Exports:Users")) == second_ids
    assert second.rows_inserted == len(second_ids) and second.rows_updated == 0
    with Store(db) as store:
        messages = [e.message for e in run_events(store, second.id)]
    assert "Loading Exports:Users afresh; it is replaced when every file of the dump is in" in messages


def test_load_without_truncate_upserts_across_runs(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "upsert.db"
    configure(
        db, exports, feeds={"df-exusers": FEEDS["df-exusers"]}, load_operations={"df-exusers": LOADS["df-exusers"]}
    )
    days = (date(2026, 11, 22), date(2026, 11, 23))
    for day in days:
        assert run(db, RunWindow.day(day)).status == "Succeeded"

    ids = [{r["user_id"] for r in day_records(heap_data, "users", d)} for d in days]
    assert set(rows(db, "Exports:Users")) == ids[0] | ids[1]


# --- missing files ---------------------------------------------------------------------------------


def test_a_missing_required_file_fails_naming_it(exports: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    configure(db, exports)

    failed = run(db, RunWindow.day(date(2026, 11, 26)))

    assert failed.status == "Failed"
    assert failed.message == (
        "Missing required file exports/users-2026-11-26.avro and 2 more for 2026-11-26: "
        "check the entities list, mark the file optional, or run for another day"
    )
    with Store(db) as store:
        errors = [(e.level, e.message, e.file) for e in run_events(store, failed.id) if e.level == "error"]
        assert list_landed_files(store, COURIER) == []
    assert errors[:3] == [
        ("error", f"Missing file: exports/{t}-2026-11-26.avro", f"exports/{t}-2026-11-26.avro") for t in TABLES
    ]


def test_a_period_reaching_past_the_data_fails_naming_the_missing_days(exports: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "missing-period.db"
    configure(
        db,
        exports,
        entities=[entity("users")],
        feeds={"df-exusers": FEEDS["df-exusers"]},
        load_operations={"df-exusers": LOADS["df-exusers"]},
    )

    failed = run(db, RunWindow.period(date(2026, 11, 24), date(2026, 11, 28)))

    assert failed.status == "Failed"
    assert failed.message == (
        "Missing required file exports/users-2026-11-26.avro and 1 more for 2026-11-24 to "
        "2026-11-28 (end exclusive): check the entities list, mark the file optional, or run "
        "for another day"
    )


def test_a_missing_optional_file_is_no_failure(exports: S3Bucket, heap_data: Any, tmp_path: Path) -> None:
    db = tmp_path / "optional.db"
    configure(
        db,
        exports,
        entities=[entity("users"), entity("orders", optional=True)],
        feeds={"df-exusers": FEEDS["df-exusers"]},
        load_operations={"df-exusers": LOADS["df-exusers"]},
    )

    result = run(db, RunWindow.day(date(2026, 11, 25)))

    assert result.status == "Succeeded", result.message
    assert landed_keys(db, result.id) == [key("users", date(2026, 11, 25))]
    assert len(rows(db, "Exports:Users")) == len(day_records(heap_data, "users", date(2026, 11, 25)))


def test_missing_feed_in_a_file_pattern_courier_lands_then_fails(exports: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "nofeed.db"
    configure(
        db, exports, feeds={}, load_operations={"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]}
    )

    failed = run(db, RunWindow.day(date(2026, 11, 25)))

    assert failed.status == "Failed"
    assert failed.message == 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'
    assert sorted(landed_keys(db, failed.id)) == sorted(key(t, date(2026, 11, 25)) for t in TABLES)
    with Store(db) as store:
        assert list_domain_tables(store) == []
        assert [e.message for e in run_events(store, failed.id)][-2:] == [
            "Error running load-operations task",
            'Cannot find required feeds: "df-xxxxxx"',
        ]


# --- error threshold -------------------------------------------------------------------------------


def _users_with_bad_ids(count: int, bad: int, start: int = 1) -> bytes:
    """``count`` users whose customer_id is a number, except ``bad`` rows holding "abc"."""
    schema = heap_schema("users", USER_COLUMNS)
    records = []
    for n in range(start, start + count):
        row = _user(n, f"user{n}@example.com", 1_795_000_000_000_000 + n)
        row["customer_id"] = "abc" if n - start < bad else str(100_000 + n)
        records.append(row)
    return write_avro(records, schema)


THRESHOLD_FEEDS = {"df-exusers": dict(FEEDS["df-exusers"], fields={"customer_id": {"type": "Integer"}})}


@pytest.fixture
def threshold_db(s3_bucket: S3Bucket, tmp_path: Path) -> tuple[Path, S3Bucket]:
    s3_bucket.put(key("users", date(2026, 11, 24)), _users_with_bad_ids(50, 0, start=1000))
    db = tmp_path / "threshold.db"
    configure(
        db,
        s3_bucket,
        entities=[entity("users")],
        feeds=THRESHOLD_FEEDS,
        load_operations={"df-exusers": LOADS["df-exusers"]},
    )
    assert run(db, RunWindow.day(date(2026, 11, 24))).status == "Succeeded"
    return db, s3_bucket


def test_rows_over_the_error_threshold_fail_the_load_and_leave_the_table(threshold_db: tuple[Path, S3Bucket]) -> None:
    db, bucket = threshold_db
    before = table_dump(db, "Exports:Users")
    bucket.put(key("users", date(2026, 11, 25)), _users_with_bad_ids(200, 3))

    failed = run(db, RunWindow.day(date(2026, 11, 25)))

    assert failed.status == "Failed"
    assert failed.message == (
        "Exports:Users: 3 of 200 rows rejected, more than the feed's 1% error threshold "
        "(users-2026-11-25.avro row 1: customer_id: 'abc' is not an Integer written exactly "
        "(digits, optional minus); users-2026-11-25.avro row 2: customer_id: 'abc' is not an Integer "
        "written exactly (digits, optional minus)); the table was left as it was"
    )
    assert table_dump(db, "Exports:Users") == before
    assert len(before) == 50


@pytest.mark.parametrize("bad", [1, 2])
def test_rows_under_the_error_threshold_are_rejected_with_a_warning(
    threshold_db: tuple[Path, S3Bucket], bad: int
) -> None:
    db, bucket = threshold_db
    bucket.put(key("users", date(2026, 11, 25)), _users_with_bad_ids(200, bad))

    warned = run(db, RunWindow.day(date(2026, 11, 25)))

    assert warned.status == "Warning"
    assert (warned.rows_read, warned.rows_rejected, warned.rows_inserted) == (200, bad, 200 - bad)
    assert warned.message == f"{bad} row{'s' if bad != 1 else ''} rejected"
    table = rows(db, "Exports:Users")
    assert len(table) == 50 + 200 - bad
    assert all(n not in table for n in range(1, 1 + bad))
    assert table[200]["customer_id"] == 100_200
    with Store(db) as store:
        warnings = [e.message for e in run_events(store, warned.id) if e.level == "warning"]
    assert warnings == [
        f"Exports:Users: {bad:,} row{'s' if bad != 1 else ''} rejected (users-2026-11-25.avro row 1: customer_id: "
        "'abc' is not an Integer written exactly (digits, optional minus)"
        + (
            "; users-2026-11-25.avro row 2: customer_id: 'abc' is not an Integer written exactly "
            "(digits, optional minus))"
            if bad == 2
            else ")"
        )
    ]


# --- sample files and activation ----------------------------------------------------------------


def test_samples_view_and_activation(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    records = list(pageview_records(250, seed=3))
    body = write_avro(records, heap_schema("pageviews", PAGEVIEW_COLUMNS))
    s3_bucket.put(key("pageviews", date(2026, 11, 25)), body)
    db = tmp_path / "samples.db"
    feeds = {"df-expgvws": dict(FEEDS["df-expgvws"], status="draft")}
    configure(db, s3_bucket, entities=[entity("pageviews")], feeds=feeds, load_operations={})

    sampled = run(db, RunWindow.day(date(2026, 11, 25)))

    assert sampled.status == "Succeeded", sampled.message
    with Store(db) as store:
        [landed] = list_landed_files(store, COURIER)
        assert list_domain_tables(store) == []
        columns, shown = view_landed_file(store, landed.id)
    assert (landed.key, landed.tag, landed.row_count, landed.size) == (
        key("pageviews", date(2026, 11, 25)),
        "pageviews",
        250,
        len(body),
    )
    assert landed.file_date is not None and landed.file_date.startswith("2026-11-25")
    assert [f["name"] for f in landed.fields] == PAGEVIEW_COLUMNS
    assert columns == PAGEVIEW_COLUMNS
    assert len(shown) == 200
    # The sample view shows what the table will hold: Heap's own timestamp columns as ISO UTC text.
    from core.timestamps import to_iso_utc
    from core.values import HEAP_TIMESTAMP_COLUMNS

    assert shown == [
        tuple(to_iso_utc(r[c]) if c in HEAP_TIMESTAMP_COLUMNS and r[c] is not None else r[c] for c in PAGEVIEW_COLUMNS)
        for r in records[:200]
    ]

    counts = activate_feed(db, "df-expgvws", landed.id)

    assert (counts.rows_read, counts.rows_inserted, counts.rows_rejected) == (250, 250, 0)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT status FROM feeds WHERE id = 'df-expgvws'").fetchall() == [("active",)]
        assert conn.execute('SELECT COUNT(*) FROM "Exports:Pageviews"').fetchall() == [(250,)]
    finally:
        conn.close()


def test_activation_over_the_threshold_keeps_the_feed_a_draft(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    from core.ingest import LoadRejected

    s3_bucket.put(key("users", date(2026, 11, 25)), _users_with_bad_ids(100, 5))
    db = tmp_path / "activate-bad.db"
    feeds = {"df-exusers": dict(THRESHOLD_FEEDS["df-exusers"], status="draft")}
    configure(db, s3_bucket, entities=[entity("users")], feeds=feeds, load_operations={})
    assert run(db, RunWindow.day(date(2026, 11, 25))).status == "Succeeded"
    with Store(db) as store:
        [landed] = list_landed_files(store, COURIER)

    with pytest.raises(LoadRejected) as caught:
        activate_feed(db, "df-exusers", landed.id)

    assert str(caught.value).startswith(
        "Exports:Users: 5 of 100 rows rejected, more than the feed's 1% error threshold ("
    )
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT status, sample_file_id FROM feeds").fetchall() == [("draft", None)]
        assert conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'Exports:%'").fetchall() == []
    finally:
        conn.close()


def test_viewing_a_sample_whose_cached_copy_is_gone_says_so(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    s3_bucket.put(key("users", date(2026, 11, 25)), _users_with_bad_ids(3, 0))
    db = tmp_path / "gone.db"
    configure(db, s3_bucket, entities=[entity("users")], feeds={}, load_operations={})
    assert run(db, RunWindow.day(date(2026, 11, 25))).status == "Succeeded"
    with Store(db) as store:
        [landed] = list_landed_files(store, COURIER)
        Path(landed.local_path).unlink()

        with pytest.raises(Exception) as caught:
            view_landed_file(store, landed.id)

    assert str(caught.value) == (
        "The landed copy of exports/users-2026-11-25.avro is gone from the cache; run the courier again to land it"
    )


def test_a_replaced_object_leaves_its_older_sample_intact(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    schema = heap_schema("users", USER_COLUMNS)
    sample_key = key("users", date(2026, 11, 25))
    s3_bucket.put(sample_key, write_avro([_user(1, "one@example.com", 1_795_000_000_000_000)], schema))
    db = tmp_path / "replaced.db"
    configure(db, s3_bucket, entities=[entity("users")], feeds={}, load_operations={})
    assert run(db, RunWindow.day(date(2026, 11, 25))).status == "Succeeded"
    s3_bucket.put(
        sample_key,
        write_avro(
            [_user(2, "two@example.com", 1_795_000_000_000_000), _user(3, "three@example.com", 1_795_000_000_000_000)],
            schema,
        ),
    )
    assert run(db, RunWindow.day(date(2026, 11, 25))).status == "Succeeded"

    with Store(db) as store:
        newer, older = list_landed_files(store, COURIER)
        assert (newer.row_count, older.row_count) == (2, 1)
        _, newer_rows = view_landed_file(store, newer.id)
        _, older_rows = view_landed_file(store, older.id)

    assert [row[0] for row in newer_rows] == [2, 3]
    # The older sample is listed with 1 row and its own ETag: viewing it must not show the newer object.
    assert [row[0] for row in older_rows] == [1]


def test_an_all_data_run_does_not_invent_a_date_for_a_missing_file(exports: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "all-missing.db"
    configure(db, exports, entities=[entity("users"), entity("orders")], feeds={}, load_operations={})

    failed = run(db, RunWindow.all())

    assert failed.status == "Failed"
    # No date was asked for, so naming today's file (exports/orders-<today>.avro) would be wrong.
    assert failed.message == (
        "Missing required file exports/orders-<yyyy>-<MM>-<dd>.avro for all data: check the "
        "entities list, mark the file optional, or run for another day"
    )


def test_a_vanished_column_is_kept_and_set_to_null_on_updated_rows(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    first = [_user(1, "one@example.com", 1_795_000_000_000_000), _user(2, "two@example.com", 1_795_000_000_000_000)]
    first[0]["customer_id"], first[1]["customer_id"] = "11", "22"
    without = [c for c in USER_COLUMNS if c != "customer_id"]
    s3_bucket.put(key("users", date(2026, 11, 24)), write_avro(first, heap_schema("users", USER_COLUMNS)))
    s3_bucket.put(
        key("users", date(2026, 11, 25)),
        write_avro([_user(1, "new@example.com", 1_795_000_000_000_001)], heap_schema("users", without)),
    )
    db = tmp_path / "vanished.db"
    configure(
        db,
        s3_bucket,
        entities=[entity("users")],
        feeds={"df-exusers": FEEDS["df-exusers"]},
        load_operations={"df-exusers": LOADS["df-exusers"]},
    )

    result = run(db, RunWindow.all())

    assert result.status == "Succeeded", result.message
    table = rows(db, "Exports:Users")
    assert {pk: (row["email"], row["customer_id"]) for pk, row in table.items()} == {
        1: ("new@example.com", None),
        2: ("two@example.com", "22"),
    }


def test_request_stop_marks_a_running_run_stopping_at_once(tmp_path: Path) -> None:
    from core.runs import RunWindow, _create_run, get_run, request_stop, stop_requested

    db = tmp_path / "stop.db"
    with Store(db) as store:
        run_id = _create_run(store, "courier", "Heap", "manual", RunWindow.all(), None)
        finished = _create_run(store, "courier", "Other", "manual", RunWindow.all(), None)
        store.execute("UPDATE runs SET status = 'Succeeded' WHERE id = ?", (finished,))

    request_stop(db, run_id)
    request_stop(db, finished)

    with Store(db) as store:
        assert get_run(store, run_id).status == "Stopping"
        assert get_run(store, finished).status == "Succeeded"
    assert stop_requested(db, run_id)


def test_list_runs_by_parent(tmp_path: Path) -> None:
    from core.runs import RunWindow, _create_run, list_runs

    with Store(tmp_path / "parents.db") as store:
        group = _create_run(store, "group", "Heap daily", "manual", RunWindow.all(), None)
        child = _create_run(store, "courier", "Heap", "manual", RunWindow.all(), group)
        _create_run(store, "courier", "Other", "manual", RunWindow.all(), None)
        assert [run.id for run in list_runs(store, parent_id=group)] == [child]
