"""An inline list of validation errors and warnings under a form field."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ProblemList(Static):
    """Shows a field's problems, errors first; hidden when there are none."""

    COMPONENT_CLASSES = {"problem-list--error", "problem-list--warning"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.display = False

    def show(self, errors: list[str], warnings: list[str]) -> None:
        """Replace the problems shown (nothing is redrawn when they are the same)."""
        if list(errors) == self.errors and list(warnings) == self.warnings:
            return
        self.errors = list(errors)
        self.warnings = list(warnings)
        self.display = bool(self.errors or self.warnings)
        self.set_class(bool(self.errors), "-has-errors")
        self.refresh(layout=True)

    def render(self) -> Text:
        error_style = self.get_component_rich_style("problem-list--error")
        warning_style = self.get_component_rich_style("problem-list--warning")
        lines = [Text.assemble(("✗ ", error_style), (problem, error_style)) for problem in self.errors]
        lines += [Text.assemble(("! ", warning_style), (problem, warning_style)) for problem in self.warnings]
        return Text("\n").join(lines)
