"""Planning a run: which bucket objects a courier's entities match for a window, and which feeds it loads.

The first stage of a courier run (see ``core.runner``). Pure decisions over a
bucket listing and the project: nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from core.errors import CourierError
from core.models import Courier, Entity, Feed, LoadOperation, Project
from core.patterns import day_range, parse_pattern
from core.vocab import WindowKind
from core.windows import RunWindow

ResolvedFeeds = list[tuple[Feed, tuple[LoadOperation, ...]]]
"""Active feeds a courier loads, each with its load-operation steps, in the courier's order."""


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
            if window.start_at is not None and pattern.has_time:
                # Hourly or 2-hourly: which hours a source writes is not known, so only an empty window is missing.
                if not matched:
                    found.missing.append(pattern.render(window.start_at))
            elif window.start_at is not None and window.end_at is not None and pattern.has_date:
                days_seen = {f.file_date.date() for f in matched if f.file_date}
                found.missing += [
                    pattern.render(day)
                    for day in _days_at_midnight(window.start_at, window.end_at)
                    if day not in days_seen
                ]
            elif bounds is not None and pattern.has_date and window.start and window.end:
                days_seen = {f.file_date.date() for f in matched if f.file_date}
                found.missing += [
                    pattern.render(day) for day in day_range(window.start, window.end) if day not in days_seen
                ]
            elif not matched:
                found.missing.append(
                    pattern.render(window.start) if pattern.has_date and window.start else pattern.describe()
                )
        found.files.extend(matched)
    found.files.sort(key=lambda f: (f.file_date or datetime.min, f.key))
    return found


def _days_at_midnight(start_at: datetime, end_at: datetime) -> list[date]:
    """The days whose 00:00 lies in ``[start_at, end_at)`` (a daily file counts at its day's start)."""
    first = start_at.date() if start_at.time() == datetime.min.time() else start_at.date() + timedelta(days=1)
    days = []
    while datetime.combine(first, datetime.min.time()) < end_at:
        days.append(first)
        first += timedelta(days=1)
    return days


def has_hourly_files(courier: Courier) -> bool:
    """Whether any of a file-pattern courier's entities names files by time of day (``HH``, ``mm`` or ``ss``)."""
    return courier.layout != "heap-connect" and any(
        parse_pattern(entity.file_pattern).has_time for entity in courier.entities or ()
    )


def resolve_feeds(project: Project, courier: Courier) -> tuple[ResolvedFeeds, list[str], list[str]]:
    """Split a courier's load operations into active feeds, missing feed IDs and draft feed IDs."""
    feeds: ResolvedFeeds = []
    missing: list[str] = []
    drafts: list[str] = []
    for feed_id, steps in courier.load_operations.items():
        feed = project.feeds.get(feed_id)
        if feed is None:
            missing.append(feed_id)
        elif feed.status != "active":
            drafts.append(feed_id)
        else:
            feeds.append((feed, steps))
    return feeds, missing, drafts


def rebuild_tables(project: Project, courier: Courier) -> list[str]:
    """The domain tables a heap-connect courier can rebuild: those its load operations load, in their order."""
    feeds, _, _ = resolve_feeds(project, courier)
    return [feed.table_name for feed, steps in feeds if any(step.type == "load" and step.file for step in steps)]


def courier_window(project: Project, courier: Courier, window: RunWindow) -> tuple[RunWindow, RunWindow | None]:
    """The window a courier really runs for, and the asked-for window it replaces (``None`` when none).

    A heap-connect courier is driven by Heap's manifests and its tables' cursors, never by
    file dates: a day, a period or "all data" (a courier group's window) becomes ``new
    dumps``, and the replaced window is returned so the run can say it did not apply.

    Raises:
        CourierError: a Heap window for a file-pattern courier, or a rebuild of a table the
            courier does not load.
    """
    if courier.layout != "heap-connect":
        if window.heap:
            raise CourierError(
                f'Courier "{courier.name}" finds its files by date ({courier.layout} layout): '
                "choose a day, a period or all data"
            )
        return window, None
    if window.kind == WindowKind.REBUILD:
        tables = rebuild_tables(project, courier)
        if window.table not in tables:
            known = ", ".join(tables) or "none: its load operations load no active feed"
            raise CourierError(
                f'Courier "{courier.name}" does not load a table named "{window.table}" '
                f"(tables it can rebuild: {known})"
            )
        return window, None
    if window.kind == WindowKind.NEW_DUMPS:
        return window, None
    return RunWindow.new_dumps(), window


def check_drafts(drafts: list[str]) -> None:
    """Refuse to load while a feed the courier loads is still a draft.

    Raises:
        CourierError: naming the draft feeds.
    """
    if drafts:
        raise CourierError(
            f"Feed{'s' if len(drafts) > 1 else ''} {', '.join(drafts)} "
            f"{'are' if len(drafts) > 1 else 'is'} still a draft: activate "
            f"{'them' if len(drafts) > 1 else 'it'} in the feed editor before the courier can load"
        )
