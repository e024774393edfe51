"""Tests for core.patterns: parsing, rendering and matching file patterns."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.errors import PatternError
from core.patterns import FilePattern, day_range, parse_pattern

CUSTOMERS = "'files/'yyyy'/'MM'/'dd'/customers-*.csv'"
HOURLY = "'events/'yyyy-MM-dd'/'HH'.avro'"
APRIL_10 = date(2020, 4, 10)


# --- parsing: tokens, literals, quoting ---------------------------------------


@pytest.mark.parametrize(
    ("text", "described", "has_date", "has_time"),
    [
        ("yyyy", "<yyyy>", True, False),
        ("YYYY", "<YYYY>", True, False),
        ("yyyy-MM", "<yyyy>-<MM>", True, False),
        ("yyyy-MM-dd", "<yyyy>-<MM>-<dd>", True, False),
        ("'x/'HH", "x/<HH>", False, True),
        ("'x/'mm", "x/<mm>", False, True),
        ("'x/'ss", "x/<ss>", False, True),
        ("yyyyMMddHHmmss", "<yyyy><MM><dd><HH><mm><ss>", True, True),
        ("'it''s'", "it's", False, False),
        ("''", "'", False, False),
        ("'a''b'", "a'b", False, False),
        ("'a'''", "a'", False, False),
        ("'don''t-'yyyy", "don't-<yyyy>", True, False),
        ("yyyy''MM", "<yyyy>'<MM>", True, False),
        ("/-_.:0123 ~", "/-_.:0123 ~", False, False),
        ("yyyy/MM/dd_HH:mm:ss.0", "<yyyy>/<MM>/<dd>_<HH>:<mm>:<ss>.0", True, True),
        ("'a*b'", "a*b", False, False),
        ("'a'*'b'", "a*b", False, False),
        ("'a**b'", "a*b", False, False),
        ("'données/'yyyy", "données/<yyyy>", True, False),
        ("é-yyyy", "é-<yyyy>", True, False),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", False, False),
    ],
)
def test_parse_describes_shape(text: str, described: str, has_date: bool, has_time: bool) -> None:
    pattern = parse_pattern(text)
    assert pattern.text == text
    assert pattern.describe() == described
    assert pattern.has_date is has_date
    assert pattern.has_time is has_time


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "file pattern is empty: give one such as 'exports/users-'yyyy-MM-dd'.avro'",
        ),
        (
            "'exports/users-",
            "unterminated quote at position 1 in 'exports/users-: close literal text with '",
        ),
        (
            "'x/'yyyy'.csv",
            "unterminated quote at position 9 in 'x/'yyyy'.csv: close literal text with '",
        ),
        (
            "'it''s",
            "unterminated quote at position 1 in 'it''s: close literal text with '",
        ),
        (
            "'x/'D",
            "unsupported pattern letters \"D\" at position 5 in 'x/'D: use yyyy, YYYY, "
            "MM, dd, HH, mm or ss, and quote literal text ('D')",
        ),
        (
            "'x/'DD",
            "unsupported pattern letters \"DD\" at position 5 in 'x/'DD: use yyyy, YYYY, "
            "MM, dd, HH, mm or ss, and quote literal text ('DD')",
        ),
        (
            "yy-MM-dd",
            'unsupported pattern letters "yy" at position 1 in yy-MM-dd: use yyyy, YYYY, '
            "MM, dd, HH, mm or ss, and quote literal text ('yy')",
        ),
        (
            "yyyyy",
            'unsupported pattern letters "yyyyy" at position 1 in yyyyy: use yyyy, YYYY, '
            "MM, dd, HH, mm or ss, and quote literal text ('yyyyy')",
        ),
        (
            "yyyy-MMM-dd",
            'unsupported pattern letters "MMM" at position 6 in yyyy-MMM-dd: use yyyy, '
            "YYYY, MM, dd, HH, mm or ss, and quote literal text ('MMM')",
        ),
        (
            "yyyyMd",
            'unsupported pattern letters "Md" at position 5 in yyyyMd: use yyyy, YYYY, '
            "MM, dd, HH, mm or ss, and quote literal text ('Md')",
        ),
        (
            "yyyyMMDDHH",
            'unsupported pattern letters "DD" at position 7 in yyyyMMDDHH: use yyyy, '
            "YYYY, MM, dd, HH, mm or ss, and quote literal text ('DD')",
        ),
        (
            "E-yyyy",
            'unsupported pattern letters "E" at position 1 in E-yyyy: use yyyy, YYYY, '
            "MM, dd, HH, mm or ss, and quote literal text ('E')",
        ),
        (
            "exports/users-yyyy",
            'unsupported pattern letters "exports" at position 1 in exports/users-yyyy: '
            "use yyyy, YYYY, MM, dd, HH, mm or ss, and quote literal text ('exports')",
        ),
        (
            "'exports/'users-yyyy",
            "unsupported pattern letters \"users\" at position 11 in 'exports/'users-yyyy: "
            "use yyyy, YYYY, MM, dd, HH, mm or ss, and quote literal text ('users')",
        ),
        (
            # "ss" is a token, but a run with non-pattern letters is a word.
            "'x/'class",
            "unsupported pattern letters \"class\" at position 5 in 'x/'class: use yyyy, "
            "YYYY, MM, dd, HH, mm or ss, and quote literal text ('class')",
        ),
        (
            "'x\n'D",
            "unsupported pattern letters \"D\" at position 5 in 'x\\n'D: use yyyy, YYYY, "
            "MM, dd, HH, mm or ss, and quote literal text ('D')",
        ),
        (
            "'x-'MM-dd",
            "month or day without a year in 'x-'MM-dd: add yyyy, e.g. 'exports/'yyyy-MM-dd'.avro'",
        ),
        (
            "'x-'dd'.csv'",
            "month or day without a year in 'x-'dd'.csv': add yyyy, e.g. 'exports/'yyyy-MM-dd'.avro'",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        parse_pattern(text)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_parse_is_cached_and_equal_by_text() -> None:
    assert parse_pattern(CUSTOMERS) is parse_pattern(CUSTOMERS)
    assert FilePattern(CUSTOMERS) == parse_pattern(CUSTOMERS)
    assert hash(FilePattern(CUSTOMERS)) == hash(parse_pattern(CUSTOMERS))
    assert FilePattern(CUSTOMERS) != FilePattern(HOURLY)


def test_direct_construction_validates() -> None:
    with pytest.raises(PatternError):
        FilePattern("users")


# --- literal prefix -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        (CUSTOMERS, "files/"),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-"),
        ("'path/to/users'-YYYY-MM-dd'.avro'", "path/to/users-"),
        ("yyyy'/x.csv'", ""),
        ("HH'/x.csv'", ""),
        ("*'.csv'", ""),
        ("'exports/part-*/'yyyy", "exports/part-"),
        ("'exports/'*yyyy", "exports/"),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv"),
        ("'it''s/'yyyy", "it's/"),
        ("'x'/-_.yyyy", "x/-_."),
    ],
)
def test_literal_prefix(text: str, prefix: str) -> None:
    assert parse_pattern(text).literal_prefix() == prefix


# --- render ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment", "rendered"),
    [
        ("'exports/users-'yyyy-MM-dd'.avro'", date(2026, 3, 4), "exports/users-2026-03-04.avro"),
        ("'path/to/users'-YYYY-MM-dd'.avro'", date(2026, 3, 4), "path/to/users-2026-03-04.avro"),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", date(2019, 12, 31), "ARCHIVED/FILENAME_12-31-2019.csv.gz"),
        (CUSTOMERS, APRIL_10, "files/2020/04/10/customers-*.csv"),
        (HOURLY, date(2026, 1, 2), "events/2026-01-02/00.avro"),
        (HOURLY, datetime(2026, 1, 2, 7, 30), "events/2026-01-02/07.avro"),
        ("yyyyMMdd'T'HHmmss", datetime(2026, 1, 2, 3, 4, 5), "20260102T030405"),
        ("yyyyMMdd'T'HHmmss", date(2026, 1, 2), "20260102T000000"),
        (
            # Aware moments are rendered in UTC, as exports are stamped.
            "yyyy-MM-dd'T'HH",
            datetime(2026, 1, 2, 1, 0, tzinfo=timezone(timedelta(hours=5))),
            "2026-01-01T20",
        ),
        ("yyyy", date(987, 1, 1), "0987"),
        ("'it''s-'yyyy''", date(2026, 1, 1), "it's-2026'"),
        ("'/path/to/CustomerRecords.csv'", date(2026, 1, 1), "/path/to/CustomerRecords.csv"),
    ],
)
def test_render(text: str, moment: date, rendered: str) -> None:
    assert parse_pattern(text).render(moment) == rendered


# --- matching a day: wildcard rules -------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("files/2020/04/10/customers-.csv", True),
        ("files/2020/04/10/customers-1.csv", True),
        ("files/2020/04/10/customers-hello-world.csv", True),
        ("files/2020/04/10/customers-a.b.csv", True),
        ("files/2020/04/10/customers-.csv.0", False),
        ("files/2020/04/10/customers-0.json", False),
        ("files/2020/04/10/customers-0/1/file.csv", False),
        ("files/2020/04/10/customers-0/.csv", False),
        ("files/2020/04/10/customers.csv", False),
        ("files/2020/04/11/customers-1.csv", False),
        ("files/2019/04/10/customers-1.csv", False),
        ("files/2020/4/10/customers-1.csv", False),
        ("prefix/files/2020/04/10/customers-1.csv", False),
        ("Files/2020/04/10/customers-1.csv", False),
    ],
)
def test_matches_day_wildcard(key: str, expected: bool) -> None:
    assert parse_pattern(CUSTOMERS).matches_day(key, APRIL_10) is expected


@pytest.mark.parametrize(
    ("text", "key", "day", "expected"),
    [
        ("'path/to/users'-YYYY-MM-dd'.avro'", "path/to/users-2026-03-04.avro", date(2026, 3, 4), True),
        ("'path/to/users'-YYYY-MM-dd'.avro'", "path/to/users-2026-03-05.avro", date(2026, 3, 4), False),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-03-04.avro", date(2026, 3, 4), True),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-03-04.avro.tmp", date(2026, 3, 4), False),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-03-04Xavro", date(2026, 3, 4), False),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", "ARCHIVED/FILENAME_03-04-2026.csv.gz", date(2026, 3, 4), True),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", "ARCHIVED/FILENAME_04-03-2026.csv.gz", date(2026, 3, 4), False),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", "ARCHIVED/FILENAME_2026-03-04.csv.gz", date(2026, 3, 4), False),
        ("'Vendor_Data_'yyyyMMdd'_*.txt.gpg'", "Vendor_Data_20260304_183011.txt.gpg", date(2026, 3, 4), True),
        ("'Vendor_Data_'yyyyMMdd'_*.txt.gpg'", "Vendor_Data_20260304_.txt.gpg", date(2026, 3, 4), True),
        ("'Vendor_Data_'yyyyMMdd'_*.txt.gpg'", "Vendor_Data_20260304.txt.gpg", date(2026, 3, 4), False),
        ("'Vendor_Data_'yyyyMMdd'_*.txt.gpg'", "Vendor_Data_20260305_1.txt.gpg", date(2026, 3, 4), False),
        ("'Vendor_Data_'yyyyMMdd'_*.txt.gpg'", "Vendor_Data_20260304_1.txt", date(2026, 3, 4), False),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", date(2026, 3, 4), True),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", date(1999, 1, 1), True),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv.bak", date(2026, 3, 4), False),
        ("'/path/to/CustomerRecords.csv'", "path/to/CustomerRecords.csv", date(2026, 3, 4), False),
        # Time tokens accept any valid time on the day.
        (HOURLY, "events/2026-03-04/00.avro", date(2026, 3, 4), True),
        (HOURLY, "events/2026-03-04/23.avro", date(2026, 3, 4), True),
        (HOURLY, "events/2026-03-04/24.avro", date(2026, 3, 4), False),
        (HOURLY, "events/2026-03-05/00.avro", date(2026, 3, 4), False),
        # A datetime stands for its date.
        (HOURLY, "events/2026-03-04/05.avro", datetime(2026, 3, 4, 22), True),
        # Unquoted literals and apostrophes.
        ("yyyy/MM/dd_'x.csv'", "2026/03/04_x.csv", date(2026, 3, 4), True),
        ("'it''s/'yyyy-MM-dd", "it's/2026-03-04", date(2026, 3, 4), True),
        ("'it''s/'yyyy-MM-dd", "its/2026-03-04", date(2026, 3, 4), False),
        ("'a.b'yyyy", "aXb2026", date(2026, 1, 1), False),
        # A year-only pattern stands for 1 January.
        ("'y/'yyyy", "y/2026", date(2026, 1, 1), True),
        ("'y/'yyyy", "y/2026", date(2026, 1, 2), False),
    ],
)
def test_matches_day(text: str, key: str, day: date, expected: bool) -> None:
    assert parse_pattern(text).matches_day(key, day) is expected


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("'x-*'", "x-", True),
        ("'x-*'", "x-abc", True),
        ("'x-*'", "x-a/b", False),
        ("*'.csv'", "a.csv", True),
        ("*'.csv'", ".csv", True),
        ("*'.csv'", "dir/a.csv", False),
        ("'a/'*'/b'", "a/x/b", True),
        ("'a/'*'/b'", "a//b", True),
        ("'a/'*'/b'", "a/x/y/b", False),
        ("'a'**'b'", "axyzb", True),
        ("'a'**'b'", "a/b", False),
    ],
)
def test_star_never_crosses_slash(text: str, key: str, expected: bool) -> None:
    assert parse_pattern(text).matches_all(key) is expected


# --- matches_all ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (CUSTOMERS, "files/2020/04/10/customers-1.csv", True),
        (CUSTOMERS, "files/1999/12/31/customers-.csv", True),
        (CUSTOMERS, "files/2024/02/29/customers-1.csv", True),
        (CUSTOMERS, "files/2023/02/29/customers-1.csv", False),
        (CUSTOMERS, "files/2026/02/30/customers-1.csv", False),
        (CUSTOMERS, "files/2026/04/31/customers-1.csv", False),
        (CUSTOMERS, "files/2026/13/01/customers-1.csv", False),
        (CUSTOMERS, "files/2026/00/01/customers-1.csv", False),
        (CUSTOMERS, "files/2026/01/00/customers-1.csv", False),
        (CUSTOMERS, "files/0000/01/01/customers-1.csv", False),
        (CUSTOMERS, "files/20x6/01/01/customers-1.csv", False),
        (CUSTOMERS, "files/٢٠٢٦/01/01/customers-1.csv", False),
        (CUSTOMERS, "files/2026/01/01/customers-1.json", False),
        (CUSTOMERS, "files/2026/01/01", False),
        ("yyyyMMddHHmmss", "20260101235959", True),
        ("yyyyMMddHHmmss", "20260101240000", False),
        ("yyyyMMddHHmmss", "20260101236000", False),
        ("yyyyMMddHHmmss", "20260101235960", False),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", True),
        ("'/path/to/CustomerRecords.csv'", "/path/to/customerrecords.csv", False),
        ("'x/'HH", "x/23", True),
        ("'x/'HH", "x/24", False),
    ],
)
def test_matches_all(text: str, key: str, expected: bool) -> None:
    assert parse_pattern(text).matches_all(key) is expected


# --- repeated tokens ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "extracted"),
    [
        ("2026/03/04/x-20260304", datetime(2026, 3, 4)),
        ("2026/03/04/x-20260305", None),
        ("2026/03/04/x-20250304", None),
        ("2026/03/04/x-20260404", None),
        ("2026/02/30/x-20260230", None),
    ],
)
def test_repeated_tokens_must_agree(key: str, extracted: datetime | None) -> None:
    pattern = parse_pattern("yyyy'/'MM'/'dd'/x-'yyyyMMdd")
    assert pattern.extract(key) == extracted
    assert pattern.matches_all(key) is (extracted is not None)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("2026-2026", True), ("2026-2025", False)],
)
def test_yyyy_and_YYYY_are_the_same_year(key: str, expected: bool) -> None:
    assert parse_pattern("yyyy-YYYY").matches_all(key) is expected


# --- extract ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "extracted"),
    [
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-03-04.avro", datetime(2026, 3, 4)),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", "ARCHIVED/FILENAME_12-31-2019.csv.gz", datetime(2019, 12, 31)),
        ("'Vendor_'yyyyMMdd'_*.txt.gpg'", "Vendor_20260304_99.txt.gpg", datetime(2026, 3, 4)),
        (HOURLY, "events/2026-03-04/17.avro", datetime(2026, 3, 4, 17)),
        ("yyyyMMdd'T'HHmmss", "20260304T171819", datetime(2026, 3, 4, 17, 18, 19)),
        ("yyyy-MM-dd'T'mm", "2026-03-04T45", datetime(2026, 3, 4, 0, 45)),
        ("'y/'yyyy", "y/2026", datetime(2026, 1, 1)),
        ("'m/'yyyy-MM", "m/2026-07", datetime(2026, 7, 1)),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-02-30.avro", None),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-03-04.json", None),
        ("'exports/users-'yyyy-MM-dd'.avro'", "exports/users-2026-3-4.avro", None),
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", None),
        ("'x/'HH", "x/12", None),
    ],
)
def test_extract(text: str, key: str, extracted: datetime | None) -> None:
    result = parse_pattern(text).extract(key)
    assert result == extracted
    if result is not None:
        assert result.tzinfo is None


# --- matches_period -------------------------------------------------------------

DAILY = "'exports/users-'yyyy-MM-dd'.avro'"
START = datetime(2026, 3, 4)
END = datetime(2026, 3, 7)


@pytest.mark.parametrize(
    ("text", "key", "start", "end", "expected"),
    [
        (DAILY, "exports/users-2026-03-03.avro", START, END, False),
        (DAILY, "exports/users-2026-03-04.avro", START, END, True),
        (DAILY, "exports/users-2026-03-06.avro", START, END, True),
        (DAILY, "exports/users-2026-03-07.avro", START, END, False),
        (DAILY, "exports/users-2026-02-30.avro", datetime(2026, 1, 1), END, False),
        (DAILY, "exports/users-2026-03-05.json", START, END, False),
        # A daily file is the instant D 00:00, so a start later that day excludes it.
        (DAILY, "exports/users-2026-03-04.avro", datetime(2026, 3, 4, 0, 0, 1), END, False),
        (DAILY, "exports/users-2026-03-07.avro", START, datetime(2026, 3, 7, 0, 0, 1), True),
        # Hour tokens place the file within the day.
        (HOURLY, "events/2026-03-04/09.avro", datetime(2026, 3, 4, 10), datetime(2026, 3, 4, 12), False),
        (HOURLY, "events/2026-03-04/10.avro", datetime(2026, 3, 4, 10), datetime(2026, 3, 4, 12), True),
        (HOURLY, "events/2026-03-04/11.avro", datetime(2026, 3, 4, 10), datetime(2026, 3, 4, 12), True),
        (HOURLY, "events/2026-03-04/12.avro", datetime(2026, 3, 4, 10), datetime(2026, 3, 4, 12), False),
        (HOURLY, "events/2026-03-03/23.avro", START, END, False),
        (HOURLY, "events/2026-03-06/23.avro", START, END, True),
        # Aware bounds are compared in UTC: 05:00+05:00 is 00:00 UTC.
        (
            HOURLY,
            "events/2026-03-04/00.avro",
            datetime(2026, 3, 4, 5, tzinfo=timezone(timedelta(hours=5))),
            datetime(2026, 3, 4, 1, tzinfo=timezone.utc),
            True,
        ),
        (
            HOURLY,
            "events/2026-03-03/23.avro",
            datetime(2026, 3, 4, 5, tzinfo=timezone(timedelta(hours=5))),
            datetime(2026, 3, 4, 1, tzinfo=timezone.utc),
            False,
        ),
        (
            HOURLY,
            "events/2026-03-04/01.avro",
            datetime(2026, 3, 4, 5, tzinfo=timezone(timedelta(hours=5))),
            datetime(2026, 3, 4, 1, tzinfo=timezone.utc),
            False,
        ),
        (
            DAILY,
            "exports/users-2026-03-04.avro",
            datetime(2026, 3, 3, 19, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 3, 5, tzinfo=timezone.utc),
            True,
        ),
        (
            DAILY,
            "exports/users-2026-03-04.avro",
            datetime(2026, 3, 3, 19, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 3, 5, tzinfo=timezone.utc),
            False,
        ),
        # Date bounds stand for their midnight.
        (DAILY, "exports/users-2026-03-04.avro", date(2026, 3, 4), date(2026, 3, 5), True),
        (DAILY, "exports/users-2026-03-05.avro", date(2026, 3, 4), date(2026, 3, 5), False),
        # No date tokens: the same object in every period.
        ("'/path/to/CustomerRecords.csv'", "/path/to/CustomerRecords.csv", START, END, True),
        ("'/path/to/CustomerRecords.csv'", "/path/to/Other.csv", START, END, False),
        # Empty period.
        (DAILY, "exports/users-2026-03-04.avro", START, START, False),
    ],
)
def test_matches_period(text: str, key: str, start: datetime, end: datetime, expected: bool) -> None:
    assert parse_pattern(text).matches_period(key, start, end) is expected


# --- day_range --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 3, 4), date(2026, 3, 4), []),
        (date(2026, 3, 4), date(2026, 3, 5), [date(2026, 3, 4)]),
        (date(2026, 2, 27), date(2026, 3, 2), [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]),
        (date(2024, 2, 28), date(2024, 3, 1), [date(2024, 2, 28), date(2024, 2, 29)]),
        (date(2026, 12, 31), date(2027, 1, 2), [date(2026, 12, 31), date(2027, 1, 1)]),
        (date(2026, 3, 5), date(2026, 3, 4), []),
        (datetime(2026, 3, 4, 12), datetime(2026, 3, 6, 1), [date(2026, 3, 4), date(2026, 3, 5)]),
    ],
)
def test_day_range(start: date, end: date, days: list[date]) -> None:
    result = day_range(start, end)
    assert result == days
    assert all(type(d) is date for d in result)


# --- round trip ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("'exports/users-'yyyy-MM-dd'.avro'", datetime(2026, 3, 4)),
        ("'ARCHIVED/FILENAME_'MM-dd-yyyy'.csv.gz'", datetime(2019, 12, 31)),
        ("yyyy'/'MM'/'dd'/x-'yyyyMMdd", datetime(2024, 2, 29)),
        ("yyyyMMdd'T'HHmmss", datetime(2026, 3, 4, 23, 59, 58)),
    ],
)
def test_render_then_extract_round_trips(text: str, moment: datetime) -> None:
    pattern = parse_pattern(text)
    key = pattern.render(moment)
    assert pattern.extract(key) == moment
    assert pattern.matches_day(key, moment.date()) is True
    assert pattern.matches_period(key, moment, moment + timedelta(seconds=1)) is True
    assert pattern.matches_period(key, moment - timedelta(seconds=1), moment) is False
