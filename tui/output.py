"""Printing rows of values on the command line, unambiguously (a minimal printer; the fidelity issue owns it).

:func:`render` writes ``table`` (aligned, ``NULL`` for a missing value, ``''`` for an empty
string, control characters escaped), ``csv`` (RFC 4180, a missing value as an empty
unquoted field, an empty string as ``""``), ``json`` (one array of objects) or ``jsonl``
(one object a line); JSON keeps ``null`` and exact numbers, binary as ``{"hex": …}``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

FORMATS = ("table", "csv", "json", "jsonl")
MAX_WIDTH = 40


def table_cell(value: Any, max_width: int = MAX_WIDTH) -> str:
    """One value for the ``table`` format: NULL, ``''``, escapes, binary as ``x'..'``, long text cut."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        text = f"x'{value.hex()}'"
    elif isinstance(value, str):
        text = value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value
        if text in ("", "NULL", "''") or text != text.strip():
            text = "'" + text.replace("'", "''") + "'"
    else:
        text = repr(value) if isinstance(value, float) else str(value)
    return text if not max_width or len(text) <= max_width else text[:max_width - 1] + "…"


def _json_value(value: Any) -> Any:
    return {"hex": value.hex()} if isinstance(value, bytes) else value


def render(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, stream: TextIO,
           max_width: int = MAX_WIDTH) -> None:
    """Write ``rows`` to ``stream`` in ``fmt`` (one of :data:`FORMATS`); raises ``ValueError`` for another."""
    if fmt == "table":
        cells = [[table_cell(value, max_width) for value in row] for row in rows]
        widths = [max([len(name)] + [len(row[n]) for row in cells]) for n, name in enumerate(columns)]
        stream.write("  ".join(name.ljust(w) for name, w in zip(columns, widths)).rstrip() + "\n")
        stream.write("  ".join("-" * w for w in widths) + "\n")
        for row in cells:
            stream.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        stream.write(buffer.getvalue())
        for row in rows:
            fields = ['""' if value == "" else "" if value is None else _csv_field(value) for value in row]
            stream.write(",".join(fields) + "\r\n")
    elif fmt in ("json", "jsonl"):
        objects = (json.dumps({name: _json_value(value) for name, value in zip(columns, row)}, ensure_ascii=False)
                   for row in rows)
        if fmt == "jsonl":
            for text in objects:
                stream.write(text + "\n")
        else:
            stream.write("[" + ",\n".join(objects) + "]\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _csv_field(value: Any) -> str:
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    text = repr(value) if isinstance(value, float) else str(value)
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow([text])
    return buffer.getvalue()
