"""Items 1 and 2: S3 keys and manifests never write outside the landing cache or confuse dumps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.s3 import landing_path
from tests.conftest import S3Bucket
from tests.faults.conftest import (
    assert_converged,
    avro,
    configure,
    courier,
    load_first_dump,
    one_line,
    put_dump,
    tables,
    user_ids,
    users,
)

HOSTILE_KEYS = [
    "sync_1/users/../../../../outside.avro",
    "/outside/users-2026-11-20.csv",
    "../outside.avro",
    "sync_1//users/part-0.avro",
    "sync_1/./users/part-0.avro",
    "sync_1/users/part-0\x07\n.avro",
    "sync_1/users/" + "p" * 300 + ".avro",
    "sync_1/" + "é" * 150 + "/part-0.avro",
    "_hashed/0123/part-0.avro",
    "sync_1/users/part-0.avro.part",
    "a\\..\\..\\outside.avro",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_every_key_maps_inside_the_landing_directory(tmp_path: Path, key: str) -> None:
    root = tmp_path / "landing"

    path = landing_path(root, "Heap", key, "0123456789abcdef0123")

    resolved = Path(os.path.normpath(path))
    assert resolved.is_relative_to(root) and resolved != root
    assert all(len(part.encode()) <= 255 for part in path.relative_to(root).parts)
    assert not any(ord(ch) < 32 for ch in str(path))


def test_plain_keys_land_under_their_own_path_and_distinct_keys_never_share_a_path(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    plain = landing_path(root, "Heap", "sync_1/users/part-00000-x-c000.avro", "abc123")
    hashed = {landing_path(root, "Heap", key, "abc123") for key in HOSTILE_KEYS}

    assert plain == root / "Heap" / "abc123" / "sync_1" / "users" / "part-00000-x-c000.avro"
    assert len(hashed) == len(HOSTILE_KEYS)
    assert landing_path(root, "Heap", "k", "../../etag").is_relative_to(root)


def test_a_manifest_listing_a_file_outside_its_dump_is_refused_naming_it(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    s3_bucket.put("outside.avro", avro(users([99])))
    put_dump(
        s3_bucket,
        2,
        {"sync_2/users/part-00000-a-c000.avro": avro(users([4]))},
        manifest_files=["sync_2/users/part-00000-a-c000.avro", "sync_1/users/../../../../outside.avro"],
    )

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        'courier: run 2 failed: manifests/sync_2.json lists "sync_1/users/../../../../outside.avro" for table users, '
        "outside its own sync_2/ folder: Courier refuses that manifest; ask Heap to re-send that sync"
    )
    assert tables(db) == before
    assert not (tmp_path / "outside.avro").exists()
    landing = tmp_path / "c-landing"
    assert all(Path(os.path.normpath(p)).is_relative_to(landing) for p in landing.rglob("*"))
    # Heap re-sends the dump: the rerun converges.
    put_dump(s3_bucket, 2, {"sync_2/users/part-00000-a-c000.avro": avro(users([4]))})
    assert_converged(db, s3_bucket)
    assert user_ids(db) == [1, 2, 3, 4]


def test_a_manifest_naming_another_bucket_is_refused(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    s3_bucket.put(
        "manifests/sync_1.json",
        json.dumps(
            {
                "dump_id": 1,
                "tables": [
                    {"name": "users", "files": ["s3://someone-else/sync_1/users/part-0.avro"], "incremental": False}
                ],
            }
        ).encode(),
    )

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"courier: run 1 failed: manifests/sync_1.json lists s3://someone-else/sync_1/users/part-0.avro, outside the "
        f"bucket {s3_bucket.name}: Courier reads only the courier's own bucket; ask Heap to re-send that sync"
    )
    assert tables(db) == {}


def test_legal_but_unusual_keys_still_land_and_load(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    long_key = "sync_1/users/part-00001-" + "x" * 240 + "-c000.avro"
    bell_key = "sync_1/users/part-00000-a\x07b-c000.avro"
    put_dump(s3_bucket, 1, {bell_key: avro(users([1])), long_key: avro(users([2]))}, incremental=False)

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 0, result.stderr
    assert user_ids(db) == [1, 2]
    import sqlite3

    landed = dict(sqlite3.connect(db).execute("SELECT key, local_path FROM landed_files").fetchall())
    assert set(landed) == {bell_key, long_key}
    assert all(Path(path).is_relative_to(tmp_path / "c-landing") and "_hashed" in path for path in landed.values())


def test_a_key_starting_with_a_slash_lands_inside_the_cache(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    entity = {
        "object/type": "file",
        "object/file-pattern": "'/outside/users-'yyyy-MM-dd'.csv'",
        "object/land-as": {"file/tag": "users", "file/content-type": "text/csv"},
    }
    configure(db, s3_bucket, layout="file-pattern", entities=[entity])
    s3_bucket.put("/outside/users-2026-11-20.csv", b"user_id,email\n1,a@example.com\n")

    result = courier(cli_env, db, "run", "Heap", "--day", "2026-11-20")

    assert result.returncode == 0, result.stderr
    assert user_ids(db) == ["1"]
    assert not Path("/outside").exists()
    assert [p.name for p in (tmp_path / "c-landing").rglob("users-2026-11-20.csv")]


def test_a_manifest_whose_dump_id_disagrees_with_its_key_is_an_error_naming_both(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 3)))}, incremental=False)
    assert courier(cli_env, db, "run", "Heap", "--all").returncode == 0
    before = tables(db)
    s3_bucket.put("sync_2/users/part-00000-a-c000.avro", avro(users([3])))
    s3_bucket.put(
        "manifests/sync_2.json",
        json.dumps(
            {
                "dump_id": 1,
                "tables": [
                    {
                        "name": "users",
                        "files": [f"s3://{s3_bucket.name}/sync_2/users/part-00000-a-c000.avro"],
                        "incremental": True,
                    }
                ],
            }
        ).encode(),
    )

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        'courier: run 2 failed: manifests/sync_2.json says "dump_id": 1 but its key says sync_2: Courier cannot tell '
        "which dump it describes; ask Heap to re-send that sync"
    )
    assert tables(db) == before
    put_dump(s3_bucket, 2, {"sync_2/users/part-00000-a-c000.avro": avro(users([3]))})
    assert_converged(db, s3_bucket)
    assert user_ids(db) == [1, 2, 3]
