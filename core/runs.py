"""Courier runs: find the files, land them, run the load operations, log it all.

Every run is a row in ``runs`` with ordered ``run_events`` using Amperity's
stage names. Events are committed as they happen (never inside a load's
transaction), so the TUI, ``courier runs --follow`` or another SSH session can
follow a run live from the database.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.ingest import IngestHooks, LoadRejected, LoadUnit, RunStopped, UnitFile, apply_units, read_cursor
from core.load import LoadCounts
from core.models import Courier, Entity, Feed, LoadOperation, Project
from core.store import Store, utc_now

STATUSES = ("Running", "Stopping", "Succeeded", "Failed", "Stopped", "Warning")
FINAL_STATUSES = ("Succeeded", "Failed", "Stopped", "Warning")
MISSING_FEEDS_HEADLINE = "Error running load-operations task"


@dataclass(frozen=True)
class RunWindow:
    """The data a run covers: one day, a ``[start, end)`` period, or all data."""

    kind: str
    start: date | None = None
    end: date | None = None

    @staticmethod
    def day(day: date) -> RunWindow:
        """Load data from a specific day."""
        return RunWindow("day", day, day + timedelta(days=1))

    @staticmethod
    def period(start: date, end: date) -> RunWindow:
        """Load data from a specific time period, end exclusive."""
        if end <= start:
            raise CourierError(f"The period ends ({end}) before it starts ({start}); the end day is exclusive, "
                               "so it must be after the start day")
        return RunWindow("period", start, end)

    @staticmethod
    def all() -> RunWindow:
        """Load all data."""
        return RunWindow("all")

    def describe(self) -> str:
        """Human text, e.g. ``2026-11-25`` or ``2026-11-20 to 2026-11-25 (end exclusive)``."""
        if self.kind == "day" and self.start:
            return f"{self.start.isoformat()}"
        if self.kind == "period" and self.start and self.end:
            return f"{self.start.isoformat()} to {self.end.isoformat()} (end exclusive)"
        return "all data"

    def bounds(self) -> tuple[datetime, datetime] | None:
        """The window as naive UTC datetimes, or ``None`` for all data."""
        if self.start is None or self.end is None:
            return None
        return datetime.combine(self.start, datetime.min.time()), datetime.combine(self.end, datetime.min.time())


@dataclass
class RunEvent:
    """One line of a run's log."""

    id: int
    run_id: int
    at: str
    level: str
    stage: str
    message: str
    file: str | None = None


@dataclass
class RunProgress:
    """In-process progress of the file being loaded (not stored)."""

    run_id: int
    file: str
    file_index: int
    file_count: int
    rows_done: int
    rows_total: int | None


