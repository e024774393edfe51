"""Regenerate ``screenshots/``: an SVG of every screen of the app, and PNGs of the main ones.

Builds the app with ``tui.app.make_app`` on a temporary database filled with a
realistic configuration, runs it headless at 120×36 with a fixed clock, visits
each screen by keys and saves what it shows. Run from the repository root:

    python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.project import apply_document  # noqa: E402
from core.store import Store  # noqa: E402
from tui.app import CourierApp, make_app  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
NOW = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)
PNG = {
    "sources",
    "courier-editor",
    "credential",
    "run-courier",
    "help",
    "samples",
    "feed-editor",
    "load-operations",
    "group-editor",
    "run-live",
    "run-history",
    "tables",
    "table-view",
    "table-frequencies",
    "table-row-detail",
    "table-profile",
    "table-query",
    "table-sort-index",
}
"""Screens also converted to PNG, for the README."""

DOCUMENT: dict[str, Any] = {
    "credentials": {
        "heap-s3": {
            "type": "iam-role-to-role",
            "role-arn": "arn:aws:iam::123456789012:role/heap-courier",
            "external-id": "acme-heap-7",
            "region": "us-east-1",
        },
    },
    "feeds": {
        "df-usersx01": {
            "source": "Heap",
            "name": "Users",
            "primary-key": ["user_id"],
            "last-updated": "joindate",
            "stitch": True,
        },
        "df-sessio01": {"source": "Heap", "name": "Sessions", "primary-key": ["session_id"]},
        "df-pagevi01": {"source": "Heap", "name": "Pageviews", "primary-key": ["event_id"]},
        "df-usermi01": {
            "source": "Heap",
            "name": "User migrations",
            "primary-key": ["from_user_id"],
            "status": "draft",
        },
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
                "df-pagevi01": [{"type": "load", "file": "pageviews"}],
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
                },
                {
                    "object/type": "file",
                    "object/file-pattern": "'pageviews-'yyyy-MM-dd'.avro'",
                    "object/land-as": {"file/tag": "pageviews", "file/content-type": "application/avro"},
                },
            ],
            "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
        },
    },
    "courier-groups": {
        "Heap daily": {
            "schedule": "30 8 * * *",
            "timezone": "America/Los_Angeles",
            "enabled": True,
            "couriers": [{"courier": "Heap", "wait": "2h", "offset": "1d", "notify-when-missing": True}],
        },
    },
}


def fill(db_path: Path) -> None:
    """Write the configuration and a little run history."""
    with Store(db_path) as store:
        apply_document(store, DOCUMENT)
        store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, finished_at, files, "
            "rows_read, rows_inserted) VALUES ('courier', 'Heap', 'schedule', 'period', 'Succeeded', "
            "'2026-11-25T16:30:04.000000Z', '2026-11-25T16:35:16.000000Z', 42, 33100, 33100)"
        )
        for feed_id, table in (
            ("df-usersx01", "Heap:Users"),
            ("df-sessio01", "Heap:Sessions"),
            ("df-pagevi01", "Heap:Pageviews"),
        ):
            store.execute(
                "INSERT INTO domain_tables (name, feed_id, last_loaded_at) VALUES (?, ?, ?)",
                (table, feed_id, "2026-11-25T16:35:10.000000Z"),
            )


Step = tuple[str, Callable[[Any], Awaitable[None]]]


async def _press(pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


def steps() -> list[Step]:
    """(file stem, how to get there from the Sources screen)."""

    async def sources(pilot: Any) -> None:
        await pilot.pause()

    async def help_screen(pilot: Any) -> None:
        await _press(pilot, "question_mark")

    async def palette(pilot: Any) -> None:
        await _press(pilot, "colon")
        await _press(pilot, *"cour")
        await pilot.pause(0.3)

    async def editor(pilot: Any) -> None:
        await _press(pilot, "down", "enter")

    async def editor_problems(pilot: Any) -> None:
        await _press(pilot, "down", "enter")
        screen = pilot.app.screen
        screen.query_one("#bucket").value = "Heap_Exports"
        screen.query_one("#bucket").focus()
        await pilot.pause()

    async def add_courier(pilot: Any) -> None:
        await _press(pilot, "a")

    async def credential(pilot: Any) -> None:
        await _press(pilot, "a", "tab", "enter", "end", "enter")
        await _press(pilot, *"heap-prod")

    async def run_courier(pilot: Any) -> None:
        await _press(pilot, "down", "r")

    async def confirm_delete(pilot: Any) -> None:
        await _press(pilot, "down", "d")

    async def group_editor(pilot: Any) -> None:
        pilot.app.screen.query_one("#groups-table").focus()
        await _press(pilot, "enter")
        await pilot.pause(0.3)  # the preview is computed once typing pauses

    async def zone_picker(pilot: Any) -> None:
        await group_editor(pilot)
        await _press(pilot, "f4", *"lon")

    return [
        ("sources", sources),
        ("help", help_screen),
        ("command-palette", palette),
        ("courier-editor", editor),
        ("courier-editor-problems", editor_problems),
        ("add-courier", add_courier),
        ("credential", credential),
        ("run-courier", run_courier),
        ("confirm-delete", confirm_delete),
        ("group-editor", group_editor),
        ("zone-picker", zone_picker),
    ]


async def shoot(db_path: Path, stem: str, drive: Callable[[Any], Awaitable[None]]) -> Path:
    """Open a fresh app, drive it to one screen and save the SVG."""
    app: CourierApp = make_app(db_path, clock=lambda: NOW, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await drive(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=f"{stem}.svg", path=str(OUT))
    return OUT / f"{stem}.svg"


def feed_steps() -> list[Step]:
    """Steps 3–5 on a database whose courier has landed sample files from the embedded demo S3."""

    async def samples(pilot: Any) -> None:
        await _press(pilot, "s")

    async def get_samples(pilot: Any) -> None:
        await _press(pilot, "s", "g")

    async def sample_file(pilot: Any) -> None:
        await _press(pilot, "s", "enter")
        await pilot.app.workers.wait_for_complete()

    async def feed_editor(pilot: Any) -> None:
        await sample_file(pilot)
        await _press(pilot, "f", "space", "down", "down", "down", "enter", *"email", "enter", "f2")

    async def tag_picker(pilot: Any) -> None:
        await sample_file(pilot)
        await _press(pilot, "f", "down", "down", "down", "enter", *"fk")

    async def activated(pilot: Any) -> None:
        await feed_editor(pilot)
        await _press(pilot, "tab", "tab", "space", "f5")
        await pilot.app.workers.wait_for_complete()
        await _press(pilot, "end")

    async def load_operations(pilot: Any) -> None:
        await _press(pilot, "l", "F")

    return [
        ("samples", samples),
        ("get-samples", get_samples),
        ("sample-file", sample_file),
        ("feed-editor", feed_editor),
        ("tag-picker", tag_picker),
        ("feed-activated", activated),
        ("load-operations", load_operations),
    ]


def fill_samples(db_path: Path, endpoint_url: str, bucket: str) -> None:
    """A heap-connect courier on the demo S3 with Amperity's placeholder load operations, and its samples."""
    from core.runs import RunWindow, run_courier

    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {
                    "demo-s3": {"type": "iam-credential", "region": "us-east-1", "endpoint-url": endpoint_url}
                },
                "couriers": {
                    "Heap": {
                        "credential": "demo-s3",
                        "bucket": bucket,
                        "layout": "heap-connect",
                        "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
                    }
                },
            },
        )
    run_courier(db_path, "Heap", RunWindow.day(NOW.date()))
    with Store(db_path) as store:
        store.execute("UPDATE landed_files SET landed_at = printf('2026-11-25T17:%02d:00.000000Z', id)")


