"""Every value lands exactly as the source sent it, or its row is rejected with a reason (issue 9).

Each case writes small Avro (or CSV) files with fastavro, lands them on the local S3
server, runs a real file-pattern courier over them and reads the values back from
SQLite, together with the rejected-row records.
"""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import fastavro
import pytest

from core.engine import rejected_rows
from core.project import apply_document
from core.runs import RunSummary, RunWindow, run_courier, run_events
from core.store import Store
from tests.conftest import TEST_REGION, S3Bucket

COURIER = "Values"
FIRST_DAY = date(2026, 11, 1)
TABLE = "Values:Things"


def avro(fields: list[dict[str, Any]], records: list[dict[str, Any]], *, codec: str = "null") -> bytes:
    schema = fastavro.parse_schema({"type": "record", "name": "things", "fields": fields})
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, records, codec=codec)
    return buffer.getvalue()


def corrupt_text(body: bytes, text: str) -> bytes:
    """Replace the second byte of ``text`` in the file with 0xff, which is never UTF-8."""
    encoded = text.encode()
    at = body.index(encoded)
    return body[: at + 1] + b"\xff" + body[at + 2 :]


def load(
    tmp_path: Path,
    bucket: S3Bucket,
    files: list[bytes],
    *,
    fields: dict[str, Any] | None = None,
    primary_key: tuple[str, ...] = ("id",),
    content_type: str = "application/avro",
    threshold: int = 100,
    name: str = "v.db",
) -> tuple[Path, RunSummary]:
    """Put one file per day, configure a courier and a feed, and run it over those days."""
    extension = {"text/csv": "csv", "application/x-ndjson": "ndjson"}.get(content_type, "avro")
    for number, body in enumerate(files):
        bucket.put(f"things/things-{FIRST_DAY + timedelta(days=number)}.{extension}", body)
    feed: dict[str, Any] = {
        "source": "Values",
        "name": "Things",
        "primary-key": list(primary_key),
        "error-threshold": threshold,
    }
    if fields is not None:
        feed["fields"] = fields
    document = {
        "credentials": {"local": {"type": "iam-credential", "endpoint-url": bucket.endpoint, "region": TEST_REGION}},
        "feeds": {"df-things1": feed},
        "couriers": {
            COURIER: {
                "credential": "local",
                "bucket": bucket.name,
                "layout": "file-pattern",
                "entities": [
                    {
                        "object/type": "file",
                        "object/file-pattern": f"'things/things-'yyyy-MM-dd'.{extension}'",
                        "object/land-as": {"file/tag": "things", "file/content-type": content_type},
                    }
                ],
                "load-operations": {"df-things1": [{"type": "load", "file": "things"}]},
            }
        },
    }
    db = tmp_path / name
    with Store(db) as store:
        apply_document(store, document)
    summary = run_courier(db, COURIER, RunWindow.period(FIRST_DAY, FIRST_DAY + timedelta(days=len(files))))
    return db, summary


def table(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(f'SELECT * FROM "{TABLE}" ORDER BY rowid')
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]
    finally:
        conn.close()


def typed(db: Path, column: str) -> list[tuple[Any, str]]:
    conn = sqlite3.connect(db)
    try:
        quoted = '"' + column.replace('"', '""') + '"'
        return [tuple(row) for row in conn.execute(f'SELECT {quoted}, typeof({quoted}) FROM "{TABLE}" ORDER BY rowid')]
    finally:
        conn.close()


def rejects(db: Path, run_id: int) -> list[tuple[Any, ...]]:
    """(file name, row, key, column, reason) of each rejected row."""
    _, found = rejected_rows(db, run_id)
    return [(row[2].rpartition("/")[2], row[3], row[4], row[5], row[6]) for row in found]


def warnings(db: Path, run_id: int) -> list[str]:
    with Store(db) as store:
        return [event.message for event in run_events(store, run_id) if event.level == "warning"]


LONG = {"name": "id", "type": "long"}

