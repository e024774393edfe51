"""File patterns: Amperity's object/file-pattern language for naming S3 keys.

A pattern is a Joda-Time ``DateTimeFormat`` pattern. Text in single quotes is
literal (``''`` is one apostrophe, inside or outside quotes), unquoted
non-letters are literal, ``*`` matches any run of characters except ``/``, and
the unquoted tokens ``yyyy``/``YYYY``, ``MM``, ``dd``, ``HH``, ``mm`` and ``ss``
stand for the parts of a date and time. For example
``'exports/users-'yyyy-MM-dd'.avro'`` names ``exports/users-2026-03-14.avro``.

A parsed pattern compiles to one anchored regular expression with named groups,
so matching stays cheap when a run lists tens of thousands of keys.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple

from core.errors import PatternError

__all__ = ["FilePattern", "day_range", "parse_pattern"]

_TOKEN_FIELDS: dict[str, str] = {
    "yyyy": "year",
    "YYYY": "year",
    "MM": "month",
    "dd": "day",
    "HH": "hour",
    "mm": "minute",
    "ss": "second",
}
"""Supported tokens and the datetime field each one stands for."""

_FIELD_REGEX: dict[str, str] = {
    # Character classes rather than \d: \d also accepts non-ASCII digits.
    "year": "[0-9]{4}",
    "month": "0[1-9]|1[0-2]",
    "day": "0[1-9]|[12][0-9]|3[01]",
    "hour": "[01][0-9]|2[0-3]",
    "minute": "[0-5][0-9]",
    "second": "[0-5][0-9]",
}
"""What each field may look like in a key; day-of-month limits are checked later."""

_DATE_FIELDS = frozenset({"year", "month", "day"})
_TIME_FIELDS = frozenset({"hour", "minute", "second"})

# Joda treats every ASCII letter as a pattern letter; other characters are literal.
_PATTERN_LETTERS = frozenset(string.ascii_letters)

# Letters Joda itself understands. A letter run made only of these is a date
# pattern we do not support (e.g. "MMM"), so the error points at the bad token;
# a run with any other letter is a word that should have been quoted ("users").
_JODA_LETTERS = frozenset("GCYxwweEyDMdaKhHkmsSzZ")

_STAR_REGEX = "[^/]*"

_HINT_TOKENS = "use yyyy, YYYY, MM, dd, HH, mm or ss"


class _Part(NamedTuple):
    """One piece of a parsed pattern."""

    kind: Literal["literal", "token", "star"]
    text: str
    """The literal text, the token as written (``yyyy``), or ``*``."""


def _shown(text: str) -> str:
    """Return ``text`` safe to embed in a one-line error message."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _bad_letters(run: str) -> tuple[str, int] | None:
    """Find unsupported letters in a run of unquoted letters.

    Args:
        run: Consecutive unquoted ASCII letters from the pattern.

    Returns:
        The offending letters and their offset within ``run``, or ``None`` when
        the run is made only of supported tokens.
    """
    groups = ["".join(g) for _, g in itertools.groupby(run)]
    if all(g in _TOKEN_FIELDS for g in groups):
        return None
    if not set(run) <= _JODA_LETTERS:
        return run, 0
    offset = 0
    bad_start: int | None = None
    bad = ""
    for g in groups:
        if g not in _TOKEN_FIELDS:
            if bad_start is None:
                bad_start = offset
            bad += g
        elif bad_start is not None:
            break
        offset += len(g)
    return bad, bad_start or 0


