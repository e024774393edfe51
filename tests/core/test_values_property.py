"""Property: any schema and values → Avro file → a real courier run → every value exact, or a rejected row.

Hypothesis generates schemas (column names from a wide alphabet with case twins and
reserved names; null, boolean, int, long, float, double, string, bytes, fixed, nullable
unions and some logical types) and rows. Each example is written with fastavro, put on
the local S3 server and loaded by ``run_courier``. The test then checks the domain table
against an oracle written here from README's "How values are stored" table.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import sqlite3
import struct
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.project import apply_document
from core.runs import RunWindow, run_courier
from core.store import Store
from tests.conftest import TEST_REGION, S3Bucket
from tests.core.test_values_runs import _replace_schema

RESERVED = ("_pk", "_updated", "rowid", "oid", "_rowid_")
NAMES = st.one_of(
    st.sampled_from(
        [
            "Name",
            "name",
            "NAME",
            "ID",
            "_pk",
            "_PK",
            "_updated",
            "rowid",
            "OID",
            "_rowid_",
            "a b",
            "a.b",
            'q"uote',
            "[x]",
            "$d",
            "émile",
            "名前",
            "name~2",
        ]
    ),
    st.text(alphabet="aAbB_~ .é$", min_size=1, max_size=5),
).filter(lambda name: name != "id")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_MS = int((datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - EPOCH).total_seconds() * 1000)
MIN_MS = int((datetime(1, 1, 1, tzinfo=timezone.utc) - EPOCH).total_seconds() * 1000)

# Each type: (Avro schema, strategy of values, oracle: value -> ("ok", stored) or ("reject", reason fragment)).


def _ok(value: Any) -> tuple[str, Any]:
    return ("ok", value)


def _float_oracle(value: float) -> tuple[str, Any]:
    return ("reject", "NaN") if math.isnan(value) else ("ok", value)


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _millis_oracle(value: int) -> tuple[str, Any]:
    if not MIN_MS <= value <= MAX_MS:
        return ("reject", "outside the years 1-9999")
    moment = EPOCH + timedelta(milliseconds=value)
    # ISO 8601 years have four digits; glibc's strftime("%Y") writes the year 999 as "999".
    return ("ok", f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.%fZ"))


def _date_oracle(value: int) -> tuple[str, Any]:
    try:
        return ("ok", (date(1970, 1, 1) + timedelta(days=value)).isoformat())
    except OverflowError:
        return ("reject", "outside the years")


def _decimal_oracle(value: int) -> tuple[str, Any]:
    sign = "-" if value < 0 else ""
    digits = str(abs(value)).rjust(3, "0")
    return ("ok", f"{sign}{digits[:-2]}.{digits[-2:]}")


TYPES: dict[str, tuple[Any, Any, Any]] = {
    "boolean": ("boolean", st.booleans(), lambda v: ("ok", int(v))),
    "int": ("int", st.integers(-(2**31), 2**31 - 1), _ok),
    "long": ("long", st.integers(-(2**63), 2**63 - 1), _ok),
    "float": ("float", st.floats(width=32), lambda v: _float_oracle(_float32(v))),
    "double": ("double", st.floats(), _float_oracle),
    "string": ("string", st.text(max_size=20), _ok),
    "bytes": ("bytes", st.binary(max_size=10), _ok),
    "fixed": ({"type": "fixed", "name": "F{n}", "size": 3}, st.binary(min_size=3, max_size=3), _ok),
    "timestamp-millis": (
        {"type": "long", "logicalType": "timestamp-millis"},
        st.one_of(st.integers(MIN_MS, MAX_MS), st.integers(-(2**62), 2**62)),
        _millis_oracle,
    ),
    "date": ({"type": "int", "logicalType": "date"}, st.integers(-(2**31), 2**31 - 1), _date_oracle),
    "decimal": (
        {"type": "bytes", "logicalType": "decimal", "precision": 30, "scale": 2},
        st.integers(-(10**20), 10**20),
        _decimal_oracle,
    ),
}


@st.composite
def tables(draw: Any) -> tuple[list[tuple[str, str, bool]], list[dict[str, Any]]]:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    columns = [(name, draw(st.sampled_from(sorted(TYPES))), draw(st.booleans())) for name in names]
    rows = []
    for number in range(draw(st.integers(1, 6))):
        row: dict[str, Any] = {"id": number + 1}
        for name, kind, nullable in columns:
            strategy = TYPES[kind][1]
            row[name] = draw(st.one_of(st.none(), strategy) if nullable else strategy)
        rows.append(row)
    return columns, rows


def expected_names(names: list[str]) -> dict[str, str]:
    """README's naming rule, written out independently of core.values."""
    taken = {"id"}
    reserved = set(RESERVED)
    mapping = {}
    for name in names:
        lowered = name.lower()
        if lowered not in taken and lowered not in reserved:
            mapping[name] = name
        else:
            n = 2
            while f"{lowered}~{n}" in taken or f"{lowered}~{n}" in reserved:
                n += 1
            mapping[name] = f"{name}~{n}"
        taken.add(mapping[name].lower())
    return mapping


