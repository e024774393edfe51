"""Does ``courier apply`` succeed while a 1M-row full resync is loading? (issue 10, item 4)

A run stages each unit's files outside the database (decoding, conversions,
rejected rows) and only then opens its write transaction for the set-based
upsert, so the write lock is held for a fraction of the run. This script
measures that on real files through the local S3 server:

1. load dump 1 (a full resync of ``--rows`` pageviews in ``--parts`` parts);
2. start ``courier run`` on dump 2 (the same rows again, also a full resync)
   in another process;
3. the moment that run holds the write lock, start ``courier apply`` of a
   small change and time it.

It prints how long the run held the lock, how long ``apply`` waited and whether
it succeeded (Courier waits for the lock up to ``COURIER_BUSY_TIMEOUT``, 15 s
by default). Nothing is asserted: it is a measurement, like ``bench/ingest.py``.

Usage: ``python bench/apply_during_resync.py [--rows N] [--parts N] [--data DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import DUMP_ID, _serve, courier_s3, generate, put_dump  # noqa: E402

COURIER = Path(sys.executable).with_name("courier")


def lock_held(db: Path) -> bool:
    """True while another connection holds the write lock (a zero-wait BEGIN IMMEDIATE fails)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--data", default="", help="keep generated files here and reuse them")
    args = parser.parse_args()
    # Dummy credentials for the local S3 server only; never a real account's.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        NO_PROXY="127.0.0.1",
    )

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="courier-bench-"))
    paths = generate(data, args.rows, args.parts)
    server, endpoint = _serve(paths)
    work = Path(tempfile.mkdtemp(prefix="courier-apply-"))
    db = work / "bench.db"
    env = {**os.environ, "COURIER_DB": str(db)}
    try:
        loaded = courier_s3(endpoint, str(db))
        # Dump 2: the same rows again, as another full resync.
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        put_dump(client, paths, DUMP_ID + 1)
        document = work / "change.json"
        document.write_text(
            json.dumps(
                {"feeds": {"df-benchp2": {"source": "Bench", "name": "Pageviews Copy", "primary-key": ["event_id"]}}}
            )
        )

        started = time.monotonic()
        run = subprocess.Popen(
            [str(COURIER), "run", "Bench", "--all"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # Short writes (the run row, log events) take the lock for milliseconds; the unit's
        # transaction is the first hold that lasts 0.3 s.
        locked_at: float | None = None
        held_since: float | None = None
        while run.poll() is None and locked_at is None:
            now = time.monotonic()
            if lock_held(db):
                held_since = held_since or now
                if now - held_since >= 0.3:
                    locked_at = held_since
            else:
                held_since = None
            time.sleep(0.005)  # a benchmark's polling interval, not a test's wait
        if locked_at is None:
            raise SystemExit("the run ended before it held the write lock for 0.3 s")
        asked = time.monotonic()
        applied = subprocess.run([str(COURIER), "apply", str(document)], env=env, capture_output=True, text=True)
        applied_at = time.monotonic()
        released_at = applied_at
        while run.poll() is None and lock_held(db):
            time.sleep(0.005)
            released_at = time.monotonic()
        _, run_err = run.communicate()
        finished = time.monotonic()
    finally:
        server.stop()

    load = os.getloadavg()[0]
    print(f"rows per dump          {loaded:,} in {args.parts} parts (load average {load:.1f}, {os.cpu_count()} cores)")
    print(
        f"resync run             {finished - started:6.1f} s, exit {run.returncode}"
        + (f" ({run_err.strip()})" if run.returncode else "")
    )
    print(
        f"apply took             {applied_at - asked:6.1f} s, exit {applied.returncode}"
        + (f" ({applied.stderr.strip()})" if applied.returncode else "")
    )
    print(
        f"run's unit transaction {locked_at - started:6.1f} s → {released_at - started:.1f} s after the run "
        f"started (apply was started {asked - locked_at:.1f} s into it)"
    )


if __name__ == "__main__":
    main()
