"""Fixtures for the app's Pilot and snapshot tests: a database, a fixed clock, sample configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from core.project import apply_document
from core.store import Store
from tui.app import CourierApp, make_app

FIXED_NOW = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)
"""Every test and snapshot runs at this moment: next runs and "today" never move."""

ROLE_ARN = "arn:aws:iam::123456789012:role/heap-courier"

SAMPLE_DOCUMENT: dict[str, Any] = {
    "credentials": {
        "heap-s3": {
            "type": "iam-role-to-role",
            "role-arn": ROLE_ARN,
            "external-id": "acme-heap-7",
            "region": "us-east-1",
        },
    },
    "feeds": {
        "df-usersx01": {"source": "Heap", "name": "Users", "primary-key": ["user_id"], "stitch": True},
        "df-sessio01": {"source": "Heap", "name": "Sessions", "primary-key": ["session_id"]},
        "df-pagevi01": {"source": "Heap", "name": "Pageviews", "primary-key": ["event_id"], "status": "draft"},
    },
    "couriers": {
        "Heap": {
            "credential": "heap-s3",
            "bucket": "heap-rs3-acme",
            "prefix": "",
            "layout": "heap-connect",
            "load-operations": {
                "df-usersx01": [{"type": "load", "file": "users"}],
                "df-sessio01": [{"type": "load", "file": "sessions"}],
            },
        },
        "Heap exports": {
            "credential": "heap-s3",
            "bucket": "heap-rs3-acme",
            "prefix": "exports/",
            "layout": "file-pattern",
            "entities": [
                {
                    "object/type": "file",
                    "object/file-pattern": "'users-'yyyy-MM-dd'.avro'",
                    "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"},
                }
            ],
            "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
        },
    },
    "courier-groups": {
        "Heap daily": {
            "schedule": "30 8 * * *",
            "timezone": "America/Los_Angeles",
            "enabled": True,
            "couriers": [{"courier": "Heap", "wait": "2h", "offset": "1d"}],
        },
    },
}
"""A realistic configuration: a heap-connect courier in a group, a placeholder file-pattern courier."""


def fixed_clock() -> datetime:
    """The tests' "now"."""
    return FIXED_NOW


@pytest.fixture(autouse=True)
def keys_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key a test presses, and every ``pilot.pause()``, is handled (its screen pushed and
    mounted, its layout done) before the test looks, judged on the app's state, not on CPU idleness."""
    from tests.waiting import count_handlers_in_flight, lean_pause, lean_press

    count_handlers_in_flight()
    monkeypatch.setattr(Pilot, "press", lean_press())
    monkeypatch.setattr(Pilot, "pause", lean_pause(Pilot.pause))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """An empty Courier database file."""
    return tmp_path / "courier.db"


@pytest.fixture
def configured_db(db_path: Path) -> Path:
    """A database holding ``SAMPLE_DOCUMENT`` and a run of the Heap courier."""
    with Store(db_path) as store:
        apply_document(store, SAMPLE_DOCUMENT)
        store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, finished_at, rows_read) "
            "VALUES ('courier', 'Heap', 'manual', 'all', 'Succeeded', '2026-11-25T08:30:04.000000Z', "
            "'2026-11-25T08:35:16.000000Z', 1200)"
        )
    return db_path


@pytest.fixture
def app_factory() -> Callable[[Path], CourierApp]:
    """Builds the app through the one factory, with a fixed clock and a steady cursor."""

    def build(path: Path, **options: Any) -> CourierApp:
        return make_app(path, clock=fixed_clock, cursor_blink=False, **options)

    return build


async def wait_for_workers(pilot: Pilot[Any]) -> None:
    """Wait until every worker has finished and its messages have been handled.

    A worker that failed has finished too: the app reports its failure, and the test
    looks at what the app shows (Textual's ``wait_for_complete`` would raise it here).
    """
    await asyncio.gather(*[worker.wait() for worker in pilot.app.workers], return_exceptions=True)
    await pilot.pause()
    await pilot.pause()
