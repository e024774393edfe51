"""Configuration as code: read, apply and export the project document.

``courier apply``, ``courier export`` and every editor in the TUI go through
these functions, so all of them write the same records the same way: validate
the whole document first, then write it in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.config import validate_document
from core.errors import ConfigError, NotFoundError
from core.models import (
    Courier,
    CourierGroup,
    Credential,
    Entity,
    Feed,
    FeedField,
    GroupCourier,
    LoadOperation,
    Project,
    from_row,
    stored_columns,
    to_document,
    to_row,
)
from core.retype import retype_table
from core.store import Store


@dataclass
class ApplyResult:
    """What applying a document changed."""

    changes: list[str] = field(default_factory=list)
    """One line per object added or changed, e.g. ``added courier Heap``."""
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)


def load_project(store: Store) -> Project:
    """Read the whole configuration from the database."""
    project = Project()
    for row in store.query("SELECT * FROM credentials ORDER BY name"):
        project.credentials[row["name"]] = Credential(
            name=row["name"],
            type=row["type"],
            role_arn=row["role_arn"],
            external_id=row["external_id"],
            profile=row["profile"],
            region=row["region"],
            endpoint_url=row["endpoint_url"],
        )
    entities: dict[str, list[Entity]] = {}
    for row in store.query("SELECT * FROM entities ORDER BY courier, position"):
        entities.setdefault(row["courier"], []).append(
            Entity(
                file_pattern=row["file_pattern"],
                tag=row["tag"],
                content_type=row["content_type"],
                optional=bool(row["optional"]),
                header_rows=row["header_rows"],
                separator=row["separator"],
                quote=row["quote"],
            )
        )
    operations: dict[str, dict[str, list[LoadOperation]]] = {}
    for row in store.query("SELECT * FROM load_operations ORDER BY courier, feed_position, position"):
        by_feed = operations.setdefault(row["courier"], {})
        steps = by_feed.setdefault(row["feed_id"], [])
        if row["type"] != "":
            steps.append(LoadOperation(type=row["type"], file=row["file"]))
    for row in store.query("SELECT * FROM couriers ORDER BY name"):
        name = row["name"]
        project.couriers[name] = Courier(
            name=name,
            credential=row["credential"],
            bucket=row["bucket"],
            prefix=row["prefix"],
            layout=row["layout"],
            entities=tuple(entities.get(name, [])) if row["has_entities"] else None,
            load_operations={feed_id: tuple(steps) for feed_id, steps in operations.get(name, {}).items()},
            plugin=row["plugin"],
        )
    fields: dict[str, list[FeedField]] = {}
    for row in store.query("SELECT * FROM feed_fields ORDER BY feed_id, position"):
        fields.setdefault(row["feed_id"], []).append(
            FeedField(
                name=row["name"], type=row["type"], tags=tuple(json.loads(row["tags"])), required=bool(row["required"])
            )
        )
    for row in store.query("SELECT * FROM feeds ORDER BY id"):
        project.feeds[row["id"]] = Feed(
            id=row["id"],
            source=row["source"],
            name=row["name"],
            primary_key=tuple(json.loads(row["primary_key"])),
            last_updated=row["last_updated"],
            stitch=bool(row["stitch"]),
            error_threshold=row["error_threshold"],
            fields=tuple(fields.get(row["id"], [])) if row["has_fields"] else None,
            status=row["status"],
        )
    members: dict[str, list[GroupCourier]] = {}
    for row in store.query("SELECT * FROM group_couriers ORDER BY group_name, position"):
        members.setdefault(row["group_name"], []).append(from_row(GroupCourier, row))
    for row in store.query("SELECT * FROM courier_groups ORDER BY name"):
        project.groups[row["name"]] = from_row(CourierGroup, row, couriers=tuple(members.get(row["name"], [])))
    return project


def apply_document(store: Store, document: Any, *, dry_run: bool = False) -> ApplyResult:
    """Validate a project document and write every object it defines, all or nothing.

    Objects the document does not mention are left alone.

    Raises:
        ConfigError: listing every problem; nothing was written.
    """
    current = load_project(store)
    validation = validate_document(document, existing=current)
    validation.raise_for_errors()
    incoming = validation.project
    result = ApplyResult(warnings=list(validation.warnings))
    sections = (
        ("credential", current.credentials, incoming.credentials, _write_credential),
        ("feed", current.feeds, incoming.feeds, _write_feed),
        ("courier", current.couriers, incoming.couriers, _write_courier),
        ("courier group", current.groups, incoming.groups, _write_group),
    )
    pending: list[tuple[Any, Any]] = []
    for label, existing, new, writer in sections:
        for name, obj in new.items():
            before = existing.get(name)
            if before == obj:
                result.unchanged += 1
                continue
            result.changes.append(f"{'changed' if before is not None else 'added'} {label} {name}")
            pending.append((writer, obj))
    changed_feeds = [obj for writer, obj in pending if writer is _write_feed]
    if dry_run or not pending:
        for feed in changed_feeds:
            retyped = retype_table(store, feed, dry_run=True)  # a value that cannot convert refuses here too
            if retyped:
                result.changes.append(retyped.describe())  # the CLI says "would be …" on a dry run
        return result
    with store.atomic():
        for writer, obj in pending:
            writer(store, obj)
        for feed in changed_feeds:
            # A changed declared type rebuilds the table in this same transaction (issue 9, rule 6).
            retyped = retype_table(store, feed)
            if retyped:
                result.changes.append(retyped.describe())
    return result


def export_document(project: Project) -> dict[str, Any]:
    """The project document for a configuration, in canonical form (every key explicit)."""
    document: dict[str, Any] = {"credentials": {}, "couriers": {}, "feeds": {}, "courier-groups": {}}
    for name, credential in project.credentials.items():
        document["credentials"][name] = {
            "type": credential.type,
            "role-arn": credential.role_arn,
            "external-id": credential.external_id,
            "profile": credential.profile,
            "region": credential.region,
            "endpoint-url": credential.endpoint_url,
        }
    for name, courier in project.couriers.items():
        document["couriers"][name] = courier_document(courier)
    for feed_id, feed in project.feeds.items():
        document["feeds"][feed_id] = feed_document(feed)
    for name, group in project.groups.items():
        document["courier-groups"][name] = to_document(group)
    return document


def courier_document(courier: Courier) -> dict[str, Any]:
    """One courier in project-document form."""
    body: dict[str, Any] = {
        "plugin": courier.plugin,
        "credential": courier.credential,
        "bucket": courier.bucket,
        "prefix": courier.prefix,
        "layout": courier.layout,
    }
    if courier.entities is not None:
        body["entities"] = entities_document(courier.entities)
    body["load-operations"] = load_operations_document(courier.load_operations)
    return body


def entities_document(entities: tuple[Entity, ...]) -> list[dict[str, Any]]:
    """An entities list in Amperity's JSON form."""
    result = []
    for entity in entities:
        land_as: dict[str, Any] = {"file/tag": entity.tag, "file/content-type": entity.content_type}
        for key, value in (
            ("file/header-rows", entity.header_rows),
            ("file/separator", entity.separator),
            ("file/quote", entity.quote),
        ):
            if value is not None:
                land_as[key] = value
        item: dict[str, Any] = {
            "object/type": "file",
            "object/file-pattern": entity.file_pattern,
            "object/land-as": land_as,
        }
        if entity.optional:
            item["object/optional"] = True
        result.append(item)
    return result


