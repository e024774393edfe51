"""Items 12 and 13: names SQLite reserves, and the small command-line holes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.engine import open_database
from tests.conftest import S3Bucket
from tests.faults.conftest import (
    COURIER_BIN,
    FEEDS,
    avro,
    configure,
    courier,
    one_line,
    put_dump,
    tables,
    user_ids,
    users,
)


def test_a_data_source_starting_with_sqlite_is_refused_at_apply(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 3)))}, incremental=False)
    assert courier(cli_env, db, "run", "Heap", "--all").returncode == 0
    before = tables(db)
    document = tmp_path / "p.json"
    document.write_text(
        json.dumps({"feeds": {"df-stats01": {"source": "SQLite_stats", "name": "Users", "primary-key": ["user_id"]}}})
    )

    result = courier(cli_env, db, "apply", str(document))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"courier: 1 problem in {document}; nothing was changed:",
        '  feeds.df-stats01.source: "SQLite_stats" starts with sqlite_, which SQLite reserves for its own tables, '
        "so the domain table could not be created; choose another data source name",
    ]
    assert tables(db) == before


def test_no_domain_table_is_hidden_from_courier_tables(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # "sqlite1" is a fine name; a LIKE 'sqlite_%' without ESCAPE once hid it (_ matches any character).
    db = tmp_path / "c.db"
    feeds = {"df-users01": {**FEEDS["df-users01"], "source": "sqlite1"}}
    configure(db, s3_bucket, feeds=feeds)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 3)))}, incremental=False)

    run = courier(cli_env, db, "run", "Heap", "--all")
    listed = courier(cli_env, db, "tables")

    assert run.returncode == 0, run.stderr
    assert user_ids(db, "sqlite1:Users") == [1, 2]
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["sqlite1:Users"]


def test_small_command_line_holes_are_one_line_errors(cli_env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    open_database(db)  # the holes are in the arguments, not the path (a missing database is its own line)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)

    empty_db = subprocess.run(
        [str(COURIER_BIN), "--db", "", "runs"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    negative = courier(cli_env, db, "runs", "--limit", "-5")
    nested = courier(cli_env, db, "apply", str(deep))
    bad_stop = courier(cli_env, db, "runs", "stop", "x")

    assert (empty_db.returncode, negative.returncode, nested.returncode, bad_stop.returncode) == (2, 2, 2, 2)
    assert one_line(empty_db.stderr) == "courier: --db needs a file name, not an empty string"
    assert one_line(negative.stderr) == "courier: --limit must be 1 or more"
    assert one_line(nested.stderr) == f"courier: {deep} is nested too deeply to be a project document"
    assert one_line(bad_stop.stderr) == "courier: 'x' is not a run ID: use the number courier runs shows"


def test_a_failed_runs_reason_goes_to_stderr(s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket, feeds={}, load_operations={"df-xxxxxx": [{"type": "load", "file": "users"}]})
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 3)))}, incremental=False)

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        'courier: run 1 failed: Error running load-operations task: Cannot find required feeds: "df-xxxxxx"'
    )
