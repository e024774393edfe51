"""Errors the engine raises for the user to read.

Every error carries one line that says what is wrong and, where it can, how to
fix it. The CLI prints that line and exits 2 (bad input) or 1 (a failed run);
the TUI shows it inline or as a notification.
"""

from __future__ import annotations


class CourierError(Exception):
    """A problem the user can act on; ``str(error)`` is one clear line."""

    exit_code = 2


class ConfigError(CourierError):
    """A configuration document or value is invalid; nothing was changed."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems or [message]
        """Every problem found, each prefixed with its path in the document."""


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
