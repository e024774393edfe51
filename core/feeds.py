"""Feeds: fields from a sample file, and activation (loading the sample into the domain table)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import CourierError, NotFoundError
from core.load import LoadCounts
from core.models import Feed, FeedField, Project
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


def field_origins(feed: Feed | None, fields: list[FeedField], landed: Any | None) -> dict[str, str]:
    """Where each field's type comes from, as the feed editor shows it (:data:`core.values.ORIGINS`).

    ``declared`` when the feed sets a type other than the one the sample file gives (or the
    field is not in the sample); otherwise the sample's own origin: ``logical type``,
    ``Avro type`` or ``Heap column`` (``file`` for CSV and NDJSON columns).
    """
    sample = {item["name"]: item for item in (landed.fields if landed is not None else [])}
    origins: dict[str, str] = {}
    for item in fields:
        inferred = sample.get(item.name)
        if inferred is None or inferred.get("feed_type", "String") != item.type:
            origins[item.name] = "declared"
        else:
            avro = landed is None or landed.content_type == "application/avro"
            origins[item.name] = inferred.get("origin") or ("Avro type" if avro else "file")
    return origins


def field_columns(store: Store, table: str, names: list[str]) -> dict[str, str]:
    """The domain-table column each field is (or will be) stored in, by the naming rules of :mod:`core.values`."""
    from core.ingest import column_mapping
    from core.load import table_columns
    from core.values import assign_columns

    mapping = column_mapping(store, table)
    explained = set(mapping.names.values())
    existing = [
        name for name, _ in table_columns(store, table) if name not in explained and name not in ("_pk", "_updated")
    ]
    return assign_columns(names, mapping.names, existing)


def order_key(landed: Any) -> str:
    """The generated ``_updated`` value for rows of a landed file: later files sort later."""
    if landed.dump_id is not None:
        return f"heap:{landed.dump_id:015d}:{landed.part or 0:09d}"
    return f"file:{landed.file_date or '0000-00-00T00:00:00'}:{landed.key}"


def view_landed_file(store: Store, file_id: int, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A sample file's column names and up to ``limit`` rows, as a domain table would store them.

    The values go through the same rules as a load (:mod:`core.values`), so the sample
    view, the domain table and its CSV export agree value for value; rows a load would
    reject are left out (a run lists them with their reasons).
    """
    from core.decode import DecodeJob, DecodeSpec, FileFailed, FileStarted, RowsDecoded, decode_file

    landed = landed_file(store, file_id)
    if not Path(landed.local_path).exists():
        raise CourierError(f"The landed copy of {landed.key} is gone from the cache; run the courier again to land it")
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    events = decode_file(
        0,
        DecodeJob(
            landed.local_path, landed.content_type, "", landed.name, header_rows=landed_header_rows(store, landed)
        ),
        DecodeSpec(primary_key=(), last_updated=None),
    )
    try:
        for event in events:
            if isinstance(event, FileFailed):
                raise CourierError(event.message)
            if isinstance(event, FileStarted):
                columns = event.columns
            elif isinstance(event, RowsDecoded):
                rows.extend(row[: len(columns)] for row in event.rows[: limit - len(rows)])
                if len(rows) >= limit:
                    break
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    return columns, rows


def landed_header_rows(store: Store, landed: Any) -> int | None:
    """The ``file/header-rows`` of the entity a CSV file was landed as (``None``: the default)."""
    found = store.query(
        "SELECT header_rows FROM entities WHERE courier = ? AND tag = ? ORDER BY position LIMIT 1",
        (landed.courier, landed.tag),
    )
    return found[0]["header_rows"] if found else None