def write_file(columns: list[tuple[str, str, bool]], rows: list[dict[str, Any]]) -> bytes:
    fields: list[dict[str, Any]] = [{"name": "id", "type": "long"}]
    for n, (_, kind, nullable) in enumerate(columns):
        schema = TYPES[kind][0]
        if isinstance(schema, dict) and "name" in schema:
            schema = {**schema, "name": schema["name"].format(n=n)}
        fields.append({"name": f"f{n}", "type": ["null", schema] if nullable else schema})
    parsed = fastavro.parse_schema({"type": "record", "name": "r", "fields": fields})
    buffer = io.BytesIO()

    def sent(kind: str, value: Any) -> Any:
        # fastavro writes a decimal from a Decimal; the strategy draws its unscaled integer.
        return Decimal(f"{value}e-2") if kind == "decimal" and value is not None else value

    fastavro.writer(
        buffer,
        parsed,
        [
            {"id": row["id"], **{f"f{n}": sent(kind, row[name]) for n, (name, kind, _) in enumerate(columns)}}
            for row in rows
        ],
    )
    body = buffer.getvalue()
    # Real column names (spaces, quotes, non-ASCII) are not Avro names; put them in the header as Heap's files do.
    schema = json.loads(fastavro.reader(io.BytesIO(body)).metadata["avro.schema"])
    for field, (name, _, _) in zip(schema["fields"][1:], columns):
        field["name"] = name
    return _replace_schema(body, json.dumps(schema).encode())


_examples = itertools.count()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables())
def test_every_value_round_trips_or_its_row_is_rejected(
    s3_bucket: S3Bucket, tmp_path: Path, table: tuple[list[tuple[str, str, bool]], list[dict[str, Any]]]
) -> None:
    columns, rows = table
    example = next(_examples)
    key = f"prop{example}/things-2026-11-01.avro"
    s3_bucket.put(key, write_file(columns, rows))
    db = tmp_path / f"prop{example}.db"
    document = {
        "credentials": {"local": {"type": "iam-credential", "endpoint-url": s3_bucket.endpoint, "region": TEST_REGION}},
        "feeds": {"df-things1": {"source": "P", "name": "T", "primary-key": ["id"], "error-threshold": 100}},
        "couriers": {
            "P": {
                "credential": "local",
                "bucket": s3_bucket.name,
                "layout": "file-pattern",
                "entities": [
                    {
                        "object/type": "file",
                        "object/file-pattern": f"'prop{example}/things-'yyyy-MM-dd'.avro'",
                        "object/land-as": {"file/tag": "things", "file/content-type": "application/avro"},
                    }
                ],
                "load-operations": {"df-things1": [{"type": "load", "file": "things"}]},
            }
        },
    }
    with Store(db) as store:
        apply_document(store, document)

    summary = run_courier(db, "P", RunWindow.day(date(2026, 11, 1)))

    assert summary.status in ("Succeeded", "Warning"), summary.message
    names = expected_names([name for name, _, _ in columns])
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute('SELECT * FROM "P:T"')
        stored_names = [d[0] for d in cursor.description]
        stored = {row[stored_names.index("id")]: dict(zip(stored_names, row)) for row in cursor}
        rejected = {
            row[0]: (row[1], row[2])
            for row in conn.execute(
                "SELECT position, column_name, reason FROM rejected_rows WHERE run_id = ?", (summary.id,)
            )
        }
    finally:
        conn.close()
    assert set(stored_names) >= {"_pk", "_updated", "id", *names.values()}
    for row in rows:
        outcomes = {name: ("ok", None) if row[name] is None else TYPES[kind][2](row[name]) for name, kind, _ in columns}
        bad = [name for name, outcome in outcomes.items() if outcome[0] == "reject"]
        if bad:
            assert row["id"] not in stored
            column, reason = rejected[row["id"]]
            assert column in bad
            assert outcomes[column][1] in reason
            continue
        assert row["id"] not in rejected
        got = stored[row["id"]]
        for name, (_, want) in outcomes.items():
            value = got[names[name]]
            assert value == want and type(value) is type(want), (name, row[name], value, want)
