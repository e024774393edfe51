"""Courier's terminal front ends: the Textual app and the command line."""

from __future__ import annotations
