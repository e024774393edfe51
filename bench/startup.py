"""Start-up benchmark: time from launch to the first painted Sources screen, next to a bare Textual app.

Both apps are launched the same way in fresh interpreters (so imports count),
run headless, and report when their first screen has been mounted and
refreshed. The baseline is a bare Textual app with a Header, a DataTable and
a Footer, measured in the same run. Target: Courier ≤ 2× the baseline.

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_APP = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

async def painted(pilot):
    await pilot.pause()
    print("painted", flush=True)
    pilot.app.exit()

Bare().run(headless=True, size=(100, 30), auto_pilot=painted)
"""

COURIER_APP = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tui.app import make_app

async def painted(pilot):
    await pilot.pause()
    assert type(pilot.app.screen).__name__ == "SourcesScreen", pilot.app.screen
    print("painted", flush=True)
    pilot.app.exit()

make_app(Path({db!r})).run(headless=True, size=(100, 30), auto_pilot=painted)
"""


def time_launch(code: str) -> float:
    """Seconds from launching a fresh interpreter to its 'painted' line."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "painted":
            elapsed = time.perf_counter() - started
            process.wait(timeout=30)
            return elapsed
    raise RuntimeError(f"the app never painted: {process.stderr.read() if process.stderr else ''}")


def prepare_db(path: Path) -> None:
    """A database holding the demo configuration, so the Sources screen has rows to show."""
    sys.path.insert(0, str(ROOT))
    from core.demo import configure_demo
    from core.store import Store

    with Store(path) as store:
        configure_demo(store, "http://127.0.0.1:45699")


def main() -> None:
    """Measure both apps alternately and print medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="courier-startup-") as tmp:
        db = Path(tmp) / "bench.db"
        prepare_db(db)
        courier_code = COURIER_APP.format(root=str(ROOT), db=str(db))
        time_launch(BARE_APP)  # warm the OS file cache for both
        time_launch(courier_code)
        bare, courier = [], []
        for _ in range(args.runs):
            bare.append(time_launch(BARE_APP))
            courier.append(time_launch(courier_code))
    bare_median, courier_median = statistics.median(bare), statistics.median(courier)
    print(f"bare Textual app (Header, DataTable, Footer): {bare_median:.3f} s to first paint (median of {args.runs})")
    print(
        f"courier, Sources screen with the demo config: {courier_median:.3f} s to first paint (median of {args.runs})"
    )
    print(f"ratio courier/bare: {courier_median / bare_median:.2f}   (target <= 2.00)")


if __name__ == "__main__":
    main()
