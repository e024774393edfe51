"""Tests for core.heapgen: the generated Heap Connect bucket and benchmark rows."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

import fastavro
import pytest

from core.avro import to_iso_utc
from core.heapgen import (
    CHECKOUT_TABLE,
    CONFIRMATION_TABLE,
    EVENT_COLUMNS,
    PAGEVIEW_COLUMNS,
    SESSION_COLUMNS,
    USER_COLUMNS,
    HeapBucket,
    generate_heap_bucket,
    heap_schema,
    pageview_records,
    write_avro,
)

TODAY = date(2026, 11, 25)
WEEK_START = datetime(2026, 11, 18, tzinfo=timezone.utc)
WEEK_END = datetime(2026, 11, 25, tzinfo=timezone.utc)
BUCKET = "heap-rs3-test"
MANIFEST_KEY = re.compile(r"^manifests/sync_(\d+)\.json$")
PART_KEY = re.compile(r"^sync_(\d+)/([^/]+)/part-(\d{5,})-([0-9a-f-]{36})-c000\.avro$")
KEYS = {"users": "user_id", "sessions": "session_id", "user_migrations": "from_user_id"}


@pytest.fixture(scope="module")
def tiny() -> HeapBucket:
    return generate_heap_bucket(BUCKET, users=60, pageviews=500, today=TODAY)


def manifests(bucket: HeapBucket) -> dict[int, dict[str, Any]]:
    """Parse the manifests the way a loader should find them: strict key match."""
    found = {}
    for key, body in bucket.objects.items():
        match = MANIFEST_KEY.match(key)
        if match:
            found[int(match.group(1))] = json.loads(body)
    return dict(sorted(found.items()))


def entry(bucket: HeapBucket, dump_id: int, table: str) -> dict[str, Any] | None:
    for table_entry in manifests(bucket)[dump_id]["tables"]:
        if table_entry["name"] == table:
            return table_entry
    return None


def key_of(bucket: HeapBucket, uri: str) -> str:
    prefix = f"s3://{bucket.bucket}/"
    assert uri.startswith(prefix)
    return uri[len(prefix) :]


def part_number(key: str) -> int:
    match = PART_KEY.match(key)
    assert match, key
    return int(match.group(3))


def read_avro(body: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    records = fastavro.reader(io.BytesIO(body))
    columns = [f["name"] for f in records.writer_schema["fields"]]  # type: ignore[index]
    return columns, list(records)


def table_rows(bucket: HeapBucket, dump_id: int, table: str) -> list[dict[str, Any]]:
    """Rows of one table in one dump, files in part-number order."""
    table_entry = entry(bucket, dump_id, table)
    assert table_entry is not None, (dump_id, table)
    keys = sorted((key_of(bucket, uri) for uri in table_entry["files"]), key=part_number)
    return [row for key in keys for row in read_avro(bucket.objects[key])[1]]


def first_seen(bucket: HeapBucket, table: str, key: str) -> dict[int, list[dict[str, Any]]]:
    """Rows per dump whose key was never sent by an earlier dump."""
    seen: set[Any] = set()
    result: dict[int, list[dict[str, Any]]] = {}
    for dump_id in bucket.dump_ids:
        if entry(bucket, dump_id, table) is None:
            continue
        rows = [r for r in table_rows(bucket, dump_id, table) if r[key] not in seen]
        seen.update(r[key] for r in rows)
        result[dump_id] = rows
    return result


def as_utc(value: Any) -> datetime:
    return datetime.fromisoformat(to_iso_utc(value).replace("Z", "+00:00"))  # type: ignore[union-attr]


# --- determinism and basics ---------------------------------------------------------


def test_same_seed_and_day_give_identical_bytes(tiny: HeapBucket) -> None:
    again = generate_heap_bucket(BUCKET, users=60, pageviews=500, today=TODAY)

    assert again.objects == tiny.objects
    assert again.summary == tiny.summary


@pytest.mark.parametrize(
    "change",
    [{"seed": 8}, {"today": TODAY + timedelta(days=1)}, {"users": 61}],
)
def test_other_arguments_give_other_bytes(tiny: HeapBucket, change: dict[str, Any]) -> None:
    args: dict[str, Any] = {"users": 60, "pageviews": 500, "today": TODAY} | change
    other = generate_heap_bucket(BUCKET, **args)

    assert other.objects != tiny.objects


def test_too_small_a_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_heap_bucket(users=5, pageviews=400)


# --- manifests and layout ----------------------------------------------------------------


def test_dump_ids_sort_differently_as_text(tiny: HeapBucket) -> None:
    assert list(manifests(tiny)) == tiny.dump_ids == [998, 1004, 1011, 1020]
    assert sorted(map(str, tiny.dump_ids)) != [str(d) for d in tiny.dump_ids]


def test_manifests_have_heaps_shape_and_list_existing_keys(tiny: HeapBucket) -> None:
    for dump_id, manifest in manifests(tiny).items():
        assert set(manifest) == {"dump_id", "tables", "property_definitions"}
        assert manifest["dump_id"] == dump_id
        definitions = key_of(tiny, manifest["property_definitions"])
        assert definitions == f"sync_{dump_id}/property_definitions.json"
        assert json.loads(tiny.objects[definitions])["properties"]
        for table_entry in manifest["tables"]:
            assert set(table_entry) == {"name", "columns", "files", "incremental"}
            assert isinstance(table_entry["incremental"], bool)
            assert table_entry["files"], table_entry["name"]
            for uri in table_entry["files"]:
                key = key_of(tiny, uri)
                match = PART_KEY.match(key)
                assert match and int(match.group(1)) == dump_id and match.group(2) == table_entry["name"]
                columns, _rows = read_avro(tiny.objects[key])
                # The manifest's column list matches each file's writer schema.
                assert columns == table_entry["columns"], key


def test_every_data_object_outside_exports_is_in_a_manifest_or_a_decoy(tiny: HeapBucket) -> None:
    listed = {
        key_of(tiny, uri)
        for manifest in manifests(tiny).values()
        for table_entry in manifest["tables"]
        for uri in table_entry["files"]
    }
    unlisted = {k for k in tiny.objects if k.endswith(".avro") and not k.startswith("exports/") and k not in listed}

    assert len(unlisted) == 1
    assert unlisted.pop().startswith("sync_1031/users/part-00000-")


@pytest.mark.parametrize(
    ("dump_id", "table", "incremental"),
    [
        (998, "users", False),
        (998, "sessions", False),
        (998, "pageviews", False),
        (998, "user_migrations", False),
        (998, CHECKOUT_TABLE, False),
        (998, CONFIRMATION_TABLE, False),
        (998, "_event_metadata", False),
        (1004, "users", True),
        (1004, "sessions", True),
        (1004, "pageviews", True),
        (1004, "user_migrations", False),
        (1004, CHECKOUT_TABLE, True),
        (1004, CONFIRMATION_TABLE, True),
        (1004, "_event_metadata", None),
        (1011, "users", True),
        (1011, "pageviews", True),
        (1011, "user_migrations", False),
        (1011, CONFIRMATION_TABLE, None),
        (1020, "users", True),
        (1020, "pageviews", True),
        (1020, "user_migrations", False),
        (1020, CHECKOUT_TABLE, False),
        (1020, CONFIRMATION_TABLE, True),
    ],
)
def test_incremental_flags(tiny: HeapBucket, dump_id: int, table: str, incremental: bool | None) -> None:
    table_entry = entry(tiny, dump_id, table)

    if incremental is None:
        assert table_entry is None
    else:
        assert table_entry is not None and table_entry["incremental"] is incremental


@pytest.mark.parametrize("fixture", ["tiny", "default"])
def test_backfill_pageviews_span_twelve_or_more_parts(
    tiny: HeapBucket, default_bucket: HeapBucket, fixture: str
) -> None:
    bucket = tiny if fixture == "tiny" else default_bucket
    table_entry = entry(bucket, 998, "pageviews")
    assert table_entry is not None
    numbers = sorted(part_number(key_of(bucket, uri)) for uri in table_entry["files"])

    assert len(numbers) >= 12
    assert numbers == list(range(len(numbers)))
    assert {10, 11} <= set(numbers)


def test_parts_of_a_table_share_one_job_uuid(tiny: HeapBucket) -> None:
    jobs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key in tiny.objects:
        match = PART_KEY.match(key)
        if match:
            jobs[(match.group(1), match.group(2))].add(match.group(4))

    assert all(len(uuids) == 1 for uuids in jobs.values())
    assert len({next(iter(u)) for u in jobs.values()}) == len(jobs)


def test_manifest_files_are_never_in_part_order(tiny: HeapBucket) -> None:
    multi = 0
    for manifest in manifests(tiny).values():
        for table_entry in manifest["tables"]:
            numbers = [part_number(key_of(tiny, uri)) for uri in table_entry["files"]]
            if len(numbers) > 1:
                multi += 1
                assert numbers != sorted(numbers), (manifest["dump_id"], table_entry["name"])

    assert multi >= 8


def test_an_empty_part_file_exists(tiny: HeapBucket) -> None:
    counts = [len(read_avro(tiny.objects[key_of(tiny, u)])[1]) for u in entry(tiny, 1004, "sessions")["files"]]  # type: ignore[index]

    assert 0 in counts
    assert sum(counts) > 0


def test_decoys_are_present(tiny: HeapBucket) -> None:
    assert tiny.objects["imported_manifests/sync_998.json"] == tiny.objects["manifests/sync_998.json"]
    (half,) = [k for k in tiny.objects if k.startswith("sync_1031/")]
    assert PART_KEY.match(half)
    assert not any("1031" in k for k in tiny.objects if k.startswith("manifests/"))
    _columns, decoy_users = read_avro(tiny.objects[half])
    real_users = {r["user_id"] for d in tiny.dump_ids for r in table_rows(tiny, d, "users")}
    assert decoy_users and not {r["user_id"] for r in decoy_users} & real_users


# --- content -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dump_id", "table", "column", "present"),
    [
        (998, "users", "plan", False),
        (1004, "users", "plan", False),
        (1011, "users", "plan", True),
        (1020, "users", "plan", True),
        (1004, "pageviews", "heap_device_id", False),
        (1011, "pageviews", "heap_device_id", True),
        (1020, "pageviews", "heap_device_id", True),
    ],
)
def test_schema_drift(tiny: HeapBucket, dump_id: int, table: str, column: str, present: bool) -> None:
    table_entry = entry(tiny, dump_id, table)
    assert table_entry is not None
    file_columns = read_avro(tiny.objects[key_of(tiny, table_entry["files"][0])])[0]

    assert (column in table_entry["columns"]) is present
    assert (column in file_columns) is present


def test_drift_dump_resends_rows_with_the_new_column_filled(tiny: HeapBucket) -> None:
    earlier = {r["event_id"]: r for r in table_rows(tiny, 1004, "pageviews")}
    resent = [r for r in table_rows(tiny, 1011, "pageviews") if r["event_id"] in earlier]
    plans = [r["plan"] for r in table_rows(tiny, 1011, "users")]

    assert resent
    assert all(r["heap_device_id"] for r in resent)
    assert any(r["title"] != earlier[r["event_id"]]["title"] for r in resent)
    assert any(plans)


def test_changed_users_come_back_later_with_new_details(tiny: HeapBucket) -> None:
    before = {r["user_id"]: r for r in table_rows(tiny, 998, "users")}
    changed = [r for r in table_rows(tiny, 1004, "users") if r["user_id"] in before]

    assert changed
    assert all(r["last_modified"] > before[r["user_id"]]["last_modified"] for r in changed)
    assert all(r["joindate"] == before[r["user_id"]]["joindate"] for r in changed)
    emails = [r for r in changed if r["email"] and r["email"] != before[r["user_id"]]["email"]]
    assert emails
    assert any(r["identity"] == r["email"] for r in emails)


@pytest.mark.parametrize(
    ("table", "column", "form"),
    [
        ("users", "joindate", "micros"),
        ("users", "last_modified", "micros"),
        ("sessions", "time", "millis"),
        ("pageviews", "time", "string"),
        (CHECKOUT_TABLE, "time", "string"),
        (CONFIRMATION_TABLE, "time", "string"),
        ("user_migrations", "time", "string"),
    ],
)
def test_three_timestamp_forms_within_the_week(tiny: HeapBucket, table: str, column: str, form: str) -> None:
    values = [r[column] for d in tiny.dump_ids if entry(tiny, d, table) for r in table_rows(tiny, d, table)]

    assert values
    for value in values:
        if form == "micros":
            assert isinstance(value, int) and 10**14 <= value < 10**17
        elif form == "millis":
            assert isinstance(value, int) and 10**11 <= value < 10**14
        else:
            assert isinstance(value, str)
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", value)
        assert WEEK_START <= as_utc(value) < WEEK_END, value


@pytest.mark.parametrize(("table", "key"), [("pageviews", "event_id"), ("sessions", "session_id")])
def test_new_rows_get_later_with_each_dump(tiny: HeapBucket, table: str, key: str) -> None:
    per_dump = first_seen(tiny, table, key)
    spans = [
        (min(map(as_utc, times)), max(map(as_utc, times)))
        for times in ([r["time"] for r in rows] for rows in per_dump.values())
    ]

    assert all(earlier[1] < later[0] for earlier, later in zip(spans, spans[1:]))


def test_migrations_include_a_chain_of_real_users(tiny: HeapBucket) -> None:
    users = {r["user_id"] for d in tiny.dump_ids for r in table_rows(tiny, d, "users")}
    first = table_rows(tiny, 998, "user_migrations")
    last = table_rows(tiny, 1020, "user_migrations")
    mapping = {r["from_user_id"]: r["to_user_id"] for r in last}

    assert len(mapping) == len(last)  # from_user_id is the key
    assert {r["from_user_id"] for r in first} <= set(mapping)
    chains = [(a, b, mapping[b]) for a, b in mapping.items() if b in mapping]
    assert chains
    assert set(mapping) | set(mapping.values()) <= users
    for start in mapping:
        seen = {start}
        node = start
        while node in mapping:
            node = mapping[node]
            assert node not in seen, "cycle"
            seen.add(node)


def test_each_dump_resends_the_whole_migration_mapping(tiny: HeapBucket) -> None:
    sizes = []
    previous: set[tuple[int, int]] = set()
    for dump_id in tiny.dump_ids:
        pairs = {(r["from_user_id"], r["to_user_id"]) for r in table_rows(tiny, dump_id, "user_migrations")}
        assert previous <= pairs
        previous = pairs
        sizes.append(len(pairs))

    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_checkout_resync_differs_from_an_upsert(tiny: HeapBucket) -> None:
    upserted = {r["event_id"] for d in (998, 1004, 1011) for r in table_rows(tiny, d, CHECKOUT_TABLE)}
    resync = table_rows(tiny, 1020, CHECKOUT_TABLE)
    replaced = {r["event_id"] for r in resync}

    assert upserted - replaced, "the edited definition drops some old rows"
    assert replaced - upserted
    assert {r["target_text"] for r in resync} == {"Complete order", "Place order"}
    assert all(r["href"] in ("/order/confirmation", None) for r in resync)


def test_oddly_named_event_table_holds_confirmation_pageviews(tiny: HeapBucket) -> None:
    pageviews = {r["event_id"]: r for d in tiny.dump_ids for r in table_rows(tiny, d, "pageviews")}
    events = [r for d in (998, 1004, 1020) for r in table_rows(tiny, d, CONFIRMATION_TABLE)]

    assert events
    assert all(pageviews[e["event_id"]]["path"] == "/order/confirmation" for e in events)
    assert read_avro(tiny.objects[key_of(tiny, entry(tiny, 998, CONFIRMATION_TABLE)["files"][0])])[0] == EVENT_COLUMNS  # type: ignore[index]


def test_values_look_like_heap_data(tiny: HeapBucket) -> None:
    users = [r for d in tiny.dump_ids for r in table_rows(tiny, d, "users")]
    views = [r for d in tiny.dump_ids for r in table_rows(tiny, d, "pageviews")]

    emails = [u["email"] for u in users if u["email"]]
    assert emails and all(re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.(com|org|net)", e) for e in emails)
    assert any(u["identity"] is None for u in users)
    assert {"web"} < {v["library"] for v in views} <= {"web", "ios", "android"}
    assert any(v["utm_source"] == "" for v in views)
    assert any(v["domain"] == "shop.example.com" and v["path"].startswith("/products/") for v in views)
    assert all(v["title"] for v in views)


# --- daily exports --------------------------------------------------------------------------


def test_daily_exports_cover_seven_days(tiny: HeapBucket) -> None:
    days = [(TODAY - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    daily = sorted(k for k in tiny.objects if k.startswith("exports/"))

    assert daily == sorted(f"exports/{t}-{d}.avro" for t in ("users", "sessions", "pageviews") for d in days)
    expected = {"users": USER_COLUMNS, "sessions": SESSION_COLUMNS, "pageviews": PAGEVIEW_COLUMNS}
    seen: dict[str, set[int]] = defaultdict(set)
    for key in daily:
        table = key.split("/")[1].split("-")[0]
        columns, rows = read_avro(tiny.objects[key])
        assert columns == expected[table]
        assert rows
        seen[table].update(
            r[{"users": "user_id", "sessions": "session_id", "pageviews": "event_id"}[table]] for r in rows
        )

    assert {t: len(ids) for t, ids in seen.items()} == tiny.daily_summary


def test_daily_users_recur_with_changes(tiny: HeapBucket) -> None:
    versions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for n in range(6, -1, -1):
        day = (TODAY - timedelta(days=n)).isoformat()
        for row in read_avro(tiny.objects[f"exports/users-{day}.avro"])[1]:
            versions[row["user_id"]].append(row)
    recurring = [rows for rows in versions.values() if len(rows) > 1]

    assert recurring
    for rows in recurring:
        stamps = [r["last_modified"] for r in rows]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


# --- summary ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_bucket() -> HeapBucket:
    return generate_heap_bucket(today=TODAY)


def replay(bucket: HeapBucket) -> dict[str, int]:
    """Apply every manifest in numeric order: replace when full, upsert when incremental."""
    state: dict[str, set[Any]] = {}
    for dump_id, manifest in manifests(bucket).items():
        for table_entry in manifest["tables"]:
            table = table_entry["name"]
            if table == "_event_metadata":
                continue
            key = KEYS.get(table, "event_id")
            if not table_entry["incremental"]:
                state[table] = set()
            state.setdefault(table, set()).update(r[key] for r in table_rows(bucket, dump_id, table))
    return {table: len(ids) for table, ids in state.items()}


@pytest.mark.parametrize(("fixture", "users", "pageviews"), [("tiny", 60, 500), ("default", 3000, 30000)])
def test_summary_matches_the_rows(
    tiny: HeapBucket, default_bucket: HeapBucket, fixture: str, users: int, pageviews: int
) -> None:
    bucket = tiny if fixture == "tiny" else default_bucket

    assert replay(bucket) == bucket.summary
    assert bucket.summary["users"] == users
    assert bucket.summary["pageviews"] == pageviews
    assert set(bucket.summary) == {
        "users", "sessions", "pageviews", "user_migrations", CHECKOUT_TABLE, CONFIRMATION_TABLE,
    }  # fmt: skip


# --- schema, writer and the benchmark stream ---------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "avro_type"),
    [
        ("users", "user_id", "long"),
        ("users", "joindate", ["null", "long"]),
        ("users", "last_modified", ["null", "long"]),
        ("users", "email", ["null", "string"]),
        ("sessions", "time", ["null", "long"]),
        ("sessions", "session_id", "long"),
        ("pageviews", "time", ["null", "string"]),
        ("pageviews", "event_id", "long"),
        ("user_migrations", "to_user_id", "long"),
        (CHECKOUT_TABLE, "time", ["null", "string"]),
        (CHECKOUT_TABLE, "target_text", ["null", "string"]),
    ],
)
def test_heap_schema_types(table: str, column: str, avro_type: Any) -> None:
    schema = heap_schema(table, ["user_id", "event_id", "session_id", "to_user_id", column])

    assert schema["type"] == "record"
    assert {f["name"]: f["type"] for f in schema["fields"]}[column] == avro_type


@pytest.mark.parametrize("codec", ["null", "snappy", "deflate"])
def test_write_avro_round_trips_and_is_deterministic(codec: str) -> None:
    schema = heap_schema("users", ["user_id", "email"])
    rows = [{"user_id": 1, "email": "maria.garcia@example.com"}, {"user_id": 2, "email": None}]

    body = write_avro(rows, schema, codec)

    assert body == write_avro(rows, schema, codec)
    assert fastavro.reader(io.BytesIO(body)).metadata["avro.codec"] == codec
    assert read_avro(body) == (["user_id", "email"], rows)


def test_pageview_records_stream() -> None:
    rows = list(pageview_records(2000, seed=3, start_event_id=500))

    assert rows == list(pageview_records(2000, seed=3, start_event_id=500))
    assert len(rows) == 2000
    assert [r["event_id"] for r in rows] == list(range(500, 2500))
    assert all(list(r) == PAGEVIEW_COLUMNS for r in rows)
    times = [r["time"] for r in rows]
    assert times == sorted(times)
    assert len({r["session_id"] for r in rows}) > 100
    assert len({r["user_id"] for r in rows}) <= 2000 // 25
    assert read_avro(write_avro(rows, heap_schema("pageviews", PAGEVIEW_COLUMNS)))[1] == rows


def test_pageview_records_with_chosen_columns() -> None:
    columns = ["time", "event_id", "heap_device_id", "made_up"]
    rows = list(pageview_records(50, columns=columns))

    assert all(list(r) == columns for r in rows)
    assert all(r["heap_device_id"] and r["made_up"] is None for r in rows)
    assert list(pageview_records(0)) == []
