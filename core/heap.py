"""Heap Connect for S3: manifests, dump ordering and table conventions.

Manifests drive everything: only ``manifests/sync_<dump_id>.json`` keys are
read, a ``sync_<id>/`` folder without a manifest is never touched (it may be
half-written), dumps are applied in numeric ``dump_id`` order and parts in
numeric part order (never string order).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import SourceError

if TYPE_CHECKING:
    from core.s3 import S3Source

MANIFEST_RE = re.compile(r"^manifests/sync_(\d+)\.json$")
PART_RE = re.compile(r"(?:^|/)part-(\d+)")
SKIPPED_TABLES = frozenset({"_event_metadata"})
"""Undocumented tables every public reader skips by exact name (not every ``_`` table)."""

HEAP_PRIMARY_KEYS = {
    "users": ("user_id",),
    "sessions": ("session_id",),
    "pageviews": ("event_id",),
    "user_migrations": ("from_user_id",),
}
EVENT_PRIMARY_KEY = ("event_id",)
HEAP_LAST_UPDATED = {"users": "last_modified"}
HEAP_FEED_NAMES = {
    "users": "Users",
    "sessions": "Sessions",
    "pageviews": "Pageviews",
    "user_migrations": "User Migrations",
}
LOAD_ORDER = {"user_migrations": 0, "users": 3, "sessions": 2, "pageviews": 2}
"""Heap's suggested import order: migrations first, then events, sessions and pageviews, users last."""
PII_TAGS = {"email": ("email",), "identity": ("email",)}


EMPTY_RESYNC_KEY = ""
"""The key of the planned entry for a full resync that delivers no files: the table must become empty."""


@dataclass(frozen=True)
class ManifestTable:
    """One table's entry in a dump's manifest."""

    name: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    """Object keys of the table's files in numeric part order."""
    incremental: bool


@dataclass(frozen=True)
class Manifest:
    """A completed Heap dump."""

    dump_id: int
    key: str
    tables: dict[str, ManifestTable]


@dataclass(frozen=True)
class TableFile:
    """One file to apply to a table, in order."""

    dump_id: int
    part: int
    key: str
    incremental: bool
    last_in_dump: bool


def part_number(key: str) -> int:
    """The Spark part number in a key such as ``sync_9/users/part-00012-<uuid>-c000.avro``."""
    match = PART_RE.search(key)
    return int(match.group(1)) if match else 0


def parse_manifest(key: str, body: bytes, bucket: str, prefix: str | None = None) -> Manifest:
    """Parse one manifest; raises :class:`SourceError` naming the key when it is malformed or unsafe.

    A manifest is trusted only for its own dump: its ``dump_id`` must agree with
    its key (``manifests/sync_2.json`` saying ``"dump_id": 1`` is refused naming
    both), every file must be in ``bucket`` under ``<prefix>sync_<dump_id>/``
    without ``.``/``..`` or empty segments or control characters, and table names
    must be plain names. With ``prefix=None`` any prefix before ``sync_<dump_id>/``
    is accepted.
    """
    match = MANIFEST_RE.match(key.rsplit("/manifests/", 1)[-1] if "/manifests/" in key else key)
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TypeError("the body is not a JSON object")
        raw_dump_id: Any = data.get("dump_id", match.group(1) if match else "")
        dump_id = int(raw_dump_id)
        tables: dict[str, ManifestTable] = {}
        for entry in data.get("tables") or []:
            name = str(entry["name"])
            keys = [_strip_uri(str(uri), bucket, key) for uri in entry.get("files") or []]
            keys.sort(key=lambda k: (part_number(k), k))
            tables[name] = ManifestTable(
                name=name,
                columns=tuple(entry.get("columns") or ()),
                keys=tuple(keys),
                incremental=bool(entry.get("incremental", True)),
            )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        if isinstance(error, _Unsafe):
            raise SourceError(str(error)) from None
        raise SourceError(f"{key} is not a valid Heap manifest ({error}); ask Heap to re-send that sync") from error
    if match and int(match.group(1)) != dump_id:
        raise SourceError(
            f'{key} says "dump_id": {dump_id} but its key says sync_{match.group(1)}: Courier '
            "cannot tell which dump it describes; ask Heap to re-send that sync"
        )
    for name, table in tables.items():
        _check_manifest_table(key, dump_id, name, table, prefix)
    return Manifest(dump_id=dump_id, key=key, tables=tables)


