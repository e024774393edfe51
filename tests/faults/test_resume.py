"""Items 8 and 9: resume by the file's full key; an empty full resync empties the table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import S3Bucket
from tests.faults.conftest import (
    assert_converged,
    avro,
    configure,
    courier,
    one_line,
    put_dump,
    tables,
    user_ids,
    users,
)


def test_two_files_with_one_part_number_are_two_files_and_a_failed_second_is_retried(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 3)))}, incremental=False)
    assert courier(cli_env, db, "run", "Heap", "--all").returncode == 0
    first, second, later = (
        "sync_2/users/part-00000-b-c000.avro",
        "sync_2/users/part-00000-b-c001.avro",
        "sync_2/users/part-00001-b-c000.avro",
    )
    put_dump(s3_bucket, 2, {first: avro(users([3])), second: b"not avro at all", later: avro(users([5]))})

    failed = courier(cli_env, db, "run", "Heap", "--all")

    assert failed.returncode == 1
    assert one_line(failed.stderr).startswith(f"courier: run 2 failed: {second}")
    assert user_ids(db) == [1, 2, 3]  # the first file of the part committed; nothing after the failed one
    cursor = sqlite3.connect(db).execute("SELECT dump_id, last_key, dump_complete FROM cursors").fetchone()
    assert cursor == (2, first, 0)
    s3_bucket.put(second, avro(users([4])))
    assert_converged(db, s3_bucket)
    assert user_ids(db) == [1, 2, 3, 4, 5]


def test_an_empty_full_resync_empties_the_table_on_an_existing_and_a_fresh_database(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)
    assert courier(cli_env, db, "run", "Heap", "--all").returncode == 0
    put_dump(s3_bucket, 2, {}, incremental=False)
    fresh = tmp_path / "fresh.db"
    configure(fresh, s3_bucket)

    existing = courier(cli_env, db, "run", "Heap", "--all")
    new = courier(cli_env, fresh, "run", "Heap", "--all")

    warning = "Heap table users is a full resync with no files in sync_2: Heap:Users is now empty"
    for result in (existing, new):
        assert result.returncode == 0, result.stderr
        assert any(line.endswith(f" ~ Loading data: {warning}") for line in result.stdout.splitlines())
    assert tables(db) == tables(fresh) == {"Heap:Users": []}
    assert courier(cli_env, db, "run", "Heap", "--all").stdout.count(warning) == 0  # up to date now
    assert_converged(db, s3_bucket)
