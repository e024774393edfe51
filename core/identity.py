"""Heap identity merges: ``user_migrations`` applied through views.

Heap does not resolve identities in S3 exports. Stored rows keep the raw
``user_id``; ``<source>:<feed>:resolved`` views add ``resolved_user_id`` =
``COALESCE(to_user_id, user_id)`` through a mapping rebuilt from the latest
``user_migrations`` table, with chains (a→b, b→c) followed to their end and
cycles cut, even though Heap promises a fully materialised mapping.
"""

from __future__ import annotations

from core.load import table_columns, table_exists
from core.models import quote_identifier
from core.store import Store

MAX_CHAIN = 1000


def is_migrations_table(columns: list[str]) -> bool:
    """True for a table shaped like Heap's ``user_migrations``."""
    lowered = {column.lower() for column in columns}
    return {"from_user_id", "to_user_id"} <= lowered


def resolve_chains(pairs: dict[object, object]) -> dict[object, object]:
    """Follow every ``from → to`` chain to its final id; a cycle resolves to its smallest member."""
    resolved: dict[object, object] = {}
    for start in pairs:
        path = [start]
        seen = {start}
        current = pairs[start]
        while current in pairs and current not in seen and len(path) < MAX_CHAIN:
            path.append(current)
            seen.add(current)
            current = pairs[current]
        if current in seen:
            cycle = path[path.index(current) :]
            current = min(cycle, key=lambda value: (str(type(value)), value))  # type: ignore[arg-type]
        resolved[start] = current
    return {source: target for source, target in resolved.items() if source != target}


def rebuild_identity(store: Store, source: str, migrations_table: str) -> int:
    """Rebuild the source's identity mapping from a migrations table; returns the mapping size."""
    names = {name.lower(): name for name, _ in table_columns(store, migrations_table)}
    from_column, to_column = quote_identifier(names["from_user_id"]), quote_identifier(names["to_user_id"])
    pairs = {
        row[0]: row[1]
        for row in store.execute(
            f"SELECT {from_column}, {to_column} FROM {quote_identifier(migrations_table)} "
            f"WHERE {from_column} IS NOT NULL AND {to_column} IS NOT NULL ORDER BY _updated, rowid"
        )
    }
    mapping = resolve_chains(pairs)
    store.execute("DELETE FROM identity_map WHERE source = ?", (source,))
    store.conn.executemany(
        "INSERT INTO identity_map (source, from_user_id, to_user_id) VALUES (?, ?, ?)",
        [(source, key, value) for key, value in mapping.items()],
    )
    return len(mapping)


def refresh_identity_views(store: Store, source: str, tables: list[str]) -> list[str]:
    """(Re)create ``<table>:resolved`` for every table with a ``user_id`` column; returns the view names."""
    views: list[str] = []
    literal = "'" + source.replace("'", "''") + "'"
    for table in tables:
        if not table_exists(store, table):
            continue
        columns = {name.lower(): name for name, _ in table_columns(store, table)}
        if "user_id" not in columns or is_migrations_table(list(columns)):
            continue
        view = f"{table}:resolved"
        user_id = quote_identifier(columns["user_id"])
        store.execute(f"DROP VIEW IF EXISTS {quote_identifier(view)}")
        store.execute(
            f"CREATE VIEW {quote_identifier(view)} AS SELECT t.*, COALESCE(i.to_user_id, t.{user_id}) "
            f"AS resolved_user_id FROM {quote_identifier(table)} AS t LEFT JOIN identity_map AS i "
            f"ON i.source = {literal} AND i.from_user_id = t.{user_id}"
        )
        views.append(view)
    return views


RESOLVED_SUFFIX = ":resolved"
RESOLVED_COLUMN = "resolved_user_id"


def identity_counterpart(names: list[str], table: str) -> str | None:
    """The other side of the identity toggle: ``<table>:resolved`` for a table, the table for its view.

    ``names`` are the domain tables and views that exist; ``None`` when there is no counterpart
    (a table without ``user_id`` has no resolved view).
    """
    if table.endswith(RESOLVED_SUFFIX):
        base = table[: -len(RESOLVED_SUFFIX)]
        return base if base in names else None
    view = table + RESOLVED_SUFFIX
    return view if view in names else None


def resolved_views_of_source(names: list[str], table: str) -> list[str]:
    """The ``:resolved`` views of the source that ``table`` (``<source>:<feed>[:resolved]``) belongs to."""
    source = table.split(":", 1)[0]
    return [name for name in names if name.endswith(RESOLVED_SUFFIX) and name.split(":", 1)[0] == source]
