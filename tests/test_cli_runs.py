"""``courier run / runs / samples / tables / table`` as real subprocesses against the local S3 server."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.project import apply_document
from core.runs import get_run, list_landed_files, run_events
from core.store import Store
from core.tables import first_rows, list_domain_tables
from tests.conftest import (
    HEAP_TABLE_OF_FEED,
    TEST_ACCESS_KEY,
    TEST_REGION,
    TEST_SECRET_KEY,
    heap_document,
    heap_objects,
)
from tests.waiting import wait_for

COURIER = Path(sys.executable).with_name("courier")


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The subprocesses' environment: fake keys, no AWS config, no proxy, no default database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("AWS_", "COURIER_")) and name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    missing = tmp_path_factory.mktemp("cli-aws") / "absent"
    env.update(
        AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
        AWS_DEFAULT_REGION=TEST_REGION,
        AWS_CONFIG_FILE=str(missing / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(missing / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        BOTO_CONFIG=str(missing / "boto.cfg"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        COURIER_DB=str(missing / "never-used.db"),
        PYTHONUNBUFFERED="1",
    )
    return env


def courier(env: dict[str, str], db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COURIER), "--db", str(db), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


_buckets = iter(range(1, 1000))


def make_db(s3_server: str, s3_admin: Any, heap_data: Any, db: Path, **document: Any) -> str:
    """A bucket with the generated data and a database configured for it; returns the bucket name."""
    name = f"heap-rs3-cli-{os.getpid()}-{next(_buckets)}"
    s3_admin.create_bucket(Bucket=name)
    for key, body in heap_objects(heap_data, name).items():
        if key.startswith(("manifests/", "sync_")):
            s3_admin.put_object(Bucket=name, Key=key, Body=body)
    with Store(db) as store:
        apply_document(store, heap_document(s3_server, name, **document))
    return name


class Loaded:
    def __init__(self, db: Path, result: subprocess.CompletedProcess[str]) -> None:
        self.db = db
        self.result = result


@pytest.fixture(scope="module")
def loaded(
    s3_server: str, s3_admin: Any, heap_data: Any, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Loaded:
    db = tmp_path_factory.mktemp("cli") / "cli.db"
    make_db(s3_server, s3_admin, heap_data, db)
    return Loaded(db, courier(cli_env, db, "run", "Heap", "--all", "--json"))


def test_run_json_prints_one_object_with_status_and_counts(loaded: Loaded, heap_data: Any) -> None:
    assert loaded.result.returncode == 0, loaded.result.stderr
    assert loaded.result.stderr == ""
    report = json.loads(loaded.result.stdout)  # one JSON document, nothing else on stdout
    with Store(loaded.db) as store:
        run = get_run(store, report["id"])
    assert report["status"] == "Succeeded"
    assert report["target"] == "Heap" and report["kind"] == "courier" and report["trigger"] == "manual"
    # A heap-connect courier loads new dumps whatever --all says: the report never claims "all data".
    assert report["window"] == {"kind": "new dumps", "start": None, "end": None}
    assert report["rows_inserted"] == sum(heap_data.summary[t] for t in HEAP_TABLE_OF_FEED.values())
    assert (report["files"], report["rows_read"], report["rows_updated"], report["rows_rejected"]) == (
        run.files,
        run.rows_read,
        run.rows_updated,
        0,
    )
    assert report["files"] > 40 and report["rows_read"] > report["rows_inserted"]
    assert report["message"] is None


def test_runs_lists_the_run(loaded: Loaded, cli_env: dict[str, str]) -> None:
    result = courier(cli_env, loaded.db, "runs")

    assert result.returncode == 0, result.stderr
    with Store(loaded.db) as store:
        run = get_run(store, 1)
    assert result.stdout.splitlines() == [
        f"    1  Succeeded  courier Heap                  new Heap dumps                "
        f"{run.started_at[:19].replace('T', ' ')}  {run.rows_read:>10,} rows"
    ]


def test_runs_id_prints_the_log(loaded: Loaded, cli_env: dict[str, str]) -> None:
    result = courier(cli_env, loaded.db, "runs", "1")

    assert result.returncode == 0, result.stderr
    with Store(loaded.db) as store:
        run = get_run(store, 1)
        logged = run_events(store, 1)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Run 1: courier Heap, new Heap dumps, manual, started {run.started_at[:19].replace('T', ' ')} UTC"
    )
    assert lines[1:-1] == [f"{e.at[11:19]}   {e.stage}: {e.message}" for e in logged]
    assert lines[-1] == "Status: Succeeded"
    assert lines[-2].split("   ", 1)[1].startswith("Completed: Completed in 0 minutes ")


def test_samples_lists_landed_files_newest_first(loaded: Loaded, cli_env: dict[str, str]) -> None:
    result = courier(cli_env, loaded.db, "samples", "Heap")

    assert result.returncode == 0, result.stderr
    with Store(loaded.db) as store:
        files = list_landed_files(store, "Heap")
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    assert [line.split()[0] for line in lines] == [str(item.id) for item in files]
    assert [line.split()[-1] for line in lines] == [item.key for item in files]
    assert lines[0].split()[-1].startswith("sync_1020/users/")  # users load last, so they landed last


def test_tables_and_table(loaded: Loaded, cli_env: dict[str, str]) -> None:
    tables = courier(cli_env, loaded.db, "tables")
    table = courier(cli_env, loaded.db, "table", "Heap:Users", "--limit", "3", "--format", "csv")

    assert tables.returncode == 0 and table.returncode == 0, tables.stderr + table.stderr
    with Store(loaded.db) as store:
        known = list_domain_tables(store)
        columns, rows = first_rows(store, "Heap:Users", 3)
    assert [line.split("  ")[0].rstrip() for line in tables.stdout.splitlines()] == [t.name for t in known]
    for line, info in zip(tables.stdout.splitlines(), known):
        assert f" {info.rows:,} rows" in line and info.kind in line
    lines = list(csv.reader(io.StringIO(table.stdout)))
    assert lines[0] == columns
    assert lines[0][0] == "_pk" and "plan" in columns
    assert lines[1:] == [["" if value is None else str(value) for value in row] for row in rows]
    assert len(lines) == 4


def test_table_unknown_is_one_error_line(loaded: Loaded, cli_env: dict[str, str]) -> None:
    result = courier(cli_env, loaded.db, "table", "Heap:Nope")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'courier: There is no domain table "Heap:Nope" (tables: Heap:Checkout Complete Order, '
        "Heap:Order Confirmation, Heap:Pageviews, Heap:Sessions, Heap:User Migrations, Heap:Users)"
    ]


def test_a_failed_run_exits_1(
    s3_server: str, s3_admin: Any, heap_data: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "failed.db"
    make_db(
        s3_server,
        s3_admin,
        heap_data,
        db,
        feeds={},
        load_operations={"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
    )

    as_json = courier(cli_env, db, "run", "Heap", "--all", "--json")
    streamed = courier(cli_env, db, "run", "Heap", "--all")
    log = courier(cli_env, db, "runs", "2")

    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["status"] == "Failed"
    assert report["message"] == 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'
    assert report["files"] == 6
    assert streamed.returncode == 1
    lines = streamed.stdout.splitlines()
    assert lines[-3].endswith(" ! Loading data: Error running load-operations task")
    assert lines[-2].endswith(' ! Loading data: Cannot find required feeds: "df-xxxxxx"')
    assert lines[-1] == "Run 2 Failed: 6 files, 0 rows read, 0 inserted, 0 updated, 0 rejected"
    assert log.returncode == 1
    assert log.stdout.splitlines()[-1] == 'Status: Failed (Cannot find required feeds: "df-xxxxxx")'


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, cli_env: dict[str, str], s3_server: str, s3_admin: Any, heap_data: Any
) -> None:
    db = tmp_path / "bad.db"
    make_db(s3_server, s3_admin, heap_data, db)

    unknown = courier(cli_env, db, "run", "Nope", "--all")
    backwards = courier(cli_env, db, "run", "Heap", "--from", "2026-11-25", "--to", "2026-11-20")
    no_run = courier(cli_env, db, "runs", "99")

    assert (unknown.returncode, backwards.returncode, no_run.returncode) == (2, 2, 2)
    assert unknown.stderr.splitlines() == ['courier: There is no courier named "Nope" (couriers: Heap)']
    # Heap is a heap-connect courier: a period never applies to it, backwards or not.
    assert backwards.stderr.splitlines() == [
        'courier: "Heap" is a heap-connect courier: it loads every complete Heap dump newer than its tables\' '
        "cursors, not files by day; run it without --day/--from, or with --rebuild TABLE"
    ]
    assert no_run.stderr.splitlines() == ["courier: There is no run 99 (see courier runs)"]
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)


@pytest.fixture
def run_process() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; killed (by their own id) if the test fails half-way."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            process.kill()
            process.wait(timeout=10)


def _wait_for(condition: Any, timeout: float | None = None) -> None:
    wait_for(condition)


def test_runs_follow_follows_a_run_started_by_another_process(
    s3_server: str,
    s3_admin: Any,
    heap_data: Any,
    cli_env: dict[str, str],
    tmp_path: Path,
    run_process: list[subprocess.Popen[str]],
) -> None:
    db = tmp_path / "follow.db"
    make_db(s3_server, s3_admin, heap_data, db)
    runner = subprocess.Popen(
        [str(COURIER), "--db", str(db), "run", "Heap", "--all"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_process.append(runner)

    def running() -> bool:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT COUNT(*) FROM run_events WHERE run_id = 1").fetchone()[0] >= 2
        finally:
            conn.close()

    _wait_for(running)
    # Freeze the run so the follower provably starts while it is still going.
    runner.send_signal(signal.SIGSTOP)
    follower = subprocess.Popen(
        [str(COURIER), "--db", str(db), "runs", "1", "--follow"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_process.append(follower)
    # The follower prints the run's progress after its first read: it has read the run while it was frozen.
    assert follower.stdout is not None
    seen: list[str] = []
    while not seen or not seen[-1].startswith("Progress: "):
        line = follower.stdout.readline()
        assert line, "the follower ended while the run was still Running"
        seen.append(line)
    assert follower.poll() is None, "the follower ended while the run was still Running"
    with Store(db) as store:
        assert get_run(store, 1).status == "Running"
    runner.send_signal(signal.SIGCONT)

    rest, err = follower.communicate(timeout=60)
    out = "".join(seen) + rest
    runner_out, runner_err = runner.communicate(timeout=60)

    assert runner.returncode == 0, runner_err
    assert follower.returncode == 0, err
    with Store(db) as store:
        logged = run_events(store, 1)
    lines = out.splitlines()
    assert lines[0].startswith("Run 1: courier Heap, new Heap dumps, manual, started ")
    assert [line for line in lines[1:-1] if not line.startswith("Progress: ")] == [
        f"{e.at[11:19]}   {e.stage}: {e.message}" for e in logged
    ]
    assert lines[-1] == "Status: Succeeded"
    with Store(db) as store:
        final = get_run(store, 1)
    progress = [line for line in lines if line.startswith("Progress: ")]
    assert progress[-1] == (
        f"Progress: ended · {final.files} of {final.files} files landed · {final.files} of {final.files} files "
        f"loaded · {final.progress.units_planned} of {final.progress.units_planned} units · rows read "
        f"{final.rows_read:,}, inserted {final.rows_inserted:,}, updated {final.rows_updated:,}, rejected 0"
    )
    assert len(logged) > 50
    assert runner_out.splitlines()[-1].startswith("Run 1 Succeeded: ")


def test_run_prints_each_stored_event_once(
    s3_server: str, s3_admin: Any, heap_data: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "stream.db"
    make_db(s3_server, s3_admin, heap_data, db)

    result = courier(cli_env, db, "run", "Heap", "--all")

    assert result.returncode == 0, result.stderr
    with Store(db) as store:
        logged = run_events(store, 1)
        run = get_run(store, 1)
    lines = result.stdout.splitlines()
    assert lines[:-1] == [f"{e.at[11:19]} {' ' if e.level == 'info' else '~'} {e.stage}: {e.message}" for e in logged]
    assert lines[-1] == (
        f"Run 1 Succeeded: {run.files:,} files, {run.rows_read:,} rows read, "
        f"{run.rows_inserted:,} inserted, {run.rows_updated:,} updated, 0 rejected"
    )


def _events_at_least(db: Path, count: int) -> Any:
    def check() -> bool:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT COUNT(*) FROM run_events").fetchone()[0] >= count
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()

    return check


def test_ctrl_c_stops_the_run(
    s3_server: str,
    s3_admin: Any,
    heap_data: Any,
    cli_env: dict[str, str],
    tmp_path: Path,
    run_process: list[subprocess.Popen[str]],
) -> None:
    db = tmp_path / "sigint.db"
    make_db(s3_server, s3_admin, heap_data, db)
    runner = subprocess.Popen(
        [str(COURIER), "--db", str(db), "run", "Heap", "--all"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_process.append(runner)
    _wait_for(_events_at_least(db, 8))

    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=60)

    assert runner.returncode == 1
    assert err.splitlines() == ["courier: stopping after rolling back the file being loaded (again to abort)"]
    lines = out.splitlines()
    assert lines[-3].endswith(" ~ Stopping: Stop requested: rolling back the file being loaded")
    assert lines[-2].endswith(" ~ Stopped: Stopped by request; the file being loaded was rolled back")
    assert lines[-1].startswith("Run 1 Stopped: ")
    with Store(db) as store:
        assert get_run(store, 1).status == "Stopped"


def test_follow_reports_a_run_whose_process_was_killed(
    s3_server: str,
    s3_admin: Any,
    heap_data: Any,
    cli_env: dict[str, str],
    tmp_path: Path,
    run_process: list[subprocess.Popen[str]],
) -> None:
    db = tmp_path / "killed.db"
    make_db(s3_server, s3_admin, heap_data, db)
    runner = subprocess.Popen(
        [str(COURIER), "--db", str(db), "run", "Heap", "--all"],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_process.append(runner)  # type: ignore[arg-type]
    _wait_for(_events_at_least(db, 30))
    runner.kill()
    runner.wait(timeout=10)

    follow = courier(cli_env, db, "runs", "1", "--follow", timeout=30)
    rerun = courier(cli_env, db, "run", "Heap", "--all", "--json")

    assert follow.returncode == 1
    assert follow.stdout.splitlines()[-1] == (
        f"Status: Failed (Interrupted: the process running it (pid {runner.pid}) ended; nothing half-loaded was "
        "kept, run it again to resume)"
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["status"] == "Succeeded"
    conn = sqlite3.connect(db)
    try:
        counts = {
            name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'Heap:%'")
        }
    finally:
        conn.close()
    assert sorted(counts.values()) == sorted(heap_data.summary[t] for t in HEAP_TABLE_OF_FEED.values())


def test_heap_connect_runs_say_what_they_load(
    tmp_path: Path, cli_env: dict[str, str], s3_server: str, s3_admin: Any, heap_data: Any
) -> None:
    db = tmp_path / "heap.db"
    make_db(s3_server, s3_admin, heap_data, db)
    day = courier(cli_env, db, "run", "Heap", "--day", "2026-11-25")
    assert (day.returncode, day.stdout) == (2, "")
    assert day.stderr.startswith('courier: "Heap" is a heap-connect courier: it loads every complete Heap dump')
    loaded = courier(cli_env, db, "run", "Heap", "--json")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["window"] == {"kind": "new dumps", "start": None, "end": None}
    rebuilt = courier(cli_env, db, "run", "Heap", "--rebuild", "Heap:Users", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    assert report["window"] == {"kind": "rebuild", "start": None, "end": None, "table": "Heap:Users"}
    assert report["rows_inserted"] == heap_data.summary["users"]
    history = courier(cli_env, db, "runs").stdout.splitlines()
    assert [line[48:76].rstrip() for line in history] == ["rebuild Heap:Users", "new Heap dumps"]
    log = courier(cli_env, db, "runs", str(report["id"]))
    assert (
        "Courier run request: Run Heap for a rebuild of Heap:Users from its latest full Heap dump (manual)"
        in log.stdout
    )
    unknown = courier(cli_env, db, "run", "Heap", "--rebuild", "Heap:Nope")
    assert unknown.returncode == 2 and unknown.stderr.startswith(
        'courier: Courier "Heap" does not load a table named "Heap:Nope" (tables it can rebuild: '
    )
    assert len(unknown.stderr.splitlines()) == 1
    both = courier(cli_env, db, "run", "Heap", "--rebuild", "Heap:Users", "--all")
    assert (both.returncode, both.stderr) == (
        2,
        "courier: --rebuild reloads one table; it cannot be combined with --all\n",
    )


@pytest.mark.usefixtures("aws_env", "reworded_messages")
def test_runs_follow_prints_the_typed_progress_of_a_run_whose_messages_are_reworded(
    s3_server: str, s3_admin: Any, heap_data: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from core.runs import RunWindow, run_courier
    from tui import cli

    db = tmp_path / "reworded.db"
    make_db(s3_server, s3_admin, heap_data, db)
    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.append(run_courier(db, "Heap", RunWindow.new_dumps())))
    runner.start()
    try:
        wait_for(lambda: db.exists() and _has_run(db), "the run's row")
        assert cli.main(["--db", str(db), "runs", "1", "--follow"]) == 0
    finally:
        runner.join()
    final = results[0]
    assert final.status == "Succeeded", final.message
    out = capsys.readouterr().out.splitlines()
    assert all("worded differently" in line for line in out[1:-1] if not line.startswith("Progress: "))
    progress = [line for line in out if line.startswith("Progress: ")]
    units = final.progress.units_planned
    assert final.files > 1 and units >= 1
    assert progress[-1] == (
        f"Progress: ended · {final.files} of {final.files} files landed · {final.files} of {final.files} files "
        f"loaded · {units} of {units} units · rows read {final.rows_read:,}, inserted {final.rows_inserted:,}, "
        f"updated {final.rows_updated:,}, rejected 0"
    )


def _has_run(db: Path) -> bool:
    conn = sqlite3.connect(db)
    try:
        return bool(
            conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
            and conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        )
    finally:
        conn.close()
