"""Table browser benchmark: first page and a jump to the middle of a 1,000,000-row domain table.

Builds a ``Heap:Pageviews`` domain table of N realistic rows (``core.heapgen.pageview_records``
through ``core.load.TableWriter``, one transaction, as a load writes it), then measures, each in
a fresh subprocess so its peak memory is its own:

- ``core``: the calls the table view makes (``open_reader``, ``fetch_page`` for the first page,
  ``count_rows`` and ``rows_before`` for "rows x–y of N", ``jump_to_fraction(0.5)`` for the
  middle, ``jump_to_key`` for a key there, and the next page after it);
- ``screen``: the real ``TableViewScreen`` in ``App.run_test``, from pushing the screen to the
  table widget painting its first page (and to the row count shown), and from End to the last
  page painted;

and the peak resident memory (VmHWM) of each. The same is measured at 200,000 rows to show
that memory does not grow with the table. Targets: first page < 0.3 s, flat memory.

    .venv/bin/python bench/table_browser.py [--rows 1000000] [--small 200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TABLE = "Heap:Pageviews"
BATCH = 20_000


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(db_path: Path, rows: int) -> float:
    """Write the domain table; returns seconds taken."""
    from core.heapgen import PAGEVIEW_COLUMNS, pageview_records
    from core.load import TableWriter, record_table_load
    from core.store import Store

    started = time.perf_counter()
    types = ["Integer" if name in ("event_id", "user_id", "session_id") else "String" for name in PAGEVIEW_COLUMNS]
    with Store(db_path) as store:
        writer = TableWriter(store, TABLE)
        with store.atomic():
            columns = writer.prepare(list(PAGEVIEW_COLUMNS), types)
            batch: list[tuple[object, ...]] = []
            for record in pageview_records(rows, seed=11):
                batch.append((*(record.get(name) for name in PAGEVIEW_COLUMNS), record["event_id"], "bench"))
                if len(batch) >= BATCH:
                    writer.upsert(columns, batch)
                    batch = []
            if batch:
                writer.upsert(columns, batch)
            record_table_load(store, TABLE, "df-pagevi01", None)
    return time.perf_counter() - started


def measure_core(db_path: str) -> dict[str, float]:
    """The table view's core calls, timed."""
    from core.browse import (
        View,
        count_rows,
        fetch_page,
        jump_to_fraction,
        jump_to_key,
        open_reader,
        rows_before,
    )

    view = View(TABLE)
    results: dict[str, float] = {}
    started = time.perf_counter()
    conn = open_reader(db_path)
    page = fetch_page(conn, view, limit=100)
    results["first_page_s"] = time.perf_counter() - started
    assert len(page.rows) == 100
    started = time.perf_counter()
    total = count_rows(conn, view)
    results["count_s"] = time.perf_counter() - started
    started = time.perf_counter()
    middle = jump_to_fraction(conn, view, 0.5, limit=100)
    results["jump_middle_s"] = time.perf_counter() - started
    assert middle.first_key is not None
    started = time.perf_counter()
    before = rows_before(conn, view, middle.first_key)
    results["position_middle_s"] = time.perf_counter() - started
    assert before == total // 2, (before, total)
    started = time.perf_counter()
    by_key = jump_to_key(conn, view, str(middle.first_key[0] + 12_345), limit=100)
    results["jump_key_s"] = time.perf_counter() - started
    started = time.perf_counter()
    fetch_page(conn, view, after=by_key.last_key, limit=100)
    results["next_page_s"] = time.perf_counter() - started
    sorted_view = View(TABLE, sort="country", where="device_type = 'Mobile'")
    started = time.perf_counter()
    fetch_page(conn, sorted_view, limit=100)
    results["first_page_sorted_filtered_s"] = time.perf_counter() - started
    results["rows"] = total
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def measure_screen(db_path: str) -> dict[str, float]:
    """The real table view in ``run_test``: push → first page painted → count shown; End → last page painted.

    "Painted" is when the table widget has drawn its lines with the page's rows
    (``PagedTable.render_lines`` is wrapped to note the time).
    """
    import asyncio

    from tui.app import make_app
    from tui.screens.table_view import PagedTable, TableViewScreen

    results: dict[str, float] = {}
    painted: list[tuple[float, object]] = []
    render_lines = PagedTable.render_lines

    def noting_render_lines(self: PagedTable, crop: object) -> object:
        lines = render_lines(self, crop)  # type: ignore[arg-type]
        screen = self.screen
        if self.row_count and isinstance(screen, TableViewScreen):
            painted.append((time.perf_counter(), screen.page))
        return lines

    PagedTable.render_lines = noting_render_lines  # type: ignore[assignment,method-assign]

    async def until(condition: object) -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.001)

    async def run() -> None:
        app = make_app(Path(db_path), cursor_blink=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = TableViewScreen(TABLE)
            started = time.perf_counter()
            app.push_screen(screen)
            await until(lambda: bool(painted))
            results["screen_first_page_s"] = painted[0][0] - started
            await until(lambda: screen.position_counted and screen.total is not None)
            results["screen_counted_s"] = time.perf_counter() - started
            await pilot.pause()
            first_page = screen.page
            started = time.perf_counter()
            await pilot.press("end")
            await until(lambda: any(page is not first_page and page is not None and not page.has_after
                                    for _, page in painted))
            results["screen_last_page_s"] = next(at for at, page in painted if page is not first_page) - started
            results["page_rows"] = screen.page_rows

    asyncio.run(run())
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def child(kind: str, db_path: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; return its numbers."""
    output = subprocess.run([sys.executable, __file__, "--measure", kind, db_path], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="build the databases in this directory and keep them")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, db_path = args.measure
        print(json.dumps(measure_core(db_path) if kind == "core" else measure_screen(db_path)))
        return 0
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        print(f"{'rows':>10}  {'build':>7}  {'first page':>10}  {'count':>7}  {'middle':>7}  {'x–y pos':>7}  "
              f"{'jump key':>8}  {'screen 1st':>10}  {'screen end':>10}  {'core RSS':>8}  {'screen RSS':>10}")
        for rows in (args.small, args.rows):
            db_path = directory / f"browse-{rows}.db"
            build_s = 0.0
            if not db_path.exists():
                build_s = build(db_path, rows)
            core = child("core", str(db_path))
            screen = child("screen", str(db_path))
            print(f"{int(core['rows']):>10,}  {build_s:>6.1f}s  {core['first_page_s'] * 1000:>8.1f}ms  "
                  f"{core['count_s'] * 1000:>5.0f}ms  {core['jump_middle_s'] * 1000:>5.0f}ms  "
                  f"{core['position_middle_s'] * 1000:>5.0f}ms  {core['jump_key_s'] * 1000:>6.1f}ms  "
                  f"{screen['screen_first_page_s'] * 1000:>8.0f}ms  {screen['screen_last_page_s'] * 1000:>8.0f}ms  "
                  f"{core['peak_rss_mb']:>6.1f}MB  {screen['peak_rss_mb']:>8.1f}MB")
            print(f"{'':>10}  sorted by country + filter, first page: "
                  f"{core['first_page_sorted_filtered_s'] * 1000:.0f}ms (no index: a scan);  screen count shown "
                  f"after {screen['screen_counted_s'] * 1000:.0f}ms; {int(screen['page_rows'])} rows per screen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
