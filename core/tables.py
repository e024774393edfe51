"""Domain tables: listing them and reading rows without loading a whole table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import NotFoundError
from core.load import table_columns
from core.models import quote_identifier
from core.store import Store


@dataclass
class DomainTable:
    """A domain table or identity view, with its size and last load."""

    name: str
    kind: str
    """``table`` or ``view``."""
    rows: int | None
    """``None`` when listed without counting (the Tables screen counts afterwards)."""
    feed_id: str | None
    last_loaded_at: str | None


def list_domain_tables(store: Store, count: bool = True) -> list[DomainTable]:
    """Every domain table (``<source>:<feed>``) and identity view, by name; ``count=False`` skips the row counts."""
    loads = {row["name"]: row for row in store.query("SELECT * FROM domain_tables")}
    tables: list[DomainTable] = []
    for row in store.query(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name LIKE '%:%' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ):
        name = row["name"]
        rows = int(store.execute(f"SELECT COUNT(*) FROM {quote_identifier(name)}").fetchone()[0]) if count else None
        load = loads.get(name)
        tables.append(
            DomainTable(
                name=name,
                kind=row["type"],
                rows=rows,
                feed_id=load["feed_id"] if load else None,
                last_loaded_at=load["last_loaded_at"] if load else None,
            )
        )
    return tables


def domain_table_names(store: Store, *, views: bool = True) -> list[str]:
    """Names of every domain table and (unless ``views`` is false) identity view, by name, without counting
    rows (cheap)."""
    types = "('table', 'view')" if views else "('table')"
    return [
        row["name"]
        for row in store.query(
            f"SELECT name FROM sqlite_master WHERE type IN {types} AND name LIKE '%:%' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]


def require_table(store: Store, name: str) -> list[str]:
    """The columns of a domain table or view; raises :class:`NotFoundError` naming the known tables."""
    if ":" not in name or not store.query(
        "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (name,)
    ):
        known = ", ".join(t.name for t in list_domain_tables(store) if t.kind == "table") or "none yet"
        raise NotFoundError(f'There is no domain table "{name}" (tables: {known})')
    return [column for column, _ in table_columns(store, name)]


def first_rows(store: Store, name: str, limit: int = 20) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and the first ``limit`` rows of a domain table, in key order when it has one."""
    columns = require_table(store, name)
    order = " ORDER BY _pk" if "_pk" in columns else ""
    rows = store.execute(f"SELECT * FROM {quote_identifier(name)}{order} LIMIT ?", (limit,)).fetchall()
    return columns, [tuple(row) for row in rows]
