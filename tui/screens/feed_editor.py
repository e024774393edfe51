"""Step 4, add feeds: names, sample file, fields (type, primary key, tags, required), activation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Header,
    Input,
    Select,
    Static,
)
from textual.worker import Worker, WorkerState

from core import engine
from core.feeds import (
    effective_fields,
    field_origins,
    new_feed_id,
    sample_fields,
    suggested_feed_name,
)
from core.landing import LandedFile
from core.models import Feed, FeedField, domain_table_name
from core.problems import PathPart
from tui.feed_form import (
    FEED_FORM_FIELDS,
    LAST_UPDATED_TYPES,
    FeedForm,
    check_feed_form,
    toggle_field,
    with_field,
)
from tui.forms import FormCheck
from tui.messages import ConfigSaved, FeedActivated, FeedNotActivated
from tui.screens.base import (
    AppAccess,
    ConfirmsDiscard,
    ExplainsDisabledKeys,
    ReportsWorkerFailures,
    SavesForm,
    apply_app_settings,
)
from tui.screens.samples import file_label, landed_time, middle_shorten, shorten
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter
from tui.widgets.form_row import form_row
from tui.widgets.toggles import Tickbox

NEW_SOURCE = "\0new-source"
"""Select value of "Create new source…"."""
GENERATE_UPDATED = "\0generate"
"""Select value of "Generate an updated field"."""
GENERATE_LABEL = "Generate an updated field (recommended)"
TABLE_ACTIONS = ("toggle_key", "pick_type", "tags", "toggle_required")
"""Actions that work on the field under the cursor (only while the fields table has focus)."""


def sample_label(item: LandedFile) -> str:
    """One sample file in the picker: tag, courier, when (UTC), file name; short enough for 80 columns."""
    return (
        f"{shorten(item.tag, 18)} · {shorten(item.courier, 12)} · {landed_time(item.landed_at)} · "
        f"{middle_shorten(file_label(item), 22)}"
    )


class FeedEditorScreen(
    AppAccess, ConfirmsDiscard, SavesForm, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[str | None]
):
    """Add feed / Feed editor, with live validation, Save draft and Activate.

    Args:
        feed_id: The feed to edit, or ``None`` to add one (with a fresh random ID).
        sample_file_id: A landed file to start from (preselected as the sample).
    """

    BINDINGS = [
        Binding("f2,ctrl+s", "save", "Save draft"),
        Binding("f5,A", "activate", "Activate"),
        Binding("escape", "back", "Back"),
        Binding("space", "toggle_key", "Key"),
        Binding("t", "pick_type", "Type"),
        Binding("g", "tags", "Tags"),
        Binding("r", "toggle_required", "Required"),
        Binding("l", "load_operations", "Load ops"),
    ]

    FORM_FIELDS = FEED_FORM_FIELDS
    FIELD_WIDGETS = {
        "source": "#feed-source-choice",
        "name": "#feed-name",
        "primary-key": "#feed-fields",
        "fields": "#feed-fields",
        "last-updated": "#feed-last-updated",
        "stitch": "#feed-stitch",
        "error-threshold": "#feed-threshold",
    }
    PROBLEMS_ID = "feed-{}-problems"
    RESULT_ID = "feed-result"

    def __init__(self, feed_id: str | None = None, *, sample_file_id: int | None = None) -> None:
        super().__init__()
        self.original_id = feed_id
        self.start_sample = sample_file_id
        self.show_all = feed_id is not None  # a stored feed's problems show at once
        self.form = FeedForm(feed_id="", source="", name="")
        self.initial_form: FeedForm | None = None
        self.files: dict[int, LandedFile] = {}
        self.activated_courier: str | None = None
        self.busy = False
        self.activating = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="feed-form", classes="form", can_focus=False):
            yield Static("", id="feed-intro", classes="form-intro", markup=False)
            with Horizontal(classes="form-row"):
                yield Static("Data source", classes="field-label")
                yield Select[str](
                    [("Create new source…", NEW_SOURCE)], id="feed-source-choice", allow_blank=False, compact=True
                )
            with Horizontal(classes="form-row", id="feed-new-source-row"):
                yield Static("New source", classes="field-label")
                yield Input(id="feed-source", placeholder="e.g. Heap", compact=True)
            yield ProblemList(id="feed-source-problems")
            yield form_row("Feed name", Input(id="feed-name", placeholder="e.g. Users", compact=True))
            yield Static("", id="feed-table-name", markup=False)
            yield ProblemList(id="feed-name-problems")
            with Horizontal(classes="form-row"):
                yield Static("Sample file", classes="field-label")
                yield Select[int]([], id="feed-sample", prompt="Choose a landed file (newest first)", compact=True)
            yield Static(
                "Fields: space primary key · t type · g tags · r required",
                id="feed-fields-help",
                classes="editor-label",
                markup=False,
            )
            yield DataTable(id="feed-fields", cursor_type="row", zebra_stripes=True)
            yield ProblemList(id="feed-primary-key-problems")
            yield ProblemList(id="feed-fields-problems")
            with Horizontal(classes="form-row"):
                yield Static("Last updated", classes="field-label")
                yield Select[str](
                    [(GENERATE_LABEL, GENERATE_UPDATED)], id="feed-last-updated", allow_blank=False, compact=True
                )
            yield ProblemList(id="feed-last-updated-problems")
            with Horizontal(classes="form-row"):
                yield Static("Stitch", classes="field-label")
                yield Tickbox("Make available to Stitch (customer profile data)", id="feed-stitch", compact=True)
            with Horizontal(classes="form-row"):
                yield Static("Error threshold", classes="field-label")
                yield Input(id="feed-threshold", compact=True)
                yield Static("% of rows rejected before a load fails", classes="field-note", markup=False)
            yield ProblemList(id="feed-error-threshold-problems")
            with Horizontal(classes="form-row"):
                yield Static("Activation", classes="field-label")
                # Amperity's "Load sample file on feed activation", on by default.
                yield Tickbox("Load sample file on feed activation", value=True, id="feed-load-sample", compact=True)
            yield ProblemList(id="feed-stitch-problems")
            yield ProblemList(id="feed-other-problems")
            yield Static("", id="feed-result", markup=False)
            with Horizontal(classes="button-row"):
                yield Button("Activate", id="feed-activate", variant="primary", compact=True)
                yield Button("Save draft", id="feed-save", compact=True)
                yield Button("Cancel", id="feed-cancel", compact=True)
        # Compact: the table keys and the save keys fit on one line at 80 columns.
        yield CourierFooter()

    def on_mount(self) -> None:
        app = self.courier_app
        project = engine.load_project(app.db_path)
        self.existing = project
        self.files = {item.id: item for item in engine.landed_files(app.db_path)}
        feed = project.feeds.get(self.original_id) if self.original_id else None
        sample_id = self.start_sample
        if feed is not None and sample_id is None:
            sample_id = engine.sample_file_ids(app.db_path).get(feed.id)
        landed = self.files.get(sample_id) if sample_id is not None else None
        if feed is not None:
            self.form = FeedForm(
                feed_id=feed.id,
                source=feed.source,
                name=feed.name,
                fields=effective_fields(feed, landed),
                primary_key=list(feed.primary_key),
                last_updated=feed.last_updated,
                stitch=feed.stitch,
                threshold_text=str(feed.error_threshold),
                status=feed.status,
            )
        else:
            sources = self.source_names()
            source = sources[0] if sources else (landed.courier if landed else "")
            self.form = FeedForm(
                feed_id=new_feed_id(project.feeds),
                source=source,
                name=self.suggested_name(source, landed) if landed else "",
                fields=sample_fields(landed) if landed else [],
            )
        self.initial_form = self.form
        self._landed = landed
        self._fill_widgets(sample_id)
        apply_app_settings(self)
        self.query_one("#feed-name" if feed is None and not self.form.name else "#feed-fields").focus()
        self.begin_editing()
        self.validate_form()

    def suggested_name(self, source: str, landed: LandedFile) -> str:
        """A feed name for a sample file whose domain table is still free, e.g. ``Users (Heap exports)``."""
        taken = {feed.table_name for feed in self.existing.feeds.values()}
        name = suggested_feed_name(landed.tag)
        for candidate in (name, f"{name} ({landed.courier})"):
            if domain_table_name(source, candidate) not in taken:
                return candidate
        return name

    def source_names(self) -> list[str]:
        """The data sources of the stored feeds, first seen first."""
        return list(dict.fromkeys(feed.source for feed in self.existing.feeds.values()))

    def _fill_widgets(self, sample_id: int | None) -> None:
        form = self.form
        self._update_title()
        self._fill_sources()
        self.query_one("#feed-name", Input).value = form.name
        picker = self.query_one("#feed-sample", Select)
        picker.set_options([(sample_label(item), item.id) for item in self.files.values()])
        if sample_id in self.files:
            picker.value = sample_id
        self.query_one("#feed-stitch", Checkbox).value = form.stitch
        self.query_one("#feed-threshold", Input).value = form.threshold_text
        table = self.query_one("#feed-fields", DataTable)
        table.add_column("Key", key="key")
        table.add_column("Field", key="field")
        table.add_column("Type", key="type")
        table.add_column("From", key="origin")
        table.add_column("Semantic tags", key="tags")
        table.add_column("Required", key="required")
        self._fill_fields()
        self._fill_last_updated()

    def _fill_sources(self) -> None:
        sources = self.source_names()
        source = self.form.source
        choice = self.query_one("#feed-source-choice", Select)
        choice.set_options([(name, name) for name in sources] + [("Create new source…", NEW_SOURCE)])
        choice.value = source if source in sources else NEW_SOURCE
        self.query_one("#feed-source", Input).value = "" if source in sources else source
        self.query_one("#feed-new-source-row").display = choice.value == NEW_SOURCE

    def _update_title(self) -> None:
        adding = self.original_id is None
        self.title = "Add feed" if adding else f"Feed {self.form.feed_id}"
        self.query_one("#feed-intro", Static).update(
            f"Step 4 of 7 · feed {self.form.feed_id} · {self.form.status}. Choose the primary key, tag the "
            "customer fields, then Activate (F5) to load the sample file."
        )
        self.query_one("#feed-save", Button).label = "Save draft" if self.form.status != "active" else "Save"

    # The fields table

    def _fill_fields(self) -> None:
        table = self.query_one("#feed-fields", DataTable)
        cursor = table.cursor_row
        table.clear()
        names = [item.name for item in self.form.fields]
        table_name = domain_table_name(self.form.source.strip(), self.form.name.strip())
        self._columns = engine.field_columns(self.courier_app.db_path, table_name, names) if names else {}
        for item in self.form.fields:
            table.add_row(*self._cells(item), key=item.name)
        if not self.form.fields:
            table.add_row("", Text("No fields: choose a sample file", style="dim"), "", "", "", "", key="\0none")
        if self.form.fields:
            table.move_cursor(row=min(cursor, len(self.form.fields) - 1))

    def _cells(self, item: FeedField) -> tuple[Any, ...]:
        key = {name.lower() for name in self.form.primary_key}
        # Where the type comes from, and the column a case twin or reserved name is stored in.
        origin = field_origins(None, [item], getattr(self, "_landed", None)).get(item.name, "")
        column = getattr(self, "_columns", {}).get(item.name, item.name)
        name = item.name if column == item.name else f"{item.name} → {column}"
        return (
            Text("✓ key", style="bold") if item.name.lower() in key else "",
            name,
            item.type,
            origin,
            ", ".join(item.tags),
            "✓" if item.required else "",
        )

    def _refresh_field(self, name: str) -> None:
        table = self.query_one("#feed-fields", DataTable)
        item = next(f for f in self.form.fields if f.name == name)
        for column, value in zip(("key", "field", "type", "origin", "tags", "required"), self._cells(item)):
            table.update_cell(name, column, value, update_width=True)

    def current_field(self) -> FeedField | None:
        """The field under the cursor of the fields table."""
        table = self.query_one("#feed-fields", DataTable)
        if not self.form.fields or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.form.fields if f.name == key), None)

    def _fill_last_updated(self) -> None:
        select = self.query_one("#feed-last-updated", Select)
        options: list[tuple[str, str]] = [(GENERATE_LABEL, GENERATE_UPDATED)]
        names = set()
        for item in self.form.fields:
            if item.type in LAST_UPDATED_TYPES:
                options.append((f"{item.name} ({item.type})", item.name))
                names.add(item.name)
        current = self.form.last_updated
        if current is not None and current not in names:
            options.append((f"{current} (not a Datetime or Integer field)", current))
        select.set_options(options)
        select.value = current if current is not None else GENERATE_UPDATED

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TABLE_ACTIONS:
            focused = self.focused
            return focused is not None and focused.id == "feed-fields" and bool(self.form.fields)
        if action in ("save", "activate"):
            return None if self.busy else True
        if action == "load_operations":
            return self.activated_courier is not None
        return True

    def why_disabled(self, action: str) -> str | None:
        if action in ("save", "activate"):
            return "Still saving: wait for the result below."
        if action == "load_operations":
            return "Activate the feed first (F5): load operations name active feeds."
        return None

    def explain_disabled(self, reason: str) -> None:
        self.show_result(reason, error=True)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_toggle_key(self) -> None:
        item = self.current_field()
        if item is not None:
            self.touch("primary-key")
            self.form = toggle_field(self.form, item.name, key=True)
            self._refresh_field(item.name)
            self.validate_form()

    def action_toggle_required(self) -> None:
        item = self.current_field()
        if item is not None:
            self.touch("fields")
            self.form = toggle_field(self.form, item.name, required=True)
            self._refresh_field(item.name)
            self.validate_form()

    def action_pick_type(self) -> None:
        """Choose the field's type from a list (a stray ``t`` then changes nothing: Esc leaves it)."""
        from tui.screens.type_picker import TypePickerScreen

        item = self.current_field()
        if item is None:
            return

        def picked(kind: str | None) -> None:
            current = next(f for f in self.form.fields if f.name == item.name)
            if kind is None or kind == current.type:
                return
            self.touch("fields", "last-updated")  # a new type may no longer decide which row wins
            self.form = with_field(self.form, replace(current, type=kind))
            self._refresh_field(item.name)
            self._fill_last_updated()
            self.validate_form()

        self.app.push_screen(TypePickerScreen(item.name, item.type), callback=picked)

    def action_tags(self) -> None:
        from tui.screens.tag_picker import TagPickerScreen

        item = self.current_field()
        if item is None:
            return

        def picked(tags: tuple[str, ...] | None) -> None:
            if tags is None:
                return
            current = next(f for f in self.form.fields if f.name == item.name)
            self.touch("fields")
            self.form = with_field(self.form, replace(current, tags=tuple(tags)))
            self._refresh_field(item.name)
            self.validate_form()

        self.app.push_screen(TagPickerScreen(item.name, item.tags), callback=picked)

    @on(DataTable.RowSelected, "#feed-fields")
    def _row_selected(self) -> None:
        self.action_tags()

    # Form state

    @on(Input.Changed, "#feed-source, #feed-name, #feed-threshold")
    def _text_changed(self, event: Input.Changed) -> None:
        if not self._ready:
            return
        if event.input.id == "feed-name":
            self.touch("name", cause=event)
            self.form = replace(self.form, name=event.value)
        elif event.input.id == "feed-threshold":
            self.touch("error-threshold", cause=event)
            self.form = replace(self.form, threshold_text=event.value)
        elif self.query_one("#feed-source-choice", Select).value == NEW_SOURCE:
            self.touch("source", cause=event)
            self.form = replace(self.form, source=event.value)
        self.validate_form()

    @on(Select.Changed, "#feed-source-choice")
    def _source_chosen(self, event: Select.Changed) -> None:
        if not self._ready:
            return
        new = event.value == NEW_SOURCE
        self.touch("source", cause=event)
        self.query_one("#feed-new-source-row").display = new
        source = self.query_one("#feed-source", Input).value if new else cast(str, event.value)
        self.form = replace(self.form, source=source)
        self.validate_form()

    @on(Select.Changed, "#feed-sample")
    def _sample_chosen(self, event: Select.Changed) -> None:
        if not self._ready:
            return
        landed = self.files.get(event.value) if isinstance(event.value, int) else None
        self.touch("fields", cause=event)
        current = Feed(id=self.form.feed_id, source="", name="", primary_key=(), fields=tuple(self.form.fields))
        fields = effective_fields(current, landed) if landed else list(self.form.fields)
        self.form = replace(self.form, fields=fields)
        self._landed = landed
        if landed is not None and not self.form.name.strip():
            self.form = replace(self.form, name=self.suggested_name(self.form.source.strip(), landed))
            self.query_one("#feed-name", Input).value = self.form.name
        self._fill_fields()
        self._fill_last_updated()
        self.validate_form()

    @on(Select.Changed, "#feed-last-updated")
    def _last_updated_chosen(self, event: Select.Changed) -> None:
        if not self._ready:
            return
        value = event.value
        self.touch("last-updated", cause=event)
        self.form = replace(self.form, last_updated=None if value == GENERATE_UPDATED else cast(str, value))
        self.validate_form()

    @on(Checkbox.Changed, "#feed-stitch")
    def _stitch_changed(self, event: Checkbox.Changed) -> None:
        if self._ready:
            self.touch("stitch", cause=event)
            self.form = replace(self.form, stitch=event.value)
            self.validate_form()

    def sample_file_id(self) -> int | None:
        """The chosen sample file."""
        value = self.query_one("#feed-sample", Select).value
        return value if isinstance(value, int) else None

    @property
    def dirty(self) -> bool:
        """Whether anything differs from what was loaded or last saved."""
        return self._ready and self.form != self.initial_form

    def check_form(self) -> FormCheck:
        """Check the form as saving would."""
        return check_feed_form(self.form, self.existing)

    def form_checked(self, check: FormCheck) -> None:
        name = self.form.table_name if self.form.source.strip() and self.form.name.strip() else "…"
        self.query_one("#feed-table-name", Static).update(f"Domain table: {name}")

    def show_refusal(self, verb: str, reason: str) -> None:
        self.show_result(f"Not {verb}: {reason}", error=True)

    def problem_target(self, field_name: str) -> Widget | None:
        if field_name == "source" and self.query_one("#feed-source-choice", Select).value == NEW_SOURCE:
            return self.query_one("#feed-source", Input)  # the new source's name is what needs fixing
        return super().problem_target(field_name)

    # Save and activate

    def action_save(self) -> None:
        if self.busy or self.refuse_save("saved"):
            return
        self._start(activate=False)

    def action_activate(self) -> None:
        if self.busy or self.refuse_save("activated"):
            return
        load_sample = self.query_one("#feed-load-sample", Checkbox).value
        if not self.form.primary_key:  # a draft may lack one; a feed that loads rows may not
            self.show_result("Not activated: choose the primary key first (space on a field in the table).", error=True)
            self.query_one("#feed-fields").focus()
            return
        if not load_sample:
            assert self.check.document is not None
            self.busy = True
            self.refresh_bindings()
            self._save(self.form.feed_id, {**self.check.document, "status": "active"}, self.sample_file_id(), False)
            return
        if self.sample_file_id() is None:
            self.show_result(
                "Not activated: activation loads the sample file; choose one first (or untick "
                "Load sample file on feed activation).",
                error=True,
            )
            self.query_one("#feed-sample").focus()
            return
        self._start(activate=True)

    def _start(self, *, activate: bool) -> None:
        assert self.check.document is not None
        self.busy = True
        self.activating = activate
        self.refresh_bindings()
        if activate:
            self.show_result(f"Saving, then loading the sample file into {self.form.table_name}…")
        self._save(self.form.feed_id, dict(self.check.document), self.sample_file_id(), activate)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Save feed")
    def _save(self, feed_id: str, body: dict[str, Any], sample_id: int | None, activate: bool) -> None:
        if not activate:
            result = engine.save_feed(self.courier_app.db_path, feed_id, body, sample_id)
            self.post_message(ConfigSaved("feed", feed_id, result.changes, result.warnings, body))
            return
        outcome = engine.activate_feed(self.courier_app.db_path, feed_id, body, sample_id)
        self.post_message(ConfigSaved("feed", feed_id, outcome.saved.changes, outcome.saved.warnings, body))
        if outcome.counts is None:
            self.post_message(FeedNotActivated(feed_id, outcome.problem or "activation was refused"))
        else:
            self.post_message(FeedActivated(feed_id, outcome.counts))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Textual calls ReportsWorkerFailures' handler after this one (every class in the MRO gets the message).
        if event.worker.group == "config" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._finish()
            if self.refused_by_engine(event):
                event.prevent_default()  # said under its field and on the result line: no notification too
                return
            from tui.app import describe_failure

            self.show_result(f"Not saved: {describe_failure(event.worker.error)}", error=True)

    def document_root(self) -> tuple[PathPart, ...]:
        return ("feeds", self.form.feed_id)

    def _finish(self) -> None:
        self.busy = False
        self.activating = False
        self.refresh_bindings()

    def on_config_saved(self, message: ConfigSaved) -> None:
        if message.kind != "feed" or message.name != self.form.feed_id:
            return
        self.existing = engine.load_project(self.courier_app.db_path)
        self.original_id = message.name
        activated_now = message.document.get("status") == "active" and self.form.status != "active"
        if activated_now:  # activated without loading the sample file
            self.form = replace(self.form, status="active")
            landed = self.files.get(self.sample_file_id() or -1)
            self.activated_courier = landed.courier if landed else None
        self.initial_form = self.form
        self._fill_sources()
        self._update_title()
        if activated_now:
            self._finish()
            courier = self.activated_courier
            self.show_result(
                f"Activated {self.form.feed_id} without loading the sample file: {self.form.table_name} "
                "fills on the next run."
                + (f" Next: put {self.form.feed_id} in the load operations of {courier} (press l)." if courier else "")
            )
            self.notify(f"Activated feed {self.form.feed_id} ({self.form.table_name})", title="Activated")
        elif not self.activating:
            self._finish()
            self.show_result(f"Saved {self.form.table_name} ({self.form.feed_id}) as a {self.form.status}.")
            self.announce_saved(f"feed {self.form.feed_id} ({self.form.table_name})", message.warnings)

    def on_feed_activated(self, message: FeedActivated) -> None:
        counts = message.counts
        self._finish()
        self.form = replace(self.form, status="active")
        self.initial_form = self.form
        self.existing = engine.load_project(self.courier_app.db_path)
        landed = self.files.get(self.sample_file_id() or -1)
        self.activated_courier = landed.courier if landed else None
        self._update_title()
        self.refresh_bindings()
        next_step = (
            f" Next: put {message.feed_id} in the load operations of {self.activated_courier} (press l)."
            if self.activated_courier
            else ""
        )
        self.show_result(
            f"Activated {message.feed_id}: {counts.rows_read:,} rows read into {self.form.table_name}, "
            f"{counts.rows_inserted:,} inserted, {counts.rows_updated:,} updated, "
            f"{counts.rows_rejected:,} rejected.{next_step}"
        )
        self.notify(
            f"{self.form.table_name}: {counts.rows_read:,} rows loaded, {counts.rows_rejected:,} rejected",
            title=f"Feed {message.feed_id} active",
        )

    def on_feed_not_activated(self, message: FeedNotActivated) -> None:
        self._finish()
        status = "stays a draft" if self.form.status != "active" else "stays active with its old rows"
        self.show_result(f"Not activated: {message.reason}. The feed is saved and {status}.", error=True)

    def action_load_operations(self) -> None:
        if self.activated_courier:
            self.courier_app.action_load_operations(self.activated_courier)

    def action_back(self) -> None:
        self.leave(f"feed {self.original_id}" if self.original_id else "the new feed", self.original_id)

    @on(Button.Pressed, "#feed-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#feed-activate")
    def _activate_pressed(self) -> None:
        self.action_activate()

    @on(Button.Pressed, "#feed-cancel")
    def _cancel_pressed(self) -> None:
        self.action_back()