@dataclass
class RunSummary:
    """A run's row: status, window and counts."""

    id: int
    kind: str
    target: str
    trigger: str
    window: RunWindow
    status: str
    started_at: str
    finished_at: str | None
    files: int
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_rejected: int
    message: str | None
    parent_id: int | None = None
    pid: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict (``courier run --json``)."""
        data = asdict(self)
        data["window"] = {"kind": self.window.kind,
                          "start": self.window.start.isoformat() if self.window.start else None,
                          "end": self.window.end.isoformat() if self.window.end else None}
        return data


RunListener = Callable[[RunEvent | RunProgress], None]


def landing_root(db_path: Path) -> Path:
    """Where landed files are cached: a directory beside the database."""
    return db_path.parent / f"{db_path.stem}-landing"


def _stop_flag(db_path: Path, run_id: int) -> Path:
    return landing_root(db_path) / ".stop" / str(run_id)


def request_stop(db_path: Path, run_id: int) -> None:
    """Ask a run (in any process using this database) to stop; it rolls back its current file.

    The run is marked Stopping at once when the database is free; while the runner holds
    a load transaction it marks itself Stopping when it sees the request.
    """
    import sqlite3

    flag = _stop_flag(db_path, run_id)
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()
    try:
        conn = sqlite3.connect(db_path, timeout=0.2, isolation_level=None)
        try:
            conn.execute("UPDATE runs SET status = 'Stopping' WHERE id = ? AND status = 'Running'", (run_id,))
        finally:
            conn.close()
    except sqlite3.Error:
        pass  # Busy: the runner writes Stopping itself when it notices the flag.


def stop_requested(db_path: Path, run_id: int) -> bool:
    """True once :func:`request_stop` was called for the run."""
    return _stop_flag(db_path, run_id).exists()


class RunLog:
    """Writes a run's events and counts; buffers events while a load transaction is open."""

    def __init__(self, store: Store, run_id: int, listener: RunListener | None, stop: threading.Event | None) -> None:
        self.store = store
        self.run_id = run_id
        self.listener = listener
        self.stop = stop
        self.pending: list[tuple[str, str, str, str | None, str, bool]] = []
        self.started = time.monotonic()
        self.warnings: list[str] = []
        self._last_stop_check = 0.0
        self._stop_seen = False

    def event(self, stage: str, message: str, level: str = "info", file: str | None = None) -> None:
        """Record one event (committed at once unless a load transaction is open)."""
        at = utc_now()
        if level == "warning":
            self.warnings.append(message)
        in_transaction = self.store.in_transaction
        # Inside a load transaction the row waits for the commit, but the listener hears it now.
        self.pending.append((stage, message, level, file, at, in_transaction))
        if in_transaction:
            if self.listener:
                self.listener(RunEvent(0, self.run_id, at, level, stage, message, file))
        else:
            self.flush()

    def flush(self) -> None:
        """Write buffered events."""
        if not self.pending or self.store.in_transaction:
            return
        pending, self.pending = self.pending, []
        written = []
        with self.store.atomic():
            for stage, message, level, file, at, heard in pending:
                cursor = self.store.execute(
                    "INSERT INTO run_events (run_id, at, level, stage, message, file) VALUES (?, ?, ?, ?, ?, ?)",
                    (self.run_id, at, level, stage, message, file))
                if not heard:
                    written.append(RunEvent(int(cursor.lastrowid or 0), self.run_id, at, level, stage, message, file))
        if self.listener:
            for event in written:
                self.listener(event)

    def progress(self, label: str, index: int, total: int, done: int, rows: int | None) -> None:
        """Pass file progress to an in-process listener."""
        if self.listener:
            self.listener(RunProgress(self.run_id, label, index, total, done, rows))

    def should_stop(self) -> bool:
        """True when a stop was requested in this process or through the stop flag."""
        if self._stop_seen or (self.stop is not None and self.stop.is_set()):
            self._stop_seen = True
            return True
        now = time.monotonic()
        if now - self._last_stop_check > 0.2:
            self._last_stop_check = now
            self._stop_seen = stop_requested(self.store.path, self.run_id)
        return self._stop_seen

    def counts(self, counts: LoadCounts) -> None:
        """Store the run's running counts (inside the caller's transaction, if any)."""
        self.store.execute(
            "UPDATE runs SET files = ?, rows_read = ?, rows_inserted = ?, rows_updated = ?, rows_rejected = ? "
            "WHERE id = ?", (counts.files, counts.rows_read, counts.rows_inserted, counts.rows_updated,
                             counts.rows_rejected, self.run_id))

    def elapsed_text(self) -> str:
        """``N minutes N seconds`` since the run started."""
        return duration_text(time.monotonic() - self.started)


def duration_text(seconds: float) -> str:
    """Amperity's duration words: ``5 minutes 12 seconds``."""
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''} {secs} second{'s' if secs != 1 else ''}"