class _Unsafe(ValueError):
    """A manifest entry that points outside its own dump."""


def _strip_uri(uri: str, bucket: str, manifest_key: str) -> str:
    prefix = f"s3://{bucket}/"
    if uri.startswith(prefix):
        return uri[len(prefix) :]
    if uri.startswith("s3://"):
        raise _Unsafe(
            f"{manifest_key} lists {uri[:200]}, outside the bucket {bucket}: Courier reads only the "
            "courier's own bucket; ask Heap to re-send that sync"
        )
    return uri.lstrip("/")


def _check_manifest_table(manifest_key: str, dump_id: int, name: str, table: ManifestTable, prefix: str | None) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or any(ord(ch) < 32 for ch in name):
        raise SourceError(
            f"{manifest_key} names a table {json.dumps(name)[:100]}, which is not a table name: "
            "ask Heap to re-send that sync"
        )
    folder = f"sync_{dump_id}/"
    for file_key in table.keys:
        segments = file_key.split("/")
        # Control characters and long names are legal in S3 keys (they land under a hashed path);
        # only segments that move between folders make a key point somewhere else.
        unsafe = any(segment in ("", ".", "..") for segment in segments)
        inside = (
            file_key.startswith(prefix + folder)
            if prefix is not None
            else file_key.startswith(folder) or f"/{folder}" in file_key
        )
        if unsafe or not inside:
            raise SourceError(
                f"{manifest_key} lists {json.dumps(file_key)[:200]} for table {name}, outside its "
                f"own {folder} folder: Courier refuses that manifest; ask Heap to re-send that sync"
            )


def list_manifests(source: S3Source) -> list[Manifest]:
    """Every completed dump under the courier's prefix, in numeric ``dump_id`` order."""
    manifests: list[Manifest] = []
    for obj in source.list_objects("manifests/"):
        relative = source.relative_key(obj.key)
        if not MANIFEST_RE.match(relative):
            continue
        manifests.append(parse_manifest(relative, source.read_bytes(obj.key), source.bucket, source.prefix))
    manifests.sort(key=lambda manifest: manifest.dump_id)
    return manifests


def table_names(manifests: list[Manifest]) -> list[str]:
    """Every loadable table named by any manifest, in Heap's suggested load order."""
    names = {name for manifest in manifests for name in manifest.tables if name not in SKIPPED_TABLES}
    return sorted(names, key=lambda name: (LOAD_ORDER.get(name, 1), name))


def plan_table(
    manifests: list[Manifest], table: str, cursor: tuple[int, int, bool] | tuple[int, int, bool, str] | None
) -> list[TableFile]:
    """The files to apply to one table, given its cursor ``(dump_id, last_part, dump_complete[, last_key])``.

    A cold start begins at the newest dump where the table is a full sync
    (``incremental: false``), or at the oldest dump still present when there is
    none. A later full sync supersedes everything before it; one without files
    (``incremental: false, files: []``) is planned as a single :data:`EMPTY_RESYNC_KEY`
    entry, which empties the table. Inside a
    half-applied dump, resuming goes by the last file's full key: Spark may
    write two files with one part number (``part-00000-<uuid>-c000.avro`` and
    ``…-c001.avro``), and both must load. Only a cursor without a key (or whose
    key is no longer listed) falls back to the part number.
    """
    dumps = [(m.dump_id, m.tables[table]) for m in manifests if table in m.tables]
    last_key = ""
    if cursor is not None:
        dump_id, last_part, complete = cursor[0], cursor[1], cursor[2]
        last_key = cursor[3] if len(cursor) > 3 else ""  # type: ignore[misc]
        pending = [(d, t) for d, t in dumps if d > dump_id or (d == dump_id and not complete)]
    else:
        pending = dumps
        last_part, dump_id = -1, -1
    full_positions = [index for index, (_, entry) in enumerate(pending) if not entry.incremental]
    if full_positions:
        pending = pending[full_positions[-1] :]
    files: list[TableFile] = []
    for current_dump, entry in pending:
        if not entry.incremental and not entry.keys:
            # A full resync without files empties the table (only the first pending dump can be one).
            files.append(
                TableFile(dump_id=current_dump, part=-1, key=EMPTY_RESYNC_KEY, incremental=False, last_in_dump=True)
            )
            continue
        keys = list(entry.keys)
        if cursor is not None and current_dump == dump_id and entry.incremental:
            keys = (
                keys[keys.index(last_key) + 1 :]
                if last_key in keys
                else [key for key in keys if part_number(key) > last_part]
            )
        for index, key in enumerate(keys):
            files.append(
                TableFile(
                    dump_id=current_dump,
                    part=part_number(key),
                    key=key,
                    incremental=entry.incremental,
                    last_in_dump=index == len(keys) - 1,
                )
            )
    return files


