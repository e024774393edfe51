"""SVG snapshots of the sample files, feed editor, tag picker and load operations screens at 80×24 and 120×40.

The sample files are landed from the local S3 server's generated Heap bucket
(deterministic), then given fixed landing times; new feed IDs are fixed too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core import engine
from core.project import apply_document
from core.store import Store
from tui.app import CourierApp

from .conftest import wait_for_workers

AppFactory = Callable[..., CourierApp]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
NEW_FEED_ID = "df-4kX9m2Qa"


@pytest.fixture
def sampled_db(db_path: Path, heap_bucket: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A heap-connect courier with placeholder load operations and its six sample files, landed at fixed times."""
    from core.runs import RunWindow, run_courier

    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {
                    "local-s3": {"type": "iam-credential", "endpoint-url": heap_bucket.endpoint, "region": "us-east-1"}
                },
                "couriers": {
                    "Heap": {
                        "credential": "local-s3",
                        "bucket": heap_bucket.name,
                        "layout": "heap-connect",
                        "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
                    }
                },
            },
        )
    run_courier(db_path, "Heap", RunWindow.day(date(2026, 11, 25)))
    with Store(db_path) as store:
        store.execute("UPDATE landed_files SET landed_at = printf('2026-11-25T17:%02d:00.000000Z', id)")
    monkeypatch.setattr("tui.screens.feed_editor.new_feed_id", lambda existing=(): NEW_FEED_ID)
    return db_path


@pytest.fixture
def active_feed_db(sampled_db: Path) -> Path:
    """``sampled_db`` plus an active Heap:Users feed made from the users sample."""
    from core.feeds import activate_feed, set_sample_file
    from core.runs import list_landed_files

    with Store(sampled_db) as store:
        users = next(item for item in list_landed_files(store, "Heap") if item.tag == "users")
        apply_document(
            store,
            {
                "feeds": {
                    "df-usr7Qm2x": {"source": "Heap", "name": "Users", "primary-key": ["user_id"], "status": "draft"}
                }
            },
        )
        set_sample_file(store, "df-usr7Qm2x", users.id)
    activate_feed(sampled_db, "df-usr7Qm2x")
    return sampled_db


async def open_users_sample(pilot: Any) -> None:
    await pilot.press("s")
    await pilot.pause()
    await pilot.press("enter")
    await wait_for_workers(pilot)


async def add_users_feed(pilot: Any) -> None:
    """Open the feed editor on the users sample (as f does from the sample file view)."""
    users = next(item for item in engine.landed_files(pilot.app.db_path, "Heap") if item.tag == "users")
    pilot.app.action_add_feed(users.id)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_samples(snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(sampled_db), press=["s"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_get_samples_dialog(
    snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(sampled_db), press=["s", "g"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_sample_file(snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    assert snap_compare(app_factory(sampled_db), run_before=open_users_sample, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_feed_editor(snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def keyed_and_tagged(pilot: Any) -> None:
        await add_users_feed(pilot)
        await pilot.press("space", "down", "down", "down", "enter")
        await pilot.press(*"email", "enter", "f2")
        await pilot.pause()

    assert snap_compare(app_factory(sampled_db), run_before=keyed_and_tagged, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_feed_editor_problems(
    snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    async def broken(pilot: Any) -> None:
        await add_users_feed(pilot)
        pilot.app.screen.query_one("#feed-threshold").value = "150"
        await pilot.press("f2")
        await pilot.pause()

    assert snap_compare(app_factory(sampled_db), run_before=broken, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_tag_picker(snap_compare: Any, sampled_db: Path, app_factory: AppFactory, size: tuple[int, int]) -> None:
    async def picking(pilot: Any) -> None:
        await add_users_feed(pilot)
        await pilot.press("down", "down", "down", "enter")
        await pilot.press("e", "m", "enter", "f", "k")
        await pilot.pause()

    assert snap_compare(app_factory(sampled_db), run_before=picking, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_load_operations_filled(
    snap_compare: Any, active_feed_db: Path, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(active_feed_db), press=["l", "F"], terminal_size=size)