def reconcile_stale_runs(store: Store) -> int:
    """Mark runs whose process died as Failed; returns how many were fixed."""
    fixed = 0
    for row in store.query("SELECT id, pid FROM runs WHERE status IN ('Running', 'Stopping')"):
        if row["pid"] and not _pid_alive(int(row["pid"])):
            store.execute(
                "UPDATE runs SET status = 'Failed', finished_at = ?, message = ? WHERE id = ? AND status IN "
                "('Running', 'Stopping')",
                (utc_now(), f"Interrupted: the process running it (pid {row['pid']}) ended; "
                 "nothing half-loaded was kept, run it again to resume", row["id"]))
            fixed += 1
    return fixed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _create_run(store: Store, kind: str, target: str, trigger: str, window: RunWindow,
                parent_id: int | None) -> int:
    with store.atomic():
        reconcile_stale_runs(store)
        busy = store.query("SELECT id, pid FROM runs WHERE kind = ? AND target = ? AND status IN "
                           "('Running', 'Stopping')", (kind, target))
        if busy:
            raise CourierError(f'{kind.capitalize()} "{target}" is already running (run {busy[0]["id"]}, '
                               f'pid {busy[0]["pid"]}); wait for it to finish or stop it')
        cursor = store.execute(
            "INSERT INTO runs (kind, target, parent_id, trigger, window_kind, window_start, window_end, status, "
            "started_at, pid) VALUES (?, ?, ?, ?, ?, ?, ?, 'Running', ?, ?)",
            (kind, target, parent_id, trigger, window.kind,
             window.start.isoformat() if window.start else None,
             window.end.isoformat() if window.end else None, utc_now(), os.getpid()))
    return int(cursor.lastrowid or 0)


def _finish_run(store: Store, run_id: int, status: str, message: str | None) -> None:
    store.execute("UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
                  (status, utc_now(), message, run_id))


def run_courier(
    db_path: Path | str,
    courier_name: str,
    window: RunWindow,
    *,
    trigger: str = "manual",
    listener: RunListener | None = None,
    stop: threading.Event | None = None,
    parent_id: int | None = None,
    parallel: bool | None = None,
) -> RunSummary:
    """Run a courier for a window and return its final summary.

    Failures never raise: they end the run as Failed with Amperity's messages.
    Only a missing courier or a courier already running raise, before a run
    row exists.
    """
    db_path = Path(db_path)
    store = Store(db_path)
    try:
        project = _project(store)
        courier = project.couriers.get(courier_name)
        if courier is None:
            known = ", ".join(sorted(project.couriers)) or "none yet"
            raise NotFoundError(f'There is no courier named "{courier_name}" (couriers: {known})')
        run_id = _create_run(store, "courier", courier_name, trigger, window, parent_id)
        log = RunLog(store, run_id, listener, stop)
        status, message = "Succeeded", None
        try:
            log.event("Courier run request", f"Run {courier_name} for {window.describe()} ({trigger})")
            log.event("Courier job started", f"{courier.layout} layout, s3://{courier.bucket}/{courier.prefix}")
            counts = _run_courier_body(store, db_path, log, project, courier, window, parallel)
            if counts.rows_rejected or log.warnings:
                status = "Warning"
                message = (f"{counts.rows_rejected:,} row{'s' if counts.rows_rejected != 1 else ''} rejected"
                           if counts.rows_rejected else log.warnings[0])
            log.event("Courier job completed", f"{counts.files:,} files, {counts.rows_read:,} rows read, "
                      f"{counts.rows_inserted:,} inserted, {counts.rows_updated:,} updated, "
                      f"{counts.rows_rejected:,} rejected")
            log.event("Completed", f"Completed in {log.elapsed_text()}")
        except RunStopped:
            status, message = "Stopped", "Stopped by request; the file being loaded was rolled back"
            store.execute("UPDATE runs SET status = 'Stopping' WHERE id = ?", (run_id,))
            log.event("Stopping", "Stop requested: rolling back the file being loaded", "warning")
            log.event("Stopped", message, "warning")
        except _MissingFeeds as missing:
            status, message = "Failed", f"{MISSING_FEEDS_HEADLINE}\n{missing}"
            log.event("Loading data", MISSING_FEEDS_HEADLINE, "error")
            log.event("Loading data", str(missing), "error")
        except (CourierError, LoadRejected) as error:
            status, message = "Failed", str(error)
            log.event("Failed", str(error), "error")
        except Exception as error:  # noqa: BLE001 - a run must end with a status, whatever happened
            status, message = "Failed", f"Internal error: {type(error).__name__}: {error}"
            log.event("Failed", message, "error")
        finally:
            log.flush()
            _finish_run(store, run_id, status, message)
            _stop_flag(db_path, run_id).unlink(missing_ok=True)
        return get_run(store, run_id)
    finally:
        store.close()