def landed_file(store: Store, file_id: int) -> Any:
    """One landed file by ID."""
    from core.runs import list_landed_files

    found = list_landed_files(store, file_id=file_id)
    if found:
        return found[0]
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
            raise CourierError(
                f"Feed {feed_id} has no sample file: pick one of the landed files "
                "(run the courier with empty load operations to land some)"
            )
        landed = landed_file(store, file_id)
        if not Path(landed.local_path).exists():
            raise CourierError(f"The landed copy of {landed.key} is gone from the cache; run the courier again")

        def mark_active(store_: Store, counts: LoadCounts) -> None:
            store_.execute("UPDATE feeds SET status = 'active', sample_file_id = ? WHERE id = ?", (file_id, feed_id))

        unit = LoadUnit(
            files=[
                UnitFile(
                    job=DecodeJob(landed.local_path, landed.content_type, order_key(landed), landed.name),
                    row_count=landed.row_count,
                    key=landed.key,
                )
            ]
        )
        return apply_units(store, feed, [unit], IngestHooks(committed=mark_active), parallel=False)
    finally:
        store.close()


# --- the feed editor and the load-operations step ---------------------------------------------

FEED_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits for new feed IDs, without the look-alikes (0/O, 1/l/I)."""


def new_feed_id(existing: Iterable[str] = ()) -> str:
    """A fresh random feed ID (``df-`` and 8 letters or digits, e.g. ``df-4kX9m2Qa``) not in ``existing``."""
    taken = set(existing)
    while True:
        candidate = "df-" + "".join(secrets.choice(FEED_ID_ALPHABET) for _ in range(8))
        if candidate not in taken:
            return candidate


def suggested_feed_name(tag: str) -> str:
    """A feed name for a sample file's tag: Heap's own names, else the tag in words (``users`` → ``Users``)."""
    from core.heap import HEAP_FEED_NAMES

    if tag in HEAP_FEED_NAMES:
        return HEAP_FEED_NAMES[tag]
    words = [word for word in tag.replace("-", "_").split("_") if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or tag


def sample_file_ids(store: Store) -> dict[str, int]:
    """Each feed's sample file (a landed file ID), by feed ID; feeds without one are left out."""
    rows = store.query("SELECT id, sample_file_id FROM feeds WHERE sample_file_id IS NOT NULL")
    return {row["id"]: row["sample_file_id"] for row in rows}


def set_sample_file(store: Store, feed_id: str, file_id: int | None) -> None:
    """Remember which landed file a feed was made from (activation loads it).

    Raises:
        NotFoundError: the feed or the landed file does not exist.
    """
    if not store.query("SELECT 1 FROM feeds WHERE id = ?", (feed_id,)):
        raise NotFoundError(f'There is no feed "{feed_id}"')
    if file_id is not None and not store.query("SELECT 1 FROM landed_files WHERE id = ?", (file_id,)):
        raise NotFoundError(f"There is no landed file {file_id} (see courier samples COURIER)")
    store.execute("UPDATE feeds SET sample_file_id = ? WHERE id = ?", (file_id, feed_id))


def feed_samples(store: Store) -> dict[str, tuple[str, str]]:
    """Where each feed's sample file came from, by feed ID: (the courier that landed it, its ``file/tag``)."""
    rows = store.query(
        "SELECT feeds.id AS feed_id, landed_files.courier AS courier, landed_files.tag AS tag "
        "FROM feeds JOIN landed_files ON landed_files.id = feeds.sample_file_id"
    )
    return {row["feed_id"]: (row["courier"], row["tag"]) for row in rows}


@dataclass
class FeedIdFill:
    """What "Fill in feed IDs" would do to a courier's load operations."""

    operations: dict[str, list[dict[str, Any]]]
    """The new load operations, in project-document form, in the original order."""
    replaced: list[tuple[str, str]] = field(default_factory=list)
    """(unknown ID, the active feed put in its place)."""
    problems: list[str] = field(default_factory=list)
    """One line per unknown ID left as it was, saying why and what to do."""
    added: list[tuple[str, str]] = field(default_factory=list)
    """(active feed, file tag) given a load operation because it was made from this courier's sample
    and no operation named it yet (a courier that started with ``{}``)."""

    @property
    def changed(self) -> bool:
        """Whether saving would change anything."""
        return bool(self.replaced or self.added)


