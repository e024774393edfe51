"""Ingest benchmark: Courier's load against the machine's limits, measured in the same run.

Generates a Heap pageviews dump of N rows as Snappy Avro part files (Heap's
format; reused from ``--data`` when already there), then measures on the same files:

- fastavro decode-only rows/s (every record, nothing else);
- the columnar decoder decode-only (polars over chunks of blocks, as Courier reads them);
- the SQLite upsert ceiling: ready tuples (decoded beforehand, untimed) through the
  standard ``sqlite3`` module's ``executemany`` of Courier's own ``INSERT … ON CONFLICT
  DO UPDATE`` (same ``_updated`` rule) into a WAL table with the same key, one transaction;
- Courier from the landed files (``apply_units``: decode, upsert, cursor, commit);
- Courier end to end through a local S3 server (moto, started here): a real
  ``run_courier`` with listing, download, decode, upsert, cursor and commit;
- with ``--incremental N``: an incremental part of N rows (half updates, half new)
  upserted into the table just loaded, by Courier and by the ceiling (with
  ``--incremental-repeats K``, K times per round, each into fresh copies of both tables);
- with ``--baseline-courier DIR``: an older checkout of Courier (say, a ``git worktree`` of
  the commit before a change) end to end through the same S3 server, in every round: a
  before/after of Courier's own speed and CPU per row on the same host at the same moments;
- with ``--peers-python PY``: tap-heap's extraction to /dev/null, dlt's merge into
  SQLite and pandas ``to_sql`` on the same files, run by an interpreter that has them
  (they are not Courier's dependencies).

Every figure is rows/s and a ratio to the ceiling, with the CPU-µs per row of the
whole process tree (user + system of the measuring process, its threads and the
children it reaped, less the memory sampler's own thread) and its ratio to the
ceiling's CPU-µs per row in the same run, and the peak RSS sampled
every 20 ms and summed over the process and all its descendants, and the 1-minute
load average when the measurement started.
Each measurement runs in its own subprocess, so its memory figures are its own.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--parts 10] [--data DIR]
        [--incremental 100000 [--incremental-repeats 4]] [--rounds 3] [--baseline-courier DIR]
        [--peers-python /path/to/python] [--peer-parts 1] [--readme]

With ``--rounds N`` the ceiling and Courier's loads are measured N times, interleaved,
and each row of the table is the median run, except a load's × ceiling and CPU ÷ ceiling's,
which are the medians of its ratios to its own round's ceiling; the stamp gives their
range. The host is shared, and its speed drifts by a fifth within minutes, so a single
round's ratios move by ±0.2.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_ENV = "COURIER_BENCH_BASELINE"
"""Set in a child measuring ``--baseline-courier``: the checkout whose ``core`` that child imports."""
sys.path.insert(0, os.environ.get(BASELINE_ENV) or str(ROOT))
BUCKET = "heap-bench"
DUMP_ID = 5000
README_START = "<!-- bench/ingest.py table: start -->"
README_END = "<!-- bench/ingest.py table: end -->"


# --- data -----------------------------------------------------------------------------------


def generate(directory: Path, rows: int, parts: int) -> list[Path]:
    """Write (or reuse) the dump's part files: Snappy Avro with Heap's pageviews columns."""
    from core.heapgen import PAGEVIEW_COLUMNS, heap_schema, pageview_records, write_avro

    folder = directory / f"pageviews-{rows}-{parts}" / f"sync_{DUMP_ID}" / "pageviews"
    done = folder / "complete"
    if done.exists():
        return sorted(folder.glob("part-*.avro"))
    folder.mkdir(parents=True, exist_ok=True)
    schema = heap_schema("pageviews", PAGEVIEW_COLUMNS)
    records = pageview_records(rows, seed=11)
    per_part = -(-rows // parts)
    paths = []
    for number in range(parts):
        chunk = [record for _, record in zip(range(per_part), records)]
        if not chunk:
            break
        path = folder / f"part-{number:05d}-bench-c000.avro"
        path.write_bytes(write_avro(chunk, schema, codec="snappy"))
        paths.append(path)
    done.write_text("")
    return paths


def generate_incremental(directory: Path, rows: int, existing: int) -> Path:
    """One incremental part: ``rows // 2`` updates of existing event ids, the rest new ones."""
    from core.heapgen import PAGEVIEW_COLUMNS, heap_schema, pageview_records, write_avro

    path = (
        directory
        / f"incremental-{rows}-into-{existing}"
        / f"sync_{DUMP_ID + 1}"
        / "pageviews"
        / "part-00000-bench-c000.avro"
    )
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    updates = list(pageview_records(rows // 2, seed=12, start_event_id=max(1, existing // 3)))
    new = list(pageview_records(rows - rows // 2, seed=13, start_event_id=existing + 1))
    path.write_bytes(write_avro(updates + new, heap_schema("pageviews", PAGEVIEW_COLUMNS), codec="snappy"))
    return path


# --- measuring --------------------------------------------------------------------------------


class _TreeSampler:
    """Samples the summed RSS of this process and all its descendants every 20 ms.

    The sampler is the instrument, not the work: when it scanned every process's ``stat`` every
    20 ms, its own thread clock showed 1.7 CPU-µs per row of a 10-second load, 12% of what was
    reported as Courier's (perf agreed). It runs as a thread of the measured process, so
    :meth:`cpu_seconds` gives its own CPU time, which :func:`measure` takes out of the process's;
    walking each thread's ``children`` file brought it to about 0.3 µs per row.
    """

    def __init__(self) -> None:
        if not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
            raise SystemExit("bench/ingest.py samples memory from /proc/PID/task/TID/children, which this kernel lacks")
        self.peak_mb = 0.0
        self.peak_helpers_mb = 0.0
        self._done = threading.Event()
        self._started = threading.Event()
        self._clock: int | None = None
        self._spent = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeSampler:
        self._thread.start()
        self._started.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def cpu_seconds(self) -> float:
        """The sampler thread's CPU time so far (user + system), in seconds."""
        if self._thread.is_alive() and self._clock is not None:
            return time.clock_gettime(self._clock)
        return self._spent

    def _run(self) -> None:
        me = os.getpid()
        self._clock = time.pthread_getcpuclockid(threading.get_ident())
        self._started.set()
        try:
            self._sample(me)
        finally:
            self._spent = time.thread_time()

    def _sample(self, me: int) -> None:
        while True:
            helpers = _descendants(me)
            own = _rss_kb(me)
            others = sum(_rss_kb(pid) for pid in helpers)
            self.peak_mb = max(self.peak_mb, (own + others) / 1024)
            self.peak_helpers_mb = max(self.peak_helpers_mb, others / 1024)
            if self._done.wait(0.02):
                return


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _descendants(root: int) -> list[int]:
    """The pids below ``root``, from each thread's ``children`` file (no scan of every process)."""
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as handle:
                    children = [int(pid) for pid in handle.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(children)
            frontier.extend(children)
    return found


def _own_high_water_mb() -> float:
    """This process's own peak RSS (``VmHWM``), in MB.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across ``fork`` and ``exec``
    into it, so a child spawned by a parent that had just generated 1M rows reported the
    parent's 327 MB as its own. ``VmHWM`` belongs to the memory map, which ``exec`` replaces.
    """
    with open("/proc/self/status") as handle:
        found = re.search(r"^VmHWM:\s+(\d+) kB", handle.read(), re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


def measure(work: Callable[[], int | dict[str, int]], warm: tuple[str, ...] = ()) -> dict[str, float]:
    """Run ``work`` and take its figures.

    ``work`` returns the rows it handled, or a dict with ``rows`` and what it did with them
    (``inserted``, ``updated``, ``rejected``), which the parent checks against the ceiling's.
    ``warm`` names modules imported before the clock starts: importing polars or boto3
    is a one-off cost of a process, not of a row. Peak RSS is the larger of the sampled sum
    over the process tree and the kernel's own high-water mark of this process, which a
    sampler every 20 ms could miss (``VmHWM``, see :func:`_own_high_water_mb`).
    """
    import importlib
    import importlib.util

    for name in warm:
        if os.environ.get(BASELINE_ENV) and (name not in _BASELINE_WARM or importlib.util.find_spec(name) is None):
            # An older checkout may lack today's modules, and importing a library it never uses (polars,
            # ADBC) would add that library's memory to its peak RSS: it imports what it needs itself.
            continue
        importlib.import_module(name)
    load = os.getloadavg()[0]
    with _TreeSampler() as sampler:
        cpu, sampled = _cpu_seconds(), sampler.cpu_seconds()
        started = time.perf_counter()
        done = work()
        seconds = time.perf_counter() - started
        sampled = sampler.cpu_seconds() - sampled
        cpu = _cpu_seconds() - cpu - sampled  # the sampler's thread is in RUSAGE_SELF, and is not the work
    counts = {"rows": done} if isinstance(done, int) else done
    rows = counts["rows"]
    return {
        **counts,
        "seconds": seconds,
        "cpu_us_per_row": cpu * 1e6 / max(rows, 1),
        "sampler_cpu_us_per_row": sampled * 1e6 / max(rows, 1),
        "peak_rss_mb": max(sampler.peak_mb, _own_high_water_mb()),
        "helpers_rss_mb": sampler.peak_helpers_mb,
        "load": load,
    }


# --- the measurements (each runs in a child process) ---------------------------------------------


def fastavro_only(paths: list[str]) -> int:
    """Read every record with fastavro and nothing else."""
    import fastavro

    count = 0
    for path in paths:
        with open(path, "rb") as handle:
            for _ in fastavro.reader(handle):
                count += 1
    return count


def columnar_only(paths: list[str]) -> int:
    """Decode every chunk of blocks with polars, as Courier's stager does, and nothing else."""
    import io

    import polars as pl

    from core.fastload import iter_block_chunks

    count = 0
    for path in paths:
        for _, piece in iter_block_chunks(path):
            count += pl.read_avro(io.BytesIO(piece)).height
    return count


def _feed() -> Any:
    from core.models import Feed

    return Feed(id="df-benchpv", source="Bench", name="Pageviews", primary_key=("event_id",))


def ceiling(paths: list[str], db: str, first_part: int = 0) -> dict[str, float]:
    """SQLite's own speed: ready tuples through ``executemany`` of Courier's upsert, one transaction.

    The tuples are exactly what Courier stores (the exact decoding path, with the same
    order keys as :func:`courier_landed`, so an incremental part's updates win there too),
    made per part before the clock runs for that part; only the upserts and the commit are timed.
    The connection has the page cache Courier's writer loads with (``WRITER_CACHE_KIB``), so the
    ceiling is SQLite's speed with the same settings, not with a smaller cache.
    """
    from core.decode import DecodeJob, FileStarted, RowsDecoded, decode_file
    from core.ingest import WRITER_CACHE_KIB, decode_spec
    from core.load import TableWriter
    from core.store import Store

    store = Store(db)
    store.conn.execute(f"PRAGMA cache_size = {-WRITER_CACHE_KIB}")
    writer = TableWriter(store, _feed().table_name)
    spec = decode_spec(_feed())
    timed = 0.0
    cpu = 0.0
    rows = inserted = updated = rejected = 0
    load = os.getloadavg()[0]
    with _TreeSampler() as sampler:
        store.conn.execute("BEGIN IMMEDIATE")
        for index, path in enumerate(paths):
            ready: list[tuple[Any, ...]] = []
            columns: list[str] = []
            order_key = f"heap:{DUMP_ID + first_part:015d}:{index:09d}"
            for event in decode_file(index, DecodeJob(path, "application/avro", order_key, path), spec):
                if isinstance(event, FileStarted):
                    columns = writer.prepare(event.columns, event.types)
                elif isinstance(event, RowsDecoded):
                    ready.extend(event.rows)
                    rejected += len(event.rejects)
            gc.collect()  # a collection over the ready tuples belongs to their making, not to SQLite's time
            cpu -= _cpu_seconds() - sampler.cpu_seconds()
            started = time.perf_counter()
            added, changed = writer.upsert(columns, ready)
            if index == len(paths) - 1:
                store.conn.execute("COMMIT")
            timed += time.perf_counter() - started
            cpu += _cpu_seconds() - sampler.cpu_seconds()
            rows += len(ready)
            inserted += added
            updated += changed
            del ready
    store.close()
    return {
        "rows": rows,
        "inserted": inserted,
        "updated": updated,
        "rejected": rejected,
        "seconds": timed,
        "cpu_us_per_row": cpu * 1e6 / max(rows, 1),
        "peak_rss_mb": sampler.peak_mb,
        "helpers_rss_mb": 0.0,
        "load": load,
    }


def courier_landed(paths: list[str], db: str, first_part: int = 0) -> dict[str, int]:
    """Courier's load of landed part files into ``Bench:Pageviews``, one unit (and cursor) per part."""
    from core.decode import DecodeJob
    from core.ingest import IngestHooks, LoadUnit, UnitFile, apply_units
    from core.store import Store

    store = Store(db)
    units = [
        LoadUnit(
            files=[
                UnitFile(
                    job=DecodeJob(
                        path, "application/avro", f"heap:{DUMP_ID + first_part:015d}:{index:09d}", Path(path).name
                    ),
                    dump_id=DUMP_ID + first_part,
                    part=index,
                    key=path,
                    last_in_dump=index == len(paths) - 1,
                )
            ],
            cursor_courier="bench",
            source_table="pageviews",
        )
        for index, path in enumerate(paths)
    ]
    counts = apply_units(store, _feed(), units, IngestHooks())
    store.close()
    return _counts(counts)


def _counts(counts: Any) -> dict[str, int]:
    """What a load did with its rows, for the parent to check against the ceiling's (same files, same work)."""
    return {
        "rows": counts.rows_read,
        "inserted": counts.rows_inserted,
        "updated": counts.rows_updated,
        "rejected": counts.rows_rejected,
    }


def courier_s3(endpoint: str, db: str) -> dict[str, int]:
    """A real courier run against the local S3 server: list, download, decode, upsert, cursor, commit."""
    from core.project import apply_document
    from core.runs import RunWindow, run_courier
    from core.store import Store

    document = {
        "credentials": {"bench-s3": {"type": "iam-credential", "endpoint-url": endpoint, "region": "us-east-1"}},
        "feeds": {"df-benchpv": {"source": "Bench", "name": "Pageviews", "primary-key": ["event_id"]}},
        "couriers": {
            "Bench": {
                "credential": "bench-s3",
                "bucket": BUCKET,
                "layout": "heap-connect",
                "load-operations": {"df-benchpv": [{"type": "load", "file": "pageviews"}]},
            }
        },
    }
    with Store(db) as store:
        apply_document(store, document)
    summary = run_courier(db, "Bench", RunWindow.all())
    if summary.status != "Succeeded":
        raise RuntimeError(f"the benchmark run ended {summary.status}: {summary.message}")
    return _counts(summary)


def put_dump(client: Any, paths: list[Path], dump_id: int) -> None:
    """Upload part files as Heap dump ``dump_id`` of the pageviews table (a full resync) with its manifest."""
    from core.heapgen import PAGEVIEW_COLUMNS

    keys = []
    for path in paths:
        key = f"sync_{dump_id}/pageviews/{path.name}"
        client.upload_file(str(path), BUCKET, key)
        keys.append(key)
    manifest = {
        "dump_id": dump_id,
        "tables": [
            {
                "name": "pageviews",
                "columns": PAGEVIEW_COLUMNS,
                "files": [f"s3://{BUCKET}/{key}" for key in keys],
                "incremental": False,
            }
        ],
    }
    client.put_object(Bucket=BUCKET, Key=f"manifests/sync_{dump_id}.json", Body=json.dumps(manifest).encode())


def _serve(paths: list[Path]) -> tuple[Any, str]:
    """Start moto's S3 server here (its CPU is not Courier's) and put the dump and its manifest in it."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    put_dump(client, paths, DUMP_ID)
    return server, endpoint


# --- peers (run by an interpreter that has them; never Courier's dependencies) --------------------


def peer_tap_heap(paths: list[str]) -> int:
    """tap-heap's extraction of the same files (read from disk instead of S3), Singer messages to /dev/null."""
    import io

    import tap_heap.sync as tap_sync
    from tap_heap import s3 as tap_s3

    class _Handle:
        def __init__(self, path: str) -> None:
            self._raw_stream = open(path, "rb")  # noqa: SIM115 - tap-heap reads it to the end

    # tap-heap orders files by the dump and part numbers in their S3 keys, so it gets keys back.
    local = {f"sync_{DUMP_ID}/pageviews/{Path(path).name}": path for path in paths}
    tap_s3.get_file_handle = lambda bucket, key: _Handle(local[key])
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    os.dup2(devnull, 1)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    try:
        stream = {
            "stream": "pageviews",
            "tap_stream_id": "pageviews",
            "metadata": [{"breadcrumb": [], "metadata": {"selected": True, "table-key-properties": ["event_id"]}}],
        }
        manifests = {DUMP_ID: {"pageviews": {"files": list(local), "incremental": False, "columns": []}}}
        return int(tap_sync.sync_stream(BUCKET, {}, stream, manifests))
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        sys.stdout = sys.__stdout__


def peer_dlt(paths: list[str], db: str) -> int:
    """dlt: the files read with fastavro, merged into SQLite on event_id (sqlalchemy destination)."""
    import dlt
    import fastavro

    @dlt.resource(name="pageviews", write_disposition="merge", primary_key="event_id")
    def pageviews() -> Any:
        for path in paths:
            with open(path, "rb") as handle:
                batch = []
                for record in fastavro.reader(handle):
                    batch.append(record)
                    if len(batch) >= 10_000:
                        yield batch
                        batch = []
                if batch:
                    yield batch

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(Path(db).parent / "dlt"),
        destination=dlt.destinations.sqlalchemy(f"sqlite:///{db}"),
        dataset_name="main",
    )
    info = pipeline.run(pageviews())
    info.raise_on_failed_jobs()
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM pageviews").fetchone()[0])


def peer_pandas(paths: list[str], db: str) -> int:
    """pandas: each file through fastavro into a DataFrame, appended with ``to_sql`` (no key, no upsert)."""
    import sqlite3

    import fastavro
    import pandas as pd

    rows = 0
    with sqlite3.connect(db) as conn:
        for path in paths:
            with open(path, "rb") as handle:
                frame = pd.DataFrame.from_records(list(fastavro.reader(handle)))
            frame.to_sql("pageviews", conn, if_exists="append", index=False, chunksize=10_000)
            rows += len(frame)
    return rows


_COURIER = (
    "core.ingest",
    "core.fastload",
    "core.decode",
    "core.avro",
    "fastavro",
    "polars",
    "adbc_driver_sqlite.dbapi",
)
_BASELINE_WARM = ("core.ingest", "core.decode", "core.avro", "core.runs", "core.s3", "fastavro", "boto3")
"""What a ``--baseline-courier`` child may import before the clock (each only if that checkout has it)."""
CHILDREN: dict[str, Callable[[argparse.Namespace], dict[str, float]]] = {
    "fastavro": lambda a: measure(lambda: fastavro_only(a.paths), ("fastavro",)),
    "columnar": lambda a: measure(lambda: columnar_only(a.paths), ("polars", "core.fastload")),
    "ceiling": lambda a: ceiling(a.paths, a.db, a.first_part),
    "landed": lambda a: measure(lambda: courier_landed(a.paths, a.db, a.first_part), _COURIER),
    "s3": lambda a: measure(lambda: courier_s3(a.endpoint, a.db), (*_COURIER, "core.runs", "boto3", "core.s3")),
    "tap-heap": lambda a: measure(lambda: peer_tap_heap(a.paths), ("tap_heap.sync",)),
    "dlt": lambda a: measure(lambda: peer_dlt(a.paths, a.db), ("dlt", "fastavro")),
    "pandas": lambda a: measure(lambda: peer_pandas(a.paths, a.db), ("pandas", "fastavro")),
}


def _child(
    mode: str, paths: list[str], db: str = "", python: str = sys.executable, baseline: str = "", **extra: Any
) -> dict[str, Any]:
    command = [python, __file__, "--child", mode, "--db", db]
    for name, value in extra.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        NO_PROXY="127.0.0.1",
    )
    env.pop(BASELINE_ENV, None)  # only a baseline child imports another checkout
    if baseline:
        env[BASELINE_ENV] = baseline
    done = subprocess.run([*command, *paths], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:160]}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _describe_checkout(path: str) -> str:
    """``commit`` and its date for a git checkout, else its path: which code a baseline row measured."""
    if not path:
        return ""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    # A plain directory inside another repository would otherwise be named by that repository's commit.
    if Path(git("rev-parse", "--show-toplevel") or "/nonexistent").resolve() != Path(path).resolve():
        return path
    changed = " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("log", "-1", "--format=`%h` (%cs)") + changed


def _copies(scratch: Path, round_: int, databases: tuple[str, ...]) -> tuple[str, ...]:
    """Copies of ``databases`` (with any WAL beside them) in ``scratch``, for one more incremental upsert."""
    made = []
    for database in databases:
        copy = scratch / f"copy-{Path(database).stem}-{round_}.db"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                shutil.copyfile(database + suffix, str(copy) + suffix)
        made.append(str(copy))
    return tuple(made)


def _drop_database(database: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)


def _has(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False).returncode == 0


# --- the report ----------------------------------------------------------------------------------


_WORK = ("inserted", "updated", "rejected")


def _different_work(result: dict[str, Any], reference: dict[str, Any]) -> str:
    """Why two loads of the same files are not comparable (different inserted/updated/rejected), or ``""``."""
    if "error" in result or "error" in reference or not all(n in result and n in reference for n in _WORK):
        return ""
    if [result[n] for n in _WORK] == [reference[n] for n in _WORK]:
        return ""
    shown = "/".join(f"{result[n]:,}" for n in _WORK)
    wanted = "/".join(f"{reference[n]:,}" for n in _WORK)
    return f"inserted/updated/rejected {shown}, the ceiling {wanted}: not the same work"


def _line(label: str, result: dict[str, Any], reference: dict[str, Any]) -> tuple[str, ...]:
    """One table row: ``result`` as rows/s, and its rate and CPU per row against the ceiling ``reference``."""
    differs = _different_work(result, reference)
    if differs:
        result = {"error": differs}
    if "error" in result:
        return label, "—", "—", "—", "—", "—", result["error"]
    rate = result["rows"] / result["seconds"]
    has_reference = "rows" in reference
    ratio = cpu = "—"
    if "rate_ratio" in result:  # measured in rounds: the median of its own rounds' ratios
        ratio, cpu = f"{result['rate_ratio']:.2f}", f"{result['cpu_ratio']:.2f}"
    elif has_reference:
        ratio = f"{rate / (reference['rows'] / reference['seconds']):.2f}"
        cpu = f"{result['cpu_us_per_row'] / reference['cpu_us_per_row']:.2f}"
    return (
        label,
        f"{rate:,.0f}",
        ratio,
        f"{result['cpu_us_per_row']:.1f}",
        cpu,
        f"{result['peak_rss_mb']:.0f}",
        f"{result['load']:.1f}",
    )


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (the lower of the middle two for an even count); any failure wins."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    ranked = sorted(runs, key=lambda run: run["rows"] / run["seconds"])
    return ranked[(len(ranked) - 1) // 2]


_PAIRS = (("landed", "ceiling"), ("s3", "ceiling"), ("baseline", "ceiling"), ("incremental", "incremental ceiling"))
"""Each load measured in the rounds, and the ceiling it is compared with."""


def _round_ratios(measured: dict[str, list[dict[str, Any]]], name: str, reference: str) -> tuple[list[float], ...]:
    """A load's rate and CPU per row against its own round's ceiling, round by round; empty without rounds."""
    runs, ceilings = measured.get(name, []), measured.get(reference, [])
    if len(runs) < 2 or len(ceilings) != len(runs) or any("error" in run for run in runs + ceilings):
        return [], []
    if any(_different_work(run, ceiling) for run, ceiling in zip(runs, ceilings)):
        return [], []  # _with_round_ratios turns the load's row into the error
    rates = [
        (run["rows"] / run["seconds"]) / (ceiling["rows"] / ceiling["seconds"]) for run, ceiling in zip(runs, ceilings)
    ]
    cpus = [run["cpu_us_per_row"] / ceiling["cpu_us_per_row"] for run, ceiling in zip(runs, ceilings)]
    return rates, cpus


def _with_round_ratios(results: dict[str, dict[str, Any]], measured: dict[str, list[dict[str, Any]]]) -> None:
    """Give each load in rounds the median of its per-round ratios to the ceiling.

    The median load and the median ceiling may come from different rounds (a slow moment for
    one, a quick one for the other), so their quotient is not a ratio any round saw; the median
    of the rounds' own ratios is.
    """
    for name, reference in _PAIRS:
        # With --incremental-repeats a round holds several pairs, so the error counts pairs, not rounds.
        for pair, (run, ceiling) in enumerate(zip(measured.get(name, []), measured.get(reference, [])), 1):
            differs = _different_work(run, ceiling)
            if differs and "error" not in results[name]:
                results[name] = {"error": f"measurement {pair}: {differs}"}
        rates, cpus = _round_ratios(measured, name, reference)
        if rates and "error" not in results[name]:
            results[name] = {
                **results[name],
                "rate_ratio": statistics.median_low(rates),
                "cpu_ratio": statistics.median_low(cpus),
            }


def _spread(measured: dict[str, list[dict[str, Any]]]) -> str:
    """Each load's × ceiling in every round against that round's own ceiling, e.g. ``landed 1.1–1.3×``."""
    shown = []
    for name, reference in _PAIRS:
        ratios, _ = _round_ratios(measured, name, reference)
        if not ratios:
            continue
        shown.append(f"{name} {min(ratios):.2f}–{max(ratios):.2f}× its round's ceiling")
    now, before = measured.get("s3", []), measured.get("baseline", [])
    comparable = not any("error" in run or _different_work(run, old) for run, old in zip(now, before))
    if now and len(before) == len(now) and comparable:
        # The before/after of Courier's own CPU, round by round: both ran through the same server minutes apart.
        saved = [old["cpu_us_per_row"] / new["cpu_us_per_row"] for new, old in zip(now, before)]
        shown.append(f"the baseline spent {min(saved):.2f}–{max(saved):.2f}× Courier's CPU per row")
    return ", ".join(shown)


def render(lines: list[tuple[str, ...]]) -> str:
    header = ("measurement", "rows/s", "× ceiling", "CPU-µs/row", "CPU ÷ ceiling's", "peak RSS MB", "load avg")
    table = [header, ("---", "---:", "---:", "---:", "---:", "---:", "---:"), *lines]
    return "\n".join("| " + " | ".join(row) + " |" for row in table)


def main() -> None:
    """Run the benchmark and print its figures (and, with ``--readme``, rewrite README's table)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--data", default="", help="keep generated files here and reuse them")
    parser.add_argument("--incremental", type=int, default=0, help="also upsert an incremental part of N rows")
    parser.add_argument(
        "--incremental-repeats",
        type=int,
        default=1,
        metavar="K",
        help="upsert the incremental part K times per round, into fresh copies of the loaded tables",
    )
    parser.add_argument(
        "--peers-python",
        action="append",
        default=[],
        help="an interpreter with tap-heap, dlt or pandas (repeat for several)",
    )
    parser.add_argument(
        "--peer-parts",
        type=int,
        default=0,
        help="give the (slow) peers only the first N parts; their rows/s stay comparable",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the ceiling and Courier's loads N times, interleaved, and report each one's median",
    )
    parser.add_argument(
        "--baseline-courier",
        default="",
        metavar="DIR",
        help="also run an older checkout of Courier end to end through the same S3 server, in every round",
    )
    parser.add_argument("--skip", default="", help="comma-separated measurements to leave out")
    parser.add_argument("--readme", action="store_true", help="rewrite the performance table in README.md")
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--db", default="")
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--first-part", type=int, default=0)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.incremental_repeats < 1:
        parser.error("--incremental-repeats must be at least 1")
    if args.baseline_courier and not (Path(args.baseline_courier) / "core" / "runner.py").is_file():
        parser.error(f"--baseline-courier {args.baseline_courier} is not a Courier checkout (no core/runner.py)")
    if os.environ.get(BASELINE_ENV) and not args.child:
        parser.error(f"{BASELINE_ENV} is set: this run would import that checkout's core; unset it")
    if args.baseline_courier and "s3" in set(args.skip.split(",")):
        parser.error("--baseline-courier runs through the local S3 server, which --skip s3 leaves out")
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return
    skip = set(filter(None, args.skip.split(",")))
    scratch = Path(tempfile.mkdtemp(prefix="courier-bench-"))
    data = Path(args.data) if args.data else scratch
    try:
        started = time.perf_counter()
        parts = generate(data, args.rows, args.parts)
        paths = [str(p) for p in parts]
        size = sum(p.stat().st_size for p in parts)
        print(
            f"{args.rows:,} pageview rows in {len(paths)} Snappy Avro parts ({size / 1e6:.0f} MB), ready in "
            f"{time.perf_counter() - started:.0f} s; {os.cpu_count()} cores",
            flush=True,
        )
        measured: dict[str, list[dict[str, Any]]] = {}

        def run(name: str, *call: Any, **extra: Any) -> None:
            if name in skip:
                return
            # Write back what earlier measurements left dirty, so no measurement's commit pays for another's load.
            os.sync()
            measured.setdefault(name, []).append(_child(*call, **extra))
            print(f"  {name}: {measured[name][-1]}", flush=True)

        run("fastavro", "fastavro", paths)
        run("columnar", "columnar", paths)
        increment = [str(generate_incremental(data, args.incremental, args.rows))] if args.incremental else []
        server, endpoint = _serve(parts) if "s3" not in skip else (None, "")
        try:
            # The host's speed drifts by a fifth within minutes here: rounds interleave each load with its
            # ceiling, so a median compares runs taken at the same moments.
            for round_ in range(args.rounds):
                ceiling_db, landed_db = str(scratch / f"ceiling-{round_}.db"), str(scratch / f"landed-{round_}.db")
                run("ceiling", "ceiling", paths, ceiling_db)
                run("landed", "landed", paths, landed_db)
                if server is not None:
                    run("s3", "s3", [], str(scratch / f"s3-{round_}.db"), endpoint=endpoint)
                    if args.baseline_courier:
                        baseline_db = str(scratch / f"baseline-{round_}.db")
                        run("baseline", "s3", [], baseline_db, endpoint=endpoint, baseline=args.baseline_courier)
                # A 100k-row increment lasts about a second, so one busy moment moves its ratio by a fifth:
                # --incremental-repeats upserts it again into fresh copies of the loaded tables, untimed to make.
                for repeat in range(args.incremental_repeats if increment else 0):
                    last = repeat == args.incremental_repeats - 1
                    targets = (ceiling_db, landed_db) if last else _copies(scratch, round_, (ceiling_db, landed_db))
                    run("incremental ceiling", "ceiling", increment, targets[0], first_part=1)
                    run("incremental", "landed", increment, targets[1], first_part=1)
                    if not last:
                        _drop_database(targets[0])
                        _drop_database(targets[1])
                for leftover in scratch.glob(f"*-{round_}[.-]*"):  # its databases and landing cache: disk is finite
                    if leftover.is_dir():
                        shutil.rmtree(leftover)
                    else:
                        leftover.unlink()
        finally:
            if server is not None:
                server.stop()
        for peer, module in (("tap-heap", "tap_heap"), ("dlt", "dlt"), ("pandas", "pandas")):
            python = next((python for python in args.peers_python if _has(python, module)), None)
            if python is not None:
                run(peer, peer, paths[: args.peer_parts or None], str(scratch / f"{peer}.db"), python=python)
            elif args.peers_python:
                measured[peer] = [{"error": f"not installed in {', '.join(args.peers_python)}"}]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    results = {name: _median(runs) for name, runs in measured.items()}
    _with_round_ratios(results, measured)
    spread = _spread(measured)

    full = results.get("ceiling", {})
    small = results.get("incremental ceiling", {})
    labels = {
        "fastavro": "fastavro decode only",
        "columnar": "polars decode only (chunks of blocks)",
        "ceiling": "**SQLite upsert ceiling** (ready tuples, executemany)",
        "landed": "**Courier from landed files**",
        "s3": "**Courier end to end through local S3**",
        "baseline": f"Courier at {_describe_checkout(args.baseline_courier)}, end to end through local S3",
        "incremental ceiling": f"incremental {args.incremental:,} into {args.rows:,}: ceiling",
        "incremental": f"incremental {args.incremental:,} into {args.rows:,}: Courier",
        "tap-heap": "tap-heap extraction to /dev/null (no load)",
        "dlt": "dlt merge into SQLite",
        "pandas": "pandas to_sql append (no key)",
    }
    if args.peer_parts:
        # A peer on fewer parts is compared with the ceiling of them all: the table says how many rows it had.
        for peer in ("tap-heap", "dlt", "pandas"):
            if "rows" in results.get(peer, {}):
                labels[peer] += f", first {results[peer]['rows']:,} rows"
    lines = [
        _line(labels[name], result, small if name.startswith("incremental") else full)
        for name, result in results.items()
    ]
    table = render(lines)
    stamp = (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.rows:,} rows in "
        f"{args.parts} parts, load average {os.getloadavg()[0]:.1f} at the end (each row: at its start)"
    )
    if args.rounds > 1:
        stamp += f"; the ceilings and Courier's loads: medians of {args.rounds} interleaved rounds"
    if args.incremental and args.incremental_repeats > 1:
        stamp += f"; the incremental upserted {args.incremental_repeats} times per round, into copies"
    if spread:
        stamp += f" ({spread})" if args.rounds > 1 else f"; a single round: {spread}"
    print(stamp)
    print(table)
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        block = f"{README_START}\n{stamp}:\n\n{table}\n{README_END}"
        if README_START in text:
            head, rest = text.split(README_START, 1)
            text = head + block + rest.split(README_END, 1)[1]
        else:
            raise SystemExit(f"README.md has no {README_START} marker")
        readme.write_text(text)


if __name__ == "__main__":
    main()
