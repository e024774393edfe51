"""Errors the engine raises for the user to read.

Every error carries one line that says what is wrong and, where it can, how to
fix it. The CLI prints that line and exits 2 (bad input) or 1 (a failed run);
the TUI shows it inline or as a notification.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.problems import Problem


class CourierError(Exception):
    """A problem the user can act on; ``str(error)`` is one clear line."""

    exit_code = 2


class ConfigError(CourierError):
    """A configuration document or value is invalid; nothing was changed."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])
        """Every problem found in a project document, each with its path (empty when the error is not about
        one document's values, e.g. a refused delete: then ``str(error)`` is the whole story)."""


class PatternError(CourierError):
    """A file pattern cannot be parsed."""


class NotFoundError(CourierError):
    """A named courier, feed, group, run or table does not exist."""


class SourceError(CourierError):
    """S3 could not be reached or refused access (bucket, credentials, endpoint)."""


class AvroError(CourierError):
    """A landed file is not readable Avro."""


class RunFailedError(CourierError):
    """A run ended Failed; the message is the run's failure text."""

    exit_code = 1


class DatabaseBusyError(CourierError):
    """Another process holds the database's write lock for longer than Courier waits."""


class DiskFullError(CourierError):
    """The disk holding the database or the landing cache is full; nothing half-written was kept."""

    exit_code = 1


def is_disk_full(error: BaseException) -> bool:
    """True for an OS or SQLite error that means "no space left" (ENOSPC, EDQUOT, EFBIG, SQLITE_FULL)."""
    import errno
    import sqlite3

    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code == 13 or "database or disk is full" in str(error)  # 13 is SQLITE_FULL
    if type(error).__module__.startswith("adbc_driver"):
        # ADBC's SQLite driver (the load's staging) raises its own errors, SQLite's code as vendor_code.
        return getattr(error, "vendor_code", None) == 13 or "database or disk is full" in str(error)
    return False


def disk_full_message(path: object, doing: str) -> str:
    """The one line for a full disk: ``the disk holding PATH is full (while DOING); free space and rerun``."""
    return f"the disk holding {path} is full (while {doing}); free space and rerun"


DatabaseError = sqlite3.Error
"""Any error SQLite raises, for the CLI's last line of defence (the front ends never import sqlite3)."""
