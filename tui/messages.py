"""Messages that thread workers post back to the UI, named for what happened.

Workers never touch widgets: they do the blocking work (S3, SQLite writes)
and post one of these; handlers on the screen own all UI state. Failures are
not messages: a worker that raises ends in ``WorkerState.ERROR``, which the app
turns into a notification (``CourierApp.on_worker_state_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from textual.message import Message


@dataclass
class ConfigSaved(Message):
    """Configuration was written with ``core.project.apply_document``."""

    kind: str
    """``courier``, ``credential`` or ``feeds``."""
    name: str
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)
    """The body that was saved (what the editor sent)."""


@dataclass
class ObjectDeleted(Message):
    """A credential, courier, feed or courier group was deleted."""

    kind: str
    name: str


@dataclass
class ConnectionTested(Message):
    """``S3Source.test_connection`` answered."""

    line: str


@dataclass
class MatchesPreviewed(Message):
    """The bucket was listed and filtered with each entity's file pattern for a day."""

    day: date
    matches: dict[str, list[str]]
    """``file/tag`` → matching keys relative to the prefix, in key order."""


@dataclass
class HeapDiscovered(Message):
    """``core.heap.discover`` read the manifests."""

    entities: list[dict[str, Any]]
    feeds: dict[str, dict[str, Any]]
    load_operations: dict[str, Any]


@dataclass
class RunStarted(Message):
    """A courier run has its row in the database and is running."""

    courier: str
    run_id: int


@dataclass
class RunFinished(Message):
    """A courier run ended (Succeeded, Warning, Failed or Stopped)."""

    summary: Any
    """The run's ``core.runs.RunSummary``."""
    completed: str | None = None
    """The run's last "Completed in …" line, when it has one."""
