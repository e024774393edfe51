"""Quitting while a run is loading: stop it and quit, leave it running, or stay."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.widgets.footer import CourierFooter

STOP, LEAVE = "stop", "leave"
"""The answers besides staying (``None``)."""


class QuitDuringRunScreen(ModalScreen["str | None"]):
    """Asks what to do with the runs still loading; dismisses with ``STOP``, ``LEAVE`` or ``None`` (stay).

    Args:
        runs: One line per run still going, e.g. ``run 12 (Heap)``.
        follow: The command that follows the run from another shell.
        leave_note: What leaving it running does (this process keeps it, or hands it to a background one);
            ``{follow}`` in it stands for ``follow``.
    """

    BINDINGS = [
        Binding("s", "answer('stop')", "Stop and quit"),
        Binding("l", "answer('leave')", "Leave running"),
        Binding("n,escape,c", "answer(None)", "Cancel"),
    ]

    def __init__(self, runs: list[str], follow: str, leave_note: str) -> None:
        super().__init__()
        self.runs = runs
        self.follow = follow
        self.leave_note = leave_note

    def compose(self) -> ComposeResult:
        what = ", ".join(self.runs) if self.runs else "a run that is starting"
        with Vertical(id="quit-run-dialog", classes="dialog"):
            yield Static(f"Quit while {what} is loading?", classes="dialog-title", markup=False)
            yield Static(
                "Stop: the file being loaded rolls back, files already committed stay loaded, and "
                "Courier quits once the run has stopped.",
                classes="dialog-note",
                markup=False,
            )
            yield Static(self.leave_note.replace("{follow}", self.follow), classes="dialog-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stop and quit (s)", id="quit-stop", variant="error")
                yield Button("Leave running (l)", id="quit-leave")
                yield Button("Cancel (n)", id="quit-cancel")
        yield CourierFooter()

    def on_mount(self) -> None:
        self.query_one("#quit-cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"quit-stop": STOP, "quit-leave": LEAVE}.get(event.button.id or ""))

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
