"""Step 5, add load operations: a courier's load operations against the feeds, and "Fill in feed IDs"."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from core import engine
from core.feeds import FeedIdFill, fill_feed_ids
from core.models import Courier, LoadOperation, Project
from tui.messages import ConfigSaved
from tui.screens.base import AppAccess, ExplainsDisabledKeys, ReportsWorkerFailures, SavesForm, apply_app_settings
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter

STATUS_STYLES = {"active": "green", "draft": "yellow", "unknown": "bold red"}


def describe_steps(steps: tuple[LoadOperation, ...]) -> str:
    """``truncate, load users`` for a feed's operations."""
    return ", ".join(f"{step.type} {step.file}" if step.file else step.type for step in steps) or "nothing"


def feed_status(project: Project, feed_id: str) -> str:
    """``active``, ``draft`` or ``unknown`` (no feed has this ID, e.g. ``df-xxxxxx``)."""
    feed = project.feeds.get(feed_id)
    return "unknown" if feed is None else feed.status


class LoadOperationsScreen(AppAccess, SavesForm, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[None]):
    """A courier's load operations, each feed ID checked; ``F`` puts the active feeds' IDs in.

    It has no fields to type in: its only problems are those of the ``F`` preview, which the user
    asked for, so they show at once; it shares the editors' way of saying what was saved.

    Args:
        courier: The courier whose load operations to show.
    """

    BINDINGS = [
        Binding("F", "fill", "Fill in feed IDs"),
        Binding("f2,ctrl+s,y", "save", "Save"),
        Binding("e", "edit_courier", "Edit courier"),
        Binding("r", "run", "Run"),
        Binding("escape,backspace", "back", "Back"),
    ]

    AUTO_FOCUS = "#load-ops-table"

    def __init__(self, courier: str) -> None:
        super().__init__()
        self.courier_name = courier
        self.fill: FeedIdFill | None = None
        self.saving = False
        self.project = Project()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="load-ops", classes="form", can_focus=False):
            yield Static("", id="load-ops-intro", classes="form-intro", markup=False)
            yield DataTable(id="load-ops-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="load-ops-empty", classes="empty", markup=False)
            yield Static("", id="load-ops-unused", classes="field-note", markup=False)
            yield ProblemList(id="load-ops-problems")
            yield Static("", id="load-ops-changes", classes="section-title", markup=False)
            yield Static("", id="load-ops-preview", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = f"Load operations of {self.courier_name}"
        self.query_one("#load-ops-table", DataTable).add_columns("Feed ID", "Status", "Domain table", "Operations")
        apply_app_settings(self)
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def courier(self, project: Project) -> Courier | None:
        """The courier, or ``None`` when it was deleted meanwhile."""
        return project.couriers.get(self.courier_name)

    def action_reload(self) -> None:
        """Read the courier and the feeds again; any pending preview is dropped."""
        project = engine.load_project(self.courier_app.db_path)
        self.project = project
        courier = self.courier(project)
        operations = courier.load_operations if courier else {}
        table = self.query_one("#load-ops-table", DataTable)
        table.clear()
        for feed_id, steps in operations.items():
            status = feed_status(project, feed_id)
            feed = project.feeds.get(feed_id)
            label = f"{status} ✗" if status == "unknown" else status
            table.add_row(
                feed_id,
                Text(label, style=STATUS_STYLES[status]),
                feed.table_name if feed else "—",
                describe_steps(steps),
                key=feed_id,
            )
        table.display = bool(operations)
        empty = self.query_one("#load-ops-empty", Static)
        empty.display = not operations
        empty.update("" if courier else f'There is no courier named "{self.courier_name}".')
        if courier and not operations:
            empty.update(
                "The load operations are {}: runs land files and load nothing. Add a feed, activate it, "
                "then edit the courier (e) to load it."
            )
        unknown = [feed_id for feed_id in operations if feed_id not in project.feeds]
        drafts = [feed_id for feed_id in operations if feed_status(project, feed_id) == "draft"]
        if unknown:
            intro = (
                f"Step 5 of 7: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a feed, so runs "
                "fail after landing. Press F to fill in the IDs of the active feeds made from these files."
            )
        elif drafts:
            intro = f"Step 5 of 7: activate the draft feeds ({', '.join(drafts)}) in the feed editor before running."
        elif operations:
            intro = f"Every feed ID is an active feed: run {self.courier_name} to load data (r)."
        else:
            intro = "Step 5 of 7: the load operations say which feed loads which file."
        self.query_one("#load-ops-intro", Static).update(intro)
        unused = [feed for feed in project.feeds.values() if feed.status == "active" and feed.id not in operations]
        samples = engine.feed_samples(self.courier_app.db_path)
        self.query_one("#load-ops-unused", Static).update(
            "Active feeds not loaded here: "
            + ", ".join(
                f"{feed.id} {feed.table_name}" + (f" (sample: {samples[feed.id][1]})" if feed.id in samples else "")
                for feed in unused
            )
            if unused
            else ""
        )
        self.query_one("#load-ops-unused", Static).display = bool(unused)
        self._show_fill(None)

    def _show_fill(self, fill: FeedIdFill | None) -> None:
        self.fill = fill
        changes = self.query_one("#load-ops-changes", Static)
        preview = self.query_one("#load-ops-preview", Static)
        problems = self.query_one("#load-ops-problems", ProblemList)
        if fill is None:
            changes.display = preview.display = False
            problems.show([], [])
            self.refresh_bindings()
            return
        problems.show(fill.problems, [])
        if fill.changed:
            lines = [f"{old} → {new} ({self.project.feeds[new].table_name})" for old, new in fill.replaced]
            lines += [f"{new} ({self.project.feeds[new].table_name}) loads {tag}" for new, tag in fill.added]
            changes.update("Fill in feed IDs: " + "; ".join(lines) + ". Save with F2 (or y), Esc to leave it.")
            preview.update(json.dumps(fill.operations, indent=2, ensure_ascii=False))
        else:
            changes.update("Nothing to fill in." if not fill.problems else "No feed ID could be filled in.")
            preview.update("")
        changes.display = True
        preview.display = fill.changed
        self.refresh_bindings()
        (preview if fill.changed else changes).scroll_visible()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return True if self.fill is not None and self.fill.changed and not self.saving else None
        if action in ("fill", "edit_courier", "run"):
            return True if self.courier(self.project) is not None else None
        return True

    def why_disabled(self, action: str) -> str | None:
        if self.courier(self.project) is None:
            return f'There is no courier "{self.courier_name}" any more (deleted or renamed).'
        if action == "save":
            if self.saving:
                return "Saving…"
            return "Nothing to save yet: press F to fill in the feed IDs first."
        return None

    def action_fill(self) -> None:
        """Preview the load operations with the unknown feed IDs replaced."""
        project = engine.load_project(self.courier_app.db_path)
        self.project = project
        if self.courier(project) is None:
            return
        fill = fill_feed_ids(project, self.courier_name, engine.feed_samples(self.courier_app.db_path))
        self._show_fill(fill)

    def action_save(self) -> None:
        if self.fill is None or not self.fill.changed or self.saving:
            return
        self.saving = True
        self.refresh_bindings()
        self._save(self.fill.operations)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Save load operations")
    def _save(self, operations: dict[str, Any]) -> None:
        try:
            result, body = engine.save_load_operations(self.courier_app.db_path, self.courier_name, operations)
        finally:
            self.saving = False
        self.post_message(ConfigSaved("courier", self.courier_name, result.changes, result.warnings, body))

    def on_config_saved(self, message: ConfigSaved) -> None:
        if message.kind != "courier" or message.name != self.courier_name:
            return
        self.announce_saved(f"the load operations of {self.courier_name}", message.warnings)
        self.action_reload()

    def action_edit_courier(self) -> None:
        self.courier_app.action_edit_courier(self.courier_name)

    def action_run(self) -> None:
        self.courier_app.action_run_courier(self.courier_name)

    def action_back(self) -> None:
        if self.fill is not None and self.fill.changed:
            self._show_fill(None)
            return
        self.dismiss(None)