def load_operations_document(operations: dict[str, tuple[LoadOperation, ...]]) -> dict[str, Any]:
    """Load operations in Amperity's JSON form."""
    return {
        feed_id: [{"type": step.type, **({"file": step.file} if step.file is not None else {})} for step in steps]
        for feed_id, steps in operations.items()
    }


def feed_document(feed: Feed) -> dict[str, Any]:
    """One feed in project-document form."""
    body: dict[str, Any] = {
        "source": feed.source,
        "name": feed.name,
        "primary-key": list(feed.primary_key),
        "last-updated": feed.last_updated,
        "stitch": feed.stitch,
        "error-threshold": feed.error_threshold,
    }
    if feed.fields is not None:
        body["fields"] = {f.name: {"type": f.type, "tags": list(f.tags), "required": f.required} for f in feed.fields}
    if feed.status != "active":
        body["status"] = feed.status
    return body


def delete_object(store: Store, kind: str, name: str) -> None:
    """Delete a credential, courier, feed or courier group (data in domain tables is kept).

    Raises:
        NotFoundError: when it does not exist.
        ConfigError: when something still refers to it.
    """
    project = load_project(store)
    kinds: dict[str, tuple[str, dict[str, Any]]] = {
        "credential": ("credentials", project.credentials),
        "courier": ("couriers", project.couriers),
        "feed": ("feeds", project.feeds),
        "courier group": ("courier_groups", project.groups),
    }
    table, collection = kinds[kind]
    if name not in collection:
        raise NotFoundError(f'There is no {kind} named "{name}"')
    users: list[str] = []
    if kind == "credential":
        users = [f"courier {c.name}" for c in project.couriers.values() if c.credential == name]
    elif kind == "courier":
        users = [
            f"courier group {g.name}" for g in project.groups.values() if any(m.courier == name for m in g.couriers)
        ]
    elif kind == "courier group":
        users = [f"courier group {g.name}" for g in project.groups.values() if g.run_after == name]
    if users:
        raise ConfigError(
            f'Cannot delete {kind} "{name}": {", ".join(users)} still use{"s" if len(users) == 1 else ""} it'
        )
    key = "id" if kind == "feed" else "name"
    with store.atomic():
        store.execute(f"DELETE FROM {table} WHERE {key} = ?", (name,))


