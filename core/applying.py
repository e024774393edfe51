"""Applying units: turn landed files into load units per feed and apply them, then refresh identity views.

The third stage of a courier run. File-pattern couriers load each feed's files
in date order as one unit; Heap Connect couriers follow each table's cursor
through the manifests (``core.heap.plan_table``), one unit per incremental
part and one unit per full resync.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from core.decode import DecodeJob
from core.errors import CourierError
from core.heap import EMPTY_RESYNC_KEY, plan_table
from core.identity import refresh_identity_views
from core.ingest import IngestHooks, LoadUnit, UnitFile, apply_units, empty_table, read_cursor
from core.landing import LandedFile, Prefetch
from core.load import LoadCounts, table_exists
from core.models import Courier, Feed, LoadOperation
from core.planning import ResolvedFeeds, SourceFile
from core.project import load_project
from core.run_records import RunLog
from core.store import Store
from core.vocab import EventLevel, RunPhase


def _load_tags(steps: tuple[LoadOperation, ...]) -> list[str]:
    return [step.file for step in steps if step.type == "load" and step.file]


def planned_file_loads(courier: Courier, files: list[SourceFile], feeds: ResolvedFeeds) -> list[int]:
    """How many files each feed of a file-pattern run will load, in feed order (its progress plan)."""
    return [sum(1 for tag in _load_tags(steps) for item in files if item.entity.tag == tag) for _, steps in feeds]


def run_file_loads(
    store: Store, log: RunLog, courier: Courier, landed: list[LandedFile], feeds: ResolvedFeeds, parallel: bool | None
) -> LoadCounts:
    """Load each feed's landed files (date order, one unit per feed) and return the run's totals."""
    totals = LoadCounts()
    entities = {entity.tag: entity for entity in courier.entities or ()}
    log.update(phase=RunPhase.LOADING)
    for feed, steps in feeds:
        truncate = any(step.type == "truncate" for step in steps)
        files = [item for tag in _load_tags(steps) for item in landed if item.tag == tag]
        log.update(current_table=feed.table_name)
        files.sort(key=lambda item: (item.file_date or "", item.key))
        log.event(
            "Ingest started",
            f"{feed.table_name} ({feed.id}): {len(files)} file{'s' if len(files) != 1 else ''}"
            f"{', truncate first' if truncate else ''}",
        )
        unit_files = []
        for item in files:
            entity = entities.get(item.tag)
            order = f"file:{item.file_date or '0000-00-00T00:00:00'}:{item.key}"
            unit_files.append(
                UnitFile(
                    job=DecodeJob(
                        path=item.local_path,
                        content_type=item.content_type,
                        order_key=order,
                        label=item.name,
                        header_rows=entity.header_rows if entity else None,
                        separator=entity.separator if entity else None,
                        quote=entity.quote if entity else None,
                    ),
                    row_count=item.row_count,
                    key=item.key,
                )
            )
        counts = _apply(store, log, feed, [LoadUnit(files=unit_files, truncate_first=truncate)], totals, parallel)
        totals.add(counts)
    _refresh_views(store, log, courier, [feed for feed, _ in feeds])
    return totals


def _apply(
    store: Store, log: RunLog, feed: Feed, units: list[LoadUnit], totals: LoadCounts, parallel: bool | None
) -> LoadCounts:
    def committed(store_: Store, running: LoadCounts) -> None:
        combined = LoadCounts()
        combined.add(totals)
        combined.add(running)
        log.update(units_done=log.tally.units_done + 1, files_done=combined.files)
        log.counts(combined)

    def progress(label: str, index: int, total: int, done: int, rows: int | None) -> None:
        log.progress(label, index, total, done, rows, base=totals.files)

    hooks = IngestHooks(
        event=lambda stage, message, level, file: log.event(stage, message, level, file),
        progress=progress,
        should_stop=log.should_stop,
        committed=committed,
        run_id=log.run_id,
    )
    counts = apply_units(store, feed, units, hooks, parallel=parallel)
    log.flush()
    if counts.rows_rejected:
        log.event(
            "Ingest feed progress",
            f"{feed.table_name}: {counts.rows_rejected:,} "
            f"row{'s' if counts.rows_rejected != 1 else ''} rejected "
            f"({'; '.join(counts.reject_reasons[:2])})",
            EventLevel.WARNING,
        )
    return counts


@dataclass
class _HeapTablePlan:
    """One load step of a Heap courier: a feed, the Heap table it loads, its cursor and the parts to apply."""

    feed: Feed
    table: str
    truncate: bool
    cursor: Any
    parts: list[Any]

    @property
    def files(self) -> int:
        """Parts to download and load (a full resync with no files has none)."""
        return sum(1 for item in self.parts if item.key != EMPTY_RESYNC_KEY)

    @property
    def units(self) -> int:
        """Units the parts commit as: one per incremental part, one per full resync (as :func:`_heap_units`)."""
        count, full_dump = 0, None
        for item in self.parts:
            if item.key == EMPTY_RESYNC_KEY or (not item.incremental and full_dump == item.dump_id):
                continue
            full_dump = None if item.incremental else item.dump_id
            count += 1
        return count


def run_heap_loads(
    store: Store,
    db_path: Path,
    log: RunLog,
    courier: Courier,
    source: Any,
    manifests: list[Any],
    feeds: ResolvedFeeds,
    parallel: bool | None,
    *,
    rebuild: str | None = None,
) -> LoadCounts:
    """Load each feed's Heap table from its cursor on through the manifests and return the run's totals.

    ``rebuild`` names one domain table to empty and reload from its Heap table's latest
    full dump (its cursor ignored, as on a cold start); the other feeds are left alone.
    Every table is planned first (from its cursor), so the run's progress knows all its
    files and units before the first download.

    Raises:
        CourierError: a part a manifest lists is missing from the bucket.
    """
    totals = LoadCounts()
    plans: list[_HeapTablePlan] = []
    for feed, steps in feeds:
        if rebuild is not None and feed.table_name != rebuild:
            continue
        truncate = rebuild is not None or any(step.type == "truncate" for step in steps)
        for table in _load_tags(steps):
            cursor = None if truncate else read_cursor(store, feed.table_name)
            if cursor is not None and (cursor.courier != courier.name or cursor.source_table != table):
                cursor = None
            state = (
                None if cursor is None else (cursor.dump_id, cursor.last_part, cursor.dump_complete, cursor.last_key)
            )
            plans.append(_HeapTablePlan(feed, table, truncate, cursor, plan_table(manifests, table, state)))
    files = sum(planned.files for planned in plans)
    log.update(
        phase=RunPhase.LOADING,
        files_to_land=files,
        files_planned=files,
        units_planned=sum(planned.units for planned in plans),
    )
    for planned in plans:
        feed, table, truncate, cursor, plan = (
            planned.feed,
            planned.table,
            planned.truncate,
            planned.cursor,
            planned.parts,
        )
        log.update(current_table=feed.table_name)
        if not any(table in m.tables for m in manifests):
            log.event(
                "Ingest started",
                f"No dump contains the Heap table {table}; nothing to load into {feed.table_name}",
                EventLevel.WARNING,
            )
            continue
        if not plan:
            log.event("Ingest started", f"{feed.table_name} is up to date (sync_{cursor.dump_id if cursor else '?'})")
            continue
        dumps = sorted({item.dump_id for item in plan})
        log.event(
            "Ingest started",
            f"{feed.table_name} ({feed.id}) from Heap table {table}: {len(plan)} file"
            f"{'s' if len(plan) != 1 else ''} in dump{'s' if len(dumps) > 1 else ''} "
            f"{', '.join(f'sync_{d}' for d in dumps)}"
            f"{' (resuming)' if cursor and not cursor.dump_complete else ''}",
        )
        objects = {}
        for dump_id in dumps:
            for obj in source.list_objects(f"sync_{dump_id}/{table}/"):
                objects[obj.key] = obj
        if plan[0].key == EMPTY_RESYNC_KEY:
            # Heap says "replace the table" and sends nothing: the table becomes empty.
            log.event(
                "Loading data",
                f"Heap table {table} is a full resync with no files in "
                f"sync_{plan[0].dump_id}: {feed.table_name} is now empty",
                EventLevel.WARNING,
            )
            empty_table(store, feed, courier.name, table, plan[0].dump_id, log.run_id)
            plan = plan[1:]
        for item in plan:
            if item.key not in objects:
                raise CourierError(
                    f"s3://{courier.bucket}/{item.key} is listed in manifest sync_{item.dump_id} "
                    "but is not in the bucket: Heap may have deleted it; ask Heap to resync "
                    f"{table}"
                )
        # Parts download in a helper thread, in load order, while earlier parts are decoded and
        # written; each part is recorded as landed just before its unit applies.
        with Prefetch(db_path, courier, source, [objects[item.key] for item in plan], log.should_stop) as fetched:
            totals.add(
                _apply(
                    store,
                    log,
                    feed,
                    _heap_units(store, db_path, log, courier, table, plan, objects, fetched, truncate),
                    totals,
                    parallel,
                )
            )
    _refresh_views(store, log, courier, [feed for feed, _ in feeds])
    return totals


def _heap_units(
    store: Store,
    db_path: Path,
    log: RunLog,
    courier: Courier,
    table: str,
    plan: list[Any],
    objects: dict[str, Any],
    fetched: Prefetch,
    truncate: bool,
) -> list[LoadUnit]:
    """One unit per incremental part, one per full resync; each file waits for its download."""
    from core.landing import landed_path, record_landed

    units: list[LoadUnit] = []
    full_dump: int | None = None
    for index, item in enumerate(plan):
        obj = objects[item.key]

        def record(index: int = index, item: Any = item, obj: Any = obj) -> int | None:
            return record_landed(
                store,
                log,
                courier,
                obj,
                table,
                "application/avro",
                fetched.result(index),
                dump_id=item.dump_id,
                part=item.part,
                index=index + 1,
                total=len(plan),
            ).row_count

        unit_file = UnitFile(
            job=DecodeJob(
                path=str(landed_path(db_path, courier, obj)),
                content_type="application/avro",
                order_key=f"heap:{item.dump_id:015d}:{item.part:09d}",
                label=item.key.rsplit("/", 1)[-1],
            ),
            dump_id=item.dump_id,
            part=item.part,
            key=item.key,
            last_in_dump=item.last_in_dump,
            fetch=partial(fetched.wait, index),
            record=record,
        )
        if not item.incremental and full_dump == item.dump_id:
            # Every part of a full resync commits together with the emptying of the table.
            units[-1].files.append(unit_file)
            continue
        full_dump = None if item.incremental else item.dump_id
        units.append(
            LoadUnit(
                files=[unit_file],
                truncate_first=not item.incremental or (truncate and not units),
                cursor_courier=courier.name,
                source_table=table,
            )
        )
    return units


def _refresh_views(store: Store, log: RunLog, courier: Courier, feeds: list[Feed]) -> None:
    log.update(phase=RunPhase.FINISHING, current_table=None, current_file=None)
    by_source: dict[str, list[str]] = {}
    for feed in load_project(store).feeds.values():
        by_source.setdefault(feed.source, []).append(feed.table_name)
    for source in sorted({feed.source for feed in feeds}):
        has_map = store.query("SELECT 1 FROM identity_map WHERE source = ? LIMIT 1", (source,))
        if not has_map:
            continue
        with store.atomic():
            views = refresh_identity_views(
                store, source, [t for t in by_source.get(source, []) if table_exists(store, t)]
            )
        if views:
            log.event("Domain transaction closed", f"Identity views rebuilt: {', '.join(views)}")
