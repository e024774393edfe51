"""A validation problem as a value: where in the project document it is, and what is wrong.

Core produces problems with their path as a tuple (``("couriers", "Heap", "entities", 0,
"object/land-as", "file/tag")``); the CLI prints them as text (``str(problem)``) and the
TUI routes them to form fields by their path, never by reading the text, so messages may
be reworded freely. This module sits at the bottom of the import graph (no imports of
Courier's own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

UNKNOWN_FILE_TAG = "unknown-file-tag"
"""A ``load`` operation names a ``file/tag`` the entities list does not have."""

PathPart = str | int
"""A key of a JSON object (``str``) or an index into a JSON array (``int``)."""


@dataclass(frozen=True)
class Problem:
    """One problem in a project document.

    ``path`` is the keys and indexes from the document's root to the value the problem is
    about; ``()`` means the document itself. ``str(problem)`` is the line the CLI prints,
    ``path: message``, e.g. ``couriers.Heap.load-operations.df-users01[1].file: "user"
    matches no file/tag (known: users)``.
    """

    path: tuple[PathPart, ...]
    message: str
    code: str = ""
    """What kind of problem it is, for the few a front end treats differently (``UNKNOWN_FILE_TAG``); ``""``
    for the rest. Never part of the text."""

    def __str__(self) -> str:
        return f"{render_path(self.path) or 'document'}: {self.message}"

    def within(self, prefix: tuple[PathPart, ...]) -> tuple[PathPart, ...] | None:
        """The rest of the path below ``prefix``, or ``None`` when the problem is not under it."""
        if self.path[: len(prefix)] != prefix:
            return None
        return self.path[len(prefix) :]


def render_path(path: tuple[PathPart, ...]) -> str:
    """A path as the documents and messages spell it: keys joined by ``.``, indexes as ``[n]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def lines(problems: Iterable[Problem]) -> list[str]:
    """Problems as the CLI prints them, one ``path: message`` line each."""
    return [str(problem) for problem in problems]
