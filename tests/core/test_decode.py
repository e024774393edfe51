"""Decoding in helper processes gives exactly what decoding in-process gives, in the same order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.decode import (
    DecodeJob,
    DecodeSpec,
    FileDecoded,
    FileFailed,
    FileStarted,
    RowsDecoded,
    decode_files,
)
from core.heapgen import PAGEVIEW_COLUMNS, heap_schema, pageview_records, write_avro


def _events(jobs: list[DecodeJob], spec: DecodeSpec, parallel: bool) -> dict[str, Any]:
    rows: list[tuple[Any, ...]] = []
    started: list[list[str]] = []
    done: list[tuple[int, int, list[str]]] = []
    failed: list[str] = []
    for event in decode_files(jobs, spec, parallel=parallel):
        if isinstance(event, FileStarted):
            started.append(event.columns)
        elif isinstance(event, RowsDecoded):
            rows.extend(event.rows)
        elif isinstance(event, FileDecoded):
            done.append((event.rows_read, event.rows_rejected, event.reject_reasons))
        elif isinstance(event, FileFailed):
            failed.append(event.message)
    return {"rows": rows, "started": started, "done": done, "failed": failed}


@pytest.fixture(scope="module")
def part_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("parts")
    schema = heap_schema("pageviews", PAGEVIEW_COLUMNS)
    paths = []
    for part in range(3):
        records = list(pageview_records(9000, seed=part, start_event_id=1 + part * 9000))
        # A few rows without a primary key, so rejects (and their row numbers) are compared too.
        for index in (5, 4100, 8999):
            records[index]["event_id"] = None
        schema_nullable = {
            **schema,
            "fields": [{**f, "type": ["null", "long"]} if f["name"] == "event_id" else f for f in schema["fields"]],
        }
        path = directory / f"part-{part:05d}.avro"
        path.write_bytes(write_avro(records, schema_nullable))
        paths.append(path)
    return paths


def test_parallel_decoding_matches_in_process_decoding(part_files: list[Path]) -> None:
    jobs = [DecodeJob(str(path), "application/avro", f"heap:{n}", path.name) for n, path in enumerate(part_files)]
    spec = DecodeSpec(primary_key=("event_id",), last_updated=None)

    inline = _events(jobs, spec, parallel=False)
    parallel = _events(jobs, spec, parallel=True)

    assert parallel == inline
    assert len(inline["rows"]) == 3 * (9000 - 3)
    assert inline["done"][0][:2] == (9000, 3)
    assert inline["done"][0][2] == [
        f"part-00000.avro row {n}: event_id: the primary key is empty" for n in (6, 4101, 9000)
    ]


def test_parallel_decoding_reports_a_corrupt_file(part_files: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "part-00009.avro"
    data = part_files[0].read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    jobs = [
        DecodeJob(str(part_files[1]), "application/avro", "heap:1", part_files[1].name),
        DecodeJob(str(broken), "application/avro", "heap:2", broken.name),
    ]
    spec = DecodeSpec(primary_key=("event_id",), last_updated=None)

    result = _events(jobs, spec, parallel=True)

    assert len(result["done"]) == 1
    assert result["failed"] and result["failed"][0].startswith("part-00009.avro: not a readable Avro file")
