"""Table browser benchmark: paging, row detail, search, column profiles and SQL on a 5,000,000-row domain table.

Builds a ``Heap:Pageviews`` domain table of N realistic rows (``core.heapgen.pageview_records``
through ``core.load.TableWriter``, one transaction, as a load writes it), then measures, each in
a fresh subprocess so its peak memory is its own:

- ``core``: the calls the table view makes (``open_reader``, ``fetch_page`` for the first page,
  ``count_rows`` and ``rows_before`` for "rows x–y of N", ``jump_to_fraction(0.5)`` for the
  middle, ``jump_to_key`` for a key there, and the next page after it);
- ``screen``: the real ``TableViewScreen`` in ``App.run_test``, from pushing the screen to the
  table widget painting its first page (and to the row count shown), and from End to the last
  page painted;

- ``review``: the table review actions (issue 15), through ``core.engine`` as the screens
  call them: row detail of a row in the middle and the next one, a column search (first page
  of ``/`` on ``path``) and a grouped read-only query;
- ``scan``: a profile of a text column (``country``) and of a datetime column (``time``), each
  exact and as an estimate from a sample, the frequency of ``country`` (estimate and exact) and
  the grouped query, each in its own process, timed, for its peak memory;
- ``index``: sorting by ``time`` — the first page without an index (a scan and a sort), building
  the on-demand sort index (``core.engine.build_sort_index``, with its progress callback), the
  first page, the next page and a jump through the index, then dropping it again;

and the peak resident memory (VmHWM) of each. The same is measured at 1,000,000 rows to show
that memory does not grow with the table (except for what must scan). Targets: first page
< 0.3 s (sorted by a column too, once its index is built), flat memory, a profile < 1.5 s exact
or an estimate at once, the Tables list at once (names first, counts after). The machine's
load average is printed before and after, and at the start of each size.

    .venv/bin/python bench/table_browser.py [--rows 5000000] [--small 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
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


def grow(db_path: Path, base: Path, rows: int) -> float:
    """Make a ``rows``-row table from a smaller built one: copy it, then append shifted copies of its rows.

    Generating records in Python is what makes building slow (minutes per million on a
    busy machine); the copies are pure SQLite. Keys (``_pk``, ``event_id``) are shifted so
    they stay unique; every other value repeats the base table's, which is realistic enough
    for timing pages, scans and sorts (distinct counts of high-cardinality columns are lower).
    """
    import shutil

    from core.store import Store

    started = time.perf_counter()
    shutil.copyfile(base, db_path)
    with Store(db_path) as store:
        have = store.execute(f'SELECT COUNT(*) FROM "{TABLE}"').fetchone()[0]
        step = store.execute(f'SELECT MAX(_pk) FROM "{TABLE}"').fetchone()[0] + 1
        columns = [row[1] for row in store.execute(f'PRAGMA table_info("{TABLE}")')]
        shifted = ", ".join(f'"{c}" + ?' if c in ("_pk", "event_id") else f'"{c}"' for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        base_rows, copy = have, 1
        while have < rows:
            take = min(base_rows, rows - have)  # always copy the base rows, so shifted keys never meet
            offset = copy * step
            with store.atomic():
                store.execute(
                    f'INSERT INTO "{TABLE}" ({names}) SELECT {shifted} FROM "{TABLE}" WHERE rowid <= ? ORDER BY rowid',
                    (offset, offset, take),
                )
            have += take
            copy += 1
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
    from core import engine

    started = time.perf_counter()
    engine.list_tables(Path(db_path), count=False)
    results["tables_names_s"] = time.perf_counter() - started
    started = time.perf_counter()
    engine.list_tables(Path(db_path), count=True)
    results["tables_counted_s"] = time.perf_counter() - started
    sorted_view = View(TABLE, sort="country", where="device_type = 'Mobile'")
    started = time.perf_counter()
    fetch_page(conn, sorted_view, limit=100)
    results["first_page_sorted_filtered_s"] = time.perf_counter() - started
    results["rows"] = total
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def measure_review(db_path: str) -> dict[str, float]:
    """Row detail, column search and a grouped query, timed."""
    from core import engine
    from core.browse import View, fetch_page, jump_to_fraction, open_reader

    view = View(TABLE)
    results: dict[str, float] = {}
    conn = open_reader(db_path)
    middle = jump_to_fraction(conn, view, 0.5, limit=1)
    assert middle.first_key is not None
    started = time.perf_counter()
    detail = engine.row_detail(Path(db_path), view, middle.first_key)
    results["row_detail_s"] = time.perf_counter() - started
    assert detail is not None
    started = time.perf_counter()
    engine.row_detail(Path(db_path), view, detail.key, move=1)
    results["row_detail_next_s"] = time.perf_counter() - started
    started = time.perf_counter()
    found = fetch_page(conn, engine.search_view(view, "path", "checkout"), limit=100)
    results["search_first_page_s"] = time.perf_counter() - started
    results["search_rows"] = len(found.rows)
    conn.close()
    # The profiles and frequencies are timed by measure_scan, each in its own process.
    started = time.perf_counter()
    page = engine.run_query(
        Path(db_path), f'SELECT country, COUNT(*) AS n FROM "{TABLE}" GROUP BY 1 ORDER BY 2 DESC', remember=False
    )
    results["grouped_sql_s"] = time.perf_counter() - started
    assert page.rows
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def measure_index(db_path: str) -> dict[str, float]:
    """Sorted by ``time``: first page without an index, the index build, pages through the index; then drop it."""
    from core import engine
    from core.browse import View, fetch_page, jump_to_key, open_reader

    view = View(TABLE, sort="time")
    results: dict[str, float] = {}
    conn = open_reader(db_path)
    started = time.perf_counter()
    scanned = fetch_page(conn, view, limit=100)
    results["sorted_first_page_scan_s"] = time.perf_counter() - started
    conn.close()
    calls: list[int] = []
    started = time.perf_counter()
    _, built = engine.build_sort_index(Path(db_path), TABLE, "time", progress=lambda done, total: calls.append(done))
    results["index_build_s"] = time.perf_counter() - started
    assert built
    results["index_progress_calls"] = len(calls)
    conn = open_reader(db_path)
    started = time.perf_counter()
    page = fetch_page(conn, view, limit=100)
    results["sorted_first_page_index_s"] = time.perf_counter() - started
    assert page.rows == scanned.rows
    started = time.perf_counter()
    fetch_page(conn, view, after=page.last_key, limit=100)
    results["sorted_next_page_index_s"] = time.perf_counter() - started
    middle = conn.execute(f'SELECT time FROM "{TABLE}" WHERE rowid = (SELECT MAX(rowid) / 2 FROM "{TABLE}")').fetchone()
    started = time.perf_counter()
    jump_to_key(conn, view, middle[0], limit=100)
    results["sorted_jump_index_s"] = time.perf_counter() - started
    conn.close()
    engine.drop_sort_index(Path(db_path), TABLE, "time")
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def measure_scan(db_path: str, what: str) -> dict[str, float]:
    """One scanning action alone (``country:exact``, ``time:estimate``, ``country:frequency-estimate``, ``sql``),
    timed, with its peak memory."""
    from core import engine
    from core.browse import View

    started = time.perf_counter()
    if what == "sql":
        engine.run_query(Path(db_path), f'SELECT country, COUNT(*) AS n FROM "{TABLE}" GROUP BY 1', remember=False)
    else:
        column, kind = what.split(":")
        rows = engine.table_row_count(Path(db_path), TABLE)
        exact = kind.endswith("exact")
        started = time.perf_counter()  # as the screens call them, with the row count the table view has
        if kind.startswith("frequency"):
            found = engine.column_frequencies(Path(db_path), View(TABLE), column, exact=exact, rows=rows)
        else:
            found = engine.profile_column(Path(db_path), View(TABLE), column, exact=exact, rows=rows)
        assert found.exact == exact or rows <= 10_000  # small tables are always read in full
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


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
            await until(
                lambda: any(page is not first_page and page is not None and not page.has_after for _, page in painted)
            )
            results["screen_last_page_s"] = next(at for at, page in painted if page is not first_page) - started
            results["page_rows"] = screen.page_rows

    asyncio.run(run())
    results["peak_rss_mb"] = peak_rss_mb()
    return results


def child(kind: str, db_path: str, *extra: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; return its numbers."""
    output = subprocess.run(
        [sys.executable, __file__, "--measure", kind, db_path, *extra], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the databases in this directory and keep them")
    parser.add_argument("--measure", nargs="+", metavar="KIND DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, db_path, *extra = args.measure
        measures = {"core": measure_core, "screen": measure_screen, "review": measure_review, "index": measure_index}
        print(json.dumps(measure_scan(db_path, extra[0]) if kind == "scan" else measures[kind](db_path)))
        return 0
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        print(
            f"{'rows':>10}  {'build':>7}  {'first page':>10}  {'count':>7}  {'middle':>7}  {'x–y pos':>7}  "
            f"{'jump key':>8}  {'screen 1st':>10}  {'screen end':>10}  {'core RSS':>8}  {'screen RSS':>10}"
        )
        for rows in (args.small, args.rows):
            db_path = directory / f"browse-{rows}.db"
            build_s = 0.0
            base = directory / f"browse-{args.small}.db"
            if not db_path.exists():
                build_s = grow(db_path, base, rows) if rows > args.small and base.exists() else build(db_path, rows)
            print(f"{'':>10}  load average at {rows:,} rows: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
            core = child("core", str(db_path))
            screen = child("screen", str(db_path))
            print(
                f"{int(core['rows']):>10,}  {build_s:>6.1f}s  {core['first_page_s'] * 1000:>8.1f}ms  "
                f"{core['count_s'] * 1000:>5.0f}ms  {core['jump_middle_s'] * 1000:>5.0f}ms  "
                f"{core['position_middle_s'] * 1000:>5.0f}ms  {core['jump_key_s'] * 1000:>6.1f}ms  "
                f"{screen['screen_first_page_s'] * 1000:>8.0f}ms  {screen['screen_last_page_s'] * 1000:>8.0f}ms  "
                f"{core['peak_rss_mb']:>6.1f}MB  {screen['peak_rss_mb']:>8.1f}MB"
            )
            print(
                f"{'':>10}  Tables list: names {core['tables_names_s'] * 1000:.1f}ms, with row counts "
                f"{core['tables_counted_s'] * 1000:.0f}ms (the screen shows names first, counts after)"
            )
            print(
                f"{'':>10}  sorted by country + filter, first page: "
                f"{core['first_page_sorted_filtered_s'] * 1000:.0f}ms (no index: a scan);  screen count shown "
                f"after {screen['screen_counted_s'] * 1000:.0f}ms; {int(screen['page_rows'])} rows per screen"
            )
            review = child("review", str(db_path))
            scans = {
                what: child("scan", str(db_path), what)
                for what in (
                    "country:estimate",
                    "country:exact",
                    "time:estimate",
                    "time:exact",
                    "country:frequency-estimate",
                    "country:frequency-exact",
                    "sql",
                )
            }
            print(
                f"{'':>10}  review: row detail {review['row_detail_s'] * 1000:.1f}ms (next "
                f"{review['row_detail_next_s'] * 1000:.1f}ms); search path first page "
                f"{review['search_first_page_s'] * 1000:.0f}ms; RSS {review['peak_rss_mb']:.1f}MB"
            )
            for what, numbers in scans.items():
                print(
                    f"{'':>10}  {what:<27} {numbers['seconds'] * 1000:>8.0f}ms  peak RSS "
                    f"{numbers['peak_rss_mb']:>6.1f}MB"
                )
            index = child("index", str(db_path))
            print(
                f"{'':>10}  sorted by time, first page: no index {index['sorted_first_page_scan_s'] * 1000:.0f}ms; "
                f"index build {index['index_build_s']:.1f}s ({int(index['index_progress_calls']):,} progress calls); "
                f"with the index: first page {index['sorted_first_page_index_s'] * 1000:.1f}ms, next "
                f"{index['sorted_next_page_index_s'] * 1000:.1f}ms, jump {index['sorted_jump_index_s'] * 1000:.1f}ms; "
                f"peak RSS {index['peak_rss_mb']:.1f}MB"
            )
            sys.stdout.flush()
    print(f"load average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