# --- 1. types come from the file, never from a column's name -------------------------------------

TYPE_CASES = [
    # (field schema, value sent, declared type or None, stored value, SQLite storage class)
    ({"type": "long"}, 1532, None, 1532, "integer"),  # page_load_time: a long, not a time
    ({"type": "string"}, "2026-11-25T08:30:00Z", None, "2026-11-25T08:30:00Z", "text"),  # *_at stays text
    ({"type": "int"}, 1_764_059_400, None, 1_764_059_400, "integer"),
    (
        {"type": "long", "logicalType": "timestamp-millis"},
        1_764_059_400_123,
        None,
        "2025-11-25T08:30:00.123000Z",
        "text",
    ),
    (
        {"type": "long", "logicalType": "timestamp-micros"},
        1_764_059_400_123_456,
        None,
        "2025-11-25T08:30:00.123456Z",
        "text",
    ),
    # A local timestamp names a wall-clock time in no zone: no "Z" claims it is UTC.
    (
        {"type": "long", "logicalType": "local-timestamp-micros"},
        1_764_059_400_123_456,
        None,
        "2025-11-25T08:30:00.123456",
        "text",
    ),
    ({"type": "int", "logicalType": "date"}, 20_417, None, "2025-11-25", "text"),
    ({"type": "string"}, "42", "Integer", 42, "integer"),  # the declared type wins over the file's
    ({"type": "long"}, 42, "String", "42", "text"),
    ({"type": "double"}, 0.1, None, 0.1, "real"),
    ({"type": "float"}, 0.5, None, 0.5, "real"),
    ({"type": "double"}, float("inf"), None, float("inf"), "real"),
    ({"type": "boolean"}, True, None, 1, "integer"),
    (
        {"type": "bytes", "logicalType": "decimal", "precision": 40, "scale": 3},
        b"\x01\xe2\x40",
        None,
        "123.456",
        "text",
    ),
    (
        {"type": "string", "logicalType": "uuid"},
        "12345678-1234-5678-1234-567812345678",
        None,
        "12345678-1234-5678-1234-567812345678",
        "text",
    ),
    ({"type": "array", "items": "string"}, ["b", "a"], None, '["b","a"]', "text"),
    ({"type": "map", "values": "long"}, {"z": 1, "a": 2}, None, '{"z":1,"a":2}', "text"),
    ({"type": "enum", "name": "Size", "symbols": ["S", "M"]}, "M", None, "M", "text"),
    ({"type": "long"}, -(2**63), None, -(2**63), "integer"),
]


@pytest.mark.parametrize(("schema", "sent", "declared", "expected", "storage"), TYPE_CASES)
def test_a_value_is_stored_by_its_type_never_its_name(
    s3_bucket: S3Bucket,
    tmp_path: Path,
    schema: dict[str, Any],
    sent: Any,
    declared: str | None,
    expected: Any,
    storage: str,
) -> None:
    # Names that once made a column a Datetime: none of them may change the value now.
    names = ["page_load_time", "created_at", "signup_time"]
    # A named type is defined once and referred to by name after that.
    fields = [LONG] + [
        {"name": name, "type": schema if n == 0 or "name" not in schema else schema["name"]}
        for n, name in enumerate(names)
    ]
    records = [{"id": 1, **{name: sent for name in names}}]
    declared_fields = {name: {"type": declared} for name in names} if declared else None

    db, summary = load(tmp_path, s3_bucket, [avro(fields, records)], fields=declared_fields)

    assert summary.status == "Succeeded", summary.message
    for name in names:
        assert typed(db, name) == [(expected, storage)]


HEAP_TIME_CASES = [
    ({"type": "string"}, "2026-11-25 08:30:00.123", "2026-11-25T08:30:00.123000Z"),
    ({"type": "long"}, 1_764_059_400_123_456, "2025-11-25T08:30:00.123456Z"),
    ({"type": "long"}, 1_764_059_400_123, "2025-11-25T08:30:00.123000Z"),
    ({"type": "string"}, "yesterday", None),  # not a shape Heap sends: rejected, never guessed
]