def _tokenize(text: str) -> tuple[_Part, ...]:
    """Split a pattern into literal, token and wildcard parts.

    Args:
        text: The pattern as the user wrote it.

    Returns:
        The parts in order, with adjacent literals joined and repeated
        wildcards collapsed into one.

    Raises:
        PatternError: The pattern is empty, has an unterminated quote or
            contains unsupported unquoted letters.
    """
    if not isinstance(text, str):
        raise PatternError(
            f"file pattern must be text, not {type(text).__name__}: "
            "write it as a quoted string such as \"'exports/'yyyy-MM-dd'.avro'\""
        )
    if not text:
        raise PatternError("file pattern is empty: give one such as 'exports/users-'yyyy-MM-dd'.avro'")

    parts: list[_Part] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            parts.append(_Part("literal", "".join(literal)))
            literal.clear()

    def star() -> None:
        flush()
        # "**" would only add backtracking; it means the same as "*".
        if not parts or parts[-1].kind != "star":
            parts.append(_Part("star", "*"))

    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "'":
            if i + 1 < n and text[i + 1] == "'":
                literal.append("'")
                i += 2
                continue
            opened_at = i
            i += 1
            while True:
                if i >= n:
                    raise PatternError(
                        f"unterminated quote at position {opened_at + 1} in {_shown(text)}: close literal text with '"
                    )
                c = text[i]
                if c == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        literal.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                if c == "*":
                    star()
                else:
                    literal.append(c)
                i += 1
        elif c == "*":
            star()
            i += 1
        elif c in _PATTERN_LETTERS:
            j = i
            while j < n and text[j] in _PATTERN_LETTERS:
                j += 1
            run = text[i:j]
            found = _bad_letters(run)
            if found is not None:
                bad, offset = found
                raise PatternError(
                    f'unsupported pattern letters "{bad}" at position {i + offset + 1} '
                    f"in {_shown(text)}: {_HINT_TOKENS}, and quote literal text ('{bad}')"
                )
            for token in ("".join(g) for _, g in itertools.groupby(run)):
                flush()
                parts.append(_Part("token", token))
            i = j
        else:
            literal.append(c)
            i += 1
    flush()

    fields = {_TOKEN_FIELDS[p.text] for p in parts if p.kind == "token"}
    if fields & _DATE_FIELDS and "year" not in fields:
        # Without a year a key names no single date, so day and period
        # selection would be guesswork.
        raise PatternError(f"month or day without a year in {_shown(text)}: add yyyy, e.g. 'exports/'yyyy-MM-dd'.avro'")
    return tuple(parts)


def _compile(parts: tuple[_Part, ...]) -> re.Pattern[str]:
    """Build the regex for ``parts``; callers use ``fullmatch`` to anchor it.

    A token that repeats becomes a backreference, so every occurrence in a key
    must carry the same value.
    """
    pieces: list[str] = []
    seen: set[str] = set()
    for part in parts:
        if part.kind == "literal":
            pieces.append(re.escape(part.text))
        elif part.kind == "star":
            pieces.append(_STAR_REGEX)
        else:
            name = _TOKEN_FIELDS[part.text]
            if name in seen:
                pieces.append(f"(?P={name})")
            else:
                seen.add(name)
                pieces.append(f"(?P<{name}>{_FIELD_REGEX[name]})")
    return re.compile("".join(pieces))


