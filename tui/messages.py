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

from core.problems import Problem


@dataclass
class ConfigSaved(Message):
    """Configuration was written with ``core.project.apply_document``."""

    kind: str
    """``courier``, ``credential`` or ``feeds``."""
    name: str
    changes: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
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
    """``Completed in …`` for a run that completed (from its start and end times)."""


@dataclass
class RunProgressed(Message):
    """A run started in this process moved on in the file it is loading (throttled, coalesced)."""

    progress: Any
    """The run's latest ``core.runs.RunProgress``."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgressed) and message.progress.run_id == self.progress.run_id


# --- feeds and samples ---


@dataclass
class SampleFileRead(Message):
    """A landed file's first rows were read for the sample file view."""

    file_id: int
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class FeedActivated(Message):
    """``core.feeds.activate_feed`` loaded the feed's sample file; the feed is active."""

    feed_id: str
    counts: Any
    """The load's ``core.load.LoadCounts``."""


@dataclass
class FeedNotActivated(Message):
    """Activation was refused (too many rows rejected, no sample file…); the feed kept its status."""

    feed_id: str
    reason: str
    """The engine's one line."""
