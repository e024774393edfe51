"""Sort indexes built on demand (issue 15): build, serve the sorted page, cancel, other writers wait for a
build, drop, and survive a full resync and a declared-type rebuild."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from core import engine
from core.browse import View, fetch_page, open_reader
from core.errors import CourierError, DatabaseBusyError, NotFoundError
from core.ingest import IngestHooks, apply_units
from core.project import apply_document
from core.sort_index import SortIndexStopped
from core.store import Store, index_build_marker, utc_now
from tests.conftest import S3Bucket
from tests.core.test_fastload import FEED, _load, _table, _units, parts  # noqa: F401 - parts is a fixture
from tests.core.test_retype import FIELDS, feed_with
from tests.core.test_values_runs import TABLE as THINGS
from tests.core.test_values_runs import avro, load

TABLE = "Heap:Pageviews"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """500 pageviews with a country (NULLs included) and a time, and the table's :resolved-like view."""
    path = tmp_path / "courier.db"
    with Store(path) as store, store.atomic():
        store.execute(f'CREATE TABLE "{TABLE}" (_pk NOT NULL, event_id INTEGER, time TEXT, country TEXT, _updated)')
        store.execute(f'CREATE UNIQUE INDEX "{TABLE}:_pk" ON "{TABLE}" (_pk)')
        store.conn.executemany(
            f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?)',
            [
                (n, n, f"2026-11-{20 + n % 7:02d}T{n % 24:02d}:00:00.000Z", [None, "US", "FR", "DE"][n % 4], "x")
                for n in range(1, 501)
            ],
        )
        store.execute(f'CREATE VIEW "{TABLE}:resolved" AS SELECT * FROM "{TABLE}"')
    return path


def plans(db: Path, view: View) -> list[str]:
    """SQLite's plan for every statement the first page of ``view`` runs."""
    conn = open_reader(db)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    fetch_page(conn, view, limit=50)
    conn.set_trace_callback(None)
    conn.close()
    plain = sqlite3.connect(db)
    try:
        pages = [sql for sql in statements if sql.startswith("SELECT *") and "ORDER BY" in sql]
        assert pages, statements
        return [" ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in pages]
    finally:
        plain.close()


def test_the_sorted_first_page_reads_the_index_once_it_is_built(db: Path) -> None:
    view = View(TABLE, sort="country")
    assert engine.sort_support(db, TABLE, "country") == engine.SortSupport(False, 500)
    assert all("TEMP B-TREE" in plan for plan in plans(db, view))  # a scan and a sort of the table
    before = fetch_page(open_reader(db), view, limit=50).rows
    seen: list[tuple[int, int]] = []
    built, new = engine.build_sort_index(db, TABLE, "country", progress=lambda done, total: seen.append((done, total)))
    assert new and (built.table, built.column, built.name) == (TABLE, "country", "courier-sort:Heap:Pageviews:country")
    assert seen and seen[-1][0] == seen[-1][1]  # progress ends at 100 %
    assert engine.sort_support(db, TABLE, "country").indexed is True
    for plan in plans(db, view) + plans(db, View(TABLE, sort="country", descending=True)):
        assert "USING INDEX courier-sort:Heap:Pageviews:country" in plan and "TEMP B-TREE" not in plan, plan
    assert fetch_page(open_reader(db), view, limit=50).rows == before  # the same rows, in the same order
    assert engine.sort_indexes(db) == [built]
    assert engine.build_sort_index(db, TABLE, "country") == (built, False)  # asking again builds nothing


def test_cancelling_or_running_out_of_time_leaves_nothing_built(db: Path) -> None:
    with pytest.raises(SortIndexStopped, match="cancelled; nothing was built"):
        engine.build_sort_index(db, TABLE, "time", should_stop=lambda: True)
    with Store(db) as store:
        from core.sort_index import build_sort_index

        with pytest.raises(SortIndexStopped, match="gave up after 0 s, its limit; nothing was built"):
            build_sort_index(store, TABLE, "time", seconds=0)
    assert engine.sort_indexes(db) == [] and engine.sort_support(db, TABLE, "time").indexed is False
    assert not index_build_marker(db).exists()


def test_a_running_run_or_a_busy_database_refuses_the_build(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURIER_BUSY_TIMEOUT", "0")
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(DatabaseBusyError, match="is busy: another program holds its write lock"):
        engine.build_sort_index(db, TABLE, "time")
    other.execute("ROLLBACK")
    with Store(db) as store:
        store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, pid) "
            "VALUES ('courier', 'Heap', 'manual', 'day', 'Running', ?, ?)",
            (utc_now(), os.getpid()),
        )
    with pytest.raises(DatabaseBusyError, match='run 1 \\(courier "Heap", pid .*\\) is loading into this database'):
        engine.build_sort_index(db, TABLE, "time")
    assert engine.sort_indexes(db) == []


