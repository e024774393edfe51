"""Heap and Avro timestamps as ISO 8601 UTC text (``2026-11-25T08:30:00.123456Z``).

The bottom of the value path: :mod:`core.values` and :mod:`core.avro` both use
these conversions, so they live apart from either (no import cycle).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from functools import lru_cache

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NS_THRESHOLD = 10**17
_US_THRESHOLD = 10**14
_MS_THRESHOLD = 10**11
_FAST_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z?")
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LONG_FRACTION = re.compile(r"(\.[0-9]{6})([0-9]+)")
_ZEROS = ("", "00000Z", "0000Z", "000Z", "00Z", "0Z", "Z")
"""The zeros (and ``Z``) that pad an n-digit fraction to six digits."""


@lru_cache(maxsize=8192)
def day_prefix(days: int) -> str:
    """Return ``YYYY-MM-DDT`` for a day number counted from 1970-01-01."""
    try:
        day = date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError) as exc:
        raise ValueError("timestamp is outside the years 1-9999") from exc
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T"


@lru_cache(maxsize=8192)
def _date_text_prefix(text: str) -> str:
    """Validate a ``YYYY-MM-DD`` string and return it with the ``T`` separator."""
    date.fromisoformat(text)
    return text + "T"


@lru_cache(maxsize=16384)
def _minute_prefix(minutes: int) -> str:
    """Return ``YYYY-MM-DDTHH:MM:`` for a minute number counted from the epoch."""
    days, minute_of_day = divmod(minutes, 1440)
    hours, minute = divmod(minute_of_day, 60)
    return "%s%02d:%02d:" % (day_prefix(days), hours, minute)


def from_micros(micros: int) -> str:
    # A week of events spans ~10k distinct minutes, so caching the minute prefix
    # leaves only the seconds and fraction to format per value.
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    return "%s%02d.%06dZ" % (_minute_prefix(minutes), second, fraction)


def _from_int(value: int) -> str:
    magnitude = value if value >= 0 else -value
    if magnitude >= _US_THRESHOLD:
        if magnitude >= _NS_THRESHOLD:
            micros, nanos = divmod(value, 1000)
            if nanos:
                raise ValueError(f"{value} ns has nanoseconds, and a Datetime holds microseconds")
            return from_micros(micros)
        return from_micros(value)
    if magnitude >= _MS_THRESHOLD:
        return from_micros(value * 1000)
    return from_micros(value * 1_000_000)


def _from_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a timestamp")
    magnitude = abs(value)
    if magnitude >= _NS_THRESHOLD:
        micros = value / 1000
    elif magnitude >= _US_THRESHOLD:
        micros = value
    elif magnitude >= _MS_THRESHOLD:
        micros = value * 1000
    else:
        micros = value * 1_000_000
    return from_micros(round(micros))


def from_datetime(value: datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        try:
            value = value.astimezone(timezone.utc)
        except OverflowError as exc:
            raise ValueError("timestamp is outside the years 1-9999 in UTC") from exc
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _from_text(text: str) -> str:
    if _FAST_ISO.fullmatch(text):
        # The common Heap form: validate the calendar date once per distinct day
        # and splice the rest, padding the fraction so text order is time order.
        if len(text) > 20 and text[19] == ".":
            fraction = text[20:-1] if text[-1] == "Z" else text[20:]
            return _date_text_prefix(text[:10]) + text[11:20] + fraction + _ZEROS[len(fraction)]
        return _date_text_prefix(text[:10]) + text[11:19] + ".000000Z"
    stripped = text.strip()
    if _INTEGER_TEXT.fullmatch(stripped):
        return _from_int(int(stripped))
    if _FLOAT_TEXT.fullmatch(stripped):
        return _from_float(float(stripped))
    if _DATE_ONLY.fullmatch(stripped):
        return _date_text_prefix(stripped) + "00:00:00.000000Z"
    if not stripped or not stripped[:1].isdigit():
        raise ValueError(f"{text!r} is not a timestamp")
    # fromisoformat keeps at most microseconds; digits beyond them must be zeros, or the
    # instant cannot be stored exactly (a Datetime holds microseconds) and the row is rejected.
    longer = _LONG_FRACTION.search(stripped)
    if longer and longer.group(2).strip("0"):
        raise ValueError(f"{text!r} has a fraction finer than microseconds, which a Datetime cannot hold")
    candidate = _LONG_FRACTION.sub(r"\1", stripped)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a timestamp") from exc
    return from_datetime(parsed)


def to_iso_utc(value: object) -> str | None:
    """Normalise a Heap timestamp to ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.

    Accepts ``None``; datetimes (naive ones are taken as UTC); dates (midnight);
    epoch numbers whose unit follows from their magnitude (≥1e17 ns, ≥1e14 µs,
    ≥1e11 ms, otherwise seconds), also as numeric strings; and ISO-ish strings
    ``YYYY-MM-DD HH:MM:SS[.ffffff]``, ``YYYY-MM-DDTHH:MM:SS[.f…][Z|±HH:MM]`` or
    ``YYYY-MM-DD`` (no zone means UTC). The output always has six fraction
    digits, so comparing the strings compares the instants.

    Args:
        value: The raw value from an Avro record.

    Returns:
        The normalised string, or ``None`` for ``None``.

    Raises:
        ValueError: The value is not a timestamp in any accepted form.
    """
    kind = type(value)
    if kind is int:
        return _from_int(value)  # type: ignore[arg-type]
    if kind is str:
        return _from_text(value)  # type: ignore[arg-type]
    if value is None:
        return None
    if kind is float:
        return _from_float(value)  # type: ignore[arg-type]
    if isinstance(value, datetime):
        return from_datetime(value)
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T00:00:00.000000Z"
    if isinstance(value, int) and not isinstance(value, bool):
        return _from_int(int(value))
    raise ValueError(f"{value!r} is not a timestamp")


# --- converters ------------------------------------------------------------------
