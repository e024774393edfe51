"""Discover respects what exists (issue 14, item 7): it asks before replacing the entities list, saying what
changes, proposes only feeds whose domain table does not exist, and adds to the load operations."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual.widgets import Static, TextArea

from core.project import apply_document, load_project
from core.store import Store
from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.courier_editor import CourierEditorScreen

from .conftest import wait_for_workers
from .test_s3_actions import configure

AppFactory = Callable[..., CourierApp]
MINE = [
    {
        "object/type": "file",
        "object/file-pattern": "'sync_'*'/users/part-'*'.avro'",
        "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"},
    },
    {
        "object/type": "file",
        "object/file-pattern": "'sync_'*'/sessions/part-'*'.avro'",
        "object/land-as": {"file/tag": "sessions", "file/content-type": "application/avro"},
    },
]


def question(app: CourierApp) -> str:
    return " ".join(str(widget.render()) for widget in app.screen.query(Static))


async def test_discover_asks_before_replacing_and_proposes_only_new_feeds(
    db_path: Path, app_factory: AppFactory, s3_bucket: Any
) -> None:
    from core.heapgen import generate_heap_bucket

    generated = generate_heap_bucket(s3_bucket.name, users=50, pageviews=200, today=date(2026, 11, 25))
    s3_bucket.put_many({key: body for key, body in generated.objects.items() if not key.startswith("exports/")})
    configure(db_path, s3_bucket.endpoint, s3_bucket.name, layout="heap-connect")
    with Store(db_path) as store:  # the user's own list and a Heap:Users feed loaded by it already
        apply_document(
            store,
            {
                "feeds": {
                    "df-myusers1": {"source": "Heap", "name": "Users", "primary-key": ["user_id"]},
                    # Named otherwise than Discover would name it, but loading the sessions table.
                    "df-mysess01": {"source": "Heap", "name": "My Sessions", "primary-key": ["session_id"]},
                },
                "couriers": {
                    "Heap": {
                        "credential": "local",
                        "bucket": s3_bucket.name,
                        "layout": "heap-connect",
                        "entities": MINE,
                        "load-operations": {
                            "df-myusers1": [{"type": "load", "file": "users"}],
                            "df-mysess01": [{"type": "load", "file": "sessions"}],
                        },
                    }
                },
            },
        )
    app = app_factory(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_edit_courier("Heap")
        await pilot_wait(pilot, lambda: isinstance(app.screen, CourierEditorScreen), "the courier editor")
        editor = app.screen
        await pilot.press("f8")
        await wait_for_workers(pilot)
        await pilot_wait(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        asked = question(app)
        assert "Replace your entities list with the discovered Heap tables?" in asked
        added = asked.split("It adds ", 1)[1].rstrip(".").split(", ")
        assert "pageviews" in added and not {"users", "sessions"} & set(added) and "drops" not in asked
        await pilot.press("n")  # keep mine
        await pilot_wait(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and "feed" in question(app), "the feeds question"
        )
        assert json.loads(editor.query_one("#entities", TextArea).text) == MINE
        asked = question(app)
        assert "Heap:Users" not in asked  # Users exists: not proposed again
        assert "Heap:Sessions" not in asked  # df-mysess01 loads the sessions table already
        assert "Heap:Pageviews" in asked
        await pilot.press("y")
        await wait_for_workers(pilot)
        await pilot_wait(pilot, lambda: app.screen is editor, "the editor")
        operations = json.loads(editor.query_one("#load-operations", TextArea).text)
        assert operations["df-myusers1"] == [{"type": "load", "file": "users"}]  # the user's, kept
        assert len(operations) > 1
    with Store(db_path) as store:
        feeds = load_project(store).feeds
    assert [feed.id for feed in feeds.values() if feed.table_name == "Heap:Users"] == ["df-myusers1"]
    assert not [feed.id for feed in feeds.values() if feed.table_name == "Heap:Sessions"]