async def shoot_feeds(tmp: Path) -> None:
    """Screens of steps 3–5, against the embedded demo S3 (new feed IDs fixed so the images are stable)."""
    from core.demo import start_demo_server
    from tui.screens import feed_editor

    feed_editor.new_feed_id = lambda existing=(): "df-4kX9m2Qa"  # type: ignore[assignment]
    server = start_demo_server(today=NOW.date(), users=300, pageviews=3000)
    try:
        db_path = tmp / "samples.db"
        fill_samples(db_path, server.endpoint_url, server.bucket)
        for stem, drive in feed_steps():
            report(await shoot(db_path, stem, drive), stem)
    finally:
        server.stop()


def fill_runs(db_path: Path, endpoint_url: str) -> None:
    """The demo configuration, a real Heap run (domain tables loaded) and a real failed sample run.

    Run and event times are then set to fixed ones, so the images do not change between runs.
    """
    from core.demo import EXPORTS_COURIER, HEAP_COURIER, configure_demo
    from core.runs import RunWindow, run_courier

    with Store(db_path) as store:
        configure_demo(store, endpoint_url)
    run_courier(db_path, HEAP_COURIER, RunWindow.all(), parallel=False)
    run_courier(db_path, EXPORTS_COURIER, RunWindow.day(NOW.date()))
    with Store(db_path) as store:
        for run_id, started, seconds in ((1, 16 * 3600 + 30 * 60 + 4, 312), (2, 17 * 3600 + 2 * 60 + 11, 3)):
            store.execute(
                "UPDATE runs SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25', ?), "
                "finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25', ?) WHERE id = ?",
                (f"+{started} seconds", f"+{started + seconds} seconds", run_id),
            )
            events = store.query("SELECT id FROM run_events WHERE run_id = ? ORDER BY id", (run_id,))
            for index, event in enumerate(events):
                offset = started + seconds * index / max(1, len(events) - 1)
                store.execute(
                    "UPDATE run_events SET at = strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25', ?) WHERE id = ?",
                    (f"+{offset:.3f} seconds", event["id"]),
                )
            store.execute(
                "UPDATE run_events SET message = 'Completed in 5 minutes 12 seconds' WHERE run_id = ? "
                "AND message LIKE 'Completed in %'",
                (run_id,),
            )
        store.execute("UPDATE domain_tables SET last_loaded_at = '2026-11-25T16:35:16.000000Z'")