def newest_sample_keys(manifests: list[Manifest]) -> dict[str, str]:
    """For sample-file runs: the first part of each table in the newest dump that has it."""
    samples: dict[str, str] = {}
    for manifest in reversed(manifests):
        for name, entry in manifest.tables.items():
            if name in SKIPPED_TABLES or name in samples or not entry.keys:
                continue
            samples[name] = entry.keys[0]
    return samples


def suggested_feed(table: str, columns: list[str], source: str = "Heap") -> dict[str, Any]:
    """A feed definition (project-document form) for a Heap table."""
    lowered = {column.lower(): column for column in columns}
    key = HEAP_PRIMARY_KEYS.get(table, EVENT_PRIMARY_KEY)
    primary_key = [lowered.get(column, column) for column in key]
    last_updated = HEAP_LAST_UPDATED.get(table)
    fields = {
        column: {"type": "String", "tags": list(PII_TAGS.get(column.lower(), ())), "required": False}
        for column in columns
        if column.lower() in PII_TAGS and table == "users"
    }
    body: dict[str, Any] = {
        "source": source,
        "name": HEAP_FEED_NAMES.get(table, table),
        "primary-key": primary_key,
        "last-updated": last_updated if last_updated in lowered else None,
        "stitch": table == "users",
        "error-threshold": 1,
    }
    if fields:
        body["fields"] = fields
    return body


def suggested_feed_id(table: str) -> str:
    """A readable feed ID for a Heap table, e.g. ``df-usersx01`` or ``df-pagevi01``."""
    letters = (re.sub(r"[^a-z0-9]", "", table.lower()) + "xxxxxx")[:6]
    return f"df-{letters}01"


@dataclass(frozen=True)
class Discovery:
    """What the manifests offer: entities, suggested feeds and load operations."""

    dump_ids: list[int]
    tables: dict[str, list[str]]
    """Table name → columns (union over dumps, first-seen order)."""
    entities: list[dict[str, Any]]
    feeds: dict[str, dict[str, Any]]
    load_operations: dict[str, list[dict[str, Any]]]


def discover(source: S3Source, feed_source: str = "Heap") -> Discovery:
    """Read the manifests and generate the entities list, feeds and load operations."""
    manifests = list_manifests(source)
    if not manifests:
        raise SourceError(
            f"No Heap manifests under s3://{source.bucket}/{source.prefix}manifests/: "
            "check the prefix, or wait for Heap's first sync to finish"
        )
    columns: dict[str, list[str]] = {}
    for manifest in manifests:
        for name, entry in manifest.tables.items():
            seen = columns.setdefault(name, [])
            seen.extend(column for column in entry.columns if column not in seen)
    names = table_names(manifests)
    entities = [
        {
            "object/type": "file",
            "object/file-pattern": f"'sync_'*'/{name}/part-'*'.avro'",
            "object/land-as": {"file/tag": name, "file/content-type": "application/avro"},
        }
        for name in names
    ]
    feeds: dict[str, dict[str, Any]] = {}
    operations: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        feed_id = suggested_feed_id(name)
        while feed_id in feeds:
            feed_id = feed_id[:-2] + f"{int(feed_id[-2:]) + 1:02d}"
        feeds[feed_id] = suggested_feed(name, columns[name], feed_source)
        operations[feed_id] = [{"type": "load", "file": name}]
    return Discovery(
        dump_ids=[m.dump_id for m in manifests],
        tables={n: columns[n] for n in names},
        entities=entities,
        feeds=feeds,
        load_operations=operations,
    )
