"""Configuration as code: read, apply and export the project document.

``courier apply``, ``courier export`` and every editor in the TUI go through
these functions, so all of them write the same records the same way: validate
the whole document first, then write it in one transaction.
"""

from __future__ import annotations

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
from core.problems import Problem
from core.retype import retype_table
from core.store import Store


@dataclass
class ApplyResult:
    """What applying a document changed."""

    changes: list[str] = field(default_factory=list)
    """One line per object added or changed, e.g. ``added courier Heap``."""
    unchanged: int = 0
    warnings: list[Problem] = field(default_factory=list)


def load_project(store: Store) -> Project:
    """Read the whole configuration from the database (each object's columns come from its model)."""
    project = Project()
    for row in store.query("SELECT * FROM credentials ORDER BY name"):
        project.credentials[row["name"]] = from_row(Credential, row)
    entities: dict[str, list[Entity]] = {}
    for row in store.query("SELECT * FROM entities ORDER BY courier, position"):
        entities.setdefault(row["courier"], []).append(from_row(Entity, row))
    operations: dict[str, dict[str, list[LoadOperation]]] = {}
    for row in store.query("SELECT * FROM load_operations ORDER BY courier, feed_position, position"):
        by_feed = operations.setdefault(row["courier"], {})
        steps = by_feed.setdefault(row["feed_id"], [])
        if row["type"] != "":  # the row that keeps a feed with no operations
            steps.append(from_row(LoadOperation, row))
    for row in store.query("SELECT * FROM couriers ORDER BY name"):
        name = row["name"]
        project.couriers[name] = from_row(
            Courier,
            row,
            entities=tuple(entities.get(name, [])),
            load_operations={feed_id: tuple(steps) for feed_id, steps in operations.get(name, {}).items()},
        )
    fields: dict[str, list[FeedField]] = {}
    for row in store.query("SELECT * FROM feed_fields ORDER BY feed_id, position"):
        fields.setdefault(row["feed_id"], []).append(from_row(FeedField, row))
    for row in store.query("SELECT * FROM feeds ORDER BY id"):
        project.feeds[row["id"]] = from_row(Feed, row, fields=tuple(fields.get(row["id"], [])))
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
    return {
        "credentials": {name: to_document(credential) for name, credential in project.credentials.items()},
        "couriers": {name: courier_document(courier) for name, courier in project.couriers.items()},
        "feeds": {feed_id: feed_document(feed) for feed_id, feed in project.feeds.items()},
        "courier-groups": {name: to_document(group) for name, group in project.groups.items()},
    }


def courier_document(courier: Courier) -> dict[str, Any]:
    """One courier in project-document form."""
    return to_document(courier)


def entities_document(entities: tuple[Entity, ...]) -> list[dict[str, Any]]:
    """An entities list in Amperity's JSON form."""
    return [to_document(entity) for entity in entities]


def load_operations_document(operations: dict[str, tuple[LoadOperation, ...]]) -> dict[str, Any]:
    """Load operations in Amperity's JSON form."""
    return {feed_id: [to_document(step) for step in steps] for feed_id, steps in operations.items()}


def feed_document(feed: Feed) -> dict[str, Any]:
    """One feed in project-document form."""
    return to_document(feed)


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


def _upsert(store: Store, table: str, obj: Any, key: str = "name") -> None:
    """Insert an object's row, or update every column its model stores when ``key`` already exists."""
    columns = stored_columns(type(obj))
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != key)
    store.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT({key}) DO UPDATE SET {updates}",
        to_row(obj),
    )


def _insert_children(store: Store, table: str, parent: tuple[tuple[str, Any], ...], children: Any) -> None:
    """Insert child rows (``parent`` columns and a ``position``, then each child's model columns)."""
    for position, child in enumerate(children):
        columns = (*(column for column, _ in parent), "position", *stored_columns(type(child)))
        store.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            (*(value for _, value in parent), position, *to_row(child)),
        )


def _write_credential(store: Store, credential: Credential) -> None:
    _upsert(store, "credentials", credential)


def _write_courier(store: Store, courier: Courier) -> None:
    _upsert(store, "couriers", courier)
    store.execute("DELETE FROM entities WHERE courier = ?", (courier.name,))
    _insert_children(store, "entities", (("courier", courier.name),), courier.entities or ())
    store.execute("DELETE FROM load_operations WHERE courier = ?", (courier.name,))
    for feed_position, (feed_id, steps) in enumerate(courier.load_operations.items()):
        # A feed with an empty list still needs a row so export gives it back.
        parent = (("courier", courier.name), ("feed_id", feed_id), ("feed_position", feed_position))
        _insert_children(store, "load_operations", parent, steps or (LoadOperation(type=""),))


def _write_feed(store: Store, feed: Feed) -> None:
    clash = store.query(
        "SELECT id FROM feeds WHERE source = ? AND name = ? AND id != ?", (feed.source, feed.name, feed.id)
    )
    if clash:
        problem = Problem(
            ("feeds", feed.id),
            f'the domain table "{feed.table_name}" already belongs to feed {clash[0]["id"]}; choose another feed name',
        )
        raise ConfigError(str(problem), [problem])
    _upsert(store, "feeds", feed, key="id")
    store.execute("DELETE FROM feed_fields WHERE feed_id = ?", (feed.id,))
    _insert_children(store, "feed_fields", (("feed_id", feed.id),), feed.fields or ())


def _write_group(store: Store, group: CourierGroup) -> None:
    _upsert(store, "courier_groups", group)
    store.execute("DELETE FROM group_couriers WHERE group_name = ?", (group.name,))
    _insert_children(store, "group_couriers", (("group_name", group.name),), group.couriers)
