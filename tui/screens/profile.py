"""A column's profile: counts, NULLs, distinct, min/max, mean, top values with bars, rows per day.

Computed in a thread worker by one ``core.engine.profile_column`` call, with a
progress bar and Esc to stop. On a table of more than a million rows the
screen shows an estimate from a sample at once, then runs the exact pass
by itself and replaces the estimate with it (Esc stops it and keeps the estimate,
``x`` runs it again); the title line always says which one is shown. Plots are drawn with block
characters so they read the same in every terminal at 80×24.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from tui.screens.base import ReportsWorkerFailures
from tui.screens.frequencies import value_label
from tui.widgets.footer import CourierFooter

if TYPE_CHECKING:
    from core.browse import View

BAR_WIDTH = 24
BLOCKS = " ▁▂▃▄▅▆▇█"
CHART_HEIGHT = 5
DAY_LINES = 14
"""Up to this many days get a bar each; more become a column chart."""


def day_chart(days: list[tuple[str, int]], width: int, height: int = CHART_HEIGHT) -> list[str]:
    """Rows per day as a column chart ``height`` lines high and at most ``width`` columns wide.

    One column per day; with more days than columns, neighbouring days share a column
    (the label line says how many). The last line labels the first and last day.
    """
    if not days or width < 12:
        return []
    per_column = -(-len(days) // width)
    buckets = [sum(count for _, count in days[start : start + per_column]) for start in range(0, len(days), per_column)]
    top = max(buckets) or 1
    levels = [round(count / top * height * 8) for count in buckets]
    lines = []
    for line in range(height, 0, -1):
        floor = (line - 1) * 8
        lines.append("".join(BLOCKS[max(0, min(8, level - floor))] for level in levels).rstrip())
    first, last = days[0][0], days[-1][0]
    span = f"{per_column} days a column" if per_column > 1 else "a day a column"
    label = f"{first}  ({span}, highest {top:,})"
    lines.append(label if len(buckets) < len(label) + len(last) + 2 else label.ljust(len(buckets) - len(last)) + last)
    return lines


def day_bars(days: list[tuple[str, int]], bar_width: int = BAR_WIDTH) -> list[str]:
    """Rows per day as one bar a line (``2026-11-25  1,234  ████``), for a few days."""
    top = max((count for _, count in days), default=1) or 1
    digits = max((len(f"{count:,}") for _, count in days), default=1)
    return [f"{day}  {count:>{digits},}  {'█' * max(1, round(bar_width * count / top))}" for day, count in days]


def days_plot(days: list[tuple[str, int]], width: int) -> list[str]:
    """Bars a line for up to ``DAY_LINES`` days, a column chart for more."""
    return day_bars(days) if len(days) <= DAY_LINES else day_chart(days, width)


def summary_table(profile: Any) -> Table:
    """Rows, NULLs, distinct, min, max and mean as a two-column grid."""

    def shown(value: Any) -> Text:
        return value_label(value, 50)

    share = f" ({100.0 * profile.nulls / profile.rows:.1f}%)" if profile.rows else ""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("rows", f"{profile.rows:,}")
    grid.add_row("NULL", f"{profile.nulls:,}{share}")
    grid.add_row("distinct", f"{profile.distinct:,}" + ("" if profile.exact else " in the sample"))
    sampled = "" if profile.exact else " (in the sample)"
    grid.add_row("min", shown(profile.minimum).append(sampled, style="dim"))
    grid.add_row("max", shown(profile.maximum).append(sampled, style="dim"))
    if profile.mean is not None:
        grid.add_row("mean", f"{profile.mean:,.6g}")
    return grid


def top_table(profile: Any, bar_width: int = BAR_WIDTH) -> Table:
    """The top values with count, share and a bar each."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=28, overflow="ellipsis", no_wrap=True)
    grid.add_column(justify="right")
    grid.add_column(justify="right")
    grid.add_column()
    top = max((count for _, count in profile.top), default=1) or 1
    for value, count in profile.top:
        share = f"{100.0 * count / profile.rows:.1f}%" if profile.rows else ""
        bar = "█" * max(1, round(bar_width * count / top))
        grid.add_row(value_label(value, 28), f"{count:,}", share, Text(bar, style="cyan"))
    return grid


