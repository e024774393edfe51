"""Reusable widgets of the Courier app."""

from tui.widgets.problem_list import ProblemList

__all__ = ["ProblemList"]
