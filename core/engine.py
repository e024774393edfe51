"""The engine façade: one function per user action, called by the TUI and the CLI alike.

Every function takes the database path first and opens and closes what it
needs (a :class:`~core.store.Store`, an S3 source), so a screen worker or a CLI
command is one call and neither front end touches SQLite or S3 itself. The
functions return plain typed values (dataclasses from ``core``); errors are
:class:`~core.errors.CourierError` with one line for the user.

Long actions (``run``, ``activate_feed``, ``discover``, ``preview_matches``)
block: the TUI calls them from a thread worker, the CLI from its main thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.browse import PAGE_ROWS, View
from core.cache import CacheReport
from core.errors import CourierError, NotFoundError
from core.heap import Discovery
from core.landing import LandedFile
from core.load import LoadCounts
from core.models import Courier, CourierGroup, Project
from core.project import ApplyResult
from core.run_records import Progress, RunEvent, RunListener, RunProgress, RunSummary
from core.schedule import ScheduledRun
from core.store import Store
from core.tables import DomainTable
from core.vocab import RunKind, RunStatus, Trigger
from core.windows import RunWindow

DbPath = Path | str
"""The Courier database file."""


@contextmanager
def _store(db_path: DbPath) -> Iterator[Store]:
    store = Store(Path(db_path))
    try:
        yield store
    finally:
        store.close()


# --- configuration -------------------------------------------------------------------------------


def open_database(db_path: DbPath) -> Path:
    """Create and migrate the database if needed; returns its path.

    Raises:
        CourierError: the database cannot be created or opened (one line naming it).
    """
    with _store(db_path) as store:
        return store.path


def load_project(db_path: DbPath) -> Project:
    """The whole stored configuration."""
    from core.project import load_project as load

    with _store(db_path) as store:
        return load(store)


def courier_names(db_path: DbPath) -> list[str]:
    """Names of the stored couriers, sorted."""
    return sorted(load_project(db_path).couriers)


def group_names(db_path: DbPath) -> list[str]:
    """Names of the stored courier groups, sorted."""
    return sorted(load_project(db_path).groups)


def resolve_name(db_path: DbPath, kind: str, typed: str) -> str:
    """The stored courier, courier group or domain table a command line names (``core.lookup``'s rule).

    Args:
        db_path: The Courier database.
        kind: ``courier``, ``courier group`` or ``domain table``.
        typed: The name as written; matched exactly, else case-insensitively when only one name fits.

    Raises:
        NotFoundError: nothing fits, or several names fit ignoring case (the line says "did you mean …").
    """
    from core.lookup import match_name

    if kind == "domain table":
        from core.tables import domain_table_names as names

        with _store(db_path) as store:
            known, tables = names(store), names(store, views=False)
        return match_name(typed, known, kind, plural="tables", named=False, listed=tables)
    project = load_project(db_path)
    if kind == "courier":
        return match_name(typed, project.couriers, kind, plural="couriers")
    return match_name(typed, project.groups, kind, plural="groups")


def feed_labels(db_path: DbPath) -> dict[str, str]:
    """Feed ID → ``source:name`` (the domain table), ordered by source and name."""
    feeds = sorted(load_project(db_path).feeds.values(), key=lambda feed: (feed.source, feed.name))
    return {feed.id: f"{feed.source}:{feed.name}" for feed in feeds}


def apply_project(db_path: DbPath, document: Any, *, dry_run: bool = False) -> ApplyResult:
    """Validate a project document and write every object it defines, all or nothing (``courier apply``).

    Raises:
        ConfigError: the document is invalid; nothing was written.
    """
    from core.project import apply_document

    with _store(db_path) as store:
        return apply_document(store, document, dry_run=dry_run)


def export_project(db_path: DbPath) -> dict[str, Any]:
    """The whole configuration as a project document (``courier export``)."""
    from core.project import export_document

    return export_document(load_project(db_path))


def save_credential(db_path: DbPath, name: str, document: dict[str, Any]) -> ApplyResult:
    """Save one credential from its project-document body.

    Raises:
        ConfigError: the body is invalid; nothing was written.
    """
    return apply_project(db_path, {"credentials": {name: document}})


def save_courier(db_path: DbPath, name: str, document: dict[str, Any], *, original: str | None = None) -> ApplyResult:
    """Save one courier; when ``original`` names it differently, rename it (groups follow).

    Raises:
        ConfigError: the body is invalid; nothing was written.
    """
    from core.project import rename_courier

    return _save_named(db_path, "couriers", name, document, original, rename_courier)


def _save_named(
    db_path: DbPath,
    section: str,
    name: str,
    document: dict[str, Any],
    original: str | None,
    rename: Callable[[Store, str, dict[str, Any], str], ApplyResult],
) -> ApplyResult:
    from core.project import apply_document

    with _store(db_path) as store:
        if original is not None and original != name:
            return rename(store, original, document, name)
        return apply_document(store, {section: {name: document}})


def save_load_operations(
    db_path: DbPath, courier: str, operations: dict[str, Any]
) -> tuple[ApplyResult, dict[str, Any]]:
    """Replace a courier's load operations, keeping the rest of it; returns the result and the saved body.

    Raises:
        NotFoundError: there is no such courier.
        ConfigError: the operations are invalid; nothing was written.
    """
    from core.project import apply_document, courier_document
    from core.project import load_project as load

    with _store(db_path) as store:
        found = load(store).couriers.get(courier)
        if found is None:
            raise NotFoundError(f'There is no courier named "{courier}"')
        body = courier_document(found)
        body["load-operations"] = operations
        return apply_document(store, {"couriers": {courier: body}}), body


def create_feeds(db_path: DbPath, feeds: dict[str, Any]) -> ApplyResult:
    """Add feeds from project-document bodies (e.g. the ones Discover suggests).

    Raises:
        ConfigError: a body is invalid; nothing was written.
    """
    return apply_project(db_path, {"feeds": feeds})


def save_group(db_path: DbPath, name: str, document: dict[str, Any], *, original: str | None = None) -> ApplyResult:
    """Save one courier group; when ``original`` names it differently, rename it.

    Raises:
        ConfigError: the body is invalid; nothing was written.
    """
    from core.project import rename_group

    return _save_named(db_path, "courier-groups", name, document, original, rename_group)


def delete(db_path: DbPath, kind: str, name: str) -> None:
    """Delete a credential, courier, feed or courier group (``kind`` as the Sources screen names it).

    Raises:
        CourierError: it is still used, or does not exist.
    """
    from core.project import delete_object

    with _store(db_path) as store:
        delete_object(store, kind, name)


def configure_demo(db_path: DbPath, endpoint_url: str) -> None:
    """Write the demo's credential, couriers, feeds and group, pointing at the demo S3 server."""
    from core.demo import configure_demo as configure

    with _store(db_path) as store:
        configure(store, endpoint_url)


# --- feeds ---------------------------------------------------------------------------------------


def save_feed(db_path: DbPath, feed_id: str, body: dict[str, Any], sample_file_id: int | None) -> ApplyResult:
    """Save a feed and remember the landed file it was made from, in one transaction.

    Raises:
        ConfigError: the body is invalid; NotFoundError: the landed file is gone. Nothing was written.
    """
    from core.feeds import set_sample_file
    from core.project import apply_document

    with _store(db_path) as store, store.atomic():
        result = apply_document(store, {"feeds": {feed_id: body}})
        set_sample_file(store, feed_id, sample_file_id)
    return result


@dataclass
class FeedActivation:
    """What saving and then activating a feed did."""

    saved: ApplyResult
    counts: LoadCounts | None = None
    """Rows loaded from the sample file; ``None`` when activation was refused."""
    problem: str | None = None
    """Why activation was refused (one line); the feed stays saved, with its old status."""

    @property
    def activated(self) -> bool:
        """Whether the feed is now active with its sample file loaded."""
        return self.counts is not None


def activate_feed(db_path: DbPath, feed_id: str, body: dict[str, Any], sample_file_id: int | None) -> FeedActivation:
    """Save a feed, then load its sample file into the domain table and mark it active (save-then-activate).

    The save is kept when activation is refused (too many rejected rows, no sample
    file): ``problem`` says why.

    Raises:
        ConfigError: the body is invalid; nothing was written.
    """
    from core.feeds import activate_feed as activate

    saved = save_feed(db_path, feed_id, body, sample_file_id)
    try:
        counts = activate(db_path, feed_id, sample_file_id)
    except CourierError as error:
        text = str(error).strip()
        return FeedActivation(saved, problem=text.splitlines()[0] if text else type(error).__name__)
    return FeedActivation(saved, counts)


def feed_samples(db_path: DbPath) -> dict[str, tuple[str, str]]:
    """Where each feed's sample file came from, by feed ID: (courier, ``file/tag``)."""
    from core.feeds import feed_samples as samples

    with _store(db_path) as store:
        return samples(store)


def sample_file_ids(db_path: DbPath) -> dict[str, int]:
    """Each feed's sample file ID, by feed ID."""
    from core.feeds import sample_file_ids as ids

    with _store(db_path) as store:
        return ids(store)


# --- landed (sample) files -----------------------------------------------------------------------


def landed_files(db_path: DbPath, courier: str | None = None) -> list[LandedFile]:
    """Landed sample files, newest first, of one courier or all."""
    from core.landing import list_landed_files

    with _store(db_path) as store:
        return list_landed_files(store, courier)


def landed_file(db_path: DbPath, file_id: int) -> LandedFile:
    """One landed file by ID.

    Raises:
        NotFoundError: there is no such landed file.
    """
    from core.feeds import landed_file as find

    with _store(db_path) as store:
        found: LandedFile = find(store, file_id)
        return found


def sample_rows(db_path: DbPath, file_id: int, limit: int = 200) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A landed file's column names and up to ``limit`` rows, decoded as a load would.

    Raises:
        NotFoundError: no such file; CourierError: its cached copy is gone.
    """
    from core.feeds import view_landed_file

    with _store(db_path) as store:
        return view_landed_file(store, file_id, limit)


# --- the bucket (S3) -----------------------------------------------------------------------------


def _source(db_path: DbPath, courier: Courier) -> Any:
    from core.s3 import S3Source

    credentials = load_project(db_path).credentials
    if courier.credential not in credentials:
        known = ", ".join(sorted(credentials)) or "none yet"
        raise NotFoundError(f'There is no credential named "{courier.credential}" (credentials: {known})')
    return S3Source(credentials[courier.credential], courier.bucket, courier.prefix)


def preview_matches(db_path: DbPath, courier: Courier, day: date) -> dict[str, list[str]]:
    """Which objects each entity of a (possibly unsaved) courier matches for one day.

    The matching is the run's own (``core.planning.find_source_files``), so a preview
    never disagrees with what a run would land. Returns ``file/tag`` → keys relative
    to the prefix, every entity present (an empty list when nothing matched).

    Raises:
        SourceError: the bucket cannot be listed; NotFoundError: unknown credential.
    """
    from core.planning import find_source_files

    source = _source(db_path, courier)
    matches: dict[str, list[str]] = {entity.tag: [] for entity in courier.entities or ()}
    for item in find_source_files(courier, source, RunWindow.day(day)).files:
        matches[item.entity.tag].append(source.relative_key(item.key))
    return matches


def test_connection(db_path: DbPath, courier: Courier) -> str:
    """List the courier's prefix to prove access; returns one line for the user.

    Raises:
        NotFoundError: unknown credential.
    """
    line: str = _source(db_path, courier).test_connection()
    return line


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def discover(db_path: DbPath, courier: Courier) -> Discovery:
    """Read a Heap Connect bucket's manifests: entities, suggested feeds and load operations.

    Raises:
        SourceError: no manifests, or the bucket cannot be read.
    """
    from core.heap import discover as read_manifests

    return read_manifests(_source(db_path, courier))


# --- runs ----------------------------------------------------------------------------------------


def run(
    db_path: DbPath,
    kind: str,
    name: str,
    window: RunWindow | None,
    *,
    trigger: str = Trigger.MANUAL,
    listener: RunListener | None = None,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> RunSummary:
    """Run a courier or a courier group (``kind``) for a window and return its final summary.

    A group run with ``window=None`` runs its latest scheduled slot. A heap-connect
    courier runs for ``RunWindow.new_dumps()`` or ``RunWindow.rebuild(table)``; given a
    day, period or all data it runs new dumps and its log says the window did not apply.
    Failures end the run Failed rather than raising.

    Raises:
        NotFoundError: no such courier or group; CourierError: it is already running, or the
            window does not fit the courier (a Heap window for a file-pattern courier, an unknown table).
    """
    if kind == RunKind.GROUP:
        from core.groups import run_group

        return run_group(db_path, name, window, trigger=trigger, listener=listener, stop=stop, now=now)
    if window is None:
        raise CourierError("A courier run needs a window: a day, a period or all data")
    from core.runner import run_courier

    return run_courier(db_path, name, window, trigger=trigger, listener=listener, stop=stop)


def rebuild_tables(project: Project, courier: Courier) -> list[str]:
    """The domain tables a heap-connect courier can rebuild from their latest full dump (pure: no database)."""
    from core.planning import rebuild_tables as tables

    return tables(project, courier)


def group_run_json(db_path: DbPath, run_id: int) -> dict[str, Any]:
    """A group run with its courier runs as one JSON-ready dict (``courier group run --json``)."""
    from core.groups import run_summary_json

    with _store(db_path) as store:
        return run_summary_json(store, run_id)


def stop_run(db_path: DbPath, run_id: int) -> None:
    """Ask a run (in any process) to stop; its current file rolls back."""
    from core.run_records import request_stop

    request_stop(Path(db_path), run_id)


def get_run(db_path: DbPath, run_id: int) -> RunSummary:
    """One run by ID (after marking runs whose process died as Failed).

    Raises:
        NotFoundError: there is no such run.
    """
    from core.run_records import get_run as find
    from core.run_records import reconcile_stale_runs

    with _store(db_path) as store:
        reconcile_stale_runs(store)
        return find(store, run_id)


@dataclass
class RunHistory:
    """Runs newest first, and every (kind, target) that has run, couriers first."""

    runs: list[RunSummary]
    targets: list[tuple[str, str]]


def run_history(
    db_path: DbPath, *, status: str | None = None, kind: str | None = None, target: str | None = None, limit: int = 200
) -> RunHistory:
    """Runs newest first, filtered, after marking runs whose process died as Failed."""
    from core.run_records import list_runs, reconcile_stale_runs

    with _store(db_path) as store:
        reconcile_stale_runs(store)
        runs = list_runs(store, status=status, kind=kind, target=target, limit=limit)
        every = list_runs(store, limit=limit * 4)
    targets = sorted(
        {(item.kind, item.target) for item in every}, key=lambda item: (item[0] != RunKind.COURIER, item[1])
    )
    return RunHistory(runs, targets)


@dataclass
class RunSnapshot:
    """A run as a follower sees it: its row, its child runs (a group's couriers) and new events."""

    run: RunSummary
    children: list[RunSummary] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)
    """Events after the given last IDs, run by run (the run's first, then each child's)."""
    has_rejects: bool = False
    """True when the run (or a child run) kept rejected rows, even if a failed unit rolled its counts back."""

    @property
    def final(self) -> bool:
        """True once the run has ended."""
        return RunStatus(self.run.status).is_final

    @property
    def progress(self) -> Progress:
        """The run's typed progress (for a group, its couriers and their totals)."""
        return self.run.progress

    def overall(self, in_flight: RunProgress | None = None) -> tuple[float, float] | None:
        """``(done, total)`` of the run's whole work, or ``None`` while planning (:func:`core.run_records.overall_steps`)."""
        from core.run_records import overall_steps

        return overall_steps(self.run, self.children, in_flight)


def follow_run(
    db_path: DbPath, run_id: int, last_ids: dict[int, int] | None = None, *, reconcile: bool = True
) -> RunSnapshot:
    """Read a run, its child runs and the events after ``last_ids`` (run ID → last event ID seen).

    Raises:
        NotFoundError: there is no such run.
    """
    from core.run_records import get_run as find
    from core.run_records import list_runs, reconcile_stale_runs, run_events

    seen = last_ids or {}
    with _store(db_path) as store:
        if reconcile:
            reconcile_stale_runs(store)
        found = find(store, run_id)
        children = list_runs(store, parent_id=run_id) if found.kind == RunKind.GROUP else []
        events = run_events(store, run_id, seen.get(run_id, 0))
        for child in children:
            events += run_events(store, child.id, seen.get(child.id, 0))
        ids = [run_id, *(child.id for child in children)]
        rejects = bool(
            store.query(f"SELECT 1 FROM rejected_rows WHERE run_id IN ({', '.join('?' for _ in ids)}) LIMIT 1", ids)
        )
    return RunSnapshot(found, children, events, rejects)


def follow_run_until_done(
    db_path: DbPath,
    run_id: int,
    *,
    poll: Callable[[], None],
    on_events: Callable[[list[RunEvent]], None],
    on_progress: Callable[[RunSummary], None] | None = None,
) -> RunSummary:
    """Follow one run's own events until it ends (``courier runs ID --follow``); returns its final row.

    ``poll`` is called between reads (it waits: the CLI sleeps, a test can advance state).
    ``on_progress`` hears the run's row after each read whose typed progress changed.
    """
    last = 0
    seen: Progress | None = None
    while True:
        snapshot = follow_run(db_path, run_id, {run_id: last})
        own = [event for event in snapshot.events if event.run_id == run_id]
        if own:
            on_events(own)
            last = own[-1].id
        if on_progress is not None and snapshot.progress != seen:
            seen = snapshot.progress
            on_progress(snapshot.run)
        if snapshot.final:
            return snapshot.run
        poll()


# --- domain tables -------------------------------------------------------------------------------

TableReader = sqlite3.Connection
"""A read-only connection for paging one table (``core.browse`` functions take it)."""


def open_table_reader(db_path: DbPath) -> TableReader:
    """A read-only connection for paging through a domain table by key; the caller closes it.

    The table view keeps one open while it is shown, so each page is a keyset query on a
    warm connection rather than a new open; nothing through it can change data.
    """
    from core.browse import open_reader

    return open_reader(db_path)


def domain_tables(db_path: DbPath) -> list[DomainTable]:
    """Every domain table and identity view with its row count and last load."""
    from core.tables import list_domain_tables

    with _store(db_path) as store:
        return list_domain_tables(store)


def domain_table_names(db_path: DbPath) -> list[str]:
    """Names of every domain table and identity view (cheap: no counting)."""
    from core.tables import domain_table_names as names

    with _store(db_path) as store:
        return names(store)


def first_rows(db_path: DbPath, name: str, limit: int = 20) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and the first ``limit`` rows of a domain table, in key order.

    Raises:
        NotFoundError: no such domain table.
    """
    from core.tables import first_rows as rows

    with _store(db_path) as store:
        return rows(store, name, limit)


# --- the Sources overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class LastRun:
    """The newest run of a courier."""

    status: str
    started_at: str
    finished_at: str | None
    message: str | None


@dataclass
class OverviewState:
    """What the Sources screen summarises: the configuration and the run state around it."""

    project: Project
    last_runs: dict[str, LastRun]
    """The newest run of each courier that has run, by courier name."""
    landed: dict[str, int]
    """Sample files landed per courier."""
    loaded: set[str]
    """Couriers with a successful run that read rows into domain tables."""
    feed_loads: dict[str, str]
    """When each feed's domain table was last loaded (UTC text), by feed ID."""


def overview(db_path: DbPath) -> OverviewState:
    """Read the configuration and run state for the Sources screen in one go."""
    from core.project import load_project as load

    successful = (RunStatus.SUCCEEDED, RunStatus.WARNING)
    with _store(db_path) as store:
        project = load(store)
        last_runs = {
            row["target"]: LastRun(row["status"], row["started_at"], row["finished_at"], row["message"])
            for row in store.query(
                "SELECT target, status, started_at, finished_at, message FROM runs "
                "WHERE id IN (SELECT MAX(id) FROM runs WHERE kind = ? GROUP BY target)",
                (RunKind.COURIER,),
            )
        }
        landed = {
            row["courier"]: row["files"]
            for row in store.query("SELECT courier, COUNT(*) AS files FROM landed_files GROUP BY courier")
        }
        loaded = {
            row["target"]
            for row in store.query(
                "SELECT DISTINCT target FROM runs WHERE kind = ? AND rows_read > 0 AND status IN (?, ?)",
                (RunKind.COURIER, *successful),
            )
        }
        feed_loads = {
            row["feed_id"]: row["loaded"]
            for row in store.query(
                "SELECT feed_id, MAX(last_loaded_at) AS loaded FROM domain_tables "
                "WHERE feed_id IS NOT NULL GROUP BY feed_id"
            )
            if row["loaded"]
        }
    return OverviewState(project, last_runs, landed, loaded, feed_loads)


# --- schedules -----------------------------------------------------------------------------------


def preview_schedule(group: CourierGroup, now: datetime, count: int = 10) -> list[ScheduledRun]:
    """The next ``count`` slots of a (possibly unsaved) group with each courier's file window.

    Pure: no database. Raises ``CourierError`` when the group has no schedule or an invalid one.
    """
    from core.schedule import schedule_preview

    return schedule_preview(group, now, count)


def constraint_waits(group: CourierGroup, project: Project, slots: list[datetime]) -> list[Any]:
    """For each scheduled slot of a (possibly unsaved) group, the upstream run its constraint waits for.

    Pure: the upstream group is looked up in ``project``. Returns ``core.groups.ConstraintWait``
    values (empty when the group has no constraint or names an unknown group).
    """
    from core.groups import constraint_waits as waits

    return waits(group, project.groups.get(group.run_after or ""), slots)


def scheduled_slot(db_path: DbPath, group_name: str, now: datetime) -> Any:
    """The run the scheduler would start for a group now: its latest slot, and the missed span since.

    The rule is the scheduler's own: a slot missed since the last recorded one (same
    schedule and zone) is caught up in one run covering it. Returns a
    ``core.scheduler.DueRun``.

    Raises:
        NotFoundError: no such group; CourierError: it has no schedule or was never due.
    """
    from core.project import load_project as load
    from core.schedule import latest_run, previous_run
    from core.scheduler import DueRun, read_state

    with _store(db_path) as store:
        project = load(store)
        group = project.groups.get(group_name)
        if group is None:
            known = ", ".join(sorted(project.groups)) or "none yet"
            raise NotFoundError(f'There is no courier group named "{group_name}" (groups: {known})')
        state = read_state(store).get(group.name)
    if not group.schedule:
        raise CourierError(f'Courier group "{group.name}" has no schedule: choose --day, --from/--to or --all')
    slot = latest_run(group.schedule, group.timezone, now)
    if slot is None:
        raise CourierError(f'Courier group "{group.name}" has never been due on "{group.schedule}"')
    since = None
    if state is not None and state.schedule == group.schedule and state.timezone == group.timezone:
        before = previous_run(group.schedule, group.timezone, slot)
        if before is not None and state.last_slot < before:
            since = state.last_slot
    return DueRun(group, slot, since, 1)


def scheduler_status(db_path: DbPath, now: datetime) -> Any:
    """Whether a scheduler runs for this database, its PID, and the next group due after ``now``.

    Returns a ``core.scheduler.SchedulerStatus``; reads only (the lock is probed, never held).
    """
    from core.scheduler import scheduler_status as status

    return status(db_path, now)


def scheduler_unit(db_path: DbPath, program: list[str]) -> str:
    """A systemd user unit that keeps ``courier scheduler`` running for this database, install steps as comments."""
    from core.scheduler import systemd_unit

    return systemd_unit(db_path, program)


# --- table review (issue 15): row detail, search, profile, read-only SQL, identity -------------------------


def list_tables(db_path: Path, count: bool = True) -> list[Any]:
    """Domain tables and identity views (:class:`core.tables.DomainTable`); ``count=False`` is instant."""
    from core.store import Store
    from core.tables import list_domain_tables

    with Store(db_path) as store:
        return list_domain_tables(store, count=count)


@dataclass
class RowDetail:
    """One row of a view as (column, value) pairs, and whether rows come before and after it."""

    columns: list[str]
    values: tuple[Any, ...]
    key: tuple[Any, ...]
    """The row's keyset key in the view's order (what ``row_detail`` takes to move from it)."""
    has_before: bool
    has_after: bool


def row_detail(db_path: Path, view: View, key: tuple[Any, ...], move: int = 0) -> RowDetail | None:
    """The row at ``key`` in the view (``move`` 0), or the one just after (1) or before (-1) it.

    ``key`` is a keyset key as :func:`core.browse.key_of` gives it. Returns ``None`` when there is
    no such row (the end of the view, or the row went away).

    Raises:
        FilterError: The view's filter or sort cannot run.
        NotFoundError: The table does not exist.
    """
    from core.browse import fetch_page, open_reader

    conn = open_reader(db_path)
    try:
        if move > 0:
            page = fetch_page(conn, view, after=key, limit=1)
        elif move < 0:
            page = fetch_page(conn, view, before=key, limit=1)
        else:
            page = fetch_page(conn, view, at=key, limit=1)
    finally:
        conn.close()
    if not page.rows or page.first_key is None:
        return None
    return RowDetail(
        columns=page.columns,
        values=page.rows[0],
        key=page.first_key,
        has_before=page.has_before,
        has_after=page.has_after,
    )


def search_view(view: View, column: str, text: str) -> View:
    """The view narrowed to rows whose ``column`` contains ``text`` (the filter machinery, paged by key)."""
    from core.browse import combine_filters, contains_condition

    return View(view.table, combine_filters(view.where, contains_condition(column, text)), view.sort, view.descending)


def profile_column(
    db_path: Path,
    view: View,
    column: str,
    *,
    exact: bool | None = True,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    rows: int | None = None,
) -> Any:
    """A :class:`core.profile.ColumnProfile` of one column of a view (exact, or estimated from a sample).

    ``exact=None`` estimates when the view is large (``core.profile.ESTIMATE_ABOVE``) and is exact
    otherwise; the profile's ``exact`` says which. ``rows`` is the view's row count when the caller
    has it, so an estimate skips counting.

    Raises:
        FilterError, NotFoundError: As :func:`core.profile.profile_column`.
        ProfileStopped: ``should_stop`` asked to stop.
    """
    from core.browse import open_reader
    from core.profile import profile_column as profile

    conn = open_reader(db_path)
    try:
        # Always stoppable, so the profile words its own errors and interruptions in one line.
        return profile(
            conn,
            view,
            column,
            exact=exact,
            progress=progress,
            should_stop=should_stop or (lambda: False),
            rows=rows,
        )
    finally:
        conn.close()


def column_frequencies(
    db_path: Path,
    view: View,
    column: str,
    *,
    limit: int = 100,
    exact: bool | None = True,
    should_stop: Callable[[], bool] | None = None,
    rows: int | None = None,
) -> Any:
    """The most frequent values of a view's column (:class:`core.browse.Frequencies`), exact or estimated.

    ``exact=None`` estimates when the view is large, as :func:`profile_column`; the answer's
    ``exact`` and ``basis()`` say which it is.

    Raises:
        FilterError, NotFoundError: As :func:`core.profile.frequencies`.
        ProfileStopped: ``should_stop`` asked to stop.
    """
    from core.browse import open_reader
    from core.profile import frequencies

    conn = open_reader(db_path)
    try:
        return frequencies(
            conn, view, column, limit, exact=exact, rows=rows, should_stop=should_stop or (lambda: False)
        )
    finally:
        conn.close()


def table_row_count(db_path: Path, table: str) -> int:
    """Rows in a domain table or view (a full count; the profile screen uses it to offer an estimate)."""
    from core.browse import count_rows, open_reader

    conn = open_reader(db_path)
    try:
        return count_rows(conn, View(table))
    finally:
        conn.close()


def run_query(
    db_path: Path,
    sql: str,
    *,
    offset: int = 0,
    limit: int = PAGE_ROWS,
    should_stop: Callable[[], bool] | None = None,
    remember: bool = True,
) -> Any:
    """One page (:class:`core.query.QueryPage`) of a read-only query; a query that ran is remembered.

    Raises:
        QueryError: The query cannot run or was stopped (one line; nothing changed).
    """
    from core.browse import open_reader
    from core.query import remember_query
    from core.query import run_query as run
    from core.store import Store

    conn = open_reader(db_path)
    try:
        page = run(conn, sql, offset=offset, limit=limit, should_stop=should_stop)
    finally:
        conn.close()
    if remember and offset == 0:
        with Store(db_path) as store:
            remember_query(store, sql)
    return page


def recent_queries(db_path: Path) -> list[str]:
    """The database's recent queries, newest first."""
    from core.query import recent_queries as recent
    from core.store import Store

    with Store(db_path) as store:
        return recent(store)


def query_catalog(db_path: Path) -> dict[str, list[str]]:
    """Domain tables and views with their columns (names offered while typing a query)."""
    from core.browse import open_reader
    from core.query import catalog

    conn = open_reader(db_path)
    try:
        return catalog(conn)
    finally:
        conn.close()


def identity_counterpart(db_path: Path, table: str) -> str | None:
    """The table's ``:resolved`` view, or the view's table; ``None`` when there is none."""
    from core.identity import identity_counterpart as counterpart

    return counterpart(list(query_catalog(db_path)), table)


@dataclass
class UserRows:
    """Where one person's rows are: their resolved id and, per ``:resolved`` view, how many rows."""

    resolved_user_id: Any
    counts: list[tuple[str, int]]


def user_rows(db_path: Path, table: str, pk: Any) -> UserRows | None:
    """The resolved user of the row ``pk`` of ``table`` and their rows in every Heap table of its source.

    Heap does not resolve identities in the export; the ``:resolved`` views do
    (``resolved_user_id``, see :mod:`core.identity`), so a person's other rows are
    the rows of those views with the same resolved id. Returns ``None`` when the
    table has no ``:resolved`` view or the row has no user.

    Raises:
        NotFoundError: The table does not exist.
    """
    from core.browse import open_reader
    from core.identity import RESOLVED_COLUMN, RESOLVED_SUFFIX, resolved_views_of_source
    from core.models import PK_COLUMN, quote_identifier
    from core.query import catalog

    conn = open_reader(db_path)
    try:
        names = list(catalog(conn))
        view = table if table.endswith(RESOLVED_SUFFIX) else table + RESOLVED_SUFFIX
        if view not in names:
            return None
        found = conn.execute(
            f"SELECT {RESOLVED_COLUMN} FROM {quote_identifier(view)} WHERE {quote_identifier(PK_COLUMN)} = ?", (pk,)
        ).fetchone()
        if found is None or found[0] is None:
            return None
        resolved = found[0]
        counts = []
        for other in resolved_views_of_source(names, table):
            count = conn.execute(
                f"SELECT COUNT(*) FROM {quote_identifier(other)} WHERE {RESOLVED_COLUMN} = ?", (resolved,)
            ).fetchone()[0]
            counts.append((other, int(count)))
        return UserRows(resolved_user_id=resolved, counts=counts)
    finally:
        conn.close()


def table_rows(
    db_path: Path, table: str, *, where: str | None = None, columns: list[str] | None = None, limit: int = 20
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The first ``limit`` rows of a view in key order, optionally filtered and with chosen columns.

    Raises:
        FilterError: The filter cannot run, or a column does not exist (one line).
        NotFoundError: The table does not exist.
    """
    from core.browse import FilterError, columns_of, fetch_page, open_reader

    conn = open_reader(db_path)
    try:
        page = fetch_page(conn, View(table, where), limit=limit)
        known = columns_of(conn, table)
    finally:
        conn.close()
    if not columns:
        return page.columns, page.rows
    missing = [name for name in columns if name not in known]
    if missing:
        raise FilterError(f'There is no column "{missing[0]}" in {table} (columns: {", ".join(known)})')
    positions = [page.columns.index(name) for name in columns]
    return list(columns), [tuple(row[p] for p in positions) for row in page.rows]


# --- values (issue 9) -------------------------------------------------------------------------

REJECT_COLUMNS = ["run", "table", "file", "row", "key", "column", "reason"]
"""The columns :func:`rejected_rows` returns, in order."""


def rejected_rows(
    db_path: DbPath | None, run_id: int | None = None, limit: int = 1000
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows a run rejected because a value could not be stored exactly, in the order found.

    Args:
        db_path: The Courier database (``None``: the default one).
        run_id: The run (a group run includes its couriers' runs); ``None``: the latest run
            that rejected any row.
        limit: The most rows to return.

    Returns:
        :data:`REJECT_COLUMNS` and rows of (run ID, domain table, file, row number in the file
        from 1, key as text or ``None``, source column or ``''``, reason).

    Raises:
        NotFoundError: there is no such run.
    """
    from core.store import open_store

    store = open_store(db_path)
    try:
        if run_id is None:
            found = store.query("SELECT MAX(run_id) AS id FROM rejected_rows")
            run_id = found[0]["id"] if found and found[0]["id"] is not None else None
            if run_id is None:
                return list(REJECT_COLUMNS), []
        elif not store.query("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            raise NotFoundError(f"There is no run {run_id} (see courier runs)")
        rows = store.execute(
            "SELECT run_id, table_name, file, position, key, column_name, reason FROM rejected_rows "
            "WHERE run_id = ? OR run_id IN (SELECT id FROM runs WHERE parent_id = ?) ORDER BY id LIMIT ?",
            (run_id, run_id, limit),
        ).fetchall()
        return list(REJECT_COLUMNS), [tuple(row) for row in rows]
    finally:
        store.close()


def column_names(db_path: DbPath | None, table: str) -> dict[str, str]:
    """Source columns a domain table stores under another name (case twins, reserved names).

    Returns:
        Source column name → domain column name, only for names that differ.
    """
    from core.ingest import renamed_columns
    from core.store import open_store

    store = open_store(db_path)
    try:
        return renamed_columns(store, table)
    finally:
        store.close()


def field_columns(db_path: DbPath, table: str, names: list[str]) -> dict[str, str]:
    """The domain-table column each field is (or will be) stored in (:func:`core.values.assign_columns`)."""
    from core.feeds import field_columns as columns_of

    with _store(db_path) as store:
        return columns_of(store, table, names)


# --- reliability (issue 10) ----------------------------------------------------------------------


def landing_cache(db_path: Path | str, *, prune: bool = False) -> CacheReport:
    """The landing cache's size per courier; with ``prune``, delete what no sample or cursor needs.

    See :mod:`core.cache` for the policy. Raises :class:`~core.errors.CourierError`
    when pruning is asked while a run is running.
    """
    from core.cache import cache_report
    from core.store import Store

    with Store(db_path) as store:
        return cache_report(store, prune=prune)


def stop_any_run(db_path: Path | str, run_id: int) -> str:
    """Ask run ``run_id`` to stop, whichever process runs it (this shell's, another's, the scheduler's).

    Returns:
        One line for the user: the run was asked to stop, or it had already ended.

    Raises:
        NotFoundError: There is no such run.
    """
    from core.runs import FINAL_STATUSES, get_run, reconcile_stale_runs, request_stop
    from core.store import Store

    with Store(db_path) as store:
        reconcile_stale_runs(store)
        run = get_run(store, run_id)
    if run.status in FINAL_STATUSES:
        return f"Run {run_id} already ended {run.status}; nothing to stop"
    request_stop(Path(db_path), run_id)
    return (
        f"Asked run {run_id} ({run.kind} {run.target}, pid {run.pid}) to stop: the file being loaded rolls "
        f"back (follow it with courier runs {run_id} --follow)"
    )


# --- sort indexes on demand (issue 15) -----------------------------------------------------------


def sort_indexes(db_path: DbPath, table: str | None = None) -> list[Any]:
    """Courier's sort indexes (:class:`core.sort_index.SortIndex`), of one domain table or of all."""
    from core.sort_index import sort_indexes as indexes

    with _store(db_path) as store:
        return indexes(store.conn, table)


@dataclass
class SortSupport:
    """Whether an index serves sorting a table by a column, and about how many rows the table has."""

    indexed: bool | None
    """``True`` served by an index (``_pk``'s, Courier's or anyone's), ``False`` a scan, ``None`` cannot be
    indexed (a view, or no such column)."""
    rows: int
    """The table's largest ``rowid``: its row count give or take deleted rows, read at once (0 for a view)."""


def sort_support(db_path: DbPath, table: str, column: str) -> SortSupport:
    """Whether sorting ``table`` by ``column`` reads an index; the table view offers one when it does not."""
    from core.models import PK_COLUMN, quote_identifier
    from core.sort_index import serving_index

    with _store(db_path) as store:
        if not store.query("SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'", (table,)):
            return SortSupport(None, 0)
        rows = int(store.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote_identifier(table)}").fetchone()[0])
        if column == PK_COLUMN:
            return SortSupport(True, rows)
        columns = [row[1] for row in store.execute(f"PRAGMA table_info({quote_identifier(table)})")]
        if column not in columns:
            return SortSupport(None, rows)
        return SortSupport(serving_index(store.conn, table, column) is not None, rows)


def build_sort_index(
    db_path: DbPath,
    table: str,
    column: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Any, bool]:
    """Build the sort index on a domain table's column (see :func:`core.sort_index.build_sort_index`).

    Returns the :class:`core.sort_index.SortIndex` and whether it was built now (``False``: it existed).

    Raises:
        NotFoundError: no such table or column; CourierError: a view, the key, or a run is loading;
        SortIndexStopped: cancelled (nothing built).
        DatabaseBusyError: another program (not Courier) held the write lock past the busy timeout.
    """
    from core.sort_index import build_sort_index as build

    with _store(db_path) as store:
        return build(store, table, column, progress=progress, should_stop=should_stop)


def drop_sort_index(db_path: DbPath, table: str, column: str) -> Any:
    """Drop Courier's sort index on a domain table's column; returns the dropped :class:`~core.sort_index.SortIndex`.

    Raises:
        NotFoundError: no such table, or no sort index on that column.
    """
    from core.sort_index import drop_sort_index as drop

    with _store(db_path) as store:
        return drop(store, table, column)


def report_lock_waits(reporter: Callable[[Path, str], None] | None) -> None:
    """Have ``reporter(db_path, line)`` called once each time a write starts waiting for a sort-index build.

    The front ends say so (the CLI on stderr, the TUI as a notification) rather than seem hung;
    ``None`` stops reporting. See :func:`core.store.report_lock_waits`.
    """
    from core.store import report_lock_waits as report

    report(reporter)