def rename_courier(store: Store, old: str, new_document: dict[str, Any], new_name: str) -> ApplyResult:
    """Save a courier under a new name in one transaction, moving its group memberships, samples, cursors and runs."""
    with store.atomic():
        result = apply_document(store, {"couriers": {new_name: new_document}})
        if old != new_name:
            store.execute("UPDATE group_couriers SET courier = ? WHERE courier = ?", (new_name, old))
            # The renamed courier keeps its landed samples, cursors (so runs resume) and history.
            store.execute("UPDATE landed_files SET courier = ? WHERE courier = ?", (new_name, old))
            store.execute("UPDATE cursors SET courier = ? WHERE courier = ?", (new_name, old))
            store.execute("UPDATE runs SET target = ? WHERE kind = 'courier' AND target = ?", (new_name, old))
            store.execute("DELETE FROM couriers WHERE name = ?", (old,))
            result.changes.append(f"removed courier {old}")
    return result


def rename_group(store: Store, old: str, new_document: dict[str, Any], new_name: str) -> ApplyResult:
    """Save a courier group under a new name in one transaction, keeping its history and dependants."""
    with store.atomic():
        result = apply_document(store, {"courier-groups": {new_name: new_document}})
        if old != new_name:
            store.execute("UPDATE courier_groups SET run_after = ? WHERE run_after = ?", (new_name, old))
            store.execute("UPDATE runs SET target = ? WHERE kind = 'group' AND target = ?", (new_name, old))
            store.execute("UPDATE schedule_state SET group_name = ? WHERE group_name = ?", (new_name, old))
            store.execute("DELETE FROM courier_groups WHERE name = ?", (old,))
            result.changes.append(f"removed courier group {old}")
    return result


def _write_credential(store: Store, credential: Credential) -> None:
    store.execute(
        "INSERT INTO credentials (name, type, role_arn, external_id, profile, region, endpoint_url) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET type = excluded.type, "
        "role_arn = excluded.role_arn, external_id = excluded.external_id, profile = excluded.profile, "
        "region = excluded.region, endpoint_url = excluded.endpoint_url",
        (
            credential.name,
            credential.type,
            credential.role_arn,
            credential.external_id,
            credential.profile,
            credential.region,
            credential.endpoint_url,
        ),
    )