class ProfileScreen(ReportsWorkerFailures, ModalScreen[None]):
    """The profile of one column of the current view; ``x`` runs it exactly, Esc stops or closes.

    Args:
        db_path: The Courier database.
        view: Table and filter.
        column: The column to profile.
        rows: Rows in the view when known; above ``core.profile.ESTIMATE_ABOVE`` (or, unknown, a table whose rowids
            span more) an estimate comes first.
    """

    BINDINGS = [
        Binding("x", "exact", "Exact profile"),
        Binding("escape,q,P", "close", "Stop / close"),
    ]

    @dataclass
    class Profiled(Message):
        """The worker's answer: a profile, or one line of error, or stopped."""

        profile: Any
        error: str | None = None

    @dataclass
    class Progressed(Message):
        done: int
        total: int

    def __init__(self, db_path: Path, view: View, column: str, rows: int | None = None) -> None:
        super().__init__()
        self.db_path = db_path
        self.view = view
        self.column = column
        self.rows = rows
        self.profile: Any = None
        self.running = False
        self.refine = False
        """True while an estimate is shown and the exact pass that replaces it has not started yet."""
        self.shown: list[str] = []
        """The basis of every profile shown, in order (an estimate, then the exact one)."""
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        scope = f" WHERE {self.view.where}" if self.view.where else ""
        with Vertical(id="profile-dialog", classes="dialog"):
            yield Static(f"Profile of {self.column} in {self.view.table}{scope}", classes="dialog-title", markup=False)
            yield Static("", id="profile-basis", markup=False)
            yield ProgressBar(id="profile-progress", show_eta=False)
            with VerticalScroll(id="profile-scroll"):
                yield Static("", id="profile-summary")
                yield Static("", id="profile-top")
                yield Static("", id="profile-days", markup=False)
            yield Static("", id="profile-note", classes="dialog-note", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.query_one("#profile-scroll").focus()
        # The engine decides: a large view gets an estimate at once (the profile says so), which the
        # exact pass then replaces by itself; a small one is profiled exactly at once.
        self.refine = True
        self._start(exact=None)

    def _start(self, exact: bool | None) -> None:
        self._stop.clear()
        self.running = True
        progress = self.query_one("#profile-progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        if exact and self.profile is not None and not self.profile.exact:
            text = "Estimate shown; reading every row for the exact profile… Esc stops (the estimate stays)"
        else:
            text = ("Reading every row" if exact else "Profiling") + "… Esc stops"
        self.query_one("#profile-note", Static).update(text)
        self.refresh_bindings()
        self._compute(exact)

    @work(thread=True, exit_on_error=False, group="profile", description="Profile column")
    def _compute(self, exact: bool | None) -> None:
        from core.engine import profile_column
        from core.errors import CourierError
        from core.profile import ProfileStopped

        def progress(done: int, total: int) -> None:
            self.post_message(self.Progressed(done, total))

        try:
            profile = profile_column(
                self.db_path,
                self.view,
                self.column,
                exact=exact,
                progress=progress,
                should_stop=self._stop.is_set,
                rows=self.rows,  # the table view counted the view already: the estimate needs no count
            )
        except ProfileStopped:
            self.post_message(self.Profiled(None, "stopped"))
            return
        except CourierError as error:
            self.post_message(self.Profiled(None, str(error)))
            return
        self.post_message(self.Profiled(profile))

    def on_profile_screen_progressed(self, message: Progressed) -> None:
        if self.running:
            self.query_one("#profile-progress", ProgressBar).update(total=max(1, message.total), progress=message.done)

    def on_profile_screen_profiled(self, message: Profiled) -> None:
        self.running = False
        self.query_one("#profile-progress", ProgressBar).display = False
        note = self.query_one("#profile-note", Static)
        self.refresh_bindings()
        if message.error == "stopped":
            if self.profile is not None and not self.profile.exact:
                # The exact pass that was to follow was stopped: the basis line must not promise it.
                self.query_one("#profile-basis", Static).update(
                    f"{self.profile.kind} · {self.profile.basis()} · x for the exact profile"
                )
            note.update(
                "Stopped; "
                + ("the estimate above is still shown" if self.profile else "nothing counted")
                + " · x runs the exact profile · Esc closes"
            )
            return
        if message.error is not None:
            note.update(message.error)
            note.add_class("-error")
            return
        self.profile = profile = message.profile
        self.query_one("#profile-basis", Static).update(
            f"{profile.kind} · {profile.basis()}"
            + ("" if profile.exact else " · the exact profile follows" if self.refine else " · x for the exact profile")
        )
        self.query_one("#profile-summary", Static).update(summary_table(profile))
        top = self.query_one("#profile-top", Static)
        if not profile.top:
            top.update(Text("\nno rows" if not profile.rows else "\nno values (only NULLs)", style="dim"))
        elif profile.top[0][1] <= 1 and profile.exact:
            top.update(Text("\nevery value occurs once (no top values)", style="dim"))
        else:
            top.update(_titled("Top values", top_table(profile)))
        width = max(20, self.query_one("#profile-scroll").size.width - 2)
        chart = days_plot(profile.days, width)
        self.query_one("#profile-days", Static).update("\n".join(["", "Rows per day", *chart]) if chart else "")
        # For a Datetime column the days say more than its top values: show them first.
        self.query_one("#profile-days").display = bool(chart)
        if chart:
            self.query_one("#profile-scroll").move_child(
                self.query_one("#profile-days"), before=self.query_one("#profile-top")
            )
        note.update("Esc closes" + ("" if profile.exact else " · x reads every row for the exact profile"))
        self.shown.append(profile.basis())
        if self.refine and not profile.exact:
            self.refine = False
            self._start(exact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "exact":
            return not self.running and (self.profile is None or not self.profile.exact)
        return True

    def action_exact(self) -> None:
        """Run the exact profile (every row)."""
        if not self.running:
            self._start(exact=True)

    def action_close(self) -> None:
        """Stop a running profile; close when nothing runs."""
        if self.running:
            self._stop.set()
            return
        self.dismiss(None)


def _titled(title: str, body: Table) -> Table:
    grid = Table.grid()
    grid.add_column()
    grid.add_row(Text(""))
    grid.add_row(Text(title, style="bold"))
    grid.add_row(body)
    return grid
