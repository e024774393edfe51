"""Courier's engine: configuration, S3, Avro, SQLite, runs and schedules.

Nothing in this package imports Textual or Rich; the TUI and the CLI are thin
layers over it.
"""

from __future__ import annotations

__version__ = "0.1.0"
