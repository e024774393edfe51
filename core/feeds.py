"""Feeds: fields from a sample file, and activation (loading the sample into the domain table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.load import LoadCounts
from core.models import Feed, FeedField
from core.store import Store


def sample_fields(landed: Any) -> list[FeedField]:
    """Fields inferred from a landed file's schema (name and feed type)."""
    return [FeedField(name=field["name"], type=field.get("feed_type", "String")) for field in landed.fields]


def effective_fields(feed: Feed, landed: Any | None) -> list[FeedField]:
    """The sample file's fields with the feed's declared settings laid over them, then declared-only fields."""
    declared = {f.name.lower(): f for f in feed.fields or ()}
    fields: list[FeedField] = []
    for inferred in sample_fields(landed) if landed is not None else []:
        fields.append(declared.pop(inferred.name.lower(), inferred))
    fields.extend(declared.values())
    return fields


def order_key(landed: Any) -> str:
    """The generated ``_updated`` value for rows of a landed file: later files sort later."""
    if landed.dump_id is not None:
        return f"heap:{landed.dump_id:015d}:{landed.part or 0:09d}"
    return f"file:{landed.file_date or '0000-00-00T00:00:00'}:{landed.key}"


def view_landed_file(store: Store, file_id: int, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A sample file's column names and up to ``limit`` rows."""
    from core.avro import read_rows

    landed = landed_file(store, file_id)
    if not Path(landed.local_path).exists():
        raise CourierError(f"The landed copy of {landed.key} is gone from the cache; run the courier again to land it")
    if landed.content_type != "application/avro":
        from core.decode import DecodeJob, DecodeSpec, FileStarted, RowsDecoded, decode_file

        columns: list[str] = []
        rows: list[tuple[Any, ...]] = []
        for event in decode_file(0, DecodeJob(landed.local_path, landed.content_type, "", landed.name),
                                 DecodeSpec(primary_key=(), last_updated=None)):
            if isinstance(event, FileStarted):
                columns = event.columns
            elif isinstance(event, RowsDecoded):
                rows.extend(row[: len(columns)] for row in event.rows[: limit - len(rows)])
                if len(rows) >= limit:
                    break
        return columns, rows
    return read_rows(landed.local_path, limit=limit)


def landed_file(store: Store, file_id: int) -> Any:
    """One landed file by ID."""
    from core.runs import list_landed_files

    for item in list_landed_files(store):
        if item.id == file_id:
            return item
    raise NotFoundError(f"There is no landed file {file_id} (see courier samples COURIER)")


def activate_feed(db_path: Path | str, feed_id: str, file_id: int | None = None) -> LoadCounts:
    """Load a sample file into the feed's domain table and mark the feed active, in one transaction.

    Raises:
        NotFoundError: the feed or file does not exist.
        LoadRejected: more rows were rejected than the feed's error threshold; the feed stays a draft.
    """
    from core.decode import DecodeJob
    from core.ingest import IngestHooks, LoadUnit, UnitFile, apply_units
    from core.project import load_project

    store = Store(db_path)
    try:
        feed = load_project(store).feeds.get(feed_id)
        if feed is None:
            raise NotFoundError(f'There is no feed "{feed_id}"')
        if file_id is None:
            row = store.query("SELECT sample_file_id FROM feeds WHERE id = ?", (feed_id,))
            file_id = row[0]["sample_file_id"] if row else None
        if file_id is None:
            raise CourierError(f"Feed {feed_id} has no sample file: pick one of the landed files "
                               "(run the courier with empty load operations to land some)")
        landed = landed_file(store, file_id)
        if not Path(landed.local_path).exists():
            raise CourierError(f"The landed copy of {landed.key} is gone from the cache; run the courier again")

        def mark_active(store_: Store, counts: LoadCounts) -> None:
            store_.execute("UPDATE feeds SET status = 'active', sample_file_id = ? WHERE id = ?", (file_id, feed_id))

        unit = LoadUnit(files=[UnitFile(job=DecodeJob(landed.local_path, landed.content_type, order_key(landed),
                                                       landed.name), row_count=landed.row_count, key=landed.key)])
        return apply_units(store, feed, [unit], IngestHooks(committed=mark_active), parallel=False)
    finally:
        store.close()
