"""Deterministic domain tables and run history for the runs and tables screens' tests and snapshots."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from core.heapgen import pageview_records
from core.load import TableWriter, record_table_load
from core.store import Store

PAGEVIEWS = "Heap:Pageviews"
PAGEVIEW_FIELDS = (
    ("event_id", "Integer"),
    ("time", "Datetime"),
    ("country", "String"),
    ("city", "String"),
    ("path", "String"),
    ("title", "String"),
    ("user_id", "Integer"),
)


def build_pageviews(db_path: Path, rows: int = 250, *, table: str = PAGEVIEWS) -> None:
    """A pageviews domain table: event ids 1…rows, every 7th country NULL, loaded by df-pagevi01."""
    names = [name for name, _ in PAGEVIEW_FIELDS]
    types = [kind for _, kind in PAGEVIEW_FIELDS]
    with Store(db_path) as store:
        writer = TableWriter(store, table)
        with store.atomic():
            columns = writer.prepare(names, types)
            batch = []
            for record in islice(pageview_records(rows, seed=5), rows):
                values = [record.get(name) for name in names]
                if record["event_id"] % 7 == 0:
                    values[2] = None
                batch.append((*values, record["event_id"], "heap:000000000000001:000000001"))
            writer.upsert(columns, batch)
            record_table_load(store, table, "df-pagevi01", None)
        store.execute(
            "UPDATE domain_tables SET last_loaded_at = '2026-11-25T16:35:10.000000Z' WHERE name = ?", (table,)
        )


def add_run_history(db_path: Path) -> None:
    """Finished runs of every kind and status (fixed times), plus one failed sample run's log."""
    runs = [
        (
            "courier",
            "Heap",
            None,
            "schedule",
            "period",
            "2026-11-23",
            "2026-11-24",
            "Succeeded",
            "2026-11-24T16:30:04.000000Z",
            "2026-11-24T16:35:16.000000Z",
            42,
            33100,
            33100,
            0,
            0,
            None,
        ),
        (
            "group",
            "Heap daily",
            None,
            "schedule",
            "period",
            "2026-11-24",
            "2026-11-25",
            "Warning",
            "2026-11-25T16:30:00.000000Z",
            "2026-11-25T16:41:02.000000Z",
            12,
            9800,
            9000,
            790,
            10,
            "10 rows rejected",
        ),
        (
            "courier",
            "Heap",
            2,
            "schedule",
            "period",
            "2026-11-24",
            "2026-11-25",
            "Warning",
            "2026-11-25T16:30:01.000000Z",
            "2026-11-25T16:41:00.000000Z",
            12,
            9800,
            9000,
            790,
            10,
            "10 rows rejected",
        ),
        (
            "courier",
            "Heap exports",
            None,
            "manual",
            "day",
            "2026-11-25",
            "2026-11-26",
            "Failed",
            "2026-11-25T17:02:11.000000Z",
            "2026-11-25T17:02:14.000000Z",
            1,
            0,
            0,
            0,
            0,
            'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"',
        ),
        (
            "courier",
            "Heap",
            None,
            "manual",
            "all",
            None,
            None,
            "Stopped",
            "2026-11-25T17:10:00.000000Z",
            "2026-11-25T17:12:30.000000Z",
            3,
            150000,
            150000,
            0,
            0,
            "Stopped by request; the file being loaded was rolled back",
        ),
    ]
    events = [
        (
            "2026-11-25T17:02:11.100000Z",
            "info",
            "Courier run request",
            "Run Heap exports for 2026-11-25 (manual)",
            None,
        ),
        (
            "2026-11-25T17:02:11.200000Z",
            "info",
            "Courier job started",
            "file-pattern layout, s3://heap-rs3-acme/exports/",
            None,
        ),
        ("2026-11-25T17:02:12.000000Z", "info", "Waiting for source data", "Found 1 file for 2026-11-25", None),
        (
            "2026-11-25T17:02:13.000000Z",
            "info",
            "Loading data",
            "Landed exports/users-2026-11-25.avro (48.2 KB, 1,200 rows)",
            "exports/users-2026-11-25.avro",
        ),
        (
            "2026-11-25T17:02:13.500000Z",
            "warning",
            "Waiting for source data",
            "exports/sessions-2026-11-25.avro is optional and missing",
            None,
        ),
        ("2026-11-25T17:02:14.000000Z", "error", "Loading data", "Error running load-operations task", None),
        ("2026-11-25T17:02:14.000000Z", "error", "Loading data", 'Cannot find required feeds: "df-xxxxxx"', None),
    ]
    with Store(db_path) as store, store.atomic():
        for row in runs:
            store.execute(
                "INSERT INTO runs (kind, target, parent_id, trigger, window_kind, window_start, window_end, "
                "status, started_at, finished_at, files, rows_read, rows_inserted, rows_updated, rows_rejected, "
                "message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        failed = store.query("SELECT id FROM runs WHERE status = 'Failed'")[0]["id"]
        # The failed run landed its one file as a sample, then found its load operations name a missing feed.
        store.execute(
            "UPDATE runs SET phase = 'ended', files_to_land = 1, files_landed = 1, "
            "current_file = 'exports/users-2026-11-25.avro' WHERE id = ?",
            (failed,),
        )
        for at, level, stage, message, file in events:
            store.execute(
                "INSERT INTO run_events (run_id, at, level, stage, message, file) VALUES (?, ?, ?, ?, ?, ?)",
                (failed, at, level, stage, message, file),
            )


def failed_run_id(db_path: Path) -> int:
    """The failed run ``add_run_history`` wrote."""
    with Store(db_path) as store:
        return int(store.query("SELECT id FROM runs WHERE status = 'Failed'")[0]["id"])