def fill_feed_ids(project: Project, courier_name: str, samples: dict[str, tuple[str, str]]) -> FeedIdFill:
    """Replace each unknown feed ID in a courier's load operations with the active feed made for its files.

    An unknown ID (such as the placeholder ``df-xxxxxx``) is replaced when exactly
    one active feed has a sample file whose tag is one the operations load; the
    operations themselves (a truncate included) are kept. Samples this courier
    landed count first; another courier's samples only when it has none. Otherwise
    the ID stays and a problem says why: no such feed, several (listed), or a draft.
    An active feed made from this courier's own sample that no operation names yet,
    of a file no operation loads yet (the courier started with ``{}``), gets
    ``[{"type": "load", "file": <its tag>}]``.

    Args:
        project: The stored configuration.
        courier_name: The courier whose load operations to fill in.
        samples: Feed ID → (courier, tag) of its sample file (``feed_samples``).

    Raises:
        NotFoundError: there is no such courier.
    """
    from core.project import load_operations_document

    courier = project.couriers.get(courier_name)
    if courier is None:
        raise NotFoundError(f'There is no courier named "{courier_name}"')
    current = load_operations_document(courier.load_operations)
    keys = list(current)
    fill = FeedIdFill(operations={})
    for feed_id, steps in current.items():
        target = feed_id
        if feed_id not in project.feeds:
            target = _fill_one(project, courier_name, feed_id, steps, samples, keys, fill)
        fill.operations[target] = steps
    # Files an operation already loads (a placeholder that could not be filled included) are left
    # to the user: adding a second load of them would load the same file into two tables.
    loaded = {step.get("file") for steps in current.values() for step in steps if step.get("type") == "load"}
    for feed_id, (landed_by, tag) in samples.items():
        feed = project.feeds.get(feed_id)
        if (
            landed_by == courier_name
            and feed is not None
            and feed.status == "active"
            and feed_id not in fill.operations
            and tag not in loaded
        ):
            fill.operations[feed_id] = [{"type": "load", "file": tag}]
            fill.added.append((feed_id, tag))
    return fill


def _fill_one(
    project: Project,
    courier_name: str,
    feed_id: str,
    steps: list[dict[str, Any]],
    samples: dict[str, tuple[str, str]],
    keys: list[str],
    fill: FeedIdFill,
) -> str:
    files = [step["file"] for step in steps if step.get("type") == "load" and step.get("file")]
    if not files:
        fill.problems.append(
            f"{feed_id} loads no file, so no feed can be matched to it; edit the courier to name a feed or remove it"
        )
        return feed_id
    wanted = " or ".join(files)
    matching = [feed for feed in project.feeds.values() if samples.get(feed.id, ("", ""))[1] in files]
    own = [feed for feed in matching if samples[feed.id][0] == courier_name]
    matching = own or matching
    active = [feed for feed in matching if feed.status == "active"]
    if len(active) == 1:
        feed = active[0]
        if feed.id in keys or feed.id in fill.operations:
            fill.problems.append(
                f"{feed_id} loads {wanted}, but {feed.id} ({feed.table_name}) already has "
                f"load operations; edit the courier to remove {feed_id}"
            )
            return feed_id
        fill.replaced.append((feed_id, feed.id))
        keys.append(feed.id)
        return feed.id
    if len(active) > 1:
        choices = ", ".join(f"{feed.id} ({feed.table_name})" for feed in active)
        fill.problems.append(
            f"{feed_id} loads {wanted}: several active feeds were made from a {wanted} sample "
            f"({choices}); edit the courier to choose one"
        )
    elif matching:
        drafts = ", ".join(f"{feed.id} ({feed.table_name})" for feed in matching)
        fill.problems.append(
            f"{feed_id} loads {wanted}: the feed made from a {wanted} sample is still a draft "
            f"({drafts}); activate it first"
        )
    else:
        fill.problems.append(
            f"{feed_id} loads {wanted}: no active feed was made from a {wanted} sample file; "
            "add a feed from one and activate it"
        )
    return feed_id
