"""The columnar fast path gives exactly the tables and rejected rows of the exact per-record path.

Each load runs twice on the same files into fresh databases: once as Courier runs it
(columnar where a file allows) and once with ``COURIER_COLUMNAR=0`` (every file through
fastavro record by record). The tables are compared row for row, with SQLite's storage
class of every value, and so are the counts and rejection reasons.
"""

from __future__ import annotations

import io
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import fastavro
import pytest

from core import fastload
from core.decode import DecodeJob, DecodeSpec
from core.errors import CourierError
from core.fastload import COLUMNAR_ENV, Stager, Withdrawn, columnar_plan, iter_block_chunks
from core.heapgen import PAGEVIEW_COLUMNS, heap_schema, pageview_records, write_avro
from core.ingest import IngestHooks, LoadUnit, UnitFile, apply_units
from core.load import LoadCounts
from core.models import Feed, FeedField
from core.store import Store
from tests.core.test_values_runs import _avro_with_any_names, avro, corrupt_text
from tests.waiting import wait_for

FEED = Feed(id="df-fast01", source="Test", name="Pageviews", primary_key=("event_id",))
COLUMNS = PAGEVIEW_COLUMNS


def _nullable_key(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        **schema,
        "fields": [{**f, "type": ["null", "long"]} if f["name"] == "event_id" else f for f in schema["fields"]],
    }


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three parts whose keys overlap (later parts update earlier rows), with some rows to reject."""
    directory = tmp_path_factory.mktemp("fast-parts")
    schema = _nullable_key(heap_schema("pageviews", COLUMNS))
    paths = []
    for part in range(3):
        records = list(pageview_records(3000, seed=part, start_event_id=1 + part * 2000, columns=COLUMNS))
        for index in (7, 1500, 2999):
            records[index]["event_id"] = None
        # The same key twice inside one file: the later row must win.
        records[100]["event_id"] = records[99]["event_id"]
        path = directory / f"part-{part:05d}.avro"
        path.write_bytes(write_avro(records, schema))
        paths.append(path)
    return paths


def _units(paths: list[Path], *, one_unit: bool = False) -> list[LoadUnit]:
    files = [
        UnitFile(
            job=DecodeJob(str(path), "application/avro", f"heap:{n:09d}", path.name),
            dump_id=1,
            part=n,
            key=path.name,
            last_in_dump=n == len(paths) - 1,
        )
        for n, path in enumerate(paths)
    ]
    if one_unit:
        return [LoadUnit(files=files, truncate_first=True)]
    return [LoadUnit(files=[file], cursor_courier="c", source_table="pageviews") for file in files]


def _load(
    db: Path, units: list[LoadUnit], *, parallel: bool | None = None, feed: Feed = FEED
) -> tuple[LoadCounts, list[tuple[Any, ...]]]:
    with Store(db) as store:
        counts = apply_units(store, feed, units, IngestHooks(), parallel=parallel)
    return counts, _table(db, feed)


def _table(db: Path, feed: Feed = FEED) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        names = [row[1] for row in conn.execute(f'PRAGMA table_info("{feed.table_name}")')]
        typed = ", ".join(f'"{name}", typeof("{name}")' for name in (n.replace('"', '""') for n in names))
        return conn.execute(f'SELECT {typed} FROM "{feed.table_name}" ORDER BY _pk').fetchall()
    finally:
        conn.close()


def _counts(counts: LoadCounts) -> dict[str, Any]:
    """The counts both paths must agree on (not which path each file took)."""
    return {name: value for name, value in vars(counts).items() if name != "files_columnar"}


def _both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, units: list[LoadUnit], **kwargs: Any) -> tuple[Any, Any]:
    fast = _load(tmp_path / "fast.db", units, **kwargs)
    monkeypatch.setenv(COLUMNAR_ENV, "0")
    exact = _load(tmp_path / "exact.db", units, **kwargs)
    monkeypatch.delenv(COLUMNAR_ENV)
    assert exact[0].files_columnar == 0
    return fast, exact


@pytest.mark.parametrize("parallel", [None, False])
def test_columnar_and_exact_paths_give_identical_tables_counts_and_rejects(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool | None
) -> None:
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(
        tmp_path, monkeypatch, _units(parts), parallel=parallel
    )
    assert fast_rows == exact_rows
    keys = set()
    for path in parts:
        with open(path, "rb") as handle:
            keys |= {record["event_id"] for record in fastavro.reader(handle) if record["event_id"] is not None}
    assert [row[0] for row in fast_rows] == sorted(keys)
    assert _counts(fast_counts) == _counts(exact_counts)
    assert fast_counts.rows_rejected == 9
    assert fast_counts.reject_reasons[0] == "part-00000.avro row 8: event_id: the primary key is empty"


def test_the_pageview_files_take_the_columnar_path(parts: list[Path]) -> None:
    spec = DecodeSpec(primary_key=("event_id",), last_updated=None)
    jobs = [DecodeJob(str(path), "application/avro", f"heap:{n}", path.name) for n, path in enumerate(parts)]
    assert all(columnar_plan(job, spec) is not None for job in jobs)
    with Stager(jobs, [0, 1, 2], spec, threaded=False) as stager:
        staged = [file for unit in range(3) for file in stager.wait_unit(unit)]
    assert [file.columnar for file in staged] == [True, True, True]
    assert [file.rows_staged for file in staged] == [2997, 2997, 2997]


def test_a_file_polars_cannot_read_falls_back_to_the_exact_path_alone(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = heap_schema("pageviews", COLUMNS)
    records = list(pageview_records(50, seed=9, start_event_id=500, columns=COLUMNS))
    records[3]["title"] = "caf\u00e9 zzzz"
    body = write_avro(records, schema, codec="null")
    # One invalid UTF-8 byte in a string: polars refuses the file, fastavro decodes it per record.
    bad = tmp_path / "part-bad.avro"
    bad.write_bytes(body.replace("\u00e9".encode(), b"\xe9\x20", 1))
    jobs = [DecodeJob(str(path), "application/avro", f"heap:{n}", path.name) for n, path in enumerate([parts[0], bad])]
    spec = DecodeSpec(primary_key=("event_id",), last_updated=None)
    with Stager(jobs, [0, 1], spec, threaded=False) as stager:
        staged = stager.wait_unit(0) + stager.wait_unit(1)
    assert staged[0].columnar and not staged[1].columnar
    units = _units([parts[0], bad])
    try:
        (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, units)
    except CourierError as error:  # the exact path's own rule for such a file, on both paths alike
        monkeypatch.setenv(COLUMNAR_ENV, "0")
        with pytest.raises(CourierError) as exact_error:
            _load(tmp_path / "exact-again.db", units)
        assert str(exact_error.value) == str(error)
        return
    assert fast_rows == exact_rows
    assert _counts(fast_counts) == _counts(exact_counts)


def test_a_resync_unit_of_many_files_commits_together_on_both_paths(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, _units(parts, one_unit=True))
    assert fast_rows == exact_rows and _counts(fast_counts) == _counts(exact_counts)


def test_last_updated_decides_between_files_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "seen", "type": ["null", "long"]},
            {"name": "name", "type": ["null", "string"]},
            {"name": "score", "type": ["null", "double"]},
        ],
    }
    newer = [{"id": 1, "seen": 20, "name": "new", "score": 1.5}, {"id": 2, "seen": 5, "name": "", "score": None}]
    older = [{"id": 1, "seen": 10, "name": "old", "score": 2.5}, {"id": 2, "seen": 6, "name": "b", "score": 0.1}]
    paths = []
    for n, records in enumerate([newer, older]):
        path = tmp_path / f"p{n}.avro"
        path.write_bytes(write_avro(records, schema))
        paths.append(path)
    feed = Feed(id="df-fast02", source="Test", name="Seen", primary_key=("id",), last_updated="seen")
    units = _units(paths)
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, units, feed=feed)
    assert fast_rows == exact_rows
    assert [(row[2], row[6]) for row in fast_rows] == [(1, "new"), (2, "b")]
    assert _counts(fast_counts) == _counts(exact_counts)


def test_a_corrupt_file_fails_the_load_with_the_exact_paths_message(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = tmp_path / "part-cut.avro"
    cut.write_bytes(parts[1].read_bytes()[: parts[1].stat().st_size // 2])
    units = _units([parts[0], cut])
    messages = []
    for columnar in ("1", "0"):
        monkeypatch.setenv(COLUMNAR_ENV, columnar)
        with pytest.raises(CourierError) as error:
            _load(tmp_path / f"cut-{columnar}.db", units)
        messages.append(str(error.value))
        # The first unit committed before the damaged file was reached.
        assert len(_table(tmp_path / f"cut-{columnar}.db")) == 2996
    assert messages[0] == messages[1] and "part-cut.avro" in messages[0]


def test_block_chunks_are_whole_avro_files_holding_every_record_once(parts: list[Path]) -> None:
    with open(parts[0], "rb") as handle:
        expected = list(fastavro.reader(handle))
    pieces = list(iter_block_chunks(str(parts[0]), chunk_rows=500))
    assert len(pieces) > 3, "a file must be read in several bounded pieces, never whole"
    decoded = [record for _, piece in pieces for record in fastavro.reader(io.BytesIO(piece))]
    assert decoded == expected
    assert sum(rows for rows, _ in pieces) == len(expected)


def test_the_stager_leaves_no_thread_and_no_staging_file(parts: list[Path], tmp_path: Path) -> None:
    spec = DecodeSpec(primary_key=("event_id",), last_updated=None)
    jobs = [DecodeJob(str(path), "application/avro", f"heap:{n}", path.name) for n, path in enumerate(parts)]
    with Stager(jobs, [0, 1, 2], spec, directory=str(tmp_path)) as stager:
        stager.wait_unit(0)
        directory = Path(stager.directory)
        assert directory.exists()
    # Left early (the writer stopped after the first unit): the thread is joined and the file gone.
    assert not directory.exists()
    assert not [thread for thread in threading.enumerate() if thread.name == "courier-stager"]


def _write(path: Path, schema: dict[str, Any], records: list[dict[str, Any]]) -> Path:
    path.write_bytes(write_avro(records, schema))
    return path


@pytest.mark.parametrize(
    "form",
    ["text", "seconds", "millis", "micros", "nanos", "timestamp-millis", "timestamp-micros", "local-timestamp-micros"],
)
def test_datetimes_are_converted_column_wise_exactly_as_record_by_record(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 11, 18, 23, 59, 58, 120000, tzinfo=timezone.utc)
    instants = [start + timedelta(microseconds=n * 777_001) for n in range(400)]
    if form == "text":
        avro_type: Any = ["null", "string"]
        values: list[Any] = [
            f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d}"
            if n % 3
            else f"{t:%Y-%m-%dT%H:%M:%S}Z"
            if n % 2
            else f"{t:%Y-%m-%dT%H:%M:%S.%f}"
            for n, t in enumerate(instants)
        ]
    elif "timestamp" in form:
        avro_type = ["null", {"type": "long", "logicalType": form}]
        values = list(instants)
    else:
        scale = {"seconds": 1, "millis": 1_000, "micros": 1_000_000, "nanos": 1_000_000_000}[form]
        avro_type = ["null", "long"]
        values = [int(t.timestamp() * 1_000_000) * scale // 1_000_000 for t in instants]
    values[5] = None
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "time", "type": avro_type}],
    }
    path = _write(tmp_path / "times.avro", schema, [{"id": n, "time": v} for n, v in enumerate(values)])
    spec = DecodeSpec(primary_key=("id",), last_updated=None, declared_types={"time": "Datetime"})
    job = DecodeJob(str(path), "application/avro", "heap:1", path.name)
    with Stager([job], [0], spec, threaded=False) as stager:
        assert stager.wait_unit(0)[0].columnar
    feed = Feed(
        id="df-fast03",
        source="Test",
        name="Times",
        primary_key=("id",),
        fields=(FeedField("id", "Integer"), FeedField("time", "Datetime")),
    )
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, _units([path]), feed=feed)
    assert fast_rows == exact_rows
    assert _counts(fast_counts) == _counts(exact_counts)
    assert fast_rows[5][4] is None and fast_rows[6][4].endswith("Z") is not form.startswith("local")


@pytest.mark.parametrize("bad", ["2026-02-30 10:00:00", "0000-01-01 00:00:00", "yesterday", "2026-01-01 24:00:00"])
def test_a_datetime_outside_the_columnar_forms_sends_its_file_to_the_exact_path(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "time", "type": ["null", "string"]}],
    }
    records = [{"id": n, "time": f"2026-11-18 10:00:{n % 60:02d}.5"} for n in range(200)]
    records[150]["time"] = bad
    path = _write(tmp_path / "bad-time.avro", schema, records)
    spec = DecodeSpec(primary_key=("id",), last_updated=None, declared_types={"time": "Datetime"})
    job = DecodeJob(str(path), "application/avro", "heap:1", path.name)
    with Stager([job], [0], spec, threaded=False) as stager:
        assert not stager.wait_unit(0)[0].columnar
    feed = Feed(
        id="df-fast04",
        source="Test",
        name="Times",
        primary_key=("id",),
        error_threshold=5,
        fields=(FeedField("id", "Integer"), FeedField("time", "Datetime")),
    )
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, _units([path]), feed=feed)
    assert fast_rows == exact_rows
    assert _counts(fast_counts) == _counts(exact_counts)


# --- awkward inputs: both paths give the same domain table, rejected rows and column mapping ---------

ID = {"name": "id", "type": "long"}
NULLABLE_ID = {"name": "id", "type": ["null", "long"]}
ODD_NAMES = [
    "Name",
    "name",
    "NAME",
    "_pk",
    "_updated",
    "rowid",
    "OID",
    "_rowid_",
    "sqlite_x",
    "a b",
    "a.b",
    'q"uote',
    "[br]",
    "$dollar",
    "émile",
    "名前",
]


def _odd_names() -> bytes:
    fields = [ID] + [{"name": name, "type": ["null", "string"]} for name in ODD_NAMES]
    records = [
        {"id": n, **{name: (None if (n + k) % 5 == 0 else f"{name}={n}") for k, name in enumerate(ODD_NAMES)}}
        for n in range(1, 40)
    ]
    return _avro_with_any_names(fields, records)


def _undecodable() -> bytes:
    records = [{"id": n, "note": f"note-{n}-é"} for n in range(1, 30)]
    return corrupt_text(avro([ID, {"name": "note", "type": "string"}], records), "note-7-é")


def _epochs(scale: int, start: int) -> list[int]:
    return [(1_764_059_400_123_456 + n * 7_000_001) * scale // 1_000_000 for n in range(start, start + 20)]


TIME_LONG = {"name": "time", "type": ["null", "long"]}
TIME_TEXT = {"name": "time", "type": ["null", "string"]}
MILLIS = {"type": "long", "logicalType": "timestamp-millis"}
ENUM = {"type": "enum", "name": "E", "symbols": ["S", "M"]}

AWKWARD: list[tuple[str, list[bytes], dict[str, Any], int]] = [
    # (case, files in load order, feed settings, files the fast run decodes column-wise)
    ("odd-names-and-case-twins", [_odd_names()], {}, 1),
    (
        "invalid-utf8",
        [avro([ID, {"name": "note", "type": "string"}], [{"id": 1, "note": "fine"}]), _undecodable()],
        {},
        1,
    ),
    (
        "timestamp-millis-out-of-range",
        [
            avro(
                [ID, {"name": "at", "type": MILLIS}], [{"id": 1, "at": 0}, {"id": 2, "at": 10**16}, {"id": 3, "at": 5}]
            ),
            avro(
                [ID, {"name": "at", "type": MILLIS}], [{"id": 4, "at": -(10**15)}, {"id": 5, "at": 1_764_059_400_123}]
            ),
            avro([ID, {"name": "at", "type": MILLIS}], [{"id": 6, "at": 1_764_059_400_123}, {"id": 7, "at": None}][:1]),
        ],
        {},
        1,
    ),
    (
        "heap-time-text-good-then-bad",
        [
            avro(
                [ID, TIME_TEXT],
                [{"id": n, "time": f"2026-11-25 08:30:{n:02d}.{n:03d}"} for n in range(1, 30)]
                + [{"id": 30, "time": None}, {"id": 31, "time": "2026-11-25T08:30:00Z"}],
            ),
            avro(
                [ID, TIME_TEXT],
                [
                    {"id": 40, "time": "2026-11-25 08:30:00"},
                    {"id": 41, "time": "yesterday"},
                    {"id": 42, "time": "2026-02-30 10:00:00"},
                    {"id": 43, "time": "0000-01-01 00:00:00"},
                ],
            ),
        ],
        {},
        1,
    ),
    (
        "epoch-numbers-by-magnitude",
        [
            avro(
                [ID, TIME_LONG],
                [
                    {"id": n, "time": t}
                    for n, t in enumerate(
                        _epochs(1, 0)
                        + _epochs(1_000, 20)
                        + _epochs(1_000_000, 40)
                        + _epochs(1_000_000_000, 60)
                        + [None]
                    )
                ],
            ),
            avro([ID, TIME_LONG], [{"id": 100, "time": -5}, {"id": 101, "time": 10**22 // 10**4}]),
        ],
        {},
        1,
    ),
    (
        "epoch-nanoseconds-below-a-microsecond",
        [
            avro(
                [ID, TIME_LONG],
                [{"id": 1, "time": 1_764_059_400_123_456_000}, {"id": 2, "time": 1_764_059_400_123_456_789}],
            )
        ],
        {},
        0,
    ),
    (
        "unions",
        [
            avro(
                [ID, {"name": "u", "type": ["null", "long", "string", "double", "boolean"]}],
                [
                    {"id": 1, "u": 5},
                    {"id": 2, "u": "x"},
                    {"id": 3, "u": 0.5},
                    {"id": 4, "u": None},
                    {"id": 5, "u": True},
                    {"id": 6, "u": 2**62},
                ],
            )
        ],
        {},
        0,
    ),
    (
        "nulls-empty-keys-and-required-fields",
        [
            avro(
                [
                    NULLABLE_ID,
                    {"name": "must", "type": ["null", "string"]},
                    {"name": "n", "type": ["null", "double"]},
                    {"name": "b", "type": ["null", "boolean"]},
                    {"name": "e", "type": ENUM},
                ],
                [
                    {"id": None, "must": "x", "n": 1.0, "b": True, "e": "S"},
                    {"id": 2, "must": "", "n": None, "b": None, "e": "M"},
                    {"id": 3, "must": None, "n": float("inf"), "b": False, "e": "M"},
                    {"id": 4, "must": "ok", "n": -0.0, "b": None, "e": "S"},
                    {"id": None, "must": None, "n": None, "b": None, "e": "S"},
                    {"id": 4, "must": "later row wins", "n": 2.5, "b": True, "e": "S"},
                ],
            )
        ],
        {"fields": (FeedField("must", "String", required=True),)},
        1,
    ),
    (
        "nullable-enum",
        [avro([ID, {"name": "e", "type": ["null", ENUM]}], [{"id": 1, "e": "S"}, {"id": 2, "e": None}])],
        {},
        0,
    ),
    (
        "nan-is-rejected-on-the-exact-path",
        [
            avro(
                [ID, {"name": "score", "type": "double"}], [{"id": 1, "score": 1.5}, {"id": 2, "score": float("nan")}]
            ),
            avro([ID, {"name": "score", "type": "float"}], [{"id": 3, "score": 0.1}]),
        ],
        {},
        1,
    ),
    (
        "schema-drift-between-files",
        [
            avro([ID, {"name": "level", "type": "long"}], [{"id": 1, "level": 5}]),
            avro(
                [ID, {"name": "level", "type": "string"}, {"name": "new", "type": "string"}],
                [{"id": 2, "level": "high", "new": "a"}, {"id": 3, "level": "7", "new": "b"}],
            ),
            avro([ID, {"name": "level", "type": "double"}], [{"id": 4, "level": 8.0}, {"id": 5, "level": 8.5}]),
            avro([ID, {"name": "LEVEL", "type": "long"}], [{"id": 1, "LEVEL": 6}]),
        ],
        {},
        2,
    ),
    (
        "binary-keys",
        [
            avro(
                [
                    {"name": "id", "type": ["null", "bytes"]},
                    {"name": "digest", "type": {"type": "fixed", "name": "D", "size": 2}},
                ],
                [
                    {"id": b"\xff\x00", "digest": b"\x00\xff"},
                    {"id": b"\xfe\x00", "digest": b"\x80\x81"},
                    {"id": b"", "digest": b"\x00\x00"},
                    {"id": None, "digest": b"\x01\x01"},
                    {"id": b"\xff\x00", "digest": b"\x02\x02"},
                ],
            )
        ],
        {},
        1,
    ),
    (
        "key-sent-as-text-then-as-a-long",
        [
            avro(
                [{"name": "id", "type": "string"}, {"name": "v", "type": "string"}],
                [{"id": "1001", "v": "old"}, {"id": "01001", "v": "bad"}],
            ),
            avro([ID, {"name": "v", "type": "string"}], [{"id": 1001, "v": "new"}]),
        ],
        {"fields": (FeedField("id", "Integer"),)},
        1,
    ),
    (
        "declared-types-the-columnar-path-leaves-alone",
        [
            avro(
                [
                    ID,
                    {"name": "n", "type": "long"},
                    {"name": "d", "type": {"type": "int", "logicalType": "date"}},
                    {"name": "m", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
                ],
                [{"id": 1, "n": 42, "d": 20_417, "m": b"\x01\xe2\x40"}],
            )
        ],
        {"fields": (FeedField("n", "String"),)},
        0,
    ),
    (
        "composite-key-and-last-updated",
        [
            avro(
                [ID, {"name": "k", "type": "string"}, TIME_LONG],
                [{"id": 1, "k": "a", "time": 1_764_059_400}, {"id": 1, "k": "b", "time": 1_764_059_401}],
            ),
            avro(
                [ID, {"name": "k", "type": "string"}, TIME_LONG],
                [{"id": 1, "k": "a", "time": 1_764_059_300}, {"id": 1, "k": "", "time": 1}],
            ),
        ],
        {"primary_key": ("id", "k"), "last_updated": "time"},
        0,
    ),
    (
        "last-updated-heap-time-decides",
        [
            avro(
                [ID, TIME_LONG, {"name": "v", "type": "string"}],
                [{"id": 1, "time": 1_764_059_400_000, "v": "newer"}, {"id": 2, "time": None, "v": "no time"}],
            ),
            avro(
                [ID, TIME_LONG, {"name": "v", "type": "string"}],
                [{"id": 1, "time": 1_764_059_300_000, "v": "older"}, {"id": 2, "time": 5, "v": "timed"}],
            ),
        ],
        {"last_updated": "time"},
        2,
    ),
    ("an-empty-part-between-parts", [avro([ID], [{"id": 1}]), avro([ID], []), avro([ID], [{"id": 2}])], {}, 3),
    (
        "threshold-exceeded-keeps-the-rejects",
        [avro([NULLABLE_ID], [{"id": None}, {"id": 1}, {"id": None}])],
        {"error_threshold": 10},
        1,
    ),
]


def _snapshot(db: Path, table: str) -> dict[str, Any]:
    """Everything a load leaves: the table (values and storage classes), rejected rows, column mapping."""
    conn = sqlite3.connect(db)
    try:
        names = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
        quoted = ['"' + name.replace('"', '""') + '"' for name in names]
        rows = (
            conn.execute(
                f'SELECT {", ".join(f"{q}, typeof({q})" for q in quoted) or "1"} FROM "{table}" ORDER BY rowid'
            ).fetchall()
            if names
            else []
        )
        rejects = conn.execute(
            "SELECT file, position, key, column_name, reason FROM rejected_rows ORDER BY id"
        ).fetchall()
        mapping = conn.execute(
            "SELECT source_name, column_name, feed_type, source_type, source_file FROM domain_columns ORDER BY rowid"
        ).fetchall()
        return {"columns": names, "rows": rows, "rejects": rejects, "mapping": mapping}
    finally:
        conn.close()


def _run(db: Path, feed: Feed, units: list[LoadUnit]) -> tuple[dict[str, Any], str, LoadCounts | None]:
    outcome, counts = "ok", None
    with Store(db) as store:
        try:
            counts = apply_units(store, feed, units, IngestHooks())
        except CourierError as error:
            outcome = f"{type(error).__name__}: {error}"
    return _snapshot(db, feed.table_name), outcome, counts


@pytest.mark.parametrize("pieces", [False, True], ids=["whole-files", "in-pieces"])
@pytest.mark.parametrize("resync", [False, True], ids=["incremental-parts", "full-resync"])
@pytest.mark.parametrize(("case", "bodies", "settings", "columnar"), AWKWARD, ids=[case[0] for case in AWKWARD])
def test_awkward_inputs_give_identical_tables_and_rejected_rows_on_both_paths(
    case: str,
    bodies: list[bytes],
    settings: dict[str, Any],
    columnar: int,
    resync: bool,
    pieces: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if pieces:
        # Every file read alone by its transaction is staged in pieces, each its own database.
        monkeypatch.setattr(fastload, "MIN_PIECE_BYTES", 1)
    paths = []
    for number, body in enumerate(bodies):
        path = tmp_path / f"part-{number:05d}.avro"
        path.write_bytes(body)
        paths.append(path)
    feed = Feed(
        id="df-awkwd1", source="Test", name="Awkward", **{"primary_key": ("id",), "error_threshold": 100, **settings}
    )
    # Each part its own unit with the cursor, or every part in one unit that replaces the table.
    units = _units(paths, one_unit=resync)

    fast, fast_outcome, fast_counts = _run(tmp_path / "fast.db", feed, units)
    monkeypatch.setenv(COLUMNAR_ENV, "0")
    exact, exact_outcome, exact_counts = _run(tmp_path / "exact.db", feed, units)

    assert fast_outcome == exact_outcome
    assert fast == exact
    if case.startswith("threshold"):
        assert fast_outcome.startswith("LoadRejected") and fast["rejects"] and not fast["rows"]
    else:
        assert fast_outcome == "ok" and fast_counts is not None and exact_counts is not None
        assert _counts(fast_counts) == _counts(exact_counts)
        # Both paths really ran: the fast run decoded exactly these files column-wise, the exact run none.
        assert (fast_counts.files_columnar, exact_counts.files_columnar) == (columnar, 0)
    assert fast["rows"] or fast["rejects"], "every case loads or rejects something"


def test_a_full_resync_holds_the_write_lock_only_while_a_file_or_the_swap_commits(
    parts: list[Path], tmp_path: Path
) -> None:
    # Issue 10, item 4: another writer (courier apply, the TUI) must not wait for a whole resync.
    # The load asks should_stop between steps; each time, another connection tries to take the
    # write lock without waiting, and reads what readers see.
    db = tmp_path / "resync.db"
    _load(db, _units(parts[:1]))
    before = _table(db)
    seen: list[tuple[bool, bool]] = []
    loaded: list[str] = []

    def probe() -> bool:
        if not loaded:
            return False  # still staging, before any write
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                free = True
            except sqlite3.OperationalError:
                free = False
            old = other.execute(f'SELECT COUNT(*) FROM "{FEED.table_name}"').fetchone()[0] == len(before)
        finally:
            other.close()
        seen.append((free, old))
        return False

    with Store(db) as store:
        hooks = IngestHooks(
            should_stop=probe, progress=lambda label, index, total, done, rows: loaded.append(label) if done else None
        )
        counts = apply_units(store, FEED, _units(parts, one_unit=True), hooks, parallel=False)
    assert (True, True) in seen  # after files were loaded the lock was free, and readers saw the old table
    assert all(old for _, old in seen)  # never a half-loaded table
    assert counts.files == len(parts)
    fresh = tmp_path / "fresh.db"
    _load(fresh, _units(parts, one_unit=True))
    assert _table(db) == _table(fresh)  # and the result is a resync's
    conn = sqlite3.connect(db)
    try:
        assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%~resync%'")] == []
    finally:
        conn.close()


def test_a_stopped_resync_leaves_the_old_table_and_no_shadow(parts: list[Path], tmp_path: Path) -> None:
    from core.ingest import RunStopped

    db = tmp_path / "stopped.db"
    _load(db, _units(parts[:1]))
    before = _table(db)
    asked = iter([False, False, False, True])
    with Store(db) as store, pytest.raises(RunStopped):
        apply_units(
            store,
            FEED,
            _units(parts, one_unit=True),
            IngestHooks(should_stop=lambda: next(asked, True)),
            parallel=False,
        )
    assert _table(db) == before
    conn = sqlite3.connect(db)
    try:
        assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%~resync%'")] == []
    finally:
        conn.close()


def _scores(path: Path, count: int, nan_at: int | None = None) -> Path:
    """A file of ``count`` records in many small blocks; record ``nan_at`` holds a NaN (which the exact path rejects)."""
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "score", "type": ["null", "double"]}],
    }
    records = [{"id": n % (count - 50), "score": n / 7} for n in range(count)]  # later rows update earlier ones
    if nan_at is not None:
        records[nan_at]["score"] = float("nan")
    with open(path, "wb") as handle:
        fastavro.writer(handle, fastavro.parse_schema(schema), records, sync_interval=2000)
    return path


SCORES = Feed(id="df-piece1", source="Test", name="Scores", primary_key=("id",), error_threshold=5)


def test_a_big_lone_file_is_staged_in_pieces_the_writer_reads_as_each_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastload, "MIN_PIECE_BYTES", 16 * 1024)
    path = _scores(tmp_path / "scores.avro", 20_000)
    job = DecodeJob(str(path), "application/avro", "heap:1", path.name)
    import polars

    decoded: list[int] = []
    read_avro = polars.read_avro

    def counted(*args: Any, **kwargs: Any) -> Any:
        decoded.append(1)
        return read_avro(*args, **kwargs)

    monkeypatch.setattr(polars, "read_avro", counted)
    writer = sqlite3.connect(tmp_path / "writer.db")
    with Stager([job], [0], DecodeSpec(primary_key=("id",), last_updated=None), directory=str(tmp_path)) as stager:
        staged = stager.wait_unit(0)[0]
        assert staged.columnar and len(staged.paths) == fastload.MAX_PIECES
        # Nothing is decoded into a piece before the writer has attached them all: ATTACH reads each database's
        # schema, and a piece written meanwhile by ADBC's copy of SQLite was read torn ("malformed").
        wait_for(lambda: decoded or id(staged) in stager.awaiting_attach, "the stager to wait or decode")
        assert not decoded
        for piece in staged.paths:
            with sqlite3.connect(f"file:{piece}?mode=ro", uri=True) as conn:
                assert conn.execute(f'SELECT count(*) FROM "{staged.table}"').fetchone()[0] == 0
        stager.attach(writer, [staged])
        schemas = list(stager.pieces(staged))
        assert schemas == staged.schemas and len(set(schemas)) == fastload.MAX_PIECES
        rows = 0
        for piece in staged.paths:
            with sqlite3.connect(piece) as conn:
                rows += conn.execute(f'SELECT count(*) FROM "{staged.table}"').fetchone()[0]
        assert rows == staged.rows_staged == 20_000
        # The first piece is one chunk, so the writer starts after a few rows; every piece holds rows.
        assert 0 < staged.piece_rows[0] < min(staged.piece_rows[1:-1]), staged.piece_rows
        assert all(staged.piece_rows), staged.piece_rows
        stager.detach(writer)
    writer.close()
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, _units([path]), feed=SCORES)
    assert fast_counts.files_columnar == 1
    assert fast_rows == exact_rows and _counts(fast_counts) == _counts(exact_counts)
    assert (fast_counts.rows_inserted, fast_counts.rows_updated) == (19_950, 50)


def test_an_order_key_of_any_text_is_the_same_updated_on_both_paths(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file-pattern courier's order key ends in the S3 object key, which may hold quotes and any character;
    # the columnar path derives _updated from it in the staging table's schema, the exact path binds it.
    key = "file:2026-01-01T00:00:00:it's \"odd\" -- é 💥 \\ x'00'.avro"
    units = _units(parts[:1])
    units[0].files[0].job = DecodeJob(str(parts[0]), "application/avro", key, parts[0].name)
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, units)
    assert fast_counts.files_columnar == 1
    assert fast_rows == exact_rows and _counts(fast_counts) == _counts(exact_counts)
    with sqlite3.connect(tmp_path / "fast.db") as conn:
        stored = conn.execute(f'SELECT DISTINCT _updated, typeof(_updated) FROM "{FEED.table_name}"').fetchall()
    assert stored == [(key, "text")]


def test_a_load_stages_in_the_private_landing_cache_beside_the_database_never_in_the_system_temp_dir(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Staged rows are the landed data again: they stay in Courier's own 0700 directory, on the database's disk.
    import stat
    import tempfile

    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    db = tmp_path / "courier.db"
    staging = tmp_path / "courier-landing" / ".staging"
    seen: list[Path] = []

    def probe() -> bool:
        seen.extend(staging.rglob("*.db"))
        return False

    with Store(db) as store:
        counts = apply_units(store, FEED, _units(parts[:2]), IngestHooks(should_stop=probe))
    assert counts.files_columnar == 2
    assert seen, "the staging databases were looked for while the load ran"
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "courier-landing").stat().st_mode) == 0o700
    assert not list(system_temp.iterdir()), "nothing is written to the system's temp directory"
    assert not list(staging.rglob("*")), "the load deletes what it staged"


def test_chunks_decoded_side_by_side_come_back_in_file_order_with_errors_at_their_turn() -> None:
    from contextlib import closing

    from core.fastload import _in_order

    second_done = threading.Event()

    def work(item: int) -> int:
        if item == 0:
            # The first chunk finishes only after the second: its result still comes first.
            assert second_done.wait(10), "the second chunk was decoded beside the first"
        if item == 1:
            second_done.set()
        if item == 3:
            raise ValueError("chunk 3 is damaged")
        return item * 10

    got: list[int] = []
    with pytest.raises(ValueError, match="chunk 3"), closing(_in_order(iter(range(6)), work, workers=2)) as results:
        for result in results:
            got.append(result)
    assert got == [0, 10, 20]

    started: list[int] = []

    def slow(item: int) -> int:
        started.append(item)
        return item

    with closing(_in_order(iter(range(100)), slow, workers=1)) as results:
        assert [next(results), next(results)] == [0, 1]
    # Stopping early cancels what was not started: at most the one being made and the one ahead.
    assert len(started) <= 4


def test_a_killed_loads_staging_is_removed_by_the_next_load_and_a_live_ones_is_kept_and_never_pruned(
    parts: list[Path], tmp_path: Path
) -> None:
    import subprocess

    from core.cache import cache_report

    dead_pid = subprocess.Popen(["true"])  # a process that has ended: no load of its can still be reading
    dead_pid.wait()
    db = tmp_path / "courier.db"
    staging = tmp_path / "courier-landing" / ".staging"
    staging.mkdir(parents=True)
    dead = staging / f"courier-stage-{dead_pid.pid}-x1"
    live = staging / f"courier-stage-{os.getppid()}-x2"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "g0.db").write_bytes(b"staged rows of some load")
    with Store(db) as store:
        assert cache_report(store).pruned_files == 1, "only the killed load's staging is a stray"
        apply_units(store, FEED, _units(parts[:1]), IngestHooks())
        assert not dead.exists(), "a load clears what a killed load staged"
        assert (live / "g0.db").exists()
        assert cache_report(store, prune=True).pruned_files == 0
    assert (live / "g0.db").exists(), "a live load's staging is never pruned"


def test_a_staging_folder_that_cannot_be_made_fails_the_load_in_one_line_and_changes_nothing(
    parts: list[Path], tmp_path: Path
) -> None:
    db = tmp_path / "courier.db"
    _load(db, _units(parts[:1]))
    before = _table(db)
    (tmp_path / "courier-landing" / ".staging").rmdir()  # the first load left it empty
    (tmp_path / "courier-landing" / ".staging").write_text("not a folder")
    with Store(db) as store, pytest.raises(CourierError) as raised:
        apply_units(store, FEED, _units(parts[1:2]), IngestHooks())
    message = str(raised.value)
    assert message.startswith("cannot make a staging folder in ") and "\n" not in message
    assert _table(db) == before


def test_a_staged_row_without_a_key_fails_the_upsert_loudly_and_its_transaction_rolls_back_whole(
    tmp_path: Path,
) -> None:
    # The set-based upsert runs as INSERT OR FAIL (no statement journal, see TableWriter._statement): a NULL
    # _pk, which both paths reject before staging, must still stop the load, never be skipped in silence.
    from core.load import TableWriter

    staging = tmp_path / "staging.db"
    with sqlite3.connect(staging) as conn:
        conn.execute("CREATE TABLE f0 (c0, c1, _pk AS (c0) VIRTUAL, _updated AS ('heap:2') VIRTUAL)")
        conn.executemany("INSERT INTO f0 VALUES (?, ?)", [(2, "b"), (None, "lost"), (3, "c")])
    with Store(tmp_path / "courier.db") as store:
        writer = TableWriter(store, "Test:Keys")
        with store.atomic():
            columns = writer.prepare(["id", "name"], ["String", "String"])
            writer.upsert(columns, [(1, "a", 1, "heap:1")])
        store.conn.execute("ATTACH DATABASE ? AS stage", (str(staging),))
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL constraint failed"), store.atomic():
            writer.upsert_staged(columns, 'stage."f0"')
        rows = store.conn.execute('SELECT _pk, "name", _updated FROM "Test:Keys" ORDER BY _pk').fetchall()
    assert rows == [(1, "a", "heap:1")], "the row staged before the keyless one was rolled back with it"


def test_a_piece_the_columnar_path_cannot_take_restages_the_whole_file_exactly_and_the_writer_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastload, "MIN_PIECE_BYTES", 16 * 1024)
    path = _scores(tmp_path / "late-nan.avro", 20_000, nan_at=19_990)
    job = DecodeJob(str(path), "application/avro", "heap:1", path.name)
    with Stager([job], [0], DecodeSpec(primary_key=("id",), last_updated=None), directory=str(tmp_path)) as stager:
        first = stager.wait_unit(0)[0]
        assert first.columnar and len(first.paths) > 1
        writer = sqlite3.connect(tmp_path / "writer.db")
        stager.attach(writer, [first])
        # Whatever the writer read of the first pieces, the file is withdrawn before its last piece.
        with pytest.raises(Withdrawn):
            for _ in stager.pieces(first):
                pass
        stager.detach(writer)
        writer.close()
        again = stager.wait_unit(0)[0]
        assert not again.columnar and len(again.paths) == 1 and again.rows_rejected == 1
    (fast_counts, fast_rows), (exact_counts, exact_rows) = _both(tmp_path, monkeypatch, _units([path]), feed=SCORES)
    assert fast_counts.files_columnar == 0
    # Counted once: rows the first attempt upserted were rolled back with it.
    assert fast_rows == exact_rows and _counts(fast_counts) == _counts(exact_counts)
    assert fast_counts.rows_rejected == 1 and fast_counts.rows_inserted == 19_950


def test_the_writer_loads_with_a_large_page_cache_and_gives_the_connection_back_as_it_was(
    tmp_path: Path, parts: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upsert walks the key's B-tree per staged row; SQLite's 2 MB default re-reads it from the OS."""
    from core import ingest

    seen: list[int] = []
    apply = ingest._apply_unit

    def watching(store: Store, *args: Any, **kwargs: Any) -> Any:
        seen.append(int(store.conn.execute("PRAGMA cache_size").fetchone()[0]))
        return apply(store, *args, **kwargs)

    monkeypatch.setattr(ingest, "_apply_unit", watching)
    with Store(tmp_path / "courier.db") as store:
        before = int(store.conn.execute("PRAGMA cache_size").fetchone()[0])
        apply_units(store, FEED, _units(parts[:2]), IngestHooks())
        after = int(store.conn.execute("PRAGMA cache_size").fetchone()[0])
    assert seen and set(seen) == {-ingest.WRITER_CACHE_KIB}
    assert after == before != -ingest.WRITER_CACHE_KIB