@pytest.mark.parametrize(("schema", "sent", "expected"), HEAP_TIME_CASES)
def test_heaps_own_timestamp_columns_default_to_datetime(
    s3_bucket: S3Bucket, tmp_path: Path, schema: dict[str, Any], sent: Any, expected: str | None
) -> None:
    fields = [LONG, {"name": "time", "type": schema}]
    db, summary = load(tmp_path, s3_bucket, [avro(fields, [{"id": 1, "time": sent}, {"id": 2, "time": sent}])])

    if expected is None:
        assert summary.rows_rejected == 2
        assert [r[1:4] for r in rejects(db, summary.id)] == [(1, "1", "time"), (2, "2", "time")]
        assert "is not a timestamp" in rejects(db, summary.id)[0][4]
    else:
        assert [row["time"] for row in table(db)] == [expected, expected]


# --- 2. one bad value rejects its row, not its file ------------------------------------------------


def _undecodable() -> bytes:
    records = [{"id": n, "note": f"note-{n}-é"} for n in range(1, 6)]
    return corrupt_text(avro([LONG, {"name": "note", "type": "string"}], records), "note-3-é")


BAD_VALUE_CASES = [
    # (file body, declared fields, rejected (row, key, column), reason fragment, rows kept)
    (_undecodable(), None, (3, "3", "note"), "not valid UTF-8", 4),
    (
        avro(
            [LONG, {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
            [{"id": 1, "at": 0}, {"id": 2, "at": 10**16}, {"id": 3, "at": -(10**15)}],
        ),
        None,
        (2, "2", "at"),
        "outside the years 1-9999",
        1,
    ),
    (
        avro([LONG, {"name": "score", "type": "double"}], [{"id": 1, "score": 1.0}, {"id": 2, "score": float("nan")}]),
        None,
        (2, "2", "score"),
        "NaN",
        1,
    ),
    (
        avro(
            [LONG, {"name": "amount", "type": "double"}], [{"id": 1, "amount": 1.0}, {"id": 2, "amount": float("inf")}]
        ),
        {"amount": {"type": "Decimal"}},
        (2, "2", "amount"),
        "not a finite number",
        1,
    ),
    (
        avro([LONG, {"name": "big", "type": "string"}], [{"id": 1, "big": "1"}, {"id": 2, "big": str(2**64)}]),
        {"big": {"type": "Integer"}},
        (2, "2", "big"),
        "64-bit",
        1,
    ),
    (
        avro(
            [LONG, {"name": "u", "type": {"type": "string", "logicalType": "uuid"}}],
            [{"id": 1, "u": "not-a-uuid"}, {"id": 2, "u": "12345678-1234-5678-1234-567812345678"}],
        ),
        None,
        (1, "1", "u"),
        "is not a uuid",
        1,
    ),
    (
        avro(
            [LONG, {"name": "d", "type": {"type": "int", "logicalType": "date"}}],
            [{"id": 1, "d": 0}, {"id": 2, "d": 10**8}],
        ),
        None,
        (2, "2", "d"),
        "outside the years",
        1,
    ),
    (
        avro(
            [LONG, {"name": "time", "type": "string"}],
            [{"id": 1, "time": "2026-11-25 08:30:00.123456000"}, {"id": 2, "time": "2026-11-25 08:30:00.123456789"}],
        ),
        None,
        (2, "2", "time"),
        "finer than microseconds",
        1,
    ),
]


@pytest.mark.parametrize(
    ("body", "declared", "where", "reason", "kept"),
    BAD_VALUE_CASES,
    ids=[
        "undecodable-text",
        "timestamp-out-of-range",
        "nan-double",
        "inf-decimal",
        "integer-beyond-64-bits",
        "bad-uuid",
        "date-out-of-range",
        "nanoseconds",
    ],
)
def test_one_bad_value_rejects_its_row_not_its_file(
    s3_bucket: S3Bucket,
    tmp_path: Path,
    body: bytes,
    declared: dict[str, Any] | None,
    where: tuple[Any, ...],
    reason: str,
    kept: int,
) -> None:
    db, summary = load(tmp_path, s3_bucket, [body], fields=declared)

    assert summary.status == "Warning", summary.message
    found = rejects(db, summary.id)
    assert [row[1:4] for row in found][:1] == [where]
    assert found[0][0] == f"things-{FIRST_DAY}.avro"
    assert reason in found[0][4]
    assert len(table(db)) == kept
    assert summary.rows_rejected == len(found)


def test_rejected_rows_count_against_the_error_threshold_and_stay_visible(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    db, summary = load(tmp_path, s3_bucket, [_undecodable()], threshold=1)

    assert summary.status == "Failed"
    assert "1 of 5 rows rejected" in (summary.message or "")
    assert [row[1:4] for row in rejects(db, summary.id)] == [(3, "3", "note")]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = ?", (TABLE,)).fetchone()[0] == 0
    finally:
        conn.close()


def test_a_damaged_block_still_fails_the_file(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    body = bytearray(avro([LONG], [{"id": n} for n in range(100)], codec="deflate"))
    body[-30] ^= 0xFF  # inside the compressed block
    db, summary = load(tmp_path, s3_bucket, [bytes(body)])

    assert summary.status == "Failed"
    assert "not a readable Avro file" in (summary.message or "")


# --- 3. binary values are lossless ---------------------------------------------------------------


def test_binary_values_are_blobs_and_distinct_binary_keys_stay_distinct(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    fields = [
        {"name": "id", "type": "bytes"},
        {"name": "digest", "type": {"type": "fixed", "name": "D", "size": 2}},
        {"name": "u", "type": {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}},
    ]
    raw_uuid = bytes(range(16))
    records = [
        {"id": b"\xff\x00", "digest": b"\x00\xff", "u": raw_uuid},
        {"id": b"\xfe\x00", "digest": b"\x80\x81", "u": raw_uuid},
    ]

    db, summary = load(tmp_path, s3_bucket, [avro(fields, records)])

    assert summary.status == "Succeeded", summary.message
    assert typed(db, "id") == [(b"\xff\x00", "blob"), (b"\xfe\x00", "blob")]
    assert typed(db, "_pk") == [(b"\xff\x00", "blob"), (b"\xfe\x00", "blob")]
    assert typed(db, "digest") == [(b"\x00\xff", "blob"), (b"\x80\x81", "blob")]
    assert [row["u"] for row in table(db)] == ["00010203-0405-0607-0809-0a0b0c0d0e0f"] * 2


# --- 4. a key's identity does not depend on the type a file used -----------------------------------


@pytest.mark.parametrize(("declared", "stored", "storage"), [("Integer", 1001, "integer"), ("String", "1001", "text")])
def test_a_key_sent_as_text_then_as_a_long_is_one_row(
    s3_bucket: S3Bucket, tmp_path: Path, declared: str, stored: Any, storage: str
) -> None:
    first = avro([{"name": "id", "type": "string"}, {"name": "v", "type": "string"}], [{"id": "1001", "v": "old"}])
    second = avro([LONG, {"name": "v", "type": "string"}], [{"id": 1001, "v": "new"}])

    db, summary = load(tmp_path, s3_bucket, [first, second], fields={"id": {"type": declared}})

    assert summary.status == "Warning", summary.message  # the type drift is logged
    assert typed(db, "_pk") == [(stored, storage)]
    assert [row["v"] for row in table(db)] == ["new"]


def test_a_key_that_cannot_be_normalised_is_rejected(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    body = avro([{"name": "id", "type": "string"}], [{"id": "1001"}, {"id": "01001"}, {"id": "x"}])

    db, summary = load(tmp_path, s3_bucket, [body], fields={"id": {"type": "Integer"}})

    assert typed(db, "_pk") == [(1001, "integer")]
    assert [row[1:4] for row in rejects(db, summary.id)] == [(2, "01001", "id"), (3, "x", "id")]


# --- 5. no column is dropped, merged or refused by its name ----------------------------------------

ODD_NAMES = [
    "Name",
    "name",
    "NAME",
    "_pk",
    "_updated",
    "rowid",
    "OID",
    "_rowid_",
    "a b",
    "a.b",
    'q"uote',
    "[br]",
    "$dollar",
    "émile",
    "名前",
]


def test_every_source_column_gets_its_own_domain_column(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = [LONG] + [{"name": name, "type": "string"} for name in ODD_NAMES]
    # Avro names must be [A-Za-z_][A-Za-z0-9_]*; real files break that, so write the header by hand.
    record = {"id": 1, **{name: f"value of {name}" for name in ODD_NAMES}}
    body = _avro_with_any_names(fields, [record])

    db, summary = load(tmp_path, s3_bucket, [body])

    assert summary.status == "Warning", summary.message  # the renames are logged
    (row,) = table(db)
    expected = {
        "Name": "Name",
        "name": "name~2",
        "NAME": "NAME~3",
        "_pk": "_pk~2",
        "_updated": "_updated~2",
        "rowid": "rowid~2",
        "OID": "OID~2",
        "_rowid_": "_rowid_~2",
    }
    for name in ODD_NAMES:
        assert row[expected.get(name, name)] == f"value of {name}"
    assert row["_pk"] == 1
    logged = warnings(db, summary.id)
    assert (
        "Column name of Values:Things is stored as name~2, because SQLite column names ignore case and "
        "Name, NAME came first" in logged
    )
    assert sum("is stored as" in message for message in logged) == 7
    # The mapping is kept: a second run neither renames again nor warns again.
    again = run_courier(db, COURIER, RunWindow.period(FIRST_DAY, FIRST_DAY + timedelta(days=1)))
    assert not [m for m in warnings(db, again.id) if "is stored as" in m]
    from core.engine import column_names

    assert column_names(db, TABLE) == {k: v for k, v in expected.items() if k != "Name"}
    # courier export shows the mapping, and applying the export back changes nothing.
    from tui import cli

    monkeypatch.delenv("COURIER_DB", raising=False)
    assert cli.main(["--db", str(db), "export"]) == 0
    exported = capsys.readouterr().out
    assert json.loads(exported)["feeds"]["df-things1"]["column-names"] == column_names(db, TABLE)
    (tmp_path / "project.json").write_text(exported)
    assert cli.main(["--db", str(db), "apply", str(tmp_path / "project.json")]) == 0
    assert "nothing to change" in capsys.readouterr().out


def _avro_with_any_names(fields: list[dict[str, Any]], records: list[dict[str, Any]]) -> bytes:
    """An Avro file whose field names fastavro's writer would refuse (spaces, dots, quotes, non-ASCII)."""
    safe = [{**field, "name": f"f{n}"} for n, field in enumerate(fields)]
    body = avro(safe, [{f"f{n}": record[field["name"]] for n, field in enumerate(fields)} for record in records])
    reader = fastavro.reader(io.BytesIO(body))
    old_schema = json.dumps(
        reader.metadata["avro.schema"]
        if isinstance(reader.metadata["avro.schema"], dict)
        else json.loads(reader.metadata["avro.schema"])
    )
    new = json.loads(old_schema)
    for field, original in zip(new["fields"], fields):
        field["name"] = original["name"]
    return _replace_schema(body, json.dumps(new).encode())


def _replace_schema(body: bytes, schema: bytes) -> bytes:
    """Rewrite an Avro container's header with another schema (same sync marker and blocks)."""
    from fastavro._read_py import BinaryDecoder, read_long

    decoder = BinaryDecoder(io.BytesIO(body[4:]))
    metadata: dict[str, bytes] = {}
    while True:
        count = read_long(decoder)
        if count == 0:
            break
        if count < 0:
            read_long(decoder)
            count = -count
        for _ in range(count):
            key_length = read_long(decoder)
            key = decoder.fo.read(key_length).decode()
            value_length = read_long(decoder)
            metadata[key] = decoder.fo.read(value_length)
    rest = body[4 + decoder.fo.tell() :]
    metadata["avro.schema"] = schema

    def zigzag(n: int) -> bytes:
        n = (n << 1) ^ (n >> 63)
        out = bytearray()
        while n & ~0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    header = bytearray(b"Obj\x01") + zigzag(len(metadata))
    for key, value in metadata.items():
        header += zigzag(len(key.encode())) + key.encode() + zigzag(len(value)) + value
    header += zigzag(0)
    return bytes(header) + rest


# --- 6. type drift between dumps is reported, never hidden ----------------------------------------


def test_type_drift_is_reported_and_only_lossless_values_follow(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    files = [
        avro([LONG, {"name": "level", "type": "long"}], [{"id": 1, "level": 5}]),
        avro([LONG, {"name": "level", "type": "string"}], [{"id": 2, "level": "high"}, {"id": 3, "level": "7"}]),
        avro([LONG, {"name": "level", "type": "double"}], [{"id": 4, "level": 8.0}, {"id": 5, "level": 8.5}]),
    ]

    db, summary = load(tmp_path, s3_bucket, files)

    assert typed(db, "level") == [(5, "integer"), (7, "integer"), (8, "integer")]
    assert [row[:4] for row in rejects(db, summary.id)] == [
        (f"things-{FIRST_DAY + timedelta(days=1)}.avro", 1, "2", "level"),
        (f"things-{FIRST_DAY + timedelta(days=2)}.avro", 2, "5", "level"),
    ]
    drift = [message for message in warnings(db, summary.id) if "Type drift" in message]
    assert len(drift) == 2
    assert "column level is long in things-2026-11-01.avro but string in things-2026-11-02.avro" in drift[0]
    assert "column level is string in things-2026-11-02.avro but double in things-2026-11-03.avro" in drift[1]


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_values_follow_the_same_rules(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    body = 'id,n,note,when\n1,42,"tab\there",2026-11-25\n2,4.5,ok,2026-11-25\n3,7,caf\xe9,2026-11-25\n4,7,ok,2026-02-30\n'.encode(
        "latin-1"
    )

    db, summary = load(
        tmp_path,
        s3_bucket,
        [body],
        content_type="text/csv",
        fields={"id": {"type": "Integer"}, "n": {"type": "Integer"}, "when": {"type": "Date"}},
    )

    assert [(row["id"], row["n"], row["note"], row["when"]) for row in table(db)] == [
        (1, 42, "tab\there", "2026-11-25")
    ]
    assert [row[1:4] for row in rejects(db, summary.id)] == [(2, "2", "n"), (3, "3", "note"), (4, "4", "when")]


def test_ndjson_numbers_land_as_written_or_the_row_is_rejected(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    # json.loads alone makes 1e400 inf and 0.10000000000000000001 0.1.
    lines = [
        '{"id": "1", "x": 1.5}',
        '{"id": "2", "x": 0.10000000000000000001}',
        '{"id": "3", "x": {"a": 1e400}}',
        '{"id": "4", "x": 1e400}',
        '{"id": "5", "x": [0.25]}',
    ]
    db, summary = load(tmp_path, s3_bucket, ["\n".join(lines).encode()], content_type="application/x-ndjson")

    assert summary.status == "Warning", summary.message
    assert [(row["id"], row["x"]) for row in table(db)] == [
        ("1", "1.5"),
        ("2", "0.10000000000000000001"),
        ("4", "1" + "0" * 400),
        ("5", "[0.25]"),
    ]
    found = rejects(db, summary.id)
    assert [row[1:4] for row in found] == [(3, "3", "x")]
    assert "a number a Float cannot hold exactly" in found[0][4]
