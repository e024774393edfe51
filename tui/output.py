"""Printing rows of values on the command line, unambiguously.

One entry point, :func:`render`, in four formats:

- ``table`` (default, for people): aligned columns; ``NULL`` for a missing value and
  ``''`` for an empty string; control characters escaped visibly (``\\t``, ``\\n``,
  ``\\x1b``…); text that could be mistaken for a marker (``NULL``, ``''``) or that has
  leading/trailing spaces is shown quoted; binary as ``x'00ff'`` (SQLite's blob
  literal); values wider than ``max_width`` cut with ``…``.
- ``csv``: RFC 4180 with a header row; text exactly as stored (quoted when needed, an
  empty string always as ``""``), a missing value as an empty unquoted field, numbers as
  their shortest exact form, binary as ``\\x`` and hex. Python's ``csv`` module reads
  every text value back exactly (it reads ``NULL`` and ``''`` alike, so use JSON when
  that matters).
- ``json``: one array of objects (column → value); ``jsonl``: one object per line.
  ``null`` for NULL, numbers exact (floats by their shortest round-trip digits,
  ``Infinity`` for infinity as Python's ``json`` writes and reads it), binary as
  ``{"hex": "00ff"}``. ``json.loads`` gives back exactly the stored values.

The module only formats: callers get columns and rows from the engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

FORMATS = ("table", "csv", "json", "jsonl")
MAX_WIDTH = 40
"""Widest cell in ``table`` format, in characters, before it is cut with ``…``."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def _surrogates(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def table_cell(value: Any, max_width: int = MAX_WIDTH) -> str:
    """How ``table`` format shows one value (see the module docstring)."""
    if value is None:
        text = "NULL"
    elif isinstance(value, str):
        escaped = _escape(_surrogates(value))
        if value in ("", "NULL", "''") or value != value.strip() or value.startswith("'"):
            escaped = "'" + escaped.replace("'", "''") + "'"
        text = escaped
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = f"x'{bytes(value).hex()}'"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    if max_width and len(text) > max_width:
        text = text[: max(max_width - 1, 1)] + "…"
    return text


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = _surrogates(value)
        if text == "" or any(c in text for c in ',"\r\n') or text != text.strip():
            return '"' + text.replace('"', '""') + '"'
        return text
    else:
        text = str(value)
    return text


def _json_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, str):
        return _surrogates(value)
    return value


def render(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, stream: TextIO, max_width: int = MAX_WIDTH
) -> None:
    """Write ``rows`` (one value per column) to ``stream`` in format ``fmt``.

    Args:
        columns: Column names, in row order.
        rows: The rows; consumed once (``table`` holds them to size the columns).
        fmt: One of :data:`FORMATS`.
        stream: Where to write (text).
        max_width: Widest ``table`` cell before it is cut; 0 for no limit.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt == "table":
        header = [table_cell(name, max_width) if name in ("", "NULL") else _escape(name) for name in columns]
        cells = [[table_cell(value, max_width) for value in row] for row in rows]
        widths = [max([len(header[n])] + [len(row[n]) for row in cells]) for n in range(len(columns))]
        stream.write("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip() + "\n")
        stream.write("  ".join("-" * w for w in widths) + "\n")
        for line in cells:
            stream.write("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() + "\n")
    elif fmt == "csv":
        stream.write(",".join(_csv_field(name) for name in columns) + "\r\n")
        for row in rows:
            stream.write(",".join(_csv_field(value) for value in row) + "\r\n")
    elif fmt in ("json", "jsonl"):
        names = list(columns)
        first = True
        if fmt == "json":
            stream.write("[")
        for row in rows:
            text = json.dumps({name: _json_value(value) for name, value in zip(names, row)}, ensure_ascii=False)
            if fmt == "jsonl":
                stream.write(text + "\n")
            else:
                stream.write(("\n" if first else ",\n") + text)
            first = False
        if fmt == "json":
            stream.write("\n]\n" if not first else "]\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def size_text(size: int) -> str:
    """A byte count for people: ``1.2 KB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
