"""A run downloads the next parts in a helper thread while it loads earlier ones (core.landing.Prefetch).

Real objects on the local S3 server; the downloads land in the real landing cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import SourceError
from core.heapgen import heap_schema, write_avro
from core.ingest import RunStopped
from core.landing import Prefetch, landed_path
from core.models import Courier
from tests.conftest import S3Bucket

COURIER = Courier(name="Heap", credential="local", bucket="", layout="heap-connect")


def _parts(bucket: S3Bucket, count: int) -> list[object]:
    schema = heap_schema("users", ["user_id", "joindate"])
    for number in range(count):
        records = [{"user_id": number * 10 + n, "joindate": 1_764_059_400_000} for n in range(5)]
        bucket.put(f"sync_1/users/part-{number:05d}.avro", write_avro(records, schema))
    return sorted(bucket.source().list_objects("sync_1/users/"), key=lambda obj: obj.key)


def test_every_part_is_downloaded_in_order_to_where_the_load_reads_it(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    objects = _parts(s3_bucket, 4)
    db = tmp_path / "c.db"
    with Prefetch(db, COURIER, s3_bucket.source(), objects) as fetched:
        results = [fetched.result(index) for index in reversed(range(4))]
    assert [result.path for result in reversed(results)] == [landed_path(db, COURIER, obj) for obj in objects]
    assert all(result.path.exists() and result.rows == 5 for result in results)


def test_a_failed_download_is_raised_for_its_part_and_every_later_one(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    objects = _parts(s3_bucket, 3)
    s3_bucket.delete(objects[1].key)  # type: ignore[attr-defined]  # gone after the listing
    with Prefetch(tmp_path / "c.db", COURIER, s3_bucket.source(), objects) as fetched:
        assert fetched.result(0).rows == 5
        with pytest.raises(SourceError):
            fetched.wait(1)
        with pytest.raises(SourceError):
            fetched.wait(2)
    assert not landed_path(tmp_path / "c.db", COURIER, objects[2]).exists()


def test_nothing_more_is_downloaded_once_the_run_is_stopped(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    objects = _parts(s3_bucket, 2)
    with Prefetch(tmp_path / "c.db", COURIER, s3_bucket.source(), objects, should_stop=lambda: True) as fetched:
        with pytest.raises(RunStopped):
            fetched.wait(0)
    assert not any(landed_path(tmp_path / "c.db", COURIER, obj).exists() for obj in objects)
