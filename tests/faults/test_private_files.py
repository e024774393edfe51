"""Item 3: landed files, the database and exports are private; the cache has a pruning policy."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from core.browse import View, export_csv, open_reader
from core.store import Store
from tests.conftest import S3Bucket
from tests.faults.conftest import assert_converged, avro, configure, courier, put_dump, tables, users


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_landed_files_are_private_whatever_the_umask(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)
    previous = os.umask(0o022)
    try:
        result = courier(cli_env, db, "run", "Heap", "--all")
    finally:
        os.umask(previous)

    assert result.returncode == 0, result.stderr
    landing = tmp_path / "c-landing"
    folders = [landing, *(p for p in landing.rglob("*") if p.is_dir())]
    files = [p for p in landing.rglob("*") if p.is_file()]
    assert files and {_mode(p) for p in folders} == {0o700} and {_mode(p) for p in files} == {0o600}
    assert _mode(db) == 0o600


def test_a_loose_database_and_cache_are_tightened_on_open(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(db).close()
    landing = tmp_path / "c-landing"
    (landing / "Heap").mkdir(parents=True)
    os.chmod(db, 0o644)
    os.chmod(landing, 0o755)

    Store(db).close()

    assert (_mode(db), _mode(landing)) == (0o600, 0o700)


def test_csv_exports_are_private(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        store.execute('CREATE TABLE "Heap:Users" (_pk, user_id, _updated)')
        store.execute('INSERT INTO "Heap:Users" VALUES (1, 1, NULL)')
    previous = os.umask(0o022)
    try:
        written = export_csv(open_reader(db), View("Heap:Users"), tmp_path / "users.csv")
    finally:
        os.umask(previous)

    assert written == 1
    assert _mode(tmp_path / "users.csv") == 0o600


def test_cache_shows_sizes_and_prunes_only_what_nothing_needs(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)
    put_dump(s3_bucket, 2, {"sync_2/users/part-00000-a-c000.avro": avro(users([4]))})
    assert courier(cli_env, db, "run", "Heap", "--all").returncode == 0
    before = tables(db)
    stray = tmp_path / "c-landing" / "Heap" / "gone" / "old.avro.part"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a killed download")

    shown = courier(cli_env, db, "cache")
    pruned = courier(cli_env, db, "cache", "--prune")

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"Landing cache {tmp_path / 'c-landing'} (private: 0700 folders, 0600 files")
    assert lines[1].split()[:3] == ["Heap", "2", "files"]
    # sync_1's file is neither the newest users file nor in the dump the cursor stands in; the stray goes too.
    assert lines[1].endswith("1 not needed (" + lines[1].rsplit("(", 1)[1])
    assert lines[-1].startswith("Prunable (courier cache --prune): 2 files, ")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.splitlines()[-1].startswith("Pruned: 2 files, ")
    remaining = sorted(p.name for p in (tmp_path / "c-landing").rglob("*.avro"))
    assert remaining == ["part-00000-a-c000.avro"]
    keys = [row[0] for row in sqlite3.connect(db).execute("SELECT key FROM landed_files")]
    assert keys == ["sync_2/users/part-00000-a-c000.avro"]
    assert tables(db) == before
    assert courier(cli_env, db, "samples", "Heap").returncode == 0
    assert_converged(db, s3_bucket)


def test_cache_prune_refuses_while_a_run_is_running(tmp_path: Path, cli_env: dict[str, str]) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, pid) "
            "VALUES ('courier', 'Heap', 'manual', 'all', 'Running', '2026-11-30T00:00:00Z', ?)",
            (os.getpid(),),
        )

    result = courier(cli_env, db, "cache", "--prune")

    assert result.returncode == 2
    assert result.stderr == (
        "courier: Run 1 is running and may be reading landed files: prune the cache when no run is running\n"
    )
