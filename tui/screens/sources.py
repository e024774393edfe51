"""The home screen, like Amperity's Sources tab: couriers, feeds and courier groups."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import RowDoesNotExist

from tui.messages import ObjectDeleted
from tui.overview import Overview, load_overview
from tui.screens.base import AppAccess, ExplainsDisabledKeys, ReportsWorkerFailures, apply_app_settings
from tui.screens.confirm import ConfirmScreen
from tui.widgets.footer import CourierFooter

TABLE_KINDS = {"couriers-table": "courier", "feeds-table": "feed", "groups-table": "courier group"}
"""Which kind of object each table lists, by widget id."""

EMPTY_TEXT = {
    "courier": "No couriers yet. Press a to add one.",
    "feed": "No feeds yet. Feeds are made from the sample files a courier lands.",
    "courier group": "No courier groups yet. A group runs couriers on a cron schedule.",
}


class SourcesScreen(AppAccess, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[None]):
    """Couriers, feeds and courier groups, with the next step of the seven."""

    BINDINGS = [
        # The footer shows ? and q, then the seven steps' keys in their order; the rest are in ? help.
        Binding("q", "app.quit", "Quit"),
        Binding("a", "add_courier", "Add courier"),
        Binding("s", "samples", "Samples"),
        Binding("f", "add_feed", "Add feed"),
        Binding("l", "load_operations", "Load ops"),
        Binding("r", "run", "Run"),
        Binding("g", "add_group", "Add group"),
        Binding("e,enter", "edit", "Edit"),
        Binding("t", "app.domain_tables", "Tables"),
        Binding("h", "app.run_history", "History"),
        Binding("d,delete", "delete", "Delete", show=False),
        Binding("R,f5", "reload", "Refresh", show=False),
        Binding("i", "app.get_details", "Get details (step 1)", show=False),
    ]

    AUTO_FOCUS = "DataTable"

    HINT_KEYS = {
        "add_courier": "a",
        "edit": "e",
        "run": "r",
        "add_group": "g",
        "add_feed": "f",
        "samples": "s",
        "load_operations": "l",
        "app.get_details": "i",
    }
    """Keys the next-step hint may tell a newcomer to press (only actions this screen has)."""

    def __init__(self) -> None:
        super().__init__()
        self.overview: Overview | None = None
        self._bindings_kind: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="next-step", markup=False)
        if self.courier_app.demo_note:
            yield Static(self.courier_app.demo_note, id="demo-note", markup=False)
        with VerticalScroll(id="sources", can_focus=False):
            yield Static("Couriers", classes="section-title")
            yield DataTable(id="couriers-table", cursor_type="row", zebra_stripes=True)
            yield Static(EMPTY_TEXT["courier"], id="couriers-empty", classes="empty")
            yield Static("Feeds", classes="section-title")
            yield DataTable(id="feeds-table", cursor_type="row", zebra_stripes=True)
            yield Static(EMPTY_TEXT["feed"], id="feeds-empty", classes="empty")
            yield Static("Courier groups", classes="section-title")
            yield DataTable(id="groups-table", cursor_type="row", zebra_stripes=True)
            yield Static(EMPTY_TEXT["courier group"], id="groups-empty", classes="empty")
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "Sources"
        self.query_one("#couriers-table", DataTable).add_columns("Name", "Layout", "Bucket", "Status", "Last run")
        self.query_one("#feeds-table", DataTable).add_columns("Feed ID", "Domain table", "Status", "Last load")
        self.query_one("#groups-table", DataTable).add_columns("Name", "Schedule", "Next run", "Enabled", "Description")
        apply_app_settings(self)
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.overview is not None:
            self.action_reload()

    def action_reload(self) -> None:
        """Read the configuration and run state again and redraw the tables."""
        app = self.courier_app
        # The hint speaks of the courier the cursor is on, or is about to follow (just saved).
        pending, selected = app.select_on_home, self.selected()
        first = (
            pending[1]
            if pending and pending[0] == "courier"
            else (selected[1] if selected and selected[0] == "courier" else None)
        )
        self.overview = load_overview(app.db_path, app.clock(), keys=self.HINT_KEYS, first=first)
        overview = self.overview
        self.query_one("#next-step", Static).update(overview.next_step)
        self._fill(
            "couriers-table",
            [
                (row.name, (row.name, row.layout, row.bucket, _status(row.status), row.last_run))
                for row in overview.couriers
            ],
        )
        self._fill("feeds-table", [(row.id, (row.id, row.table, row.status, row.last_load)) for row in overview.feeds])
        self._fill(
            "groups-table",
            [
                (row.name, (row.name, row.schedule, row.next_run, row.enabled, row.description))
                for row in overview.groups
            ],
        )
        self._select_saved()
        if self.focused is None or not self.focused.display:
            for table_id in TABLE_KINDS:
                table = self.query_one(f"#{table_id}", DataTable)
                if table.display:
                    table.focus()
                    break
        self._refresh_bindings_for_selection()

    def _select_saved(self) -> None:
        """Focus the row of the object saved last (``app.select_on_home``), once."""
        saved, self.courier_app.select_on_home = self.courier_app.select_on_home, None
        if saved is None:
            return
        kind, name = saved
        table_id = next(table_id for table_id, table_kind in TABLE_KINDS.items() if table_kind == kind)
        table = self.query_one(f"#{table_id}", DataTable)
        try:
            row = table.get_row_index(name)
        except RowDoesNotExist:  # renamed or deleted meanwhile
            return
        table.focus()
        table.move_cursor(row=row)

    def _fill(self, table_id: str, rows: list[tuple[str, tuple[object, ...]]]) -> None:
        table = self.query_one(f"#{table_id}", DataTable)
        selected = self._row_key(table)
        table.clear()
        for key, values in rows:
            table.add_row(*values, key=key)
        table.display = bool(rows)
        self.query_one(f"#{table_id.replace('-table', '-empty')}", Static).display = not rows
        if selected is not None and selected in {key for key, _ in rows}:
            table.move_cursor(row=table.get_row_index(selected))

    @staticmethod
    def _row_key(table: DataTable[object]) -> str | None:
        if table.row_count == 0:
            return None
        return cast(str, table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def selected(self) -> tuple[str, str] | None:
        """(kind, name) of the row under the cursor in the focused table."""
        focused = self.focused
        if not isinstance(focused, DataTable) or focused.id not in TABLE_KINDS:
            return None
        key = self._row_key(focused)
        return None if key is None else (TABLE_KINDS[focused.id], key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            selected = self.selected()
            return True if selected and selected[0] in ("courier", "courier group", "feed") else None
        if action in ("samples", "load_operations"):
            selected = self.selected()
            return True if selected and selected[0] == "courier" else None
        if action == "run":
            selected = self.selected()
            return True if selected and selected[0] == "courier" else None
        if action == "delete":
            return True if self.selected() else None
        return True

    def why_disabled(self, action: str) -> str | None:
        what = {"samples": "Samples", "load_operations": "Load operations", "run": "Run"}.get(action)
        if what:
            return f"{what} works on a courier: select one in the Couriers table first (Tab moves between tables)."
        if action == "edit":
            return "Select a courier, feed or courier group to edit first."
        if action == "delete":
            return "Select what to delete first."
        return None

    def on_descendant_focus(self) -> None:
        self._refresh_bindings_for_selection()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._refresh_bindings_for_selection()

    def _refresh_bindings_for_selection(self) -> None:
        # Which keys apply depends only on the kind of row under the cursor; redrawing the
        # footer on every cursor move (or every row added while loading) is what made the
        # first paint slow.
        kind = (self.selected() or ("", ""))[0]
        if kind != self._bindings_kind:
            self._bindings_kind = kind
            self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_edit()

    def action_add_courier(self) -> None:
        self.courier_app.action_add_courier()

    def action_edit(self) -> None:
        selected = self.selected()
        if selected and selected[0] == "courier":
            self.courier_app.action_edit_courier(selected[1])
        elif selected and selected[0] == "courier group":
            self.courier_app.action_edit_group(selected[1])
        elif selected and selected[0] == "feed":
            self.courier_app.action_edit_feed(selected[1])

    def action_add_feed(self) -> None:
        self.courier_app.action_add_feed()

    def action_samples(self) -> None:
        selected = self.selected()
        if selected and selected[0] == "courier":
            self.courier_app.action_samples(selected[1])

    def action_load_operations(self) -> None:
        selected = self.selected()
        if selected and selected[0] == "courier":
            self.courier_app.action_load_operations(selected[1])

    def action_add_group(self) -> None:
        selected = self.selected()
        self.courier_app.action_add_group(selected[1] if selected and selected[0] == "courier" else None)

    def action_run(self) -> None:
        selected = self.selected()
        if selected and selected[0] == "courier":
            self.courier_app.action_run_courier(selected[1])

    def action_delete(self) -> None:
        selected = self.selected()
        if selected is None:
            return
        kind, name = selected
        detail = {
            "courier": "Its landed files, run history and domain tables are kept.",
            "feed": "Its domain table and the rows in it are kept.",
            "courier group": "Its couriers are kept; they just stop running on its schedule.",
        }[kind]

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._delete(kind, name)

        self.app.push_screen(
            ConfirmScreen(f'Delete {kind} "{name}"?', detail, yes="Delete", no="Keep"), callback=answered
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Delete")
    def _delete(self, kind: str, name: str) -> None:
        from core import engine

        engine.delete(self.courier_app.db_path, kind, name)
        self.post_message(ObjectDeleted(kind, name))

    def on_object_deleted(self, message: ObjectDeleted) -> None:
        self.notify(f'Deleted {message.kind} "{message.name}"', title="Deleted")
        self.action_reload()


def _status(status: str) -> Text:
    style = {"Succeeded": "green", "Failed": "red", "Warning": "yellow", "Running": "cyan", "Stopped": "yellow"}.get(
        status, "dim"
    )
    return Text(status, style=style)
