"""A courier run from request to final status: plan, land, apply, record (the stages' orchestrator).

``run_courier`` creates the ``runs`` row, walks the stages in
``core.planning``, ``core.landing`` and ``core.applying``, and ends the run
with a status whatever happens, using Amperity's stage names and messages.
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.applying import planned_file_loads, run_file_loads, run_heap_loads
from core.errors import CourierError, NotFoundError
from core.heap import list_manifests
from core.ingest import LoadRejected, RunStopped
from core.landing import LandedFile, land_files, land_heap_samples
from core.load import LoadCounts
from core.models import Courier, Project
from core.planning import check_drafts, courier_window, find_source_files, resolve_feeds
from core.project import load_project
from core.run_records import RunListener, RunLog, RunSummary, close_run, create_run, get_run, mark_stopping
from core.store import Store
from core.vocab import EventLevel, RunKind, RunStatus, Trigger
from core.windows import RunWindow

MISSING_FEEDS_HEADLINE = "Error running load-operations task"


def run_courier(
    db_path: Path | str,
    courier_name: str,
    window: RunWindow,
    *,
    trigger: str = Trigger.MANUAL,
    listener: RunListener | None = None,
    stop: threading.Event | None = None,
    parent_id: int | None = None,
    parallel: bool | None = None,
) -> RunSummary:
    """Run a courier for a window and return its final summary.

    Failures never raise: they end the run as Failed with Amperity's messages.
    Only a missing courier, a courier already running or a window the courier
    cannot run for raise, before a run row exists.

    A heap-connect courier runs for ``new dumps`` or a ``rebuild``: given a day, a
    period or all data (a courier group's window), it records and runs ``new dumps``
    and says that the window did not apply (see :func:`core.planning.courier_window`).
    """
    db_path = Path(db_path)
    store = Store(db_path)
    try:
        project = load_project(store)
        courier = project.couriers.get(courier_name)
        if courier is None:
            known = ", ".join(sorted(project.couriers)) or "none yet"
            raise NotFoundError(f'There is no courier named "{courier_name}" (couriers: {known})')
        window, replaced = courier_window(project, courier, window)
        run_id = create_run(store, RunKind.COURIER, courier_name, trigger, window, parent_id)
        log = RunLog(store, run_id, listener, stop)
        status, message = RunStatus.SUCCEEDED, None
        try:
            log.event("Courier run request", f"Run {courier_name} for {_heap_text(window)} ({trigger})")
            if replaced is not None:
                log.event(
                    "Courier run request",
                    f"{replaced.describe()} does not apply to a heap-connect courier: "
                    "Heap's manifests and the tables' cursors decide what loads, not file dates",
                )
            log.event("Courier job started", f"{courier.layout} layout, s3://{courier.bucket}/{courier.prefix}")
            counts = _run_courier_body(store, db_path, log, project, courier, window, parallel)
            if counts.rows_rejected or log.warnings:
                status = RunStatus.WARNING
                message = (
                    f"{counts.rows_rejected:,} row{'s' if counts.rows_rejected != 1 else ''} rejected"
                    if counts.rows_rejected
                    else log.warnings[0]
                )
            log.event(
                "Courier job completed",
                f"{counts.files:,} files, {counts.rows_read:,} rows read, "
                f"{counts.rows_inserted:,} inserted, {counts.rows_updated:,} updated, "
                f"{counts.rows_rejected:,} rejected",
            )
            log.event("Completed", f"Completed in {log.elapsed_text()}")
        except RunStopped:
            status, message = RunStatus.STOPPED, "Stopped by request; the file being loaded was rolled back"
            mark_stopping(store, run_id)
            log.event("Stopping", "Stop requested: rolling back the file being loaded", EventLevel.WARNING)
            log.event("Stopped", message, EventLevel.WARNING)
        except _MissingFeeds as missing:
            status, message = RunStatus.FAILED, f"{MISSING_FEEDS_HEADLINE}\n{missing}"
            log.event("Loading data", MISSING_FEEDS_HEADLINE, EventLevel.ERROR)
            log.event("Loading data", str(missing), EventLevel.ERROR)
        except (CourierError, LoadRejected) as error:
            status, message = RunStatus.FAILED, str(error)
            log.event("Failed", str(error), EventLevel.ERROR)
        except Exception as error:  # noqa: BLE001 - a run must end with a status, whatever happened
            status, message = RunStatus.FAILED, f"Internal error: {type(error).__name__}: {error}"
            log.event("Failed", message, EventLevel.ERROR)
        finally:
            close_run(store, db_path, log, status, message)
        return get_run(store, run_id)
    finally:
        store.close()


def _heap_text(window: RunWindow) -> str:
    """What a run's request line says it covers."""
    if window.kind == "new dumps":
        return "every complete Heap dump newer than the tables' cursors"
    if window.kind == "rebuild":
        return f"a rebuild of {window.table} from its latest full Heap dump"
    return window.describe()


class _MissingFeeds(CourierError):
    """Load operations name feeds the project does not have (Amperity fails the run)."""

    exit_code = 1


def _raise_if_stopped(log: RunLog) -> None:
    if log.should_stop():
        raise RunStopped()


def _run_courier_body(
    store: Store,
    db_path: Path,
    log: RunLog,
    project: Project,
    courier: Courier,
    window: RunWindow,
    parallel: bool | None,
) -> LoadCounts:
    from core.s3 import S3Source

    credential = project.credentials[courier.credential]
    source = S3Source(credential, courier.bucket, courier.prefix)
    # Checked before every S3 request attempt: Stop works while a silent endpoint is waited on.
    source.check_stop = lambda: _raise_if_stopped(log)
    feeds, missing, drafts = resolve_feeds(project, courier)
    sample_only = not courier.load_operations or bool(missing)
    if courier.layout == "heap-connect":
        log.event("Waiting for source data", "Reading Heap manifests")
        manifests = list_manifests(source)
        if not manifests:
            raise CourierError(
                f"No Heap manifests under s3://{courier.bucket}/{courier.prefix}manifests/ yet: "
                "Heap writes one when a sync completes; check the prefix or wait for the first sync"
            )
        log.event(
            "Waiting for source data",
            f"Found {len(manifests)} completed dump"
            f"{'s' if len(manifests) != 1 else ''} (latest sync_{manifests[-1].dump_id})",
        )
        if sample_only:
            landed = land_heap_samples(store, db_path, log, courier, source, manifests)
            return _finish_sample_run(log, courier, landed, missing)
        check_drafts(drafts)
        rebuild = window.table if window.kind == "rebuild" else None
        return run_heap_loads(store, db_path, log, courier, source, manifests, feeds, parallel, rebuild=rebuild)
    found = find_source_files(courier, source, window)
    log.event(
        "Waiting for source data",
        f"Found {len(found.files)} file{'s' if len(found.files) != 1 else ''} for {window.describe()}",
    )
    if found.missing:
        for name in found.missing[:20]:
            log.event("Waiting for source data", f"Missing file: {name}", EventLevel.ERROR, name)
        more = f" and {len(found.missing) - 1} more" if len(found.missing) > 1 else ""
        raise CourierError(
            f"Missing required file {found.missing[0]}{more} for {window.describe()}: "
            "check the entities list, mark the file optional, or run for another day"
        )
    if sample_only:
        log.update(files_to_land=len(found.files))
    else:
        loads = planned_file_loads(courier, found.files, feeds)
        log.update(
            files_to_land=len(found.files), files_planned=sum(loads), units_planned=sum(1 for count in loads if count)
        )
    landed = land_files(store, db_path, log, courier, source, found.files)
    if sample_only:
        return _finish_sample_run(log, courier, landed, missing)
    check_drafts(drafts)
    return run_file_loads(store, log, courier, landed, feeds, parallel)


def _finish_sample_run(log: RunLog, courier: Courier, landed: list[LandedFile], missing: list[str]) -> LoadCounts:
    counts = LoadCounts(files=len(landed))
    log.counts(counts)
    log.flush()
    if missing:
        quoted = ", ".join(f'"{feed_id}"' for feed_id in missing)
        raise _MissingFeeds(f"Cannot find required feeds: {quoted}")
    log.event(
        "Loading data",
        f"Landed {len(landed)} file{'s' if len(landed) != 1 else ''}; the load operations "
        "are empty ({}), so nothing was loaded. The files are ready as sample files for new feeds",
    )
    return counts
