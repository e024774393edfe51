"""Courier runs, by stage — this module only re-exports the names callers have always imported from it.

The run code lives in one module per stage:

* ``core.planning`` — which bucket objects a courier's entities match, which feeds it loads;
* ``core.landing`` — downloading matched objects into the cache, the ``landed_files`` list;
* ``core.applying`` — building load units per feed and applying them, identity views;
* ``core.run_records`` — the ``runs`` row, its ``run_events`` log, stop requests, reading runs back;
* ``core.runner`` — ``run_courier``, which walks those stages and ends the run with a status;
* ``core.windows`` / ``core.vocab`` — ``RunWindow`` and the status/level enums, at the bottom of the graph.

New code should import from those modules (or call ``core.engine``); this file
keeps ``from core.runs import ...`` working for existing callers.
"""

from __future__ import annotations

from core.landing import LandedFile, land, list_landed_files
from core.planning import FoundFiles, SourceFile, find_source_files
from core.run_records import (
    RunEvent,
    RunListener,
    RunLog,
    RunProgress,
    RunSummary,
    create_run,
    finish_run,
    get_run,
    landing_root,
    last_run,
    list_runs,
    reconcile_stale_runs,
    request_stop,
    run_events,
    stop_flag,
    stop_requested,
)
from core.runner import MISSING_FEEDS_HEADLINE, run_courier
from core.vocab import FINAL_STATUSES, EventLevel, RunKind, RunStatus, Trigger, WindowKind
from core.windows import RunWindow, duration_text, now_utc

STATUSES = tuple(RunStatus)
"""Every run status, in the order Amperity lists them."""

# The old private names, for callers written before the split.
_create_run = create_run
_finish_run = finish_run
_stop_flag = stop_flag
_land = land

__all__ = [
    "FINAL_STATUSES",
    "MISSING_FEEDS_HEADLINE",
    "STATUSES",
    "EventLevel",
    "FoundFiles",
    "LandedFile",
    "RunEvent",
    "RunKind",
    "RunListener",
    "RunLog",
    "RunProgress",
    "RunStatus",
    "RunSummary",
    "RunWindow",
    "SourceFile",
    "Trigger",
    "WindowKind",
    "create_run",
    "duration_text",
    "find_source_files",
    "finish_run",
    "get_run",
    "landing_root",
    "last_run",
    "list_landed_files",
    "list_runs",
    "now_utc",
    "reconcile_stale_runs",
    "request_stop",
    "run_courier",
    "run_events",
    "stop_flag",
    "stop_requested",
]
