"""The SQLite store: file mode, WAL, migrations, transactions, location."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

import core.store as store_module
from core.errors import CourierError
from core.store import MIGRATIONS, Store, default_db_path, open_store

EXPECTED_TABLES = {
    "schema_migrations",
    "credentials",
    "couriers",
    "entities",
    "load_operations",
    "feeds",
    "feed_fields",
    "courier_groups",
    "group_couriers",
    "runs",
    "run_events",
    "landed_files",
    "cursors",
    "domain_tables",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        }


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask 022", "umask 000"])
def test_new_database_file_is_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "courier.db"
    old = os.umask(umask)
    try:
        with Store(path) as store:
            store.execute("INSERT INTO credentials (name, type) VALUES ('a', 'aws-profile')")
    finally:
        os.umask(old)
    assert mode(path) == 0o600


def test_database_in_a_new_directory_is_private(tmp_path: Path) -> None:
    path = tmp_path / "not" / "there" / "yet" / "courier.db"
    with Store(path):
        pass
    assert path.exists()
    assert mode(path) == 0o600


def test_wal_and_shared_memory_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "courier.db"
    with Store(path) as store:
        store.execute("INSERT INTO credentials (name, type) VALUES ('a', 'aws-profile')")
        siblings = [p for p in tmp_path.iterdir() if p.name in ("courier.db-wal", "courier.db-shm")]
        assert siblings, "WAL mode keeps a -wal file while the database is open"
        for sibling in siblings:
            assert mode(sibling) == 0o600, sibling.name


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "courier.db"
    with Store(path) as store:
        assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is persistent: another process opening the file sees it too.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "courier.db"
    path.touch()
    assert path.stat().st_size == 0
    with Store(path) as store:
        versions = [row[0] for row in store.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [version for version, _, _ in MIGRATIONS]
        assert store.schema_version == MIGRATIONS[-1][0]
    assert EXPECTED_TABLES <= tables(path)


def test_migrations_are_numbered_in_order() -> None:
    versions = [version for version, _, _ in MIGRATIONS]
    # Each issue numbers its migration by the issue (gaps are fine): sorted and unique is the rule.
    assert versions == sorted(set(versions))
    assert all(name.strip() for _, name, _ in MIGRATIONS)


def test_configuration_tables_have_no_secret_columns(tmp_path: Path) -> None:
    with Store(tmp_path / "courier.db") as store:
        columns = {row[1] for row in store.execute("PRAGMA table_info(credentials)")}
    assert columns == {"name", "type", "role_arn", "external_id", "profile", "region", "endpoint_url"}


def test_reopening_does_not_rerun_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = (9999, "count openings", "CREATE TABLE IF NOT EXISTS probe (n INTEGER); INSERT INTO probe VALUES (1)")
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, counting])
    path = tmp_path / "courier.db"
    with Store(path) as store:
        first = store.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
    with Store(path) as store:
        assert store.execute("SELECT COUNT(*) FROM probe").fetchone()[0] == 1
        again = store.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        assert [tuple(row) for row in again] == [tuple(row) for row in first]
        assert store.schema_version == 9999


def test_new_migration_is_applied_to_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "courier.db"
    with Store(path) as store:
        store.execute("INSERT INTO credentials (name, type) VALUES ('kept', 'aws-profile')")
    monkeypatch.setattr(
        store_module,
        "MIGRATIONS",
        [*MIGRATIONS, (9999, "add a column", "ALTER TABLE credentials ADD COLUMN note TEXT")],
    )
    with Store(path) as store:
        assert store.schema_version == 9999  # above every real one (a second migration of issue N is 100·N+1)
        assert [tuple(r) for r in store.query("SELECT name, note FROM credentials")] == [("kept", None)]


def test_failed_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "courier.db"
    with Store(path):
        pass
    broken = (99, "broken", "CREATE TABLE half_done (a INTEGER); INSERT INTO no_such_table VALUES (1)")
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(CourierError):
        Store(path)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store(path) as store:
        assert store.schema_version == MIGRATIONS[-1][0]
    assert "half_done" not in tables(path)


def test_atomic_rolls_back_on_exception(tmp_path: Path) -> None:
    with Store(tmp_path / "courier.db") as store:
        with pytest.raises(RuntimeError, match="boom"):
            with store.atomic():
                store.execute("INSERT INTO credentials (name, type) VALUES ('a', 'aws-profile')")
                assert store.in_transaction
                raise RuntimeError("boom")
        assert not store.in_transaction
        assert store.execute("SELECT COUNT(*) FROM credentials").fetchone()[0] == 0
        # The connection is usable afterwards.
        with store.atomic():
            store.execute("INSERT INTO credentials (name, type) VALUES ('b', 'aws-profile')")
        assert [r[0] for r in store.execute("SELECT name FROM credentials")] == ["b"]


def test_atomic_commits_so_another_connection_sees_it(tmp_path: Path) -> None:
    path = tmp_path / "courier.db"
    with Store(path) as store:
        with store.atomic():
            store.execute("INSERT INTO credentials (name, type) VALUES ('a', 'aws-profile')")
            with sqlite3.connect(path) as other:
                assert other.execute("SELECT COUNT(*) FROM credentials").fetchone()[0] == 0
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT COUNT(*) FROM credentials").fetchone()[0] == 1


def test_nested_atomic_rolls_back_only_the_savepoint(tmp_path: Path) -> None:
    with Store(tmp_path / "courier.db") as store:
        with store.atomic():
            store.execute("INSERT INTO credentials (name, type) VALUES ('outer', 'aws-profile')")
            with pytest.raises(ValueError):
                with store.atomic():
                    store.execute("INSERT INTO credentials (name, type) VALUES ('inner', 'aws-profile')")
                    raise ValueError("inner fails")
            assert store.in_transaction
            with store.atomic():
                store.execute("INSERT INTO credentials (name, type) VALUES ('inner2', 'aws-profile')")
        names = sorted(r[0] for r in store.execute("SELECT name FROM credentials"))
        assert names == ["inner2", "outer"]


def test_exception_escaping_nested_atomic_rolls_back_everything(tmp_path: Path) -> None:
    with Store(tmp_path / "courier.db") as store:
        with pytest.raises(KeyError):
            with store.atomic():
                store.execute("INSERT INTO credentials (name, type) VALUES ('outer', 'aws-profile')")
                with store.atomic():
                    with store.atomic():
                        store.execute("INSERT INTO credentials (name, type) VALUES ('deep', 'aws-profile')")
                        raise KeyError("deep")
        assert store.execute("SELECT COUNT(*) FROM credentials").fetchone()[0] == 0
        assert not store.in_transaction


def test_courier_db_environment_variable_sets_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "env" / "from-env.db"
    monkeypatch.setenv("COURIER_DB", str(target))
    assert default_db_path() == target
    with open_store() as store:
        assert store.path == target
    assert target.exists()


def test_courier_db_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COURIER_DB", "~/c.db")
    assert default_db_path() == tmp_path / "c.db"


def test_default_path_is_in_the_user_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURIER_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    path = default_db_path()
    assert path.name == "courier.db"
    if sys.platform.startswith("linux"):
        assert path == tmp_path / "data" / "courier" / "courier.db"


def test_open_store_with_explicit_path_ignores_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "env.db"))
    with open_store(tmp_path / "explicit.db") as store:
        assert store.path == tmp_path / "explicit.db"
    assert not (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    "content",
    [b"this is not a database, just some text\n" * 100, b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text file", "damaged header"],
)
def test_corrupt_file_is_one_line_courier_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "courier.db"
    path.write_bytes(content)
    with pytest.raises(CourierError) as raised:
        Store(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"Cannot open the Courier database {path}: ")
    assert message.endswith("; pass --db PATH (or set COURIER_DB) to use another file")
    assert path.read_bytes() == content, "a file that is not ours is never modified"


def test_unwritable_location_is_one_line_courier_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CourierError) as raised:
        Store(blocker / "courier.db")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"Cannot create the Courier database {blocker / 'courier.db'}: ")


def test_query_rows_are_addressable_by_column(tmp_path: Path) -> None:
    with Store(tmp_path / "courier.db") as store:
        store.execute("INSERT INTO credentials (name, type, region) VALUES ('a', 'aws-profile', 'us-east-1')")
        (row,) = store.query("SELECT * FROM credentials")
        assert (row["name"], row["type"], row["region"]) == ("a", "aws-profile", "us-east-1")


def test_a_main_only_transaction_holds_mains_write_lock_and_reads_an_attached_database_when_first_read(
    tmp_path: Path,
) -> None:
    side = tmp_path / "side.db"
    with sqlite3.connect(side) as conn:
        conn.execute("CREATE TABLE rows (n)")
    conn.close()
    with Store(tmp_path / "courier.db") as store:
        store.conn.execute("ATTACH DATABASE ? AS side", (f"file:{side}?mode=ro",))
        with store.atomic(main_only=True):
            other = sqlite3.connect(tmp_path / "courier.db", timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("CREATE TABLE t (x)")
            other.close()
            # The attached database is not read yet: another writer may still add to it, and the
            # transaction then sees what was written.
            writer = sqlite3.connect(side, timeout=0)
            writer.execute("INSERT INTO rows VALUES (1)")
            writer.commit()
            writer.close()
            assert store.conn.execute("SELECT count(*) FROM side.rows").fetchone()[0] == 1
            # And reading columns of a main table opens no read transaction on it either.
            store.conn.execute("PRAGMA main.table_info(runs)").fetchall()
        store.conn.execute("DETACH DATABASE side")
