"""Pure tests of core.heap: manifests, part numbers, table names and per-table load plans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.errors import SourceError
from core.heap import (
    Manifest,
    ManifestTable,
    TableFile,
    newest_sample_keys,
    parse_manifest,
    part_number,
    plan_table,
    suggested_feed,
    suggested_feed_id,
    table_names,
)

BUCKET = "heap-rs3-acme"
UUID = "4a06bab5-0ef3-4b21-b9af-e772fbb37b0e"


def _key(dump: int, table: str, part: int, digits: int = 5) -> str:
    return f"sync_{dump}/{table}/part-{part:0{digits}d}-{UUID}-c000.avro"


def _manifest_body(dump_id: Any, tables: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"dump_id": dump_id, "tables": tables, **extra}).encode()


# --- part_number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("sync_9/users/part-00012-4a06bab5-c000.avro", 12),
        ("sync_852/sessions/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro", 0),
        ("sync_1/pageviews/part-10042-x-c000.avro", 10042),
        ("sync_1/pageviews/part-100000-x-c000.avro", 100000),
        ("part-7-x.avro", 7),
        ("acme/sync_1/my_part-3_table/part-00002-x.avro", 2),
        ("sync_1/users/users.avro", 0),
    ],
)
def test_part_number(key: str, expected: int) -> None:
    assert part_number(key) == expected


# --- parse_manifest ----------------------------------------------------------------------------


def test_parse_manifest_strips_uris_and_sorts_parts_numerically() -> None:
    # As text, part-100000 < part-99999 and part-10 < part-9: only a numeric sort is right.
    listed = [
        _key(1008461850, "pageviews", 100000, 6),
        _key(1008461850, "pageviews", 9, 1),
        _key(1008461850, "pageviews", 99999),
        _key(1008461850, "pageviews", 10, 2),
    ]
    body = _manifest_body(
        1008461850,
        [
            {
                "name": "pageviews",
                "columns": ["event_id", "user_id", "time"],
                "files": [f"s3://{BUCKET}/{key}" for key in listed],
                "incremental": True,
            },
            {
                "name": "user_migrations",
                "columns": ["from_user_id", "to_user_id", "time"],
                "files": [f"s3://{BUCKET}/{_key(1008461850, 'user_migrations', 0)}"],
                "incremental": False,
            },
            {"name": "sessions", "columns": ["session_id"], "files": [], "incremental": True},
        ],
        property_definitions=f"s3://{BUCKET}/sync_1008461850/property_definitions.json",
    )

    manifest = parse_manifest("manifests/sync_1008461850.json", body, BUCKET)

    assert manifest == Manifest(
        dump_id=1008461850,
        key="manifests/sync_1008461850.json",
        tables={
            "pageviews": ManifestTable(
                name="pageviews",
                columns=("event_id", "user_id", "time"),
                keys=(
                    _key(1008461850, "pageviews", 9, 1),
                    _key(1008461850, "pageviews", 10, 2),
                    _key(1008461850, "pageviews", 99999),
                    _key(1008461850, "pageviews", 100000, 6),
                ),
                incremental=True,
            ),
            "user_migrations": ManifestTable(
                name="user_migrations",
                columns=("from_user_id", "to_user_id", "time"),
                keys=(_key(1008461850, "user_migrations", 0),),
                incremental=False,
            ),
            "sessions": ManifestTable(name="sessions", columns=("session_id",), keys=(), incremental=True),
        },
    )


def test_parse_manifest_strips_uris_of_the_bucket_under_a_prefix() -> None:
    body = _manifest_body(
        12,
        [
            {
                "name": "users",
                "columns": ["user_id"],
                "incremental": True,
                "files": [
                    f"s3://{BUCKET}/acme/sync_12/users/part-00001-x.avro",
                    f"s3://{BUCKET}/acme/sync_12/users/part-00000-x.avro",
                ],
            }
        ],
    )

    manifest = parse_manifest("manifests/sync_12.json", body, BUCKET)

    assert manifest.tables["users"].keys == (
        "acme/sync_12/users/part-00000-x.avro",
        "acme/sync_12/users/part-00001-x.avro",
    )


def test_parse_manifest_takes_the_dump_id_from_the_key_when_the_body_has_none() -> None:
    manifest = parse_manifest("manifests/sync_852.json", json.dumps({"tables": []}).encode(), BUCKET)

    assert (manifest.dump_id, manifest.tables) == (852, {})


def test_parse_manifest_dump_ids_are_64_bit() -> None:
    manifest = parse_manifest("manifests/sync_9007199254740993.json", _manifest_body(9007199254740993, []), BUCKET)

    assert manifest.dump_id == 9007199254740993


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (_manifest_body(5, [{"columns": ["user_id"], "files": []}]), "'name'"),
        (_manifest_body("five", []), "invalid literal for int() with base 10: 'five'"),
    ],
)
def test_parse_manifest_refuses_a_bad_manifest_naming_its_key(body: bytes, detail: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_manifest("manifests/sync_5.json", body, BUCKET)

    assert str(caught.value) == (
        f"manifests/sync_5.json is not a valid Heap manifest ({detail}); ask Heap to re-send that sync"
    )


def test_parse_manifest_refuses_a_body_that_is_not_an_object() -> None:
    with pytest.raises(SourceError) as caught:
        parse_manifest("manifests/sync_5.json", b"[1, 2]", BUCKET)

    assert str(caught.value).startswith("manifests/sync_5.json is not a valid Heap manifest (")


# --- table names, samples and suggested feeds --------------------------------------------------


def _manifest(dump_id: int, tables: dict[str, tuple[bool, list[int]]]) -> Manifest:
    """A manifest from ``{table: (incremental, [part numbers])}``, keys in numeric order as parse_manifest gives."""
    return Manifest(
        dump_id=dump_id,
        key=f"manifests/sync_{dump_id}.json",
        tables={
            name: ManifestTable(
                name=name,
                columns=(),
                keys=tuple(_key(dump_id, name, part) for part in sorted(parts)),
                incremental=incremental,
            )
            for name, (incremental, parts) in tables.items()
        },
    )


def test_table_names_skip_event_metadata_only_and_follow_heaps_load_order() -> None:
    manifests = [
        _manifest(
            998,
            {
                "users": (False, [0]),
                "_event_metadata": (False, [0]),
                "pageviews": (False, [0]),
                "_key_events_pm__order_confirmation_page_complete_order": (False, [0]),
            },
        ),
        _manifest(
            1004,
            {
                "sessions": (True, [0]),
                "user_migrations": (False, [0]),
                "checkout_complete_order": (True, [0]),
                "redshift_cart_tap_": (True, [0]),
            },
        ),
    ]

    assert table_names(manifests) == [
        "user_migrations",
        "_key_events_pm__order_confirmation_page_complete_order",
        "checkout_complete_order",
        "redshift_cart_tap_",
        "pageviews",
        "sessions",
        "users",
    ]


def test_newest_sample_keys_take_the_first_part_of_the_newest_dump_with_the_table() -> None:
    manifests = [
        _manifest(
            998, {"users": (False, [0, 1]), "checkout_complete_order": (False, [3, 1]), "_event_metadata": (False, [0])}
        ),
        _manifest(1004, {"users": (True, [12, 2]), "sessions": (True, [])}),
    ]

    assert newest_sample_keys(manifests) == {
        "users": _key(1004, "users", 2),
        "checkout_complete_order": _key(998, "checkout_complete_order", 1),
    }


@pytest.mark.parametrize(
    ("table", "key", "last_updated"),
    [
        ("users", ["user_id"], "last_modified"),
        ("sessions", ["session_id"], None),
        ("pageviews", ["event_id"], None),
        ("user_migrations", ["from_user_id"], None),
        ("checkout_complete_order", ["event_id"], None),
    ],
)
def test_suggested_feed_keys(table: str, key: list[str], last_updated: str | None) -> None:
    columns = ["user_id", "session_id", "event_id", "from_user_id", "last_modified", "time"]

    feed = suggested_feed(table, columns)

    assert (feed["source"], feed["primary-key"], feed["last-updated"]) == ("Heap", key, last_updated)


def test_suggested_feed_keeps_the_files_casing_of_key_columns() -> None:
    assert suggested_feed("users", ["User_ID", "Last_Modified"])["primary-key"] == ["User_ID"]


def test_suggested_feed_ids_are_valid_feed_ids() -> None:
    assert suggested_feed_id("users") == "df-usersx01"
    assert suggested_feed_id("pageviews") == "df-pagevi01"
    assert suggested_feed_id("_key_events_pm__order_confirmation_page_complete_order") == "df-keyeve01"


# --- plan_table --------------------------------------------------------------------------------

F, I = False, True  # noqa: E741 - incremental: false (full resync) / true

# Dumps 998 (full), 1004 and 1011 (incremental), 1020 (full), 1031 (incremental); as text "1004" < "998".
MANIFESTS = [
    _manifest(998, {"t": (F, [0, 1, 2])}),
    _manifest(1004, {"t": (I, [0, 10, 2])}),
    _manifest(1011, {"t": (I, [0]), "other": (I, [0])}),
    _manifest(1020, {"t": (F, [1, 0])}),
    _manifest(1031, {"t": (I, [0, 1])}),
]
NO_FULL = [
    _manifest(1004, {"t": (I, [0, 1])}),
    _manifest(1011, {"other": (F, [0])}),
    _manifest(1020, {"t": (I, [0])}),
]


def _plan(manifests: list[Manifest], cursor: tuple[int, int, bool] | None) -> list[tuple[int, int, bool, bool]]:
    """The plan as (dump, part, incremental, last_in_dump), checking every file's key."""
    plan = plan_table(manifests, "t", cursor)
    for item in plan:
        assert isinstance(item, TableFile)
        assert item.key == _key(item.dump_id, "t", item.part)
    return [(item.dump_id, item.part, item.incremental, item.last_in_dump) for item in plan]


