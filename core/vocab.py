"""Courier's fixed vocabularies as enums, valued with the exact text stored in the database.

Each is a ``StrEnum``: a member *is* its text (``RunStatus.SUCCEEDED ==
"Succeeded"``), so stored rows, JSON output and comparisons with plain strings
are unchanged. The words are Amperity's (run statuses, event levels) or
Courier's own documented ones (window kinds, triggers). Imports nothing.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A run's status, as Amperity's run history shows it."""

    RUNNING = "Running"
    STOPPING = "Stopping"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"
    WARNING = "Warning"

    @property
    def is_final(self) -> bool:
        """True once the run has ended (no more events will come)."""
        return self in FINAL_STATUSES


ACTIVE_STATUSES = (RunStatus.RUNNING, RunStatus.STOPPING)
"""Statuses of a run still going (its process may still write)."""
FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED, RunStatus.WARNING)
"""Statuses a run ends with."""


class RunKind(StrEnum):
    """What a ``runs`` row ran: one courier, or a courier group (whose couriers are child runs)."""

    COURIER = "courier"
    GROUP = "group"


class Trigger(StrEnum):
    """Who started a run."""

    MANUAL = "manual"
    SCHEDULE = "schedule"


class EventLevel(StrEnum):
    """The level of one run event."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class WindowKind(StrEnum):
    """The kind of data a run covers: Amperity's three run-dialog choices, and Heap Connect's two.

    A heap-connect courier is driven by Heap's manifests and its tables' cursors, not by
    file dates, so its runs are ``new dumps`` (every complete dump newer than the cursors)
    or ``rebuild`` (one table emptied and reloaded from its latest full dump).
    """

    DAY = "day"
    PERIOD = "period"
    ALL = "all"
    NEW_DUMPS = "new dumps"
    REBUILD = "rebuild"
    HOURS = "hours"
    """A window shorter than a day, or not on day boundaries, for file patterns with ``HH``."""


class RunPhase(StrEnum):
    """What a run is doing now, as its ``runs.phase`` column stores it (migration 13).

    Courier's own words (Amperity only shows stage names in the log): a courier
    run plans, lands, loads and finishes; a group run plans, waits for source
    data and runs its couriers. Every run ends ``ended``.
    """

    PLANNING = "planning"
    LANDING = "landing"
    LOADING = "loading"
    FINISHING = "finishing"
    WAITING = "waiting"
    RUNNING = "running couriers"
    ENDED = "ended"