def runs_steps() -> list[Step]:
    """The live run log, run history and the domain tables browser."""
    from tui.screens.run_live import RunLiveScreen

    async def until(pilot: Any, condition: Callable[[], bool]) -> None:
        for _ in range(500):
            if condition():
                break
            await pilot.pause(0.02)
        await pilot.pause()

    async def history(pilot: Any) -> None:
        await _press(pilot, "h")
        await until(pilot, lambda: bool(pilot.app.screen.runs))

    async def live_succeeded(pilot: Any) -> None:
        screen = RunLiveScreen(1)
        pilot.app.push_screen(screen)
        await until(pilot, lambda: screen.live.final and not screen._polling)

    async def live_failed(pilot: Any) -> None:
        screen = RunLiveScreen(2)
        pilot.app.push_screen(screen)
        await until(pilot, lambda: screen.live.final and not screen._polling)

    async def live_search(pilot: Any) -> None:
        await live_succeeded(pilot)
        await _press(pilot, "slash", *"pageviews")

    async def tables(pilot: Any) -> None:
        await _press(pilot, "t")
        await until(pilot, lambda: bool(pilot.app.screen.tables))

    async def table_view(pilot: Any, *keys: str) -> None:
        await tables(pilot)
        await _press(pilot, "down", "down", "enter")
        screen = pilot.app.screen
        await until(pilot, lambda: screen.page is not None and screen.position_counted and screen.total is not None)
        for key in keys:
            await _press(pilot, key)
            await until(
                pilot,
                lambda: not screen._busy and not screen._queue and screen.position_counted and screen.total is not None,
            )

    async def table_sorted(pilot: Any) -> None:
        await table_view(pilot, "right", "right", "right", "right", "right", "right", "right", "o", "o")

    async def frequencies(pilot: Any) -> None:
        await table_view(pilot, "right", "right", "right", "right", "right", "right", "right")
        await _press(pilot, "F")
        await until(pilot, lambda: bool(pilot.app.screen.values))

    async def filter_refused(pilot: Any) -> None:
        from textual import events

        await table_view(pilot)
        await _press(pilot, "w")
        pilot.app.post_message(events.Paste("device_type = 'Mobile'; DROP TABLE \"Heap:Pageviews\""))
        await _press(pilot, "enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    async def cell_value(pilot: Any) -> None:
        await table_view(pilot, *["right"] * 12)
        await _press(pilot, "v")

    async def export(pilot: Any) -> None:
        await table_view(pilot, "E")

    async def row_detail(pilot: Any) -> None:
        await table_view(pilot, "down", "enter")
        await until(pilot, lambda: getattr(pilot.app.screen, "detail", None) is not None)

    async def profile(pilot: Any) -> None:
        await table_view(pilot, *["right"] * 7, "P")
        await until(
            pilot, lambda: getattr(pilot.app.screen, "profile", None) is not None and not pilot.app.screen.running
        )

    async def sort_index(pilot: Any) -> None:
        await table_view(pilot, "right", "o")
        await until(pilot, lambda: getattr(pilot.app.screen, "sort_support", None) is not None)
        await _press(pilot, "i")
        await until(pilot, lambda: getattr(pilot.app.screen, "indexes", None) is not None)

    async def query(pilot: Any) -> None:
        from textual.widgets import Input

        await table_view(pilot)
        table = pilot.app.screen.table_name
        await _press(pilot, "S")
        screen = pilot.app.screen
        screen.query_one(
            "#query-input", Input
        ).value = f'SELECT device_type, COUNT(*) AS pageviews FROM "{table}" GROUP BY 1 ORDER BY 2 DESC, 1'
        await _press(pilot, "enter")
        await until(pilot, lambda: screen.page is not None and not screen.running)

    return [
        ("run-history", history),
        ("run-live", live_succeeded),
        ("run-live-failed", live_failed),
        ("run-live-search", live_search),
        ("tables", tables),
        ("table-view", table_view),
        ("table-sorted", table_sorted),
        ("table-frequencies", frequencies),
        ("table-filter-refused", filter_refused),
        ("table-cell-value", cell_value),
        ("table-export", export),
        ("table-row-detail", row_detail),
        ("table-profile", profile),
        ("table-query", query),
        ("table-sort-index", sort_index),
    ]


async def shoot_runs(tmp: Path) -> None:
    """Screens of runs and domain tables, on real runs against the embedded demo S3."""
    from core.demo import start_demo_server

    server = start_demo_server(today=NOW.date(), users=300, pageviews=3000)
    try:
        db_path = tmp / "runs.db"
        fill_runs(db_path, server.endpoint_url)
        for stem, drive in runs_steps():
            report(await shoot(db_path, stem, drive), stem)
    finally:
        server.stop()


def report(svg: Path, stem: str) -> None:
    """Convert to PNG when the README shows it, and say what was written."""
    line = f"{svg.relative_to(ROOT)}"
    if stem in PNG:
        import cairosvg

        png = svg.with_suffix(".png")
        cairosvg.svg2png(url=str(svg), write_to=str(png))
        line += f" + {png.name}"
    print(line)


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "courier.db"
        fill(db_path)
        for stem, drive in steps():
            svg = await shoot(db_path, stem, drive)
            line = f"{svg.relative_to(ROOT)}"
            if stem in PNG:
                import cairosvg

                png = svg.with_suffix(".png")
                cairosvg.svg2png(url=str(svg), write_to=str(png))
                line += f" + {png.name}"
            print(line)
        await shoot_feeds(Path(tmp))
        await shoot_runs(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