def _bigger(db: Path) -> None:
    """20,500 rows, so that a build calls its progress handler (every ~100 rows) while it holds the lock."""
    with Store(db) as store, store.atomic():
        store.execute(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 40) "
            f'INSERT INTO "{TABLE}" SELECT _pk + 1000 * n, event_id, time, country, _updated FROM "{TABLE}", k'
        )


def test_another_writer_waits_for_a_build_past_its_busy_timeout_and_says_what_for(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build holds the lock as long as it takes; a Courier writer meeting it waits, then writes."""
    import threading

    from core.store import report_lock_waits
    from tests.waiting import wait_for

    _bigger(db)
    monkeypatch.setenv("COURIER_BUSY_TIMEOUT", "0.05")
    inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}
    reports: list[str] = []

    def held() -> bool:
        inside.set()
        release.wait()  # the build holds the write lock here until the writer has given up once
        return False

    def build() -> None:
        results["built"] = engine.build_sort_index(db, TABLE, "time", should_stop=held)

    def write() -> None:
        with Store(db) as writer:
            writer.execute("INSERT INTO recent_queries (sql, ran_at) VALUES ('SELECT 1', 'now')")
            with writer.atomic():
                writer.execute("INSERT INTO recent_queries (sql, ran_at) VALUES ('SELECT 2', 'now')")
        results["written"] = True

    report_lock_waits(lambda path, line: reports.append(line))
    builder = threading.Thread(target=build)
    writer = threading.Thread(target=write)
    try:
        builder.start()
        wait_for(inside.is_set, "the build to hold the write lock")
        writer.start()
        # Reported only once an attempt ran out its busy timeout with the build's marker alive.
        wait_for(lambda: reports, "the writer to say it waits for the build")
        assert writer.is_alive() and "written" not in results
    finally:
        release.set()
        builder.join()
        writer.join()
        report_lock_waits(None)
    assert reports[0].startswith("Courier is building the sort index on Heap:Pageviews (time) (pid")
    assert results["written"] is True and results["built"][1] is True  # type: ignore[index]
    assert [index.column for index in engine.sort_indexes(db)] == ["time"]
    assert not index_build_marker(db).exists()
    with Store(db) as store:
        assert [row[0] for row in store.query("SELECT sql FROM recent_queries ORDER BY sql")] == [
            "SELECT 1",
            "SELECT 2",
        ]


def test_a_marker_left_by_a_killed_build_blocks_no_one(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("COURIER_BUSY_TIMEOUT", "0")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    index_build_marker(db).write_text(f"{gone.stdout.strip()} on {TABLE} (time)", encoding="utf-8")
    # Another program holds the lock: the writer is told so at once, not kept waiting for a dead build.
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with Store(db) as writer, pytest.raises(DatabaseBusyError, match="another program holds its write lock"):
        writer.execute("INSERT INTO recent_queries (sql, ran_at) VALUES ('SELECT 1', 'now')")
    other.execute("ROLLBACK")
    other.close()
    # And a new build takes the stale marker over, builds, and leaves none.
    engine.build_sort_index(db, TABLE, "time")
    assert [index.column for index in engine.sort_indexes(db)] == ["time"] and not index_build_marker(db).exists()


def test_a_build_cancelled_while_a_writer_waits_leaves_nothing_and_the_writer_writes(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from tests.waiting import wait_for

    _bigger(db)
    monkeypatch.setenv("COURIER_BUSY_TIMEOUT", "0.05")
    inside, release = threading.Event(), threading.Event()
    errors: list[str] = []

    def cancel_when_released() -> bool:
        inside.set()
        release.wait()
        return True

    def build() -> None:
        try:
            engine.build_sort_index(db, TABLE, "time", should_stop=cancel_when_released)
        except SortIndexStopped as error:
            errors.append(str(error))

    builder = threading.Thread(target=build)
    builder.start()
    wait_for(inside.is_set, "the build to hold the write lock")
    with Store(db) as writer:
        waiting = threading.Thread(
            target=lambda: writer.execute("INSERT INTO recent_queries (sql, ran_at) VALUES ('SELECT 3', 'now')")
        )
        waiting.start()
        wait_for(lambda: writer.waiting_for, "the writer to wait for the build")
        release.set()
        builder.join()
        waiting.join()
        assert writer.query("SELECT sql FROM recent_queries")[0][0] == "SELECT 3"
    assert errors and "cancelled; nothing was built" in errors[0]
    assert engine.sort_indexes(db) == [] and not index_build_marker(db).exists()


def test_drop_and_bad_input_are_one_line(db: Path) -> None:
    engine.build_sort_index(db, TABLE, "country")
    assert engine.drop_sort_index(db, TABLE, "country").column == "country"
    assert engine.sort_indexes(db) == []
    with pytest.raises(NotFoundError, match="Heap:Pageviews has no sort index on country \\(sort indexes: none\\)"):
        engine.drop_sort_index(db, TABLE, "country")
    with pytest.raises(NotFoundError, match='There is no column "nope" in Heap:Pageviews \\(columns: _pk, event_id'):
        engine.build_sort_index(db, TABLE, "nope")
    with pytest.raises(NotFoundError, match='There is no domain table "Heap:Nope"'):
        engine.build_sort_index(db, "Heap:Nope", "time")
    with pytest.raises(CourierError, match="is a view and cannot be indexed; index its table"):
        engine.build_sort_index(db, f"{TABLE}:resolved", "time")
    with pytest.raises(CourierError, match="already in key order"):
        engine.build_sort_index(db, TABLE, "_pk")


def _index_names(db: Path, table: str) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # the index matches the rows
        return conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name LIKE 'courier-sort:%' ORDER BY 1"
        ).fetchall()
    finally:
        conn.close()


def test_a_full_resync_keeps_the_sort_indexes(parts: list[Path], tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "resync.db"
    _load(db, _units(parts[:1]))
    table = FEED.table_name
    engine.build_sort_index(db, table, "country")
    events: list[str] = []
    for round_ in range(2):  # twice: the second swap reuses the first name, freed by the first swap
        with Store(db) as store:
            apply_units(
                store,
                FEED,
                _units(parts, one_unit=True),
                IngestHooks(event=lambda stage, message, level, file: events.append(message)),
                parallel=False,
            )
        assert [index.column for index in engine.sort_indexes(db, table)] == ["country"]
        suffix = "~2" if round_ == 0 else ""
        assert _index_names(db, table) == [(f"courier-sort:{table}:country{suffix}", table)]
    assert f"Built sort index on country for the new {table}" in events
    fresh = tmp_path / "fresh.db"
    _load(fresh, _units(parts, one_unit=True))
    assert _table(db) == _table(fresh)
    assert "USING INDEX courier-sort" in plans(db, View(table, sort="country"))[0]


def test_a_declared_type_rebuild_keeps_the_sort_indexes(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    records = [{"id": str(n), "score": str(n * 7 % 5)} for n in range(1, 30)]
    db, summary = load(tmp_path, s3_bucket, [avro(FIELDS, records)])
    assert summary.status == "Succeeded", summary.message
    engine.build_sort_index(db, THINGS, "score")
    with Store(db) as store:
        result = apply_document(store, feed_with({"score": {"type": "Integer"}}))
    assert any("rebuilt domain table" in change for change in result.changes)
    assert _index_names(db, THINGS) == [(f"courier-sort:{THINGS}:score~2", THINGS)]
    page = fetch_page(open_reader(db), View(THINGS, sort="score"), limit=100)
    assert [row[page.columns.index("score")] for row in page.rows] == sorted(n * 7 % 5 for n in range(1, 30))


def test_a_later_sorted_page_seeks_the_index_to_its_key(db: Path) -> None:
    engine.build_sort_index(db, TABLE, "time")
    view = View(TABLE, sort="time")
    conn = open_reader(db)
    first = fetch_page(conn, view, limit=50)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    second = fetch_page(conn, view, after=first.last_key, limit=50)
    conn.set_trace_callback(None)
    page = next(sql for sql in statements if sql.startswith("SELECT *"))
    plain = sqlite3.connect(db)
    plan = " ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {page}"))
    plain.close()
    assert "SEARCH Heap:Pageviews USING INDEX courier-sort:Heap:Pageviews:time (time>?)" in plan, plan
    rows = conn.execute(f'SELECT * FROM "{TABLE}" ORDER BY time, _pk LIMIT 100').fetchall()
    assert first.rows + second.rows == [tuple(row) for row in rows]


def test_a_stop_while_the_resync_builds_its_indexes_leaves_the_old_table(
    parts: list[Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    from core.ingest import RunStopped

    db = tmp_path / "stopped.db"
    _load(db, _units(parts[:1]))
    table = FEED.table_name
    engine.build_sort_index(db, table, "country")
    before = _table(db)
    asked_after_last_file: list[bool] = []
    files_done: list[int] = []

    def should_stop() -> bool:
        if len(files_done) < len(parts):
            return False
        asked_after_last_file.append(True)
        # The first ask after the last file is the unit's own check; the next ones come from the index build.
        return len(asked_after_last_file) > 1

    hooks = IngestHooks(
        should_stop=should_stop,
        # After a file is loaded its progress says (its number, of how many, rows read).
        progress=lambda label, index, total, done, rows: files_done.append(index) if done else None,
    )
    with Store(db) as store, pytest.raises(RunStopped):
        apply_units(store, FEED, _units(parts, one_unit=True), hooks, parallel=False)
    assert len(asked_after_last_file) == 2  # stopped inside the build, at its first check
    assert _table(db) == before
    assert _index_names(db, table) == [(f"courier-sort:{table}:country", table)]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%~resync%'").fetchall() == []
    finally:
        conn.close()