class _MissingFeeds(CourierError):
    exit_code = 1


def _project(store: Store) -> Project:
    from core.project import load_project

    return load_project(store)


def _run_courier_body(store: Store, db_path: Path, log: RunLog, project: Project, courier: Courier,
                      window: RunWindow, parallel: bool | None) -> LoadCounts:
    from core.s3 import S3Source

    credential = project.credentials[courier.credential]
    source = S3Source(credential, courier.bucket, courier.prefix)
    feeds, missing, drafts = _resolve_feeds(project, courier)
    sample_only = not courier.load_operations or bool(missing)
    if courier.layout == "heap-connect":
        from core.heap import list_manifests

        log.event("Waiting for source data", "Reading Heap manifests")
        manifests = list_manifests(source)
        if not manifests:
            raise CourierError(f"No Heap manifests under s3://{courier.bucket}/{courier.prefix}manifests/ yet: "
                               "Heap writes one when a sync completes; check the prefix or wait for the first sync")
        log.event("Waiting for source data", f"Found {len(manifests)} completed dump"
                  f"{'s' if len(manifests) != 1 else ''} (latest sync_{manifests[-1].dump_id})")
        if sample_only:
            landed = _land_heap_samples(store, db_path, log, courier, source, manifests)
            return _finish_sample_run(log, courier, landed, missing)
        _check_drafts(drafts)
        return _run_heap_loads(store, db_path, log, courier, source, manifests, feeds, parallel)
    found = find_source_files(courier, source, window)
    log.event("Waiting for source data", f"Found {len(found.files)} file{'s' if len(found.files) != 1 else ''} "
              f"for {window.describe()}")
    if found.missing:
        for name in found.missing[:20]:
            log.event("Waiting for source data", f"Missing file: {name}", "error", name)
        more = f" and {len(found.missing) - 1} more" if len(found.missing) > 1 else ""
        raise CourierError(f"Missing required file {found.missing[0]}{more} for {window.describe()}: "
                           "check the entities list, mark the file optional, or run for another day")
    landed = _land_files(store, db_path, log, courier, source, found.files)
    if sample_only:
        return _finish_sample_run(log, courier, landed, missing)
    _check_drafts(drafts)
    return _run_file_loads(store, log, courier, landed, feeds, parallel)


def _resolve_feeds(project: Project, courier: Courier) -> tuple[list[tuple[Feed, tuple[LoadOperation, ...]]],
                                                                list[str], list[str]]:
    feeds, missing, drafts = [], [], []
    for feed_id, steps in courier.load_operations.items():
        feed = project.feeds.get(feed_id)
        if feed is None:
            missing.append(feed_id)
        elif feed.status != "active":
            drafts.append(feed_id)
        else:
            feeds.append((feed, steps))
    return feeds, missing, drafts


def _check_drafts(drafts: list[str]) -> None:
    if drafts:
        raise CourierError(f"Feed{'s' if len(drafts) > 1 else ''} {', '.join(drafts)} "
                           f"{'are' if len(drafts) > 1 else 'is'} still a draft: activate "
                           f"{'them' if len(drafts) > 1 else 'it'} in the feed editor before the courier can load")


def _finish_sample_run(log: RunLog, courier: Courier, landed: list[LandedFile], missing: list[str]) -> LoadCounts:
    counts = LoadCounts(files=len(landed))
    log.counts(counts)
    if missing:
        quoted = ", ".join(f'"{feed_id}"' for feed_id in missing)
        raise _MissingFeeds(f"Cannot find required feeds: {quoted}")
    log.event("Loading data", f"Landed {len(landed)} file{'s' if len(landed) != 1 else ''}; the load operations "
              "are empty ({}), so nothing was loaded. The files are ready as sample files for new feeds")
    return counts


