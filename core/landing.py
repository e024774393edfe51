"""Landing: download matched objects into the cache beside the database and list them as sample files.

The second stage of a courier run. A landed file is one object version
(``courier``, ``key``, ``etag``) with its inferred fields and row count, so the
feed editor can build a feed from it and the loads read it locally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import CourierError
from core.heap import SKIPPED_TABLES, newest_sample_keys, part_number
from core.ingest import RunStopped
from core.models import Courier
from core.planning import SourceFile
from core.run_records import RunLog, landing_root
from core.store import Store, utc_now, where_equals
from core.vocab import EventLevel, RunPhase


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


def land(
    store: Store,
    db_path: Path,
    log: RunLog,
    courier: Courier,
    source: Any,
    obj: Any,
    tag: str,
    content_type: str,
    *,
    file_date: datetime | None = None,
    dump_id: int | None = None,
    part: int | None = None,
    index: int = 0,
    total: int = 0,
) -> LandedFile:
    """Download one object into the landing cache, record it in ``landed_files`` and log it.

    ``index``/``total`` number the file in its batch for the log. Raises ``RunStopped`` when a
    stop was requested before the download.
    """
    if log.should_stop():
        raise RunStopped()
    fetched = fetch(db_path, courier, source, obj, content_type)
    return record_landed(
        store,
        log,
        courier,
        obj,
        tag,
        content_type,
        fetched,
        file_date=file_date,
        dump_id=dump_id,
        part=part,
        index=index,
        total=total,
    )


@dataclass(frozen=True)
class Fetched:
    """An object downloaded into the landing cache and described, not yet recorded."""

    path: Path
    fields: list[dict[str, Any]]
    rows: int | None


def fetch(db_path: Path, courier: Courier, source: Any, obj: Any, content_type: str) -> Fetched:
    """Download one object into the landing cache and read its header; touches no database.

    Safe to call from a helper thread (a run downloads the next part while it loads this one).

    Raises:
        SourceError, OSError: see :meth:`core.s3.S3Source.download`.
    """
    dest = landed_path(db_path, courier, obj)
    source.download(obj, dest)
    fields, rows = _describe_landed(dest, content_type)
    return Fetched(dest, fields, rows)


def landed_path(db_path: Path, courier: Courier, obj: Any) -> Path:
    """Where :func:`fetch` puts an object (known before it is downloaded): one copy per object version,
    so a replaced object never overwrites an older sample."""
    from core.s3 import landing_path

    return landing_path(landing_root(db_path), courier.name, obj.key, obj.etag)


def record_landed(
    store: Store,
    log: RunLog,
    courier: Courier,
    obj: Any,
    tag: str,
    content_type: str,
    fetched: Fetched,
    *,
    file_date: datetime | None = None,
    dump_id: int | None = None,
    part: int | None = None,
    index: int = 0,
    total: int = 0,
) -> LandedFile:
    """Record a fetched object in ``landed_files`` (its own transaction) and log it."""
    dest, fields, rows = fetched.path, fetched.fields, fetched.rows
    with store.atomic():
        store.execute(
            "INSERT INTO landed_files (courier, key, tag, size, etag, content_type, local_path, landed_at, "
            "file_date, dump_id, part, schema_json, row_count, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?) ON CONFLICT(courier, key, etag) DO UPDATE SET landed_at = excluded.landed_at, "
            "local_path = excluded.local_path, tag = excluded.tag, run_id = excluded.run_id, "
            "schema_json = excluded.schema_json, row_count = excluded.row_count",
            (
                courier.name,
                obj.key,
                tag,
                obj.size,
                obj.etag,
                content_type,
                str(dest),
                utc_now(),
                file_date.isoformat() if file_date else None,
                dump_id,
                part,
                json.dumps(fields),
                rows,
                log.run_id,
            ),
        )
    landed = list_landed_files(store, courier.name, key=obj.key, etag=obj.etag)[0]
    log.update(files_landed=log.tally.files_landed + 1, current_file=obj.key)
    log.event(
        "Loading data",
        f"Landed {obj.key} ({_size_text(obj.size)}"
        f"{f', {rows:,} rows' if rows is not None else ''})"
        f"{f' [{index}/{total}]' if total > 1 else ''}",
        EventLevel.INFO,
        obj.key,
    )
    return landed


class Prefetch:
    """Downloads a run's objects in order in a helper thread, so a part downloads while earlier ones load.

    Args:
        db_path: The database beside whose landing cache the files go.
        courier: The courier the objects belong to.
        source: The S3 source (its client is safe to use from another thread).
        objects: The objects, in load order.
        should_stop: Checked before each download; once true, nothing more is downloaded.

    Use as a context manager: leaving it stops the thread after the download under way.
    Downloads run at most :data:`AHEAD` objects ahead of the one the load waits for, so a
    stopped or failed run leaves little it did not need.
    """

    AHEAD = 2

    def __init__(
        self, db_path: Path, courier: Courier, source: Any, objects: list[Any], should_stop: Any = lambda: False
    ) -> None:
        import threading

        self._args = (db_path, courier, source)
        self._objects = objects
        self._should_stop = should_stop
        self._done: dict[int, Fetched | BaseException] = {}
        self._wanted = 0
        self._closed = False
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="courier-prefetch", daemon=True)
        if objects:
            self._thread.start()

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        db_path, courier, source = self._args
        for index, obj in enumerate(self._objects):
            with self._lock:
                while not self._closed and index > self._wanted + self.AHEAD:
                    self._lock.wait()
                if self._closed:
                    return
            outcome: Fetched | BaseException
            if self._should_stop():
                outcome = RunStopped()
            else:
                try:
                    outcome = fetch(db_path, courier, source, obj, "application/avro")
                except Exception as error:  # noqa: BLE001 - handed to the load, which raises it
                    outcome = error
            with self._lock:
                self._done[index] = outcome
                self._lock.notify_all()
            if isinstance(outcome, BaseException):
                return

    def wait(self, index: int) -> None:
        """Block until object ``index`` is downloaded; raise what its download raised (or ``RunStopped``)."""
        self.result(index)

    def result(self, index: int) -> Fetched:
        """The downloaded object ``index`` (waiting for it); raises what its download raised."""
        with self._lock:
            self._wanted = max(self._wanted, index)
            self._lock.notify_all()
            while index not in self._done:
                failed = next((value for value in self._done.values() if isinstance(value, BaseException)), None)
                if failed is not None:
                    raise failed
                self._lock.wait(0.5)
            outcome = self._done[index]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


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
        return (
            [
                {
                    "name": f.name,
                    "avro_type": f.avro_type,
                    "nullable": f.nullable,
                    "feed_type": f.feed_type,
                    "origin": f.origin,
                }
                for f in info.fields
            ],
            info.row_count,
        )
    from core.decode import DecodeJob, DecodeSpec, FileDecoded, FileStarted, decode_file

    fields: list[dict[str, Any]] = []
    rows: int | None = None
    for event in decode_file(0, DecodeJob(str(path), content_type, "", path.name), DecodeSpec((), None)):
        if isinstance(event, FileStarted):
            fields = [
                {"name": name, "avro_type": "string", "nullable": True, "feed_type": kind, "origin": "file"}
                for name, kind in zip(event.columns, event.types)
            ]
        elif isinstance(event, FileDecoded):
            rows = event.rows_read
    return fields, rows


def land_files(
    store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any, files: list[SourceFile]
) -> list[LandedFile]:
    """Land a file-pattern run's matched files in order."""
    log.update(phase=RunPhase.LANDING)
    landed = []
    for index, item in enumerate(files, 1):
        landed.append(
            land(
                store,
                db_path,
                log,
                courier,
                source,
                _Obj(item.key, item.size, item.etag),
                item.entity.tag,
                item.entity.content_type,
                file_date=item.file_date,
                index=index,
                total=len(files),
            )
        )
    return landed


