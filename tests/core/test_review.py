"""Column profiles, read-only queries, row detail, column search and identity lookups (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import engine
from core.browse import FilterError, View, open_reader
from core.identity import identity_counterpart, refresh_identity_views
from core.profile import ProfileStopped, profile_column
from core.query import QueryError, run_query
from core.store import Store

TABLE = "Heap:Pageviews"
COUNTRIES = ["US", None, "FR", "US", "DE", "US", None, "FR"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """40 pageviews over 4 days (10 a day), countries with NULLs, user ids 1–5; a sessions table; a merge 5 → 1."""
    path = tmp_path / "courier.db"
    with Store(path) as store, store.atomic():
        store.execute(
            f'CREATE TABLE "{TABLE}" (_pk NOT NULL, event_id INTEGER, user_id INTEGER, time TEXT, '
            "country TEXT, amount REAL, _updated)"
        )
        store.execute(f'CREATE UNIQUE INDEX "{TABLE}:_pk" ON "{TABLE}" (_pk)')
        for number in range(40):
            store.execute(
                f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?, ?, ?)',
                (
                    number + 1,
                    number + 1,
                    number % 5 + 1,
                    f"2026-11-{22 + number // 10:02d}T{number % 10:02d}:15:00.000Z",
                    COUNTRIES[number % len(COUNTRIES)],
                    number * 0.5,
                    "2026-11-26",
                ),
            )
        store.execute('CREATE TABLE "Heap:Sessions" (_pk NOT NULL, session_id INTEGER, user_id INTEGER, _updated)')
        for number in range(6):
            store.execute(
                'INSERT INTO "Heap:Sessions" VALUES (?, ?, ?, ?)', (number + 1, number + 1, 1 if number < 2 else 5, "x")
            )
        store.execute("INSERT INTO identity_map (source, from_user_id, to_user_id) VALUES ('Heap', 5, 1)")
        refresh_identity_views(store, "Heap", [TABLE, "Heap:Sessions"])
    return path


def test_profile_of_a_text_column_counts_in_one_pass(db: Path) -> None:
    conn = open_reader(db)
    seen: list[tuple[int, int]] = []
    profile = profile_column(conn, View(TABLE), "country", progress=lambda done, total: seen.append((done, total)))
    assert (profile.kind, profile.rows, profile.nulls, profile.distinct) == ("text", 40, 10, 3)
    assert profile.top == [("US", 15), ("FR", 10), ("DE", 5)]
    assert (profile.minimum, profile.maximum, profile.mean) == ("DE", "US", None)
    assert profile.exact and profile.basis() == "exact, all 40 rows"
    assert seen[-1] == (40, 40)


def test_profile_of_numbers_has_a_mean_and_a_filter_applies(db: Path) -> None:
    conn = open_reader(db)
    profile = profile_column(conn, View(TABLE, "country = 'US'"), "amount")
    values = [number * 0.5 for number in range(40) if COUNTRIES[number % len(COUNTRIES)] == "US"]
    assert profile.kind == "number" and profile.rows == len(values) == 15
    assert profile.mean == pytest.approx(sum(values) / len(values))
    assert (profile.minimum, profile.maximum) == (min(values), max(values))


def test_profile_of_a_datetime_column_has_days(db: Path) -> None:
    profile = profile_column(open_reader(db), View(TABLE), "time")
    assert profile.kind == "datetime" and profile.distinct == 40
    assert profile.days == [("2026-11-22", 10), ("2026-11-23", 10), ("2026-11-24", 10), ("2026-11-25", 10)]
    assert profile.minimum == "2026-11-22T00:15:00.000Z"


def test_estimate_says_so_and_scales_to_the_table(db: Path) -> None:
    profile = profile_column(open_reader(db), View(TABLE), "country", exact=False, sample_rows=20, seed=3)
    assert not profile.exact and profile.sample_rows == 20 and profile.rows == 40 and profile.sample_runs == 10
    assert (
        profile.basis()
        == "estimate from 20 sampled rows of 40 (10 runs of consecutive rows spread evenly over the table)"
    )
    assert sum(count for _, count in profile.top) + profile.nulls == pytest.approx(40, abs=3)
    assert {value for value, _ in profile.top} <= {"US", "FR", "DE"}


def test_a_stopped_profile_raises_and_an_unknown_column_is_one_line(db: Path) -> None:
    conn = open_reader(db)
    with pytest.raises(ProfileStopped):
        profile_column(conn, View(TABLE), "country", should_stop=lambda: True)
    with pytest.raises(FilterError, match='no column "nope"'):
        profile_column(conn, View(TABLE), "nope")


def test_query_pages_and_is_read_only(db: Path) -> None:
    conn = open_reader(db)
    page = run_query(conn, f'SELECT country, COUNT(*) AS n FROM "{TABLE}" GROUP BY 1 ORDER BY n DESC, 1;', limit=2)
    assert page.columns == ["country", "n"] and page.rows == [("US", 15), (None, 10)] and page.has_after
    second = run_query(
        conn, f'SELECT country, COUNT(*) AS n FROM "{TABLE}" GROUP BY 1 ORDER BY n DESC, 1', offset=2, limit=2
    )
    assert second.rows == [("FR", 10), ("DE", 5)] and not second.has_after
    for sql, message in (
        (f'DELETE FROM "{TABLE}"', "read-only"),
        (f'SELECT 1; DELETE FROM "{TABLE}"', "One statement"),
        ('SELECT nope FROM "Heap:Pageviews"', "no such column: nope"),
        ("ATTACH '/tmp/x.db' AS x", "read-only"),
        ("", "Type a query"),
    ):
        with pytest.raises(QueryError, match=message) as raised:
            run_query(conn, sql)
        assert "\n" not in str(raised.value)
    with Store(db) as store:
        assert store.query(f'SELECT COUNT(*) AS n FROM "{TABLE}"')[0]["n"] == 40


def test_a_runaway_query_is_stopped_by_the_limit(db: Path) -> None:
    conn = open_reader(db)
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    with pytest.raises(QueryError, match="Query stopped"):
        run_query(conn, endless, seconds=None, should_stop=lambda: True)
    with pytest.raises(QueryError, match="Query stopped after 0.05 s"):
        run_query(conn, endless, seconds=0.05)


def test_recent_queries_are_kept_per_database_newest_first(db: Path, tmp_path: Path) -> None:
    engine.run_query(db, "SELECT 1")
    engine.run_query(db, "SELECT 2;")
    engine.run_query(db, "SELECT 1")
    with pytest.raises(QueryError):
        engine.run_query(db, "SELECT nope")
    assert engine.recent_queries(db) == ["SELECT 1", "SELECT 2"]
    other = tmp_path / "other.db"
    Store(other).close()
    assert engine.recent_queries(other) == []


def test_row_detail_moves_through_the_view_in_its_order(db: Path) -> None:
    view = View(TABLE, "country = 'FR'", sort="time", descending=True)
    first = engine.table_rows(db, TABLE, where="country = 'FR'", columns=["_pk", "time"], limit=100)[1]
    ordered = sorted(first, key=lambda row: row[1], reverse=True)
    detail = engine.row_detail(db, view, (ordered[0][1], ordered[0][0]))
    assert detail is not None and detail.values[0] == ordered[0][0] and not detail.has_before and detail.has_after
    following = engine.row_detail(db, view, detail.key, move=1)
    assert following is not None and following.values[0] == ordered[1][0] and following.has_before
    back = engine.row_detail(db, view, following.key, move=-1)
    assert back is not None and back.values == detail.values
    assert engine.row_detail(db, view, detail.key, move=-1) is None


def test_search_finds_values_through_the_filter_machinery(db: Path) -> None:
    view = engine.search_view(View(TABLE, "user_id = 1"), "time", "11-23")
    columns, rows = engine.table_rows(db, TABLE, where=view.where, columns=["event_id"], limit=100)
    assert [row[0] for row in rows] == [11, 16]
    literal = engine.search_view(View(TABLE), "country", "%")
    assert engine.table_rows(db, TABLE, where=literal.where)[1] == []


def test_identity_toggle_and_a_users_other_rows(db: Path) -> None:
    names = list(engine.query_catalog(db))
    assert identity_counterpart(names, TABLE) == f"{TABLE}:resolved"
    assert engine.identity_counterpart(db, f"{TABLE}:resolved") == TABLE
    assert engine.identity_counterpart(db, "Heap:Nope") is None
    rows = engine.user_rows(db, TABLE, 5)  # event 5 belongs to user 5, merged into user 1
    assert rows is not None and rows.resolved_user_id == 1
    assert rows.counts == [("Heap:Pageviews:resolved", 16), ("Heap:Sessions:resolved", 6)]


def test_table_rows_refuses_an_unknown_column(db: Path) -> None:
    with pytest.raises(FilterError, match='no column "nope"'):
        engine.table_rows(db, TABLE, columns=["nope"])


def row_values(detail: Any) -> dict[str, Any]:
    return dict(zip(detail.columns, detail.values))


def test_days_are_utc_days_and_a_mixed_column_is_text(tmp_path: Path) -> None:
    path = tmp_path / "days.db"
    with Store(path) as store, store.atomic():
        store.execute('CREATE TABLE "T:Times" (_pk NOT NULL, at TEXT, mixed, _updated)')
        store.conn.executemany(
            'INSERT INTO "T:Times" VALUES (?, ?, ?, ?)',
            [
                (1, "2026-11-25T01:30:00+02:00", 5, "u"),  # 2026-11-24T23:30Z
                (2, "2026-11-25T08:00:00.000000Z", "5", "u"),
                (3, "2026-11-25", 2.5, "u"),
                (4, None, None, "u"),
            ],
        )
    conn = open_reader(path)
    for exact in (True, False):
        profile = profile_column(conn, View("T:Times"), "at", exact=exact, sample_rows=2, seed=1)
        if exact:
            assert profile.days == [("2026-11-24", 1), ("2026-11-25", 2)]
            assert (profile.rows, profile.nulls, profile.distinct) == (4, 1, 3)
        else:
            assert all(day in ("2026-11-24", "2026-11-25") for day, _ in profile.days)
    mixed = profile_column(conn, View("T:Times"), "mixed")
    assert (mixed.kind, mixed.minimum, mixed.maximum, mixed.mean) == ("text", 2.5, "5", None)
    assert mixed.top == [(2.5, 1), (5, 1), ("5", 1)] and mixed.distinct == 3


def test_frequencies_count_null_as_a_value_in_one_pass(db: Path) -> None:
    from core.profile import frequencies

    found = frequencies(open_reader(db), View(TABLE), "country", limit=2)
    assert found.values == [("US", 15), (None, 10)] and (found.distinct, found.total) == (4, 40)


def test_an_estimate_takes_the_row_count_the_caller_has(db: Path) -> None:
    # The count given is used as is (no full count of the view): 1,000 stands for a count the caller made.
    profile = engine.profile_column(db, View(TABLE), "country", exact=False, rows=1000)
    assert profile.exact and profile.rows == 40  # no larger than the sample: read in full, exact
    small = profile_column(open_reader(db), View(TABLE), "country", exact=False, sample_rows=20, seed=3, rows=1000)
    assert not small.exact and small.basis().startswith("estimate from 20 sampled rows of 1,000 (10 runs")


@pytest.fixture
def strata_db(tmp_path: Path) -> Path:
    """2,000 rows; ``stratum`` is which 200 rowids the row is in (0–9), ``even`` whether its rowid is even."""
    path = tmp_path / "strata.db"
    with Store(path) as store, store.atomic():
        store.execute('CREATE TABLE "T:Strata" (_pk NOT NULL, stratum INTEGER, even INTEGER, _updated)')
        store.conn.executemany(
            'INSERT INTO "T:Strata" (rowid, _pk, stratum, even, _updated) VALUES (?, ?, ?, ?, NULL)',
            [(n, n, (n - 1) // 200, n % 2 == 0) for n in range(1, 2001)],
        )
    return path


def test_a_sample_is_runs_of_consecutive_rows_one_in_each_stretch_of_the_table(strata_db: Path) -> None:
    from core.profile import sample_column

    conn = open_reader(strata_db)
    for seed in range(5):
        # 100 rows in 10 runs of 10: the table cut in 10 equal stretches of 200 rowids, one run in each.
        sample = sample_column(conn, View("T:Strata"), "stratum", 100, seed=seed)
        assert sample is not None and (sample.rows, sample.runs, sample.total) == (100, 10, 2000)
        assert sample.values == [(stratum, 10) for stratum in range(10)]
    # No larger than the sample: nothing to sample, the caller reads every row.
    assert sample_column(conn, View("T:Strata"), "stratum", 2000) is None


def test_a_filtered_estimate_nobody_counted_says_its_row_count_is_about(strata_db: Path) -> None:
    profile = profile_column(
        open_reader(strata_db), View("T:Strata", "even = 1"), "stratum", exact=False, sample_rows=100
    )
    # Runs of 10 consecutive rowids hold 5 even ones: half the sample, half the span.
    assert (profile.sample_rows, profile.rows, profile.rows_exact) == (50, 1000, False)
    assert profile.basis().startswith("estimate from 50 sampled rows of about 1,000 (10 runs")
    assert profile.top[0][1] == 100 and profile.nulls == 0  # 5 sampled rows a stretch stand for 100


def test_exact_none_estimates_only_a_large_view(strata_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.profile
    from core.profile import frequencies

    conn = open_reader(strata_db)
    assert profile_column(conn, View("T:Strata"), "even", exact=None).exact
    assert frequencies(conn, View("T:Strata"), "even", exact=None).exact
    monkeypatch.setattr(core.profile, "ESTIMATE_ABOVE", 1000)
    # The rowid span (2,000) decides when nobody counted; a count the caller has decides otherwise.
    assert not profile_column(conn, View("T:Strata"), "even", exact=None, sample_rows=100).exact
    assert profile_column(conn, View("T:Strata"), "even", exact=None, sample_rows=100, rows=900).exact
    found = frequencies(conn, View("T:Strata"), "stratum", 3, exact=None, sample_rows=100)
    assert not found.exact and found.total == 2000 and found.distinct == 10
    assert found.values == [(0, 200), (1, 200), (2, 200)]  # ties by value
    # A sample no smaller than the table is no estimate: the engine's default (10,000 rows) reads all 2,000.
    assert engine.column_frequencies(strata_db, View("T:Strata"), "stratum", exact=None).exact


def test_estimated_frequencies_scale_the_sample_and_say_so(strata_db: Path) -> None:
    from core.profile import frequencies

    found = frequencies(open_reader(strata_db), View("T:Strata"), "even", exact=False, sample_rows=100, seed=1)
    assert not found.exact and found.sample_rows == 100 and found.total == 2000
    assert sorted(found.values) == [(0, 1000), (1, 1000)]
    assert found.basis() == (
        "estimate from 100 sampled rows of 2,000 (10 runs of consecutive rows spread evenly over the table)"
    )
    exact = frequencies(open_reader(strata_db), View("T:Strata"), "even")
    assert exact.exact and exact.basis() == "exact, all 2,000 rows" and sorted(exact.values) == [(0, 1000), (1, 1000)]
