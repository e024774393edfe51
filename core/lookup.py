"""Finding the stored name a person meant: exact, then case-insensitive when unambiguous, else a suggestion.

Amperity's names (couriers, courier groups, domain tables such as ``Heap:Users``) are case-sensitive
and stay so in the database; only the lookup from a command line forgives the case.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from core.errors import NotFoundError

SUGGESTIONS = 3
"""Close names offered in "did you mean …"."""
SIMILAR = 0.75
"""difflib's similarity a name needs to be suggested: a swapped or missing letter ("Hepa", "Heap:User")
passes; a name that only shares the ``Heap:`` of every table ("Heap:Nope") does not."""


def match_name(
    typed: str, known: Iterable[str], kind: str, *, plural: str, named: bool = True, listed: Iterable[str] | None = None
) -> str:
    """The stored name ``typed`` means.

    Args:
        typed: What the user wrote, e.g. ``heap`` or ``heap:users``.
        known: Every stored name of that kind.
        kind: What is named, for the message: ``courier``, ``courier group``, ``domain table``.
        plural: How the list of stored names is headed: ``couriers``, ``groups``, ``tables``.
        named: Whether the message says ``named`` (``There is no courier named "x"``; a domain table is
            ``There is no domain table "x"``).
        listed: The names listed when nothing is close (default: ``known``; tables leave out their views).

    Returns:
        ``typed`` itself when it is stored; else the one stored name equal to it ignoring case.

    Raises:
        NotFoundError: no stored name matches, or several match ignoring case. The one line names
            the close candidates ("did you mean …") or, when nothing is close, every stored name.
    """
    names = list(known)
    if typed in names:
        return typed
    folded = typed.casefold()
    same = [name for name in names if name.casefold() == folded]
    if len(same) == 1:
        return same[0]
    missing = f'There is no {kind}{" named" if named else ""} "{typed}"'
    if same:
        raise NotFoundError(f"{missing}; ignoring case, {_either(sorted(same))} match: which one?")
    by_fold = {name.casefold(): name for name in names}
    close = [by_fold[name] for name in difflib.get_close_matches(folded, list(by_fold), n=SUGGESTIONS, cutoff=SIMILAR)]
    if close:
        raise NotFoundError(f"{missing}; did you mean {_either(close)}?")
    shown = sorted(names if listed is None else listed)
    raise NotFoundError(f"{missing} ({plural}: {', '.join(shown) or 'none yet'})")


def _either(candidates: list[str]) -> str:
    quoted = [f'"{name}"' for name in candidates]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
