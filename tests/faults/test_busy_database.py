"""Item 4: a database whose write lock another process holds gives one line naming the holder."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.conftest import S3Bucket
from tests.faults.conftest import assert_converged, courier, load_first_dump, one_line, tables


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    """What an ``sqlite3`` shell with an open write transaction does."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE runs SET message = message WHERE 0")
    return holder


def test_write_commands_name_the_holder_of_the_write_lock(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    document = tmp_path / "p.json"
    exported = json.loads(courier(cli_env, db, "export").stdout)
    exported["feeds"]["df-users02"] = {"source": "Heap", "name": "Users Copy", "primary-key": ["user_id"]}
    document.write_text(json.dumps(exported))
    busy = {"COURIER_BUSY_TIMEOUT": "0.2"}
    shell = (
        f"courier: The Courier database {db} is busy: another program holds its write lock (e.g. an sqlite3 "
        "shell with an open transaction); close it and retry"
    )

    holder = _hold_write_lock(db)
    try:
        results = [
            courier(cli_env, db, *args, **busy)
            for args in (("apply", str(document)), ("run", "Heap", "--all"), ("run", "Heap", "--all", "--json"))
        ]
        # The same, while a run (this test process, pretending) holds the lock.
        holder.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, pid) "
            "VALUES ('courier', 'Other', 'manual', 'all', 'Running', '2026-11-30T00:00:00Z', ?)",
            (os.getpid(),),
        )
        run_id = holder.execute("SELECT MAX(id) FROM runs").fetchone()[0]
        holder.execute("COMMIT")
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE runs SET message = message WHERE 0")
        by_run = courier(cli_env, db, "apply", str(document), **busy)
        readers = [courier(cli_env, db, "runs"), courier(cli_env, db, "tables")]
    finally:
        holder.execute("ROLLBACK")
    holder.execute("DELETE FROM runs WHERE id = ?", (run_id,))
    holder.close()

    assert [result.returncode for result in results] == [2, 2, 2]
    assert [one_line(result.stderr) for result in results] == [shell] * 3
    assert results[2].stdout == ""
    assert by_run.returncode == 2
    assert one_line(by_run.stderr) == (
        f'courier: The Courier database {db} is busy: run {run_id} (courier "Other", pid {os.getpid()}) is writing '
        f"to it; wait for it to commit and retry, or stop it with courier runs stop {run_id}"
    )
    assert [result.returncode for result in readers] == [0, 0]
    assert tables(db) == before
    assert courier(cli_env, db, "apply", str(document)).returncode == 0
    assert_converged(db, s3_bucket)


def test_group_runs_and_the_scheduler_name_the_holder_of_the_write_lock(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    exported = json.loads(courier(cli_env, db, "export").stdout)
    exported["courier-groups"] = {
        "Daily": {"schedule": "* * * * *", "timezone": "UTC", "enabled": True, "couriers": [{"courier": "Heap"}]}
    }
    document = tmp_path / "p.json"
    document.write_text(json.dumps(exported))
    assert courier(cli_env, db, "apply", str(document)).returncode == 0
    busy = {"COURIER_BUSY_TIMEOUT": "0.2"}
    shell = (
        f"courier: The Courier database {db} is busy: another program holds its write lock (e.g. an sqlite3 "
        "shell with an open transaction); close it and retry"
    )

    holder = _hold_write_lock(db)
    try:
        results = [
            courier(cli_env, db, *args, **busy)
            for args in (
                ("group", "run", "Daily", "--all"),
                ("group", "run", "Daily", "--all", "--json"),
                ("scheduler", "--once"),
            )
        ]
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert [(result.returncode, one_line(result.stderr)) for result in results] == [(2, shell)] * 3
    assert results[1].stdout == ""
    assert tables(db) == before
    assert courier(cli_env, db, "group", "run", "Daily", "--all").returncode == 0