@dataclass
class _Obj:
    key: str
    size: int
    etag: str


def land_heap_samples(
    store: Store, db_path: Path, log: RunLog, courier: Courier, source: Any, manifests: list[Any]
) -> list[LandedFile]:
    """Land the newest part of each wanted Heap table as a sample file (a courier with no load operations)."""
    samples = newest_sample_keys(manifests)
    wanted = courier.known_tags()
    landed = []
    heads = {obj.key: obj for key in samples.values() for obj in source.list_objects(_relative_dir(source, key))}
    items = [
        (table, key)
        for table, key in sorted(samples.items())
        if table not in SKIPPED_TABLES and (wanted is None or table in wanted)
    ]
    log.update(phase=RunPhase.LANDING, files_to_land=len(items))
    for index, (table, key) in enumerate(items, 1):
        obj = heads.get(key)
        log.update(current_table=table)
        if obj is None:
            log.update(files_to_land=log.tally.files_to_land - 1)
            log.event(
                "Waiting for source data",
                f"{key} is listed in a manifest but missing from the bucket",
                EventLevel.WARNING,
                key,
            )
            continue
        dump_id = next(
            (m.dump_id for m in reversed(manifests) if table in m.tables and key in m.tables[table].keys), None
        )
        landed.append(
            land(
                store,
                db_path,
                log,
                courier,
                source,
                obj,
                table,
                "application/avro",
                dump_id=dump_id,
                part=part_number(key),
                index=index,
                total=len(items),
            )
        )
    return landed


def _relative_dir(source: Any, key: str) -> str:
    relative = source.relative_key(key)
    return relative.rsplit("/", 1)[0] + "/"


def list_landed_files(
    store: Store,
    courier: str | None = None,
    *,
    key: str | None = None,
    etag: str | None = None,
    file_id: int | None = None,
) -> list[LandedFile]:
    """Landed (sample) files, newest first."""
    where, params = where_equals({"courier": courier, "key": key, "etag": etag, "id": file_id})
    rows = store.query(f"SELECT * FROM landed_files {where} ORDER BY landed_at DESC, id DESC", params)
    return [
        LandedFile(
            id=row["id"],
            courier=row["courier"],
            key=row["key"],
            tag=row["tag"],
            size=row["size"],
            etag=row["etag"],
            content_type=row["content_type"],
            local_path=row["local_path"],
            landed_at=row["landed_at"],
            file_date=row["file_date"],
            dump_id=row["dump_id"],
            part=row["part"],
            fields=json.loads(row["schema_json"] or "[]"),
            row_count=row["row_count"],
        )
        for row in rows
    ]
