"""Item 7: a stop is never lost: SIGHUP stops ``courier run`` cleanly; a late stop is reported, never hidden."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from core.runs import RunEvent, RunWindow, request_stop, run_courier, run_events
from core.store import Store
from tests.conftest import S3Bucket
from tests.faults.conftest import (
    SilentServer,
    assert_converged,
    avro,
    configure,
    load_first_dump,
    put_dump,
    run_row,
    start_courier,
    tables,
    users,
    wait_for,
)


def test_sighup_stops_courier_run_cleanly(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path, silent_server: SilentServer, processes: list
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    configure(db, s3_bucket, endpoint=silent_server.endpoint)
    runner = start_courier(
        cli_env, db, "run", "Heap", "--all", COURIER_S3_READ_TIMEOUT="0.5", COURIER_S3_MAX_ATTEMPTS="200"
    )
    processes.append(runner)
    wait_for(
        lambda: (run_row(db, 2) or {}).get("status") == "Running" and silent_server.connections,
        what="the run to wait on S3",
    )

    runner.send_signal(signal.SIGHUP)  # the SSH session closed
    out, err = runner.communicate(timeout=120)

    assert runner.returncode == 1
    assert err == ""  # the terminal is gone: nothing more is written to it
    row = run_row(db, 2)
    assert row is not None and row["status"] == "Stopped"
    assert row["message"] == "Stopped by request; the file being loaded was rolled back"
    with Store(db) as store:
        assert [e.stage for e in run_events(store, 2)][-2:] == ["Stopping", "Stopped"]
    assert tables(db) == before
    configure(db, s3_bucket)
    assert_converged(db, s3_bucket)


def test_a_stop_that_arrives_as_the_last_unit_commits_is_reported(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)

    def listener(event: Any) -> None:
        if isinstance(event, RunEvent) and event.stage == "Committing domain transactions":
            request_stop(db, event.run_id)  # while the last unit's transaction is still open

    summary = run_courier(db, "Heap", RunWindow.all(), listener=listener)

    assert summary.status == "Succeeded"
    with Store(db) as store:
        events = run_events(store, summary.id)
    assert events[-2].message.startswith("Completed in ")
    assert events[-1].stage == "Completed" and events[-1].level == "warning"
    assert events[-1].message == "The run finished before the stop took effect; everything it loaded is kept"
    assert "Stopping" not in [e.stage for e in events]
    assert (run_row(db, summary.id) or {})["status"] == "Succeeded"