@pytest.mark.parametrize(
    ("manifests", "cursor", "expected"),
    [
        pytest.param(
            MANIFESTS,
            None,
            [(1020, 0, F, F), (1020, 1, F, True), (1031, 0, I, F), (1031, 1, I, True)],
            id="cold-start-from-the-latest-full-dump",
        ),
        pytest.param(
            MANIFESTS[:3],
            None,
            [
                (998, 0, F, F),
                (998, 1, F, F),
                (998, 2, F, True),
                (1004, 0, I, F),
                (1004, 2, I, F),
                (1004, 10, I, True),
                (1011, 0, I, True),
            ],
            id="cold-start-then-every-later-dump-in-numeric-order",
        ),
        pytest.param(
            NO_FULL,
            None,
            [(1004, 0, I, F), (1004, 1, I, True), (1020, 0, I, True)],
            id="cold-start-without-a-full-dump-begins-at-the-oldest",
        ),
        pytest.param(
            MANIFESTS[:3],
            (1004, 2, False),
            [(1004, 10, I, True), (1011, 0, I, True)],
            id="cursor-mid-dump-resumes-after-the-last-part",
        ),
        pytest.param(
            MANIFESTS[:3],
            (1004, 0, False),
            [(1004, 2, I, F), (1004, 10, I, True), (1011, 0, I, True)],
            id="cursor-after-part-0",
        ),
        pytest.param(
            MANIFESTS[:3], (1004, 10, True), [(1011, 0, I, True)], id="cursor-complete-takes-the-next-dump-only"
        ),
        pytest.param(
            MANIFESTS,
            (1004, 10, True),
            [(1020, 0, F, F), (1020, 1, F, True), (1031, 0, I, F), (1031, 1, I, True)],
            id="a-later-full-dump-supersedes-the-incremental-ones",
        ),
        pytest.param(MANIFESTS, (1020, 1, True), [(1031, 0, I, F), (1031, 1, I, True)], id="cursor-on-the-full-dump"),
        pytest.param(
            MANIFESTS,
            (1020, 0, False),
            [(1020, 0, F, F), (1020, 1, F, True), (1031, 0, I, F), (1031, 1, I, True)],
            id="an-unfinished-full-dump-is-reloaded-whole",
        ),
        pytest.param(MANIFESTS, (1031, 1, True), [], id="up-to-date"),
        pytest.param(MANIFESTS[:2], (1011, 0, True), [], id="cursor-newer-than-every-manifest"),
        pytest.param([], None, [], id="no-manifests"),
    ],
)
def test_plan_table(
    manifests: list[Manifest], cursor: tuple[int, int, bool] | None, expected: list[tuple[int, int, bool, bool]]
) -> None:
    assert _plan(manifests, cursor) == expected


def test_plan_table_covers_only_dumps_that_have_the_table() -> None:
    assert plan_table(MANIFESTS, "other", None) == [
        TableFile(dump_id=1011, part=0, key=_key(1011, "other", 0), incremental=True, last_in_dump=True)
    ]
    assert plan_table(MANIFESTS, "missing", None) == []
