"""Add or edit a courier: connection, layout, entities list and load operations."""

from __future__ import annotations

import functools
import importlib.util
import json
from datetime import date
from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from core import engine
from core.models import LAYOUTS, Courier, Credential, Entity, field_default, to_document
from core.problems import PathPart
from core.project import courier_document
from tui.forms import (
    COURIER_FIELDS,
    CourierForm,
    FormCheck,
    check_courier_form,
    json_problem,
    preview_courier,
)
from tui.messages import ConfigSaved, ConnectionTested, HeapDiscovered, MatchesPreviewed
from tui.screens.base import (
    AppAccess,
    ConfirmsDiscard,
    ExplainsDisabledKeys,
    ReportsWorkerFailures,
    SavesForm,
    apply_app_settings,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.credential import CredentialScreen
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter
from tui.widgets.form_row import form_row
from tui.widgets.result_line import ResultLine

NEW_CREDENTIAL = "\0new-credential"
"""Select value of the "Create new credential…" option."""

EXAMPLE_ENTITIES = [to_document(Entity(file_pattern="'exports/users-'yyyy-MM-dd'.avro'", tag="users"))]
"""A new courier starts from Amperity's example entities list, ready to edit."""

PREVIEW_KEYS_SHOWN = 5
"""Matching keys listed per entity in the preview; the rest are counted."""

ACTION_GROUPS = ("preview", "test", "discover")
FIELD_WIDGETS = {
    "name": "#courier-name",
    "credential": "#credential",
    "bucket": "#bucket",
    "prefix": "#prefix",
    "layout": "#layout",
    "entities": "#entities",
    "load-operations": "#load-operations",
}
"""Each form field's widget: where a refused save puts the cursor, and whose change marks the field touched."""


@functools.cache
def heap_discovery_available() -> bool:
    """Whether the engine has Heap Connect discovery (``core.heap``), without importing it."""
    return importlib.util.find_spec("core.heap") is not None


class CourierEditorScreen(
    AppAccess, ConfirmsDiscard, SavesForm, ExplainsDisabledKeys, ReportsWorkerFailures, Screen[str | None]
):
    """The Add courier / Edit courier page, with live validation.

    Args:
        name: The courier to edit, or ``None`` to add one.
    """

    BINDINGS = [
        Binding("f2,ctrl+s", "save", "Save"),
        Binding("escape", "back", "Back"),
        Binding("f3,p", "preview", "Preview"),
        Binding("f4,t", "test_connection", "Test"),
        Binding("f8,D", "discover", "Discover"),
    ]

    FORM_FIELDS = COURIER_FIELDS
    FIELD_WIDGETS = FIELD_WIDGETS
    RESULT_ID = "action-result"

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.original_name = name
        self.initial_form: CourierForm | None = None
        self._credential_value: str | None = None
        self.show_all = name is not None  # a stored courier's problems show at once

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="courier-form", classes="form", can_focus=False):
            yield Static(
                "Amazon S3 courier. Load operations may start as {} (land sample files only).",
                classes="form-intro",
                markup=False,
            )
            yield form_row("Name", Input(id="courier-name", placeholder="e.g. Heap", compact=True))
            yield ProblemList(id="name-problems")
            yield form_row("Credential", Select[str]([], id="credential", prompt="Choose a credential", compact=True))
            yield ProblemList(id="credential-problems")
            yield form_row("Bucket", Input(id="bucket", placeholder="heap-rs3-…", compact=True))
            yield ProblemList(id="bucket-problems")
            yield form_row("Prefix", Input(id="prefix", placeholder="optional, e.g. heap/", compact=True))
            yield ProblemList(id="prefix-problems")
            with Horizontal(classes="form-row"):
                yield Static("Layout", classes="field-label")
                yield Select[str](
                    [(layout, layout) for layout in LAYOUTS],
                    id="layout",
                    allow_blank=False,
                    value=field_default(Courier, "layout"),
                    compact=True,
                )
            yield ProblemList(id="layout-problems")
            yield Static("Entities list (JSON)", classes="editor-label")
            yield _json_editor("entities")
            yield ProblemList(id="entities-problems")
            yield Static("Load operations (JSON, feed ID → operations)", classes="editor-label")
            yield _json_editor("load-operations")
            yield ProblemList(id="load-operations-problems")
            yield ProblemList(id="other-problems")
            with Horizontal(id="editor-actions", classes="button-row"):
                yield Static("Day", classes="field-label-short")
                yield Input(id="preview-day", placeholder="YYYY-MM-DD", compact=True)
                yield Button("Preview matches", id="preview-button", compact=True)
                yield Button("Test connection", id="test-button", compact=True)
                yield Button("Discover", id="discover-button", compact=True)
            yield ResultLine("", id="action-result", markup=False)
            with Horizontal(classes="button-row"):
                yield Button("Save", id="save-button", variant="primary", compact=True)
                yield Button("Cancel", id="cancel-button", compact=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        app = self.courier_app
        project = engine.load_project(app.db_path)
        self.existing = project
        courier = project.couriers.get(self.original_name) if self.original_name else None
        self.title = f"Edit courier {self.original_name}" if courier else "Add courier"
        if courier is not None:
            body = courier_document(courier)
            form = CourierForm(
                name=courier.name,
                credential=courier.credential,
                bucket=courier.bucket,
                prefix=courier.prefix,
                layout=courier.layout,
                entities_text=_pretty(body["entities"]) if "entities" in body else "",
                load_operations_text=_pretty(body["load-operations"]),
            )
        else:
            credential = next(iter(project.credentials), None)
            form = CourierForm(
                name="",
                credential=credential,
                bucket="",
                prefix=field_default(Courier, "prefix"),
                layout=field_default(Courier, "layout"),
                entities_text=_pretty(EXAMPLE_ENTITIES),
                load_operations_text="{}",
            )
        self.initial_form = form
        self._credential_value = form.credential
        self.query_one("#courier-name", Input).value = form.name
        self._set_credential_options(project.credentials, form.credential)
        self.query_one("#bucket", Input).value = form.bucket
        self.query_one("#prefix", Input).value = form.prefix
        self.query_one("#layout", Select).value = form.layout
        self.query_one("#entities", TextArea).load_text(form.entities_text)
        self.query_one("#load-operations", TextArea).load_text(form.load_operations_text)
        self.query_one("#preview-day", Input).value = app.clock().date().isoformat()
        self.query_one("#discover-button", Button).display = heap_discovery_available()
        apply_app_settings(self)
        self.query_one("#courier-name", Input).focus()
        self.begin_editing()
        self.validate_form()

    # Form state

    def form(self) -> CourierForm:
        """The values in the fields now."""
        credential = self.query_one("#credential", Select).value
        return CourierForm(
            name=self.query_one("#courier-name", Input).value,
            credential=credential if isinstance(credential, str) and credential != NEW_CREDENTIAL else None,
            bucket=self.query_one("#bucket", Input).value,
            prefix=self.query_one("#prefix", Input).value,
            layout=cast(str, self.query_one("#layout", Select).value),
            entities_text=self.query_one("#entities", TextArea).text,
            load_operations_text=self.query_one("#load-operations", TextArea).text,
        )

    @property
    def dirty(self) -> bool:
        """Whether the fields differ from what was loaded."""
        return self._ready and self.form() != self.initial_form

    def check_form(self) -> FormCheck:
        """Check the form as saving would."""
        return check_courier_form(self.form(), self.existing, self.original_name)

    def form_checked(self, check: FormCheck) -> None:
        save = self.query_one("#save-button", Button)
        discover = self.query_one("#discover-button", Button)
        can_discover = self.form().layout == "heap-connect"
        if save.disabled == check.ok or discover.disabled == can_discover:
            save.disabled = not check.ok
            discover.disabled = not can_discover
            self.refresh_bindings()

    @on(Input.Changed, "#courier-name, #bucket, #prefix")
    @on(TextArea.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed) -> None:
        if self._ready:
            self.touch_widget(event.control, event)
            self.validate_form()

    @on(Select.Changed, "#layout")
    def _layout_changed(self, event: Select.Changed) -> None:
        if self._ready:
            self.touch("layout", cause=event)
            # The example entities list is for file patterns; a heap-connect courier with no list
            # loads every Heap table, so an untouched example should not be left to clear by hand.
            entities = self.query_one("#entities", TextArea)
            layout = self.query_one("#layout", Select).value
            if layout == "heap-connect" and entities.text == _pretty(EXAMPLE_ENTITIES):
                entities.load_text("")
            elif layout == "file-pattern" and not entities.text.strip():
                entities.load_text(_pretty(EXAMPLE_ENTITIES))
            self.validate_form()

    @on(Select.Changed, "#credential")
    def _credential_changed(self, event: Select.Changed) -> None:
        if not self._ready:
            return
        if event.value == NEW_CREDENTIAL:
            self.app.push_screen(CredentialScreen(), callback=self._credential_created)
            return
        self._credential_value = event.value if isinstance(event.value, str) else None
        self.touch("credential", cause=event)
        self.validate_form()

    def _credential_created(self, name: str | None) -> None:
        self.existing = engine.load_project(self.courier_app.db_path)
        self._set_credential_options(self.existing.credentials, name or self._credential_value)
        if name:
            self._credential_value = name
        self.query_one("#credential", Select).focus()
        self.validate_form()

    def _set_credential_options(self, credentials: dict[str, Credential], value: str | None) -> None:
        select = self.query_one("#credential", Select)
        options = [(f"{name} ({credential.type})", name) for name, credential in credentials.items()]
        options.append(("Create new credential…", NEW_CREDENTIAL))
        select.set_options(options)
        if value in credentials:
            select.value = value
        else:
            select.clear()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "discover":
            if not heap_discovery_available():
                return False
            return True if self._ready and self.form().layout == "heap-connect" else None
        # Save stays enabled: F2 on a form with problems says which and puts the cursor on the first.
        return True

    def why_disabled(self, action: str) -> str | None:
        if action == "discover":
            return (
                "Discover reads Heap Connect manifests: set Layout to heap-connect first (a file-pattern "
                "courier names its files in the entities list)."
            )
        return None

    def explain_disabled(self, reason: str) -> None:
        self.show_result(reason, error=True)

    # Save and leave

    def action_save(self) -> None:
        if self.refuse_save():
            return
        assert self.check.document is not None
        self._save(self.form().name.strip(), self.original_name, self.check.document)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Save courier")
    def _save(self, name: str, original: str | None, document: dict[str, Any]) -> None:
        result = engine.save_courier(self.courier_app.db_path, name, document, original=original)
        self.post_message(ConfigSaved("courier", name, result.changes, result.warnings, document))

    def on_config_saved(self, message: ConfigSaved) -> None:
        if message.kind == "feeds":
            self.existing = engine.load_project(self.courier_app.db_path)
            operations = message.document.get("load-operations")
            if operations is not None:
                self.query_one("#load-operations", TextArea).load_text(_pretty(operations))
            self.notify(
                f"Created {len(message.changes)} feed{'s' if len(message.changes) != 1 else ''}; "
                + (
                    "the load operations now name them too."
                    if operations is not None
                    else "fix the load operations' JSON, then add theirs."
                ),
                title="Feeds",
            )
            self.validate_form()
            return
        if message.kind != "courier":
            return
        self.announce_saved(f'courier "{message.name}"', message.warnings)
        self.initial_form = None
        self._ready = False
        self.dismiss(message.name)

    def action_back(self) -> None:
        self.leave(f'courier "{self.original_name}"' if self.original_name else "the new courier", None)

    @on(Button.Pressed, "#save-button")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel-button")
    def _cancel_pressed(self) -> None:
        self.action_back()

    # Preview, test connection, discover

    def _connection(self) -> tuple[Courier, Credential] | None:
        courier = preview_courier(self.form(), self.existing)
        if isinstance(courier, str):
            self.show_result(courier, error=True)
            return None
        return courier, self.existing.credentials[courier.credential]

    def action_preview(self) -> None:
        connection = self._connection()
        if connection is None:
            return
        courier, credential = connection
        if not courier.entities:
            self.show_result(
                "The heap-connect layout reads manifests, not file patterns: use Discover "
                "to list the tables, or add entities to preview.",
                error=True,
            )
            return
        text = self.query_one("#preview-day", Input).value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.show_result(f'Day: "{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25', error=True)
            self.query_one("#preview-day", Input).focus()
            return
        self.show_result(f"Listing s3://{courier.bucket}/{courier.prefix} for {day}…")
        self._preview_matches(courier, day)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview", description="Preview matches")
    def _preview_matches(self, courier: Courier, day: date) -> None:
        from textual.worker import get_current_worker

        matches = engine.preview_matches(self.courier_app.db_path, courier, day)
        if not get_current_worker().is_cancelled:
            self.post_message(MatchesPreviewed(day, matches))

    def on_matches_previewed(self, message: MatchesPreviewed) -> None:
        lines = [f"Files for {message.day}:"]
        for tag, keys in message.matches.items():
            if not keys:
                lines.append(f"  {tag}: no match")
                continue
            shown = ", ".join(keys[:PREVIEW_KEYS_SHOWN])
            more = f" and {len(keys) - PREVIEW_KEYS_SHOWN} more" if len(keys) > PREVIEW_KEYS_SHOWN else ""
            lines.append(f"  {tag}: {shown}{more}")
        self.show_result("\n".join(lines))

    def action_test_connection(self) -> None:
        connection = self._connection()
        if connection is None:
            return
        courier, credential = connection
        self.show_result(f"Connecting to s3://{courier.bucket}/{courier.prefix}…")
        self._test_connection(courier)

    @work(thread=True, exclusive=True, exit_on_error=False, group="test", description="Test connection")
    def _test_connection(self, courier: Courier) -> None:
        self.post_message(ConnectionTested(engine.test_connection(self.courier_app.db_path, courier)))

    def on_connection_tested(self, message: ConnectionTested) -> None:
        self.show_result(message.line)

    def action_discover(self) -> None:
        if self.check_action("discover", ()) is not True:
            return
        connection = self._connection()
        if connection is None:
            return
        courier, credential = connection
        self.show_result(f"Reading the Heap Connect manifests in s3://{courier.bucket}/{courier.prefix}…")
        self._discover(courier)

    @work(thread=True, exclusive=True, exit_on_error=False, group="discover", description="Discover")
    def _discover(self, courier: Courier) -> None:
        found = engine.discover(self.courier_app.db_path, courier)
        self.post_message(HeapDiscovered(list(found.entities), dict(found.feeds), dict(found.load_operations)))

    def on_heap_discovered(self, message: HeapDiscovered) -> None:
        """Offer what Discover found without overwriting anything unasked: the entities list is replaced only
        when it is empty or the user confirms (told which tables it adds and drops), and only feeds whose
        domain table does not exist yet, and whose Heap table no load operation loads already, are proposed;
        their load operations are added to the user's."""
        entities = self.query_one("#entities", TextArea)
        tags = [_tag(item) for item in message.entities]
        found = f"Discovered {len(tags)} Heap table{'s' if len(tags) != 1 else ''}: {', '.join(tags)}"
        tables = {feed.table_name for feed in self.existing.feeds.values()}
        loaded = self._files_loaded()
        new_feeds = {
            feed_id: body
            for feed_id, body in message.feeds.items()
            if feed_id not in self.existing.feeds
            and f"{body.get('source')}:{body.get('name')}" not in tables
            # A Heap table some load operation of this courier already loads (under another feed
            # ID, or a feed named otherwise) is covered: a second feed would load it twice.
            and not loaded & _files_of(message.load_operations.get(feed_id, []))
        }

        def offer_feeds() -> None:
            if not new_feeds:
                return
            names = ", ".join(f"{body.get('source')}:{body.get('name')}" for body in new_feeds.values())

            def answered(create: bool | None) -> None:
                if create:
                    self._create_feeds(new_feeds, self._with_operations_for(new_feeds, message.load_operations))

            self.app.push_screen(
                ConfirmScreen(
                    f"Create the {len(new_feeds)} feed{'s' if len(new_feeds) != 1 else ''} that do not exist yet?",
                    f"{names}. Each gets a load operation beside the ones you have; existing feeds and their "
                    "operations are left alone.",
                    yes="Create feeds",
                    no="Not now",
                ),
                callback=answered,
            )

        current, problem = json_problem(entities.text) if entities.text.strip() else ([], None)
        if problem is None and current in ([], message.entities):
            entities.load_text(_pretty(message.entities))
            self.show_result(found)
            offer_feeds()
            return
        mine = [_tag(item) for item in current if isinstance(item, dict)] if isinstance(current, list) else []
        added = [tag for tag in tags if tag not in mine]
        dropped = [tag for tag in mine if tag not in tags]
        change = (
            "; ".join(
                part
                for part in (
                    f"adds {', '.join(added)}" if added else "",
                    f"drops {', '.join(dropped)}" if dropped else "",
                )
                if part
            )
            or "the same tables, written as Heap Connect manifests name them"
        )
        self.show_result(found)

        def replace_entities(confirmed: bool | None) -> None:
            if confirmed:
                entities.load_text(_pretty(message.entities))
                self.show_result(f"{found}. The entities list now names them ({change}).")
            else:
                self.show_result(f"{found}. Your entities list is unchanged.")
            offer_feeds()

        self.app.push_screen(
            ConfirmScreen(
                "Replace your entities list with the discovered Heap tables?",
                f"It {change}." if problem is None else f"Yours is not valid JSON ({problem}).",
                yes="Replace",
                no="Keep mine",
            ),
            callback=replace_entities,
        )

    def _files_loaded(self) -> set[str]:
        """Files (Heap tables) the load operations load: the editor's text, or the stored ones if it is not JSON."""
        text = self.query_one("#load-operations", TextArea).text
        current, problem = json_problem(text) if text.strip() else ({}, None)
        if problem is not None or not isinstance(current, dict):
            stored = self.existing.couriers.get(self.original_name or "")
            current = {
                feed_id: [{"type": step.type, "file": step.file} for step in steps]
                for feed_id, steps in (stored.load_operations.items() if stored else [])
            }
        return {file for steps in current.values() for file in _files_of(steps)}

    def _with_operations_for(self, feeds: dict[str, Any], suggested: dict[str, Any]) -> dict[str, Any] | None:
        """The user's load operations plus the suggested ones for ``feeds``; ``None`` when theirs is not JSON."""
        text = self.query_one("#load-operations", TextArea).text
        current, problem = json_problem(text) if text.strip() else ({}, None)
        if problem is not None or not isinstance(current, dict):
            return None
        return {**current, **{feed_id: suggested[feed_id] for feed_id in feeds if feed_id in suggested}}

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Create feeds")
    def _create_feeds(self, feeds: dict[str, Any], operations: dict[str, Any] | None) -> None:
        result = engine.create_feeds(self.courier_app.db_path, feeds)
        self.post_message(ConfigSaved("feeds", "", result.changes, result.warnings, {"load-operations": operations}))

    def document_root(self) -> tuple[PathPart, ...]:
        return ("couriers", self.form().name.strip() or "courier")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.refused_by_engine(event):
            event.prevent_default()  # said under its field and on the result line: no notification too
            return
        # The app notifies every failure; the editor also shows its own inline.
        if event.state == WorkerState.ERROR and event.worker.group in ACTION_GROUPS:
            self.show_result(
                str(event.worker.error).splitlines()[0]
                if str(event.worker.error)
                else type(event.worker.error).__name__,
                error=True,
            )

    @on(Button.Pressed, "#preview-button")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#test-button")
    def _test_pressed(self) -> None:
        self.action_test_connection()

    @on(Button.Pressed, "#discover-button")
    def _discover_pressed(self) -> None:
        self.action_discover()


class JsonEditor(TextArea):
    """A JSON text area where ``ctrl+a`` selects everything, as in most editors (``f7`` still does)."""

    BINDINGS = [Binding("ctrl+a", "select_all", "Select all", show=False)]


def _json_editor(widget_id: str) -> Widget:
    editor = JsonEditor(
        id=widget_id, classes="json-editor", tab_behavior="focus", show_line_numbers=True, soft_wrap=False
    )
    if "json" in editor.available_languages:
        editor.language = "json"
    return editor


def _tag(entity: Any) -> str:
    """An entity's file tag, or ``?``."""
    land_as = entity.get("object/land-as") if isinstance(entity, dict) else None
    return str(land_as.get("file/tag", "?")) if isinstance(land_as, dict) else "?"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _files_of(steps: Any) -> set[str]:
    """The files a feed's load-operation steps load (``{"type": "load", "file": "users"}`` → ``users``)."""
    if not isinstance(steps, list):
        return set()
    return {
        step["file"]
        for step in steps
        if isinstance(step, dict) and step.get("type") == "load" and isinstance(step.get("file"), str)
    }