def _naive_utc(moment: date | datetime) -> datetime:
    """Return ``moment`` as a naive datetime; aware values are taken in UTC."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time())
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(tzinfo=None)


@dataclass(frozen=True)
class FilePattern:
    """A parsed file pattern that renders and matches S3 keys.

    Build one with :func:`parse_pattern` (cached) or ``FilePattern(text)``;
    both raise :class:`~core.errors.PatternError` for a bad pattern. Two
    patterns are equal when their text is equal.

    Attributes:
        text: The pattern exactly as written.
    """

    text: str
    _parts: tuple[_Part, ...] = field(init=False, repr=False, compare=False)
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _has_date: bool = field(init=False, repr=False, compare=False)
    _has_time: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = _tokenize(self.text)
        fields = {_TOKEN_FIELDS[p.text] for p in parts if p.kind == "token"}
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_regex", _compile(parts))
        object.__setattr__(self, "_has_date", bool(fields & _DATE_FIELDS))
        object.__setattr__(self, "_has_time", bool(fields & _TIME_FIELDS))

    @property
    def has_date(self) -> bool:
        """Whether the pattern contains any of ``yyyy``, ``YYYY``, ``MM`` or ``dd``."""
        return self._has_date

    @property
    def has_time(self) -> bool:
        """Whether the pattern contains any of ``HH``, ``mm`` or ``ss``."""
        return self._has_time

    def literal_prefix(self) -> str:
        """Return the literal text before the first token or ``*``.

        Every matching key starts with it, so it serves as the S3 list prefix.

        Returns:
            The prefix; empty when the pattern starts with a token or ``*``.
        """
        first = self._parts[0]
        return first.text if first.kind == "literal" else ""

    def render(self, moment: date | datetime) -> str:
        """Fill the pattern's tokens from ``moment``.

        Args:
            moment: A date (time tokens become ``00``) or a datetime; an aware
                datetime is converted to UTC first, as S3 exports are stamped.

        Returns:
            The key the pattern names for ``moment``; any ``*`` stays ``*``.
        """
        when = _naive_utc(moment)
        out: list[str] = []
        for part in self._parts:
            if part.kind == "token":
                name = _TOKEN_FIELDS[part.text]
                width = 4 if name == "year" else 2
                out.append(f"{getattr(when, name):0{width}d}")
            else:
                out.append(part.text)
        return "".join(out)

    def _moment(self, match: re.Match[str]) -> datetime | None:
        """Return the moment a match encodes, or ``None`` if it is no real date."""
        groups = match.groupdict()
        try:
            return datetime(
                int(groups["year"]),
                int(groups.get("month") or 1),
                int(groups.get("day") or 1),
                int(groups.get("hour") or 0),
                int(groups.get("minute") or 0),
                int(groups.get("second") or 0),
            )
        except ValueError:
            return None

    def extract(self, key: str) -> datetime | None:
        """Return the moment encoded in ``key``.

        Missing month and day count as 1, missing time fields as 0.

        Args:
            key: A full S3 key.

        Returns:
            A naive datetime, or ``None`` when the key does not have the
            pattern's shape, encodes an impossible date (``2026-02-30``), or
            the pattern has no date tokens.
        """
        if not self._has_date:
            return None
        match = self._regex.fullmatch(key)
        return None if match is None else self._moment(match)

    def matches_all(self, key: str) -> bool:
        """Whether ``key`` has the pattern's shape with a valid date, for any date.

        Args:
            key: A full S3 key.

        Returns:
            ``True`` when the key matches; date tokens accept any valid value.
        """
        match = self._regex.fullmatch(key)
        if match is None:
            return False
        return not self._has_date or self._moment(match) is not None

    def matches_day(self, key: str, day: date) -> bool:
        """Whether ``key`` is this pattern's file for ``day``.

        Time tokens may hold any valid time. A pattern without date tokens
        names the same object every day, so it matches on shape alone.

        Args:
            key: A full S3 key.
            day: The day to select; a datetime counts as its date.

        Returns:
            ``True`` when the key matches and its date is ``day``.
        """
        match = self._regex.fullmatch(key)
        if match is None:
            return False
        if not self._has_date:
            return True
        moment = self._moment(match)
        if isinstance(day, datetime):
            day = day.date()
        return moment is not None and moment.date() == day

    def matches_period(self, key: str, start: date | datetime, end: date | datetime) -> bool:
        """Whether ``key``'s moment lies in ``[start, end)``.

        A daily file stamped D counts as the instant D 00:00. A pattern without
        date tokens matches on shape alone.

        Args:
            key: A full S3 key.
            start: First instant included; aware values are converted to UTC.
            end: First instant excluded; aware values are converted to UTC.

        Returns:
            ``True`` when the key matches and ``start <= moment < end``.
        """
        match = self._regex.fullmatch(key)
        if match is None:
            return False
        if not self._has_date:
            return True
        moment = self._moment(match)
        return moment is not None and _naive_utc(start) <= moment < _naive_utc(end)

    def describe(self) -> str:
        """Return the pattern's shape for previews, e.g. ``users-<yyyy>-<MM>.avro``."""
        return "".join(f"<{p.text}>" if p.kind == "token" else p.text for p in self._parts)


@functools.lru_cache(maxsize=256)
def parse_pattern(text: str) -> FilePattern:
    """Parse a file pattern, reusing the result for text seen before.

    Args:
        text: The pattern, e.g. ``'exports/users-'yyyy-MM-dd'.avro'``.

    Returns:
        The parsed pattern.

    Raises:
        PatternError: The pattern is empty, has an unterminated quote, has
            unquoted letters that are not a supported token, or has a month or
            day without a year. Positions in the message count from 1.
    """
    return FilePattern(text)


def day_range(start: date, end: date) -> list[date]:
    """Return every day from ``start`` up to but not including ``end``.

    Args:
        start: First day; a datetime counts as its date.
        end: Day after the last; a datetime counts as its date.

    Returns:
        The days in order; empty when ``end`` is not after ``start``.
    """
    first = start.date() if isinstance(start, datetime) else start
    stop = end.date() if isinstance(end, datetime) else end
    return [first + timedelta(days=n) for n in range((stop - first).days)]
