"""Item 5: a full disk (database or landing cache) fails the run with one line; nothing is left Running."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.s3 import landing_path
from tests.conftest import S3Bucket
from tests.faults.conftest import (
    assert_converged,
    avro,
    courier,
    load_first_dump,
    one_line,
    put_dump,
    run_row,
    tables,
    users,
)


def test_a_full_database_fails_the_run_and_keeps_the_previous_tables(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    # A second dump too big for the room left: 20,000 users in a database capped a few pages above its size.
    put_dump(s3_bucket, 2, {"sync_2/users/part-00000-a-c000.avro": avro(users(range(1, 20_001), "-new"))})
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    cap = {"COURIER_DB_MAX_BYTES": str(size + 16 * 4096)}

    result = courier(cli_env, db, "run", "Heap", "--all", **cap)
    listed = courier(cli_env, db, "runs", **cap)

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"courier: run 2 failed: the disk holding {db} is full (while writing); free space and rerun"
    )
    row = run_row(db, 2)
    assert row is not None and row["status"] == "Failed" and "cannot rollback" not in row["message"]
    assert listed.returncode == 0 and "Failed" in listed.stdout.splitlines()[0]
    assert tables(db) == before
    assert_converged(db, s3_bucket)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to make a write fail with ENOSPC")
def test_a_full_landing_cache_fails_the_run_and_keeps_the_previous_tables(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    key = "sync_2/users/part-00000-a-c000.avro"
    put_dump(s3_bucket, 2, {key: avro(users([4]))})
    etag = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)["ETag"].strip('"')
    # The download's temporary file is a link to /dev/full: every write to it fails with ENOSPC.
    dest = landing_path(tmp_path / "c-landing", "Heap", key, etag)
    dest.parent.mkdir(parents=True)
    dest.with_name(dest.name + ".part").symlink_to("/dev/full")

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"courier: run 2 failed: the disk holding {dest.parent} is full (while landing "
        f"s3://{s3_bucket.name}/{key}); free space and rerun"
    )
    row = run_row(db, 2)
    assert row is not None and row["status"] == "Failed"
    assert tables(db) == before
    assert_converged(db, s3_bucket)