def _write_courier(store: Store, courier: Courier) -> None:
    store.execute(
        "INSERT INTO couriers (name, plugin, credential, bucket, prefix, layout, has_entities) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET plugin = excluded.plugin, "
        "credential = excluded.credential, bucket = excluded.bucket, prefix = excluded.prefix, "
        "layout = excluded.layout, has_entities = excluded.has_entities",
        (
            courier.name,
            courier.plugin,
            courier.credential,
            courier.bucket,
            courier.prefix,
            courier.layout,
            int(courier.entities is not None),
        ),
    )
    store.execute("DELETE FROM entities WHERE courier = ?", (courier.name,))
    for position, entity in enumerate(courier.entities or ()):
        store.execute(
            "INSERT INTO entities (courier, position, file_pattern, tag, content_type, optional, header_rows, "
            "separator, quote) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                courier.name,
                position,
                entity.file_pattern,
                entity.tag,
                entity.content_type,
                int(entity.optional),
                entity.header_rows,
                entity.separator,
                entity.quote,
            ),
        )
    store.execute("DELETE FROM load_operations WHERE courier = ?", (courier.name,))
    for feed_position, (feed_id, steps) in enumerate(courier.load_operations.items()):
        # A feed with an empty list still needs a row so export gives it back.
        rows = [(step.type, step.file) for step in steps] or [("", None)]
        for position, (kind, file) in enumerate(rows):
            store.execute(
                "INSERT INTO load_operations (courier, feed_id, feed_position, position, type, file) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (courier.name, feed_id, feed_position, position, kind, file),
            )


def _write_feed(store: Store, feed: Feed) -> None:
    clash = store.query(
        "SELECT id FROM feeds WHERE source = ? AND name = ? AND id != ?", (feed.source, feed.name, feed.id)
    )
    if clash:
        raise ConfigError(
            f'feeds.{feed.id}: the domain table "{feed.table_name}" already belongs to feed '
            f"{clash[0]['id']}; choose another feed name"
        )
    store.execute(
        "INSERT INTO feeds (id, source, name, primary_key, last_updated, stitch, error_threshold, has_fields, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET source = excluded.source, "
        "name = excluded.name, primary_key = excluded.primary_key, last_updated = excluded.last_updated, "
        "stitch = excluded.stitch, error_threshold = excluded.error_threshold, has_fields = excluded.has_fields, "
        "status = excluded.status",
        (
            feed.id,
            feed.source,
            feed.name,
            json.dumps(list(feed.primary_key)),
            feed.last_updated,
            int(feed.stitch),
            feed.error_threshold,
            int(feed.fields is not None),
            feed.status,
        ),
    )
    store.execute("DELETE FROM feed_fields WHERE feed_id = ?", (feed.id,))
    for position, feed_field in enumerate(feed.fields or ()):
        store.execute(
            "INSERT INTO feed_fields (feed_id, position, name, type, tags, required) VALUES (?, ?, ?, ?, ?, ?)",
            (
                feed.id,
                position,
                feed_field.name,
                feed_field.type,
                json.dumps(list(feed_field.tags)),
                int(feed_field.required),
            ),
        )


def _write_group(store: Store, group: CourierGroup) -> None:
    columns = stored_columns(CourierGroup)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != "name")
    store.execute(
        f"INSERT INTO courier_groups ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT(name) DO UPDATE SET {updates}",
        to_row(group),
    )
    store.execute("DELETE FROM group_couriers WHERE group_name = ?", (group.name,))
    member_columns = ("group_name", "position", *stored_columns(GroupCourier))
    for position, member in enumerate(group.couriers):
        store.execute(
            f"INSERT INTO group_couriers ({', '.join(member_columns)}) "
            f"VALUES ({', '.join('?' for _ in member_columns)})",
            (group.name, position, *to_row(member)),
        )
