"""Ingest benchmark: Courier's end-to-end load against fastavro's decode-only speed.

Generates a pageviews dump of N rows as Snappy Avro part files (Heap's
format), then measures, in the same run and on the same files:

- fastavro decode-only rows/s (the baseline: reading every record, nothing else);
- Courier's ingest rows/s from the landed files into a fresh domain table,
  upserting on ``event_id`` (download excluded);
- their ratio (target ≥ 0.6), and the peak RSS of the ingest (target < 300 MB,
  whatever the row count), counting the decoder process too.

Each measurement runs in its own subprocess so peak RSS figures are its own.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--parts 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(directory: Path, rows: int, parts: int) -> list[Path]:
    """Write the dump's part files (Snappy Avro, Heap's pageviews columns)."""
    from core.heapgen import PAGEVIEW_COLUMNS, heap_schema, pageview_records, write_avro

    schema = heap_schema("pageviews", PAGEVIEW_COLUMNS)
    records = pageview_records(rows, seed=11)
    per_part = -(-rows // parts)
    paths = []
    for number in range(parts):
        chunk = [record for _, record in zip(range(per_part), records)]
        if not chunk:
            break
        path = directory / f"sync_5000/pageviews/part-{number:05d}-bench-c000.avro"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(write_avro(chunk, schema, codec="snappy"))
        paths.append(path)
    return paths


def decode_only(paths: list[str]) -> dict[str, float]:
    """Read every record with fastavro and nothing else."""
    import fastavro

    started = time.perf_counter()
    count = 0
    for path in paths:
        with open(path, "rb") as handle:
            for _ in fastavro.reader(handle):
                count += 1
    elapsed = time.perf_counter() - started
    return {"rows": count, "seconds": elapsed, "peak_rss_mb": _peak_rss_mb()}


def ingest(paths: list[str], db: str) -> dict[str, float]:
    """Courier's load of the part files into ``Bench:Pageviews`` with upsert on event_id."""
    from core.decode import DecodeJob
    from core.ingest import IngestHooks, LoadUnit, UnitFile, apply_units
    from core.models import Feed
    from core.store import Store

    store = Store(db)
    feed = Feed(id="df-benchpv", source="Bench", name="Pageviews", primary_key=("event_id",))
    units = [LoadUnit(files=[UnitFile(job=DecodeJob(path, "application/avro", f"heap:{index:09d}", Path(path).name),
                                      dump_id=5000, part=index, key=path, last_in_dump=index == len(paths) - 1)],
                      cursor_courier="bench", source_table="pageviews")
             for index, path in enumerate(paths)]
    sampler = _MemorySampler()
    sampler.start()
    started = time.perf_counter()
    counts = apply_units(store, feed, units, IngestHooks())
    elapsed = time.perf_counter() - started
    sampler.stop()
    stored = store.execute('SELECT COUNT(*) FROM "Bench:Pageviews"').fetchone()[0]
    store.close()
    return {"rows": counts.rows_read, "inserted": counts.rows_inserted, "stored": stored, "seconds": elapsed,
            "peak_rss_mb": sampler.peak_total_mb, "writer_peak_rss_mb": _peak_rss_mb(),
            "decoders_peak_rss_mb": sampler.peak_children_mb}


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child would report its parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _MemorySampler:
    """Samples the summed RSS of this process and its decoder processes every 20 ms."""

    def __init__(self) -> None:
        import threading

        self.peak_total_mb = 0.0
        self.peak_children_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        import os

        me = os.getpid()
        while not self._done.wait(0.02):
            children = _children(me)
            own = _rss_kb(me)
            kids = sum(_rss_kb(pid) for pid in children)
            self.peak_total_mb = max(self.peak_total_mb, (own + kids) / 1024)
            self.peak_children_mb = max(self.peak_children_mb, kids / 1024)


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                if int(line.split()[1]) == pid:
                    pids.append(int(entry.name))
                break
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _child(mode: str, paths: list[str], db: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--child", mode, "--db", db, *paths],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--child", choices=("decode", "ingest"))
    parser.add_argument("--db", default="")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.child == "decode":
        print(json.dumps(decode_only(args.paths)))
        return
    if args.child == "ingest":
        print(json.dumps(ingest(args.paths, args.db)))
        return
    with tempfile.TemporaryDirectory(prefix="courier-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        paths = [str(p) for p in generate(directory, args.rows, args.parts)]
        size = sum(Path(p).stat().st_size for p in paths)
        print(f"generated {args.rows:,} pageview rows in {len(paths)} Snappy Avro parts "
              f"({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        decode = _child("decode", paths, "")
        loaded = _child("ingest", paths, str(directory / "bench.db"))
    decode_rate = decode["rows"] / decode["seconds"]
    ingest_rate = loaded["rows"] / loaded["seconds"]
    peak = loaded["peak_rss_mb"]
    print(f"fastavro decode only : {decode_rate:>10,.0f} rows/s  ({decode['seconds']:.1f} s)")
    print(f"courier ingest       : {ingest_rate:>10,.0f} rows/s  ({loaded['seconds']:.1f} s, "
          f"{int(loaded['stored']):,} rows stored, upsert on event_id)")
    print(f"ratio ingest/decode  : {ingest_rate / decode_rate:>10.2f}   (target >= 0.60)")
    print(f"peak RSS of ingest   : {peak:>10.0f} MB  (writer and decoder processes together, sampled; writer alone "
          f"{loaded['writer_peak_rss_mb']:.0f} MB; target < 300 MB)")


if __name__ == "__main__":
    main()
