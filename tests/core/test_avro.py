"""Tests for core.avro: reading files, feed types, timestamps and converters."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pytest

from core.avro import (
    FEED_TYPES,
    AvroField,
    converter_for,
    feed_type_for,
    inspect_file,
    iter_batches,
    read_rows,
    to_iso_utc,
)
from core.errors import AvroError, CourierError
from core.heapgen import write_avro
from core.values import plan_file

PEOPLE_SCHEMA = {
    "type": "record",
    "name": "topLevelRecord",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "Email", "type": ["null", "string"]},
        {"name": "time", "type": ["null", "string"]},
    ],
}


def people(n: int) -> list[dict[str, Any]]:
    return [
        {
            "user_id": 1000 + i,
            "Email": None if i % 4 == 0 else f"user{i}@example.com",
            "time": f"2026-11-20 08:30:{i % 60:02d}.123",
        }
        for i in range(n)
    ]


def write(path: Path, records: list[dict[str, Any]], schema: dict[str, Any], codec: str = "snappy") -> Path:
    path.write_bytes(write_avro(records, schema, codec))
    return path


def big_file(tmp_path: Path, n: int = 5000) -> Path:
    """A file with several blocks (the writer flushes a block every ~16 kB)."""
    return write(tmp_path / "big.avro", people(n), PEOPLE_SCHEMA)


# --- iter_batches ---------------------------------------------------------------


@pytest.mark.parametrize("codec", ["null", "snappy", "deflate"])
def test_iter_batches_round_trips_every_codec(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path / f"people-{codec}.avro", people(12), PEOPLE_SCHEMA, codec)

    batches = list(iter_batches(path, ["email", "USER_ID", "missing", "Time"], batch_size=5))

    assert [len(b) for b in batches] == [5, 5, 2]
    rows = [row for batch in batches for row in batch]
    assert rows[0] == (None, 1000, None, "2026-11-20 08:30:00.123")
    assert rows[1] == ("user1@example.com", 1001, None, "2026-11-20 08:30:01.123")
    assert [r[1] for r in rows] == list(range(1000, 1012))
    assert inspect_file(path).codec == codec


@pytest.mark.parametrize(
    ("columns", "expected_first"),
    [
        (["user_id"], (1001,)),
        (["EMAIL"], ("user1@example.com",)),
        (["nope"], (None,)),
        (["nope", "other"], (None, None)),
        ([], ()),
        (["time", "user_id", "time"], ("2026-11-20 08:30:01.123", 1001, "2026-11-20 08:30:01.123")),
    ],
)
def test_iter_batches_column_selection(tmp_path: Path, columns: list[str], expected_first: tuple[Any, ...]) -> None:
    path = write(tmp_path / "p.avro", people(3)[1:], PEOPLE_SCHEMA)

    rows = [row for batch in iter_batches(path, columns) for row in batch]

    assert len(rows) == 2
    assert rows[0] == expected_first


def test_iter_batches_uses_each_files_own_schema(tmp_path: Path) -> None:
    old = write(
        tmp_path / "old.avro",
        [{"user_id": 1, "email": "a@example.com"}],
        {
            "type": "record",
            "name": "r",
            "fields": [{"name": "user_id", "type": "long"}, {"name": "email", "type": ["null", "string"]}],
        },
    )
    new = write(
        tmp_path / "new.avro",
        [{"plan": "pro", "EMAIL": "b@example.com", "user_id": 2}],
        {
            "type": "record",
            "name": "r",
            "fields": [
                {"name": "plan", "type": ["null", "string"]},
                {"name": "EMAIL", "type": ["null", "string"]},
                {"name": "user_id", "type": "long"},
            ],
        },
    )
    columns = ["user_id", "email", "plan"]

    assert list(iter_batches(old, columns)) == [[(1, "a@example.com", None)]]
    assert list(iter_batches(new, columns)) == [[(2, "b@example.com", "pro")]]


def test_iter_batches_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.avro", [], PEOPLE_SCHEMA)

    assert list(iter_batches(path, ["user_id"])) == []
    assert inspect_file(path, count_rows=True).row_count == 0


def test_iter_batches_streams_multi_block_files(tmp_path: Path) -> None:
    path = big_file(tmp_path)
    with open(path, "rb") as fo:
        assert sum(1 for _ in fastavro.block_reader(fo)) > 1

    batches = list(iter_batches(path, ["user_id"], batch_size=1000))

    assert [len(b) for b in batches] == [1000] * 5
    assert [r[0] for b in batches for r in b] == list(range(1000, 6000))


def test_iter_batches_rejects_a_batch_size_below_one(tmp_path: Path) -> None:
    path = write(tmp_path / "p.avro", people(1), PEOPLE_SCHEMA)

    with pytest.raises(ValueError, match="batch_size"):
        list(iter_batches(path, ["user_id"], batch_size=0))


# --- inspect_file and feed types ----------------------------------------------------

WIDE_SCHEMA = {
    "type": "record",
    "name": "topLevelRecord",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "identity", "type": ["null", "string"]},
        {"name": "joindate", "type": ["null", "long"]},
        {"name": "last_modified", "type": "long"},
        {"name": "time", "type": ["null", "string"]},
        {"name": "Timestamp", "type": "int"},
        {"name": "session_time", "type": ["null", "string"]},
        {"name": "created_at", "type": ["null", "string"]},
        {"name": "Event_Time", "type": "long"},
        {"name": "format", "type": ["null", "string"]},
        {"name": "score", "type": "double"},
        {"name": "ratio", "type": ["null", "float"]},
        {"name": "active", "type": ["null", "boolean"]},
        {"name": "visits", "type": "int"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "local_ts", "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}]},
        {"name": "birthday", "type": {"type": "int", "logicalType": "date"}},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "props", "type": ["null", {"type": "map", "values": "string"}]},
        {
            "name": "address",
            "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]},
        },
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["a", "b"]}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "blob", "type": "bytes"},
        {"name": "mixed", "type": ["null", "string", "long"]},
        {"name": "time_as_double", "type": "double"},
    ],
}

WIDE_EXPECTED = [
    AvroField("user_id", "long", False, "Integer", "Avro type", "long"),
    AvroField("identity", "string", True, "String", "Avro type", "string"),
    AvroField("joindate", "long", True, "Datetime", "Heap column", "long"),
    AvroField("last_modified", "long", False, "Datetime", "Heap column", "long"),
    AvroField("time", "string", True, "Datetime", "Heap column", "string"),
    # A name never makes a type: only Heap's own timestamp columns, by their exact names.
    AvroField("Timestamp", "int", False, "Integer", "Avro type", "int"),
    AvroField("session_time", "string", True, "String", "Avro type", "string"),
    AvroField("created_at", "string", True, "String", "Avro type", "string"),
    AvroField("Event_Time", "long", False, "Integer", "Avro type", "long"),
    AvroField("format", "string", True, "String", "Avro type", "string"),
    AvroField("score", "double", False, "Float", "Avro type", "double"),
    AvroField("ratio", "float", True, "Float", "Avro type", "float"),
    AvroField("active", "boolean", True, "Boolean", "Avro type", "boolean"),
    AvroField("visits", "int", False, "Integer", "Avro type", "int"),
    AvroField("ts", "timestamp-millis", False, "Datetime", "logical type", "long"),
    AvroField("local_ts", "local-timestamp-micros", True, "Datetime", "logical type", "long"),
    AvroField("birthday", "date", False, "Date", "logical type", "int"),
    AvroField("price", "decimal", False, "Decimal", "logical type", "bytes", 2),
    AvroField("tags", "array", False, "String", "Avro type", "array"),
    AvroField("props", "map", True, "String", "Avro type", "map"),
    AvroField("address", "record", False, "String", "Avro type", "record"),
    AvroField("kind", "enum", False, "String", "Avro type", "enum"),
    AvroField("digest", "fixed", False, "String", "Avro type", "fixed"),
    AvroField("blob", "bytes", False, "String", "Avro type", "bytes"),
    AvroField("mixed", "union", True, "String", "Avro type", "union"),
    AvroField("time_as_double", "double", False, "Float", "Avro type", "double"),
]


def wide_record(i: int) -> dict[str, Any]:
    return {
        "user_id": i,
        "identity": None,
        "joindate": 1_764_059_400_000_000,
        "last_modified": 1_764_059_400_000_000,
        "time": "2026-11-25 08:30:00.123",
        "Timestamp": 1_764_059_400,
        "session_time": "42",
        "created_at": None,
        "Event_Time": 1_764_059_400_123,
        "format": "csv",
        "score": 1.5,
        "ratio": None,
        "active": True,
        "visits": 3,
        "ts": datetime(2026, 11, 25, tzinfo=timezone.utc),
        "local_ts": None,
        "birthday": date(1990, 5, 17),
        "price": Decimal("19.99"),
        "tags": ["a", "b"],
        "props": {"k": "v"},
        "address": {"city": "Paris"},
        "kind": "a",
        "digest": b"\x00\x01\x02\x03",
        "blob": b"hi",
        "mixed": 7,
        "time_as_double": 0.5,
    }


def test_inspect_file_reports_fields_codec_and_count(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.avro", [wide_record(i) for i in range(7)], WIDE_SCHEMA, "deflate")

    info = inspect_file(path)
    counted = inspect_file(path, count_rows=True)

    assert info.fields == WIDE_EXPECTED
    assert info.codec == "deflate"
    assert info.row_count is None
    assert counted.row_count == 7
    assert counted.fields == WIDE_EXPECTED
    assert all(f.feed_type in FEED_TYPES for f in info.fields)


def test_inspect_file_counts_rows_across_blocks(tmp_path: Path) -> None:
    assert inspect_file(big_file(tmp_path), count_rows=True).row_count == 5000


def test_wide_values_convert_with_their_feed_types(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.avro", [wide_record(1)], WIDE_SCHEMA)
    info = inspect_file(path)
    names = [f.name for f in info.fields]

    (row,) = next(iter_batches(path, names))
    plan = plan_file([f.source() for f in info.fields])
    stored = dict(zip(names, plan.convert_row(row)))

    assert stored["joindate"] == "2025-11-25T08:30:00.000000Z"
    assert stored["time"] == "2026-11-25T08:30:00.123000Z"
    assert stored["Timestamp"] == 1_764_059_400
    assert stored["Event_Time"] == 1_764_059_400_123
    assert stored["session_time"] == "42"
    assert stored["ts"] == "2026-11-25T00:00:00.000000Z"
    assert stored["birthday"] == "1990-05-17"
    assert stored["price"] == "19.99"
    assert stored["tags"] == '["a","b"]'
    assert stored["props"] == '{"k":"v"}'
    assert stored["address"] == '{"city":"Paris"}'
    assert stored["active"] is True
    assert stored["blob"] == b"hi"
    assert stored["digest"] == b"\x00\x01\x02\x03"
    assert stored["mixed"] == 7


@pytest.mark.parametrize(
    ("name", "avro_type", "expected"),
    [
        ("time", "string", "Datetime"),
        ("TIME", "long", "Integer"),
        ("joindate", "long", "Datetime"),
        ("last_modified", "string", "Datetime"),
        ("timestamp", "int", "Integer"),
        ("signup_time", "long", "Integer"),
        ("updated_at", "string", "String"),
        ("session_time", "string", "String"),
        ("session_time", "long", "Integer"),
        ("Session_Time", "int", "Integer"),
        ("session_time", "timestamp-micros", "Datetime"),
        ("time", "double", "Float"),
        ("time", "boolean", "Boolean"),
        ("format", "string", "String"),
        ("chat", "long", "Integer"),
        ("user_id", "long", "Integer"),
        ("visits", "int", "Integer"),
        ("score", "float", "Float"),
        ("active", "boolean", "Boolean"),
        ("x", "timestamp-millis", "Datetime"),
        ("x", "local-timestamp-millis", "Datetime"),
        ("x", "date", "Date"),
        ("x", "decimal", "Decimal"),
        ("x", "bytes", "String"),
        ("x", "enum", "String"),
        ("x", "fixed", "String"),
        ("x", "record", "String"),
        ("x", "array", "String"),
        ("x", "map", "String"),
        ("x", "uuid", "String"),
    ],
)
def test_feed_type_for(name: str, avro_type: str, expected: str) -> None:
    assert feed_type_for(name, avro_type) == expected


# --- read_rows ----------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "expected"), [(3, 3), (200, 10), (0, 0)])
def test_read_rows_limits_rows(tmp_path: Path, limit: int, expected: int) -> None:
    path = write(tmp_path / "p.avro", people(10), PEOPLE_SCHEMA)

    columns, rows = read_rows(path, limit=limit)

    assert columns == ["user_id", "Email", "time"]
    assert len(rows) == expected
    assert rows[:1] == [(1000, None, "2026-11-20 08:30:00.123")][:expected]


# --- unreadable files ----------------------------------------------------------------


def random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "noise.avro"
    path.write_bytes(random.Random(3).randbytes(2000))
    return path


def truncated(tmp_path: Path) -> Path:
    data = big_file(tmp_path).read_bytes()
    path = tmp_path / "part-00003-cut-c000.avro"
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


def corrupt_block(tmp_path: Path) -> Path:
    data = bytearray(big_file(tmp_path).read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 64):
        data[offset] ^= 0x5A
    path = tmp_path / "corrupt.avro"
    path.write_bytes(bytes(data))
    return path


def unknown_codec(tmp_path: Path) -> Path:
    data = write(tmp_path / "x.avro", people(3), PEOPLE_SCHEMA, "null").read_bytes()
    path = tmp_path / "zzz.avro"
    path.write_bytes(data.replace(b"\x08null", b"\x08zzzz", 1))
    return path


def empty(tmp_path: Path) -> Path:
    path = tmp_path / "zero.avro"
    path.write_bytes(b"")
    return path


def missing(tmp_path: Path) -> Path:
    return tmp_path / "gone.avro"


def not_a_record(tmp_path: Path) -> Path:
    path = tmp_path / "longs.avro"
    with open(path, "wb") as fo:
        fastavro.writer(fo, "long", [1, 2, 3])
    return path


READERS = {
    "inspect": lambda p: inspect_file(p),
    "inspect+count": lambda p: inspect_file(p, count_rows=True),
    "iter_batches": lambda p: list(iter_batches(p, ["user_id"], batch_size=100)),
    "read_rows": lambda p: read_rows(p, limit=10_000),
}


@pytest.mark.parametrize(
    ("make", "readers", "reason"),
    [
        (random_bytes, list(READERS), "no Avro header, so it is not an Avro container file"),
        (empty, list(READERS), "the file is empty"),
        (missing, list(READERS), "file not found"),
        (unknown_codec, list(READERS), "unsupported codec 'zzzz'"),
        (not_a_record, list(READERS), "not a record"),
        # The header of a truncated or damaged file is fine: only reading blocks finds it.
        (truncated, ["inspect+count", "iter_batches", "read_rows"], "looks truncated"),
        (corrupt_block, ["inspect+count", "iter_batches", "read_rows"], "corrupt"),
    ],
)
def test_unreadable_files_raise_one_line_avro_error(tmp_path: Path, make: Any, readers: list[str], reason: str) -> None:
    path = make(tmp_path)
    for reader in readers:
        with pytest.raises(AvroError) as caught:
            READERS[reader](path)
        message = str(caught.value)
        assert isinstance(caught.value, CourierError)
        assert "\n" not in message
        assert message.startswith(f"{path.name}: not a readable Avro file ("), (reader, message)
        assert message.endswith("); re-export it or remove it from the bucket"), (reader, message)
        assert reason in message, (reader, message)
        assert str(tmp_path) not in message


def test_truncation_found_mid_iteration_raises_after_good_batches(tmp_path: Path) -> None:
    path = truncated(tmp_path)
    good: list[list[tuple[Any, ...]]] = []

    with pytest.raises(AvroError, match=r"^part-00003-cut-c000\.avro: not a readable Avro file"):
        for batch in iter_batches(path, ["user_id"], batch_size=100):
            good.append(batch)

    assert good, "the blocks before the damage should still be read"
    assert good[0][0] == (1000,)


def test_header_of_truncated_file_still_inspects(tmp_path: Path) -> None:
    assert [f.name for f in inspect_file(truncated(tmp_path)).fields] == ["user_id", "Email", "time"]


# --- to_iso_utc ----------------------------------------------------------------------

PLUS_0530 = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        # Heap's string forms.
        ("2026-11-25 08:30:00.123", "2026-11-25T08:30:00.123000Z"),
        ("2026-11-25 08:30:00", "2026-11-25T08:30:00.000000Z"),
        ("2026-11-25 08:30:00.123456", "2026-11-25T08:30:00.123456Z"),
        ("2026-11-25 08:30:00.1", "2026-11-25T08:30:00.100000Z"),
        ("2026-11-25T08:30:00", "2026-11-25T08:30:00.000000Z"),
        ("2026-11-25T08:30:00Z", "2026-11-25T08:30:00.000000Z"),
        ("2026-11-25T08:30:00.5Z", "2026-11-25T08:30:00.500000Z"),
        ("2026-11-25T08:30:00.123456000Z", "2026-11-25T08:30:00.123456Z"),  # zeros below µs lose nothing
        ("2026-11-25T08:30:00+05:30", "2026-11-25T03:00:00.000000Z"),
        ("2026-11-25T08:30:00.25-08:00", "2026-11-25T16:30:00.250000Z"),
        ("2026-11-25T01:00:00+02:00", "2026-11-24T23:00:00.000000Z"),
        ("2026-11-25", "2026-11-25T00:00:00.000000Z"),
        (" 2026-11-25 08:30:00 ", "2026-11-25T08:30:00.000000Z"),
        ("2024-02-29 23:59:59.999", "2024-02-29T23:59:59.999000Z"),
        # Epoch numbers, unit by magnitude.
        (1_764_059_400, "2025-11-25T08:30:00.000000Z"),
        (1_764_059_400_123, "2025-11-25T08:30:00.123000Z"),
        (1_764_059_400_123_456, "2025-11-25T08:30:00.123456Z"),
        (1_764_059_400_123_456_000, "2025-11-25T08:30:00.123456Z"),  # nanoseconds, none below µs
        (0, "1970-01-01T00:00:00.000000Z"),
        (-1, "1969-12-31T23:59:59.000000Z"),
        (99_999_999_999, "5138-11-16T09:46:39.000000Z"),
        (100_000_000_000, "1973-03-03T09:46:40.000000Z"),
        (1_764_059_400.5, "2025-11-25T08:30:00.500000Z"),
        (1_764_059_400_123.0, "2025-11-25T08:30:00.123000Z"),
        ("1764059400123", "2025-11-25T08:30:00.123000Z"),
        ("1764059400", "2025-11-25T08:30:00.000000Z"),
        ("1764059400.25", "2025-11-25T08:30:00.250000Z"),
        # Python values.
        (datetime(2026, 11, 25, 8, 30, 0, 123), "2026-11-25T08:30:00.000123Z"),
        (datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc), "2026-11-25T08:30:00.000000Z"),
        (datetime(2026, 11, 25, 8, 30, tzinfo=PLUS_0530), "2026-11-25T03:00:00.000000Z"),
        (date(2026, 11, 25), "2026-11-25T00:00:00.000000Z"),
        (datetime(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05.000000Z"),
    ],
)
def test_to_iso_utc(value: object, expected: str | None) -> None:
    assert to_iso_utc(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "2026-13-01 00:00:00",
        "2026-02-30 00:00:00",
        "2026-11-25 24:00:00",
        "2026-11-25 08:61:00",
        "25/11/2026",
        "2026-11-25T08:30:00+25:00",
        "1.2.3",
        True,
        [2026],
        {"t": 1},
        float("nan"),
        float("inf"),
        10**30,
        -(10**30),
        b"2026-11-25",
        # Finer than a microsecond: a Datetime cannot hold it, so the row is rejected, never truncated.
        "2026-11-25T08:30:00.123456789Z",
        1764059400123456789,
    ],
)
def test_to_iso_utc_rejects_non_timestamps(value: object) -> None:
    with pytest.raises(ValueError):
        to_iso_utc(value)


def test_to_iso_utc_text_order_is_time_order() -> None:
    values = [
        "2026-11-25 08:30:00.1",
        "2026-11-25 08:30:00.05",
        1_764_059_400_123,
        "2026-11-25T08:30:00.123456Z",
        datetime(2026, 11, 25, 8, 29, 59, tzinfo=timezone.utc),
        1_764_059_400,
    ]
    instants = [datetime.fromisoformat(to_iso_utc(v).replace("Z", "+00:00")) for v in values]  # type: ignore[union-attr]
    texts = [to_iso_utc(v) for v in values]

    assert sorted(texts) == [t for _, t in sorted(zip(instants, texts))]
    assert {len(t) for t in texts} == {27}  # type: ignore[arg-type]


# --- converters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed_type", "value", "expected"),
    [
        *[(t, None, None) for t in FEED_TYPES],
        ("Integer", 42, 42),
        ("Integer", "42", 42),
        ("Integer", "-7", -7),
        ("Integer", 3.0, 3),
        ("Integer", Decimal("12"), 12),
        ("Integer", 2**63 - 1, 2**63 - 1),
        ("Float", 1.5, 1.5),
        ("Float", 2, 2.0),
        ("Float", "2.25", 2.25),
        ("Float", Decimal("0.5"), 0.5),
        ("Float", "inf", float("inf")),
        ("Decimal", Decimal("19.990"), "19.990"),
        ("Decimal", "19.99", "19.99"),
        ("Decimal", 0.1, "0.1"),
        ("Decimal", 7, "7"),
        ("Decimal", "1E+3", "1000"),
        ("Boolean", True, 1),
        ("Boolean", False, 0),
        ("Boolean", 1, 1),
        ("Boolean", 0, 0),
        ("Boolean", "TRUE", 1),
        ("Boolean", "false", 0),
        ("Date", date(2026, 11, 25), "2026-11-25"),
        ("Date", "2026-11-25", "2026-11-25"),
        ("Date", 1_764_028_800_000, "2025-11-25"),
        ("Datetime", "2026-11-25 08:30:00.123", "2026-11-25T08:30:00.123000Z"),
        ("Datetime", 1_764_059_400_123_456, "2025-11-25T08:30:00.123456Z"),
        ("String", "héllo", "héllo"),
        ("String", "", ""),
        ("String", 42, "42"),
        ("String", True, "true"),
        ("String", b"caf\xc3\xa9", b"caf\xc3\xa9"),
        ("String", b"\xff", b"\xff"),
        ("String", {"b": 1, "a": [1, 2]}, '{"b":1,"a":[1,2]}'),
        ("String", [{"z": b"\x00\xff"}, "x"], '[{"z":"\\u0000\u00ff"},"x"]'),
        ("String", Decimal("1.50"), "1.50"),
    ],
)
def test_converters(feed_type: str, value: object, expected: object) -> None:
    result = converter_for(feed_type)(value)

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("feed_type", "value"),
    [
        ("Integer", "abc"),
        ("Integer", ""),
        ("Integer", "4.5"),
        ("Integer", " -7 "),
        ("Integer", "42.0"),
        ("Integer", "007"),
        ("Integer", 4.5),
        ("Integer", True),
        ("Integer", float("nan")),
        ("Integer", 2**63),
        ("Integer", [1]),
        ("Float", "abc"),
        ("Float", ""),
        ("Float", "nan"),
        ("Float", float("nan")),
        ("Float", 2**60 + 1),
        ("String", "caf\udce9"),
        ("Float", False),
        ("Float", {"x": 1}),
        ("Decimal", "abc"),
        ("Decimal", "NaN"),
        ("Decimal", float("inf")),
        ("Decimal", True),
        ("Boolean", "yes"),
        ("Boolean", 2),
        ("Boolean", ""),
        ("Boolean", 1.0),
        ("Date", "2026-02-30"),
        ("Date", "someday"),
        ("Date", "2026-11-25 08:30:00.123"),
        ("Date", 1_764_059_400_000),
        ("Date", True),
        ("Datetime", "not a time"),
        ("Datetime", True),
    ],
)
def test_converters_reject_bad_values(feed_type: str, value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        converter_for(feed_type)(value)


def test_string_converter_returns_strings_unchanged() -> None:
    text = "x" * 1000
    assert converter_for("String")(text) is text


def test_converter_for_unknown_feed_type() -> None:
    with pytest.raises(ValueError, match="unknown feed type 'Money'; use one of Boolean"):
        converter_for("Money")
