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
PNG = {"sources", "courier-editor", "credential", "run-courier", "help"}
"""Screens also converted to PNG, for the README."""

DOCUMENT: dict[str, Any] = {
    "credentials": {
        "heap-s3": {"type": "iam-role-to-role", "role-arn": "arn:aws:iam::123456789012:role/heap-courier",
                    "external-id": "acme-heap-7", "region": "us-east-1"},
    },
    "feeds": {
        "df-usersx01": {"source": "Heap", "name": "Users", "primary-key": ["user_id"], "last-updated": "joindate",
                        "stitch": True},
        "df-sessio01": {"source": "Heap", "name": "Sessions", "primary-key": ["session_id"]},
        "df-pagevi01": {"source": "Heap", "name": "Pageviews", "primary-key": ["event_id"]},
        "df-usermi01": {"source": "Heap", "name": "User migrations", "primary-key": ["from_user_id"],
                        "status": "draft"},
    },
    "couriers": {
        "Heap": {
            "credential": "heap-s3", "bucket": "heap-rs3-acme", "prefix": "", "layout": "heap-connect",
            "load-operations": {
                "df-usersx01": [{"type": "load", "file": "users"}],
                "df-sessio01": [{"type": "load", "file": "sessions"}],
                "df-pagevi01": [{"type": "load", "file": "pageviews"}],
            },
        },
        "Heap exports": {
            "credential": "heap-s3", "bucket": "heap-rs3-acme", "prefix": "exports/", "layout": "file-pattern",
            "entities": [
                {"object/type": "file", "object/file-pattern": "'users-'yyyy-MM-dd'.avro'",
                 "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"}},
                {"object/type": "file", "object/file-pattern": "'pageviews-'yyyy-MM-dd'.avro'",
                 "object/land-as": {"file/tag": "pageviews", "file/content-type": "application/avro"}},
            ],
            "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
        },
    },
    "courier-groups": {
        "Heap daily": {"schedule": "30 8 * * *", "timezone": "America/Los_Angeles", "enabled": True,
                       "couriers": [{"courier": "Heap", "wait": "2h", "offset": "1d",
                                     "notify-when-missing": True}]},
    },
}


def fill(db_path: Path) -> None:
    """Write the configuration and a little run history."""
    with Store(db_path) as store:
        apply_document(store, DOCUMENT)
        store.execute(
            "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, finished_at, files, "
            "rows_read, rows_inserted) VALUES ('courier', 'Heap', 'schedule', 'period', 'Succeeded', "
            "'2026-11-25T16:30:04.000000Z', '2026-11-25T16:35:16.000000Z', 42, 33100, 33100)")
        for feed_id, table in (("df-usersx01", "Heap:Users"), ("df-sessio01", "Heap:Sessions"),
                               ("df-pagevi01", "Heap:Pageviews")):
            store.execute("INSERT INTO domain_tables (name, feed_id, last_loaded_at) VALUES (?, ?, ?)",
                          (table, feed_id, "2026-11-25T16:35:10.000000Z"))


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

    return [
        ("sources", sources), ("help", help_screen), ("command-palette", palette),
        ("courier-editor", editor), ("courier-editor-problems", editor_problems),
        ("add-courier", add_courier), ("credential", credential), ("run-courier", run_courier),
        ("confirm-delete", confirm_delete),
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
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