# --- finding and landing files -------------------------------------------------------------


@dataclass
class SourceFile:
    """A matched object in the bucket and the entity it belongs to."""

    entity: Entity
    key: str
    size: int
    etag: str
    file_date: datetime | None


@dataclass
class FoundFiles:
    """What a file-pattern run found: files in per-day order, and required files that are missing."""

    files: list[SourceFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def find_source_files(courier: Courier, source: Any, window: RunWindow) -> FoundFiles:
    """Match every entity's pattern against the bucket for a window (listing from literal prefixes)."""
    from core.patterns import day_range, parse_pattern

    found = FoundFiles()
    listings: dict[str, list[Any]] = {}
    bounds = window.bounds()
    for entity in courier.entities or ():
        pattern = parse_pattern(entity.file_pattern)
        prefix = pattern.literal_prefix()
        if prefix not in listings:
            listings[prefix] = list(source.list_objects(prefix))
        matched: list[SourceFile] = []
        for obj in listings[prefix]:
            relative = source.relative_key(obj.key)
            if bounds is None:
                ok = pattern.matches_all(relative)
            else:
                ok = pattern.matches_period(relative, bounds[0], bounds[1])
            if ok:
                matched.append(SourceFile(entity, obj.key, obj.size, obj.etag, pattern.extract(relative)))
        if not entity.optional:
            if bounds is not None and pattern.has_date and window.start and window.end:
                days_seen = {f.file_date.date() for f in matched if f.file_date}
                found.missing += [pattern.render(day) for day in day_range(window.start, window.end)
                                  if day not in days_seen]
            elif not matched:
                found.missing.append(pattern.render(window.start) if pattern.has_date and window.start
                                     else pattern.describe())
        found.files.extend(matched)
    found.files.sort(key=lambda f: (f.file_date or datetime.min, f.key))
    return found


@dataclass
class LandedFile:
    """A file landed in the cache, listed as a sample file."""

    id: int
    courier: str
    key: str
    tag: str
    size: int
    etag: str
    content_type: str
    local_path: str
    landed_at: str
    file_date: str | None
    dump_id: int | None
    part: int | None
    fields: list[dict[str, Any]]
    row_count: int | None

    @property
    def name(self) -> str:
        """The object's file name."""
        return self.key.rsplit("/", 1)[-1]


def _land(store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any, obj: Any, tag: str,
          content_type: str, *, file_date: datetime | None = None, dump_id: int | None = None,
          part: int | None = None, index: int = 0, total: int = 0) -> LandedFile:
    # One copy per object version: a replaced object never overwrites an older sample.
    dest = landing_root(db_path) / _safe(courier.name) / (obj.etag[:16] or "unknown") / obj.key
    if log.should_stop():
        raise RunStopped()
    source.download(obj, dest)
    fields, rows = _describe_landed(dest, content_type)
    with store.atomic():
        store.execute(
            "INSERT INTO landed_files (courier, key, tag, size, etag, content_type, local_path, landed_at, "
            "file_date, dump_id, part, schema_json, row_count, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?) ON CONFLICT(courier, key, etag) DO UPDATE SET landed_at = excluded.landed_at, "
            "local_path = excluded.local_path, tag = excluded.tag, run_id = excluded.run_id, "
            "schema_json = excluded.schema_json, row_count = excluded.row_count",
            (courier.name, obj.key, tag, obj.size, obj.etag, content_type, str(dest), utc_now(),
             file_date.isoformat() if file_date else None, dump_id, part, json.dumps(fields), rows, log.run_id))
    landed = list_landed_files(store, courier.name, key=obj.key, etag=obj.etag)[0]
    log.event("Loading data", f"Landed {obj.key} ({_size_text(obj.size)}"
              f"{f', {rows:,} rows' if rows is not None else ''})"
              f"{f' [{index}/{total}]' if total > 1 else ''}", "info", obj.key)
    return landed


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "courier"


def _size_text(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def _describe_landed(path: Path, content_type: str) -> tuple[list[dict[str, Any]], int | None]:
    if content_type == "application/avro":
        from core.avro import inspect_file

        try:
            info = inspect_file(path, count_rows=True)
        except CourierError:
            return [], None
        return ([{"name": f.name, "avro_type": f.avro_type, "nullable": f.nullable, "feed_type": f.feed_type}
                 for f in info.fields], info.row_count)
    from core.decode import DecodeJob, DecodeSpec, FileDecoded, FileStarted, decode_file

    fields: list[dict[str, Any]] = []
    rows: int | None = None
    for event in decode_file(0, DecodeJob(str(path), content_type, "", path.name), DecodeSpec((), None)):
        if isinstance(event, FileStarted):
            fields = [{"name": name, "avro_type": "string", "nullable": True, "feed_type": kind}
                      for name, kind in zip(event.columns, event.types)]
        elif isinstance(event, FileDecoded):
            rows = event.rows_read
    return fields, rows


def _land_files(store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any,
                files: list[SourceFile]) -> list[LandedFile]:
    landed = []
    for index, item in enumerate(files, 1):
        landed.append(_land(store, db_path, log, courier, source, _Obj(item.key, item.size, item.etag),
                            item.entity.tag, item.entity.content_type, file_date=item.file_date,
                            index=index, total=len(files)))
    return landed


@dataclass
class _Obj:
    key: str
    size: int
    etag: str


def _land_heap_samples(store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any,
                       manifests: list[Any]) -> list[LandedFile]:
    from core.heap import SKIPPED_TABLES, newest_sample_keys, part_number

    samples = newest_sample_keys(manifests)
    wanted = courier.known_tags()
    landed = []
    heads = {obj.key: obj for key in samples.values() for obj in source.list_objects(_relative_dir(source, key))}
    items = [(table, key) for table, key in sorted(samples.items())
             if table not in SKIPPED_TABLES and (wanted is None or table in wanted)]
    for index, (table, key) in enumerate(items, 1):
        obj = heads.get(key)
        if obj is None:
            log.event("Waiting for source data", f"{key} is listed in a manifest but missing from the bucket",
                      "warning", key)
            continue
        dump_id = next((m.dump_id for m in reversed(manifests) if table in m.tables and key in m.tables[table].keys),
                       None)
        landed.append(_land(store, db_path, log, courier, source, obj, table, "application/avro",
                            dump_id=dump_id, part=part_number(key), index=index, total=len(items)))
    return landed


def _relative_dir(source: Any, key: str) -> str:
    relative = source.relative_key(key)
    return relative.rsplit("/", 1)[0] + "/"


# --- loading ----------------------------------------------------------------------------------


def _run_file_loads(store: Store, log: RunLog, courier: Courier, landed: list[LandedFile],
                    feeds: list[tuple[Feed, tuple[LoadOperation, ...]]], parallel: bool | None) -> LoadCounts:
    from core.decode import DecodeJob

    totals = LoadCounts()
    entities = {entity.tag: entity for entity in courier.entities or ()}
    for feed, steps in feeds:
        truncate = any(step.type == "truncate" for step in steps)
        tags = [step.file for step in steps if step.type == "load" and step.file]
        files = [item for tag in tags for item in landed if item.tag == tag]
        files.sort(key=lambda item: (item.file_date or "", item.key))
        log.event("Ingest started", f"{feed.table_name} ({feed.id}): {len(files)} file{'s' if len(files) != 1 else ''}"
                  f"{', truncate first' if truncate else ''}")
        unit_files = []
        for item in files:
            entity = entities.get(item.tag)
            order = f"file:{item.file_date or '0000-00-00T00:00:00'}:{item.key}"
            unit_files.append(UnitFile(
                job=DecodeJob(path=item.local_path, content_type=item.content_type, order_key=order, label=item.name,
                              header_rows=entity.header_rows if entity else None,
                              separator=entity.separator if entity else None, quote=entity.quote if entity else None),
                row_count=item.row_count, key=item.key))
        counts = _apply(store, log, feed, [LoadUnit(files=unit_files, truncate_first=truncate)], totals, parallel)
        totals.add(counts)
    _refresh_views(store, log, courier, [feed for feed, _ in feeds])
    return totals


def _apply(store: Store, log: RunLog, feed: Feed, units: list[LoadUnit], totals: LoadCounts,
           parallel: bool | None) -> LoadCounts:
    def committed(store_: Store, running: LoadCounts) -> None:
        combined = LoadCounts()
        combined.add(totals)
        combined.add(running)
        log.counts(combined)

    hooks = IngestHooks(event=lambda stage, message, level, file: log.event(stage, message, level, file),
                        progress=log.progress, should_stop=log.should_stop, committed=committed, run_id=log.run_id)
    counts = apply_units(store, feed, units, hooks, parallel=parallel)
    log.flush()
    if counts.rows_rejected:
        log.event("Ingest feed progress", f"{feed.table_name}: {counts.rows_rejected:,} "
                  f"row{'s' if counts.rows_rejected != 1 else ''} rejected "
                  f"({'; '.join(counts.reject_reasons[:2])})", "warning")
    return counts


def _run_heap_loads(store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any, manifests: list[Any],
                    feeds: list[tuple[Feed, tuple[LoadOperation, ...]]], parallel: bool | None) -> LoadCounts:
    from core.decode import DecodeJob
    from core.heap import plan_table

    totals = LoadCounts()
    for feed, steps in feeds:
        truncate = any(step.type == "truncate" for step in steps)
        for table in [step.file for step in steps if step.type == "load" and step.file]:
            cursor = None if truncate else read_cursor(store, feed.table_name)
            if cursor is not None and (cursor.courier != courier.name or cursor.source_table != table):
                cursor = None
            state = None if cursor is None else (cursor.dump_id, cursor.last_part, cursor.dump_complete)
            plan = plan_table(manifests, table, state)
            if not any(table in m.tables for m in manifests):
                log.event("Ingest started", f"No dump contains the Heap table {table}; nothing to load into "
                          f"{feed.table_name}", "warning")
                continue
            if not plan:
                log.event("Ingest started", f"{feed.table_name} is up to date (sync_{cursor.dump_id if cursor else '?'})")
                continue
            dumps = sorted({item.dump_id for item in plan})
            log.event("Ingest started", f"{feed.table_name} ({feed.id}) from Heap table {table}: {len(plan)} file"
                      f"{'s' if len(plan) != 1 else ''} in dump{'s' if len(dumps) > 1 else ''} "
                      f"{', '.join(f'sync_{d}' for d in dumps)}"
                      f"{' (resuming)' if cursor and not cursor.dump_complete else ''}")
            landed: list[tuple[Any, LandedFile]] = []
            objects = {}
            for dump_id in dumps:
                for obj in source.list_objects(f"sync_{dump_id}/{table}/"):
                    objects[obj.key] = obj
            for index, item in enumerate(plan, 1):
                obj = objects.get(item.key)
                if obj is None:
                    raise CourierError(f"s3://{courier.bucket}/{item.key} is listed in manifest sync_{item.dump_id} "
                                       "but is not in the bucket: Heap may have deleted it; ask Heap to resync "
                                       f"{table}")
                landed.append((item, _land(store, db_path, log, courier, source, obj, table, "application/avro",
                                           dump_id=item.dump_id, part=item.part, index=index, total=len(plan))))
            units: list[LoadUnit] = []
            full_dump: int | None = None
            for item, landed_file in landed:
                unit_file = UnitFile(
                    job=DecodeJob(path=landed_file.local_path, content_type="application/avro",
                                  order_key=f"heap:{item.dump_id:015d}:{item.part:09d}", label=landed_file.name),
                    row_count=landed_file.row_count, dump_id=item.dump_id, part=item.part, key=item.key,
                    last_in_dump=item.last_in_dump)
                if not item.incremental and full_dump == item.dump_id:
                    # Every part of a full resync commits together with the emptying of the table.
                    units[-1].files.append(unit_file)
                    continue
                full_dump = None if item.incremental else item.dump_id
                units.append(LoadUnit(files=[unit_file], truncate_first=not item.incremental or (truncate and not units),
                                      cursor_courier=courier.name, source_table=table))
            totals.add(_apply(store, log, feed, units, totals, parallel))
    _refresh_views(store, log, courier, [feed for feed, _ in feeds])
    return totals


def _refresh_views(store: Store, log: RunLog, courier: Courier, feeds: list[Feed]) -> None:
    from core.identity import refresh_identity_views
    from core.load import table_exists

    by_source: dict[str, list[str]] = {}
    for feed in _project(store).feeds.values():
        by_source.setdefault(feed.source, []).append(feed.table_name)
    for source in sorted({feed.source for feed in feeds}):
        has_map = store.query("SELECT 1 FROM identity_map WHERE source = ? LIMIT 1", (source,))
        if not has_map:
            continue
        with store.atomic():
            views = refresh_identity_views(store, source, [t for t in by_source.get(source, []) if table_exists(store, t)])
        if views:
            log.event("Domain transaction closed", f"Identity views rebuilt: {', '.join(views)}")


# --- reading runs ----------------------------------------------------------------------------


def _summary(row: Any) -> RunSummary:
    kind = row["window_kind"]
    start = date.fromisoformat(row["window_start"]) if row["window_start"] else None
    end = date.fromisoformat(row["window_end"]) if row["window_end"] else None
    return RunSummary(
        id=row["id"], kind=row["kind"], target=row["target"], trigger=row["trigger"],
        window=RunWindow(kind, start, end), status=row["status"], started_at=row["started_at"],
        finished_at=row["finished_at"], files=row["files"], rows_read=row["rows_read"],
        rows_inserted=row["rows_inserted"], rows_updated=row["rows_updated"], rows_rejected=row["rows_rejected"],
        message=row["message"], parent_id=row["parent_id"], pid=row["pid"])


def get_run(store: Store, run_id: int) -> RunSummary:
    """One run by ID."""
    rows = store.query("SELECT * FROM runs WHERE id = ?", (run_id,))
    if not rows:
        raise NotFoundError(f"There is no run {run_id} (see courier runs)")
    return _summary(rows[0])


def list_runs(store: Store, *, status: str | None = None, target: str | None = None, kind: str | None = None,
              parent_id: int | None = None, limit: int = 200) -> list[RunSummary]:
    """Runs newest first, optionally filtered (``parent_id`` gives a group run's courier runs)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("status", status), ("target", target), ("kind", kind), ("parent_id", parent_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [_summary(row) for row in rows]


def last_run(store: Store, kind: str, target: str) -> RunSummary | None:
    """The newest run of a courier or group."""
    runs = list_runs(store, kind=kind, target=target, limit=1)
    return runs[0] if runs else None


def run_events(store: Store, run_id: int, after_id: int = 0) -> list[RunEvent]:
    """A run's events after ``after_id``, oldest first."""
    return [RunEvent(row["id"], row["run_id"], row["at"], row["level"], row["stage"], row["message"], row["file"])
            for row in store.query("SELECT * FROM run_events WHERE run_id = ? AND id > ? ORDER BY id",
                                   (run_id, after_id))]


def list_landed_files(store: Store, courier: str | None = None, *, key: str | None = None,
                      etag: str | None = None, file_id: int | None = None) -> list[LandedFile]:
    """Landed (sample) files, newest first."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("courier", courier), ("key", key), ("etag", etag), ("id", file_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM landed_files {where} ORDER BY landed_at DESC, id DESC", params)
    return [LandedFile(
        id=row["id"], courier=row["courier"], key=row["key"], tag=row["tag"], size=row["size"], etag=row["etag"],
        content_type=row["content_type"], local_path=row["local_path"], landed_at=row["landed_at"],
        file_date=row["file_date"], dump_id=row["dump_id"], part=row["part"],
        fields=json.loads(row["schema_json"] or "[]"), row_count=row["row_count"]) for row in rows]


def now_utc() -> datetime:
    """The current time, aware UTC (injectable point for callers that pass ``now``)."""
    return datetime.now(timezone.utc)
