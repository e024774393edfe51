"""Helpers for the fault tests: small hand-made Heap buckets, the ``courier`` CLI as a subprocess, table snapshots.

Every fault test asserts four things: the exit code, the one-line message, that
the tables loaded before the fault are unchanged, and that a rerun without the
fault converges to the result of an uninterrupted run. Everything runs against
127.0.0.1 and waits on state (a run row, a pid, a file), never on a fixed sleep.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.heapgen import write_avro
from core.project import apply_document
from core.runner import run_courier
from core.store import Store
from core.vocab import RunStatus
from core.windows import RunWindow
from tests.conftest import TEST_REGION, S3Bucket
from tests.test_cli_runs import cli_env
from tests.waiting import wait_for

__all__ = ["cli_env", "wait_for"]

COURIER_BIN = Path(sys.executable).with_name("courier")
USER_SCHEMA = {
    "type": "record",
    "name": "users",
    "fields": [{"name": "user_id", "type": "long"}, {"name": "email", "type": ["null", "string"]}],
}
FEEDS = {"df-users01": {"source": "Heap", "name": "Users", "primary-key": ["user_id"]}}


def courier(
    env: dict[str, str], db: Path, *args: str, timeout: float = 120, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``courier --db DB ARGS`` to completion."""
    return subprocess.run(
        [str(COURIER_BIN), "--db", str(db), *args],
        env={**env, **extra_env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_courier(env: dict[str, str], db: Path, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Start ``courier --db DB ARGS`` in the background (its own session, so signals reach only it)."""
    return subprocess.Popen(
        [str(COURIER_BIN), "--db", str(db), *args],
        env={**env, **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[Any]]]:
    """Processes a test starts; killed by their own id if the test fails half-way."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def users(ids: range | list[int], tag: str = "") -> list[dict[str, Any]]:
    """User records ``{user_id, email}``."""
    return [{"user_id": n, "email": f"u{n}{tag}@example.com"} for n in ids]


def avro(records: list[dict[str, Any]]) -> bytes:
    """An Avro file of user records."""
    return write_avro(records, USER_SCHEMA, codec="null")


def put_dump(
    bucket: S3Bucket,
    dump_id: int,
    files: dict[str, bytes | None],
    *,
    incremental: bool = True,
    table: str = "users",
    manifest_files: list[str] | None = None,
    **manifest: Any,
) -> None:
    """Put a dump's files (``None`` = listed in the manifest but not uploaded) and its manifest."""
    for key, body in files.items():
        if body is not None:
            bucket.put(key, body)
    listed = manifest_files if manifest_files is not None else list(files)
    body = {
        "dump_id": dump_id,
        "tables": [
            {
                "name": table,
                "columns": ["user_id", "email"],
                "files": [f"s3://{bucket.name}/{key}" for key in listed],
                "incremental": incremental,
            }
        ],
        **manifest,
    }
    bucket.put(f"manifests/sync_{dump_id}.json", json.dumps(body).encode())


def configure(
    db: Path,
    bucket: S3Bucket,
    *,
    endpoint: str | None = None,
    feeds: dict[str, Any] | None = None,
    load_operations: dict[str, Any] | None = None,
    layout: str = "heap-connect",
    entities: list[dict[str, Any]] | None = None,
) -> None:
    """A credential for the local server, one courier ``Heap`` on ``bucket`` and its feeds."""
    courier_body: dict[str, Any] = {
        "credential": "local-s3",
        "bucket": bucket.name,
        "layout": layout,
        "load-operations": load_operations
        if load_operations is not None
        else {"df-users01": [{"type": "load", "file": "users"}]},
    }
    if entities is not None:
        courier_body["entities"] = entities
    document = {
        "credentials": {
            "local-s3": {"type": "iam-credential", "endpoint-url": endpoint or bucket.endpoint, "region": TEST_REGION}
        },
        "feeds": FEEDS if feeds is None else feeds,
        "couriers": {"Heap": courier_body},
    }
    with Store(db) as store:
        apply_document(store, document)


def tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every domain table's rows in key order (``<source>:<feed>`` tables only)."""
    conn = sqlite3.connect(db)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%:%' ORDER BY name"
            )
        ]
        return {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY _pk').fetchall() for name in names}
    finally:
        conn.close()


def run_row(db: Path, run_id: int) -> dict[str, Any] | None:
    """A run's row, or None while it does not exist (or the file is being created)."""
    try:
        conn = sqlite3.connect(db, timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return dict(row) if row else None


def one_line(stream: str) -> str:
    """The only line of ``stream``; fails when there are more (or none)."""
    lines = stream.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def user_ids(db: Path, table: str = "Heap:Users") -> list[Any]:
    """The ``user_id`` values of a table, in key order."""
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute(f'SELECT user_id FROM "{table}" ORDER BY _pk')]
    finally:
        conn.close()


def run_heap(db: Path) -> None:
    """Load every dump of the "Heap" courier into ``db`` in this process; check it ended as ``courier run``
    exits 0 (Succeeded, or Warning).

    The faults under test happen in ``courier`` processes of their own; the runs before and after
    a fault only set the scene and check convergence, so they skip a Python start-up each.
    """
    summary = run_courier(db, "Heap", RunWindow.all())
    assert summary.status in (RunStatus.SUCCEEDED, RunStatus.WARNING), summary.message


def assert_converged(db: Path, bucket: S3Bucket, **configuration: Any) -> None:
    """Rerun ``db`` without the fault and check its tables equal those of a fresh, uninterrupted run."""
    run_heap(db)
    fresh = db.with_name(db.stem + "-uninterrupted.db")
    configure(fresh, bucket, **configuration)
    run_heap(fresh)
    assert tables(db) == tables(fresh)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung S3 endpoint)."""

    def __init__(self) -> None:
        import socket
        import threading

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.endpoint = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections: list[Any] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        """Stop accepting and drop every held connection."""
        self._socket.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A hung S3 endpoint on 127.0.0.1."""
    server = SilentServer()
    yield server
    server.close()


def load_first_dump(db: Path, bucket: S3Bucket) -> dict[str, list[tuple[Any, ...]]]:
    """Configure ``db`` for ``bucket``, load a first full dump of users 1–3, and return the tables (the "before")."""
    configure(db, bucket)
    put_dump(bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)
    run_heap(db)
    return tables(db)
