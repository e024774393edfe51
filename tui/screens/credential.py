"""The Create New Credential modal: how Courier reaches a bucket, with no secrets."""

from __future__ import annotations

from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static
from textual.worker import Worker

from core import engine
from core.models import CREDENTIAL_TYPES
from core.problems import PathPart
from tui.forms import CREDENTIAL_FIELDS, FormCheck, check_credential_form
from tui.messages import ConfigSaved
from tui.screens.base import AppAccess, ReportsWorkerFailures, SavesForm, apply_app_settings
from tui.widgets import ProblemList
from tui.widgets.footer import CourierFooter

LABELS = {
    "name": "Name",
    "type": "Type",
    "role-arn": "Role ARN",
    "external-id": "External ID",
    "profile": "AWS profile",
    "region": "Region",
    "endpoint-url": "Endpoint URL",
}
PLACEHOLDERS = {
    "name": "e.g. heap-s3",
    "role-arn": "arn:aws:iam::123456789012:role/heap-courier",
    "external-id": "the external ID Heap's bucket policy expects",
    "profile": "a profile in ~/.aws/config",
    "region": "e.g. us-east-1",
    "endpoint-url": "only for MinIO, LocalStack or the demo",
}
TYPE_CHOICES = ("iam-credential", "iam-role-to-role", "aws-profile")
"""The types in the order offered: the seed's own ``iam-credential`` first and chosen, Heap's role
assumption (``iam-role-to-role``) one key below it."""
assert set(TYPE_CHOICES) == set(CREDENTIAL_TYPES)

SECRETS_NOTE = (
    "There is no field for secrets: access keys come from the environment "
    "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or an AWS profile, and are never stored."
)


class CredentialScreen(AppAccess, SavesForm, ReportsWorkerFailures, ModalScreen[str | None]):
    """Creates a credential; dismisses with its name, or ``None`` when cancelled."""

    BINDINGS = [
        Binding("f2,ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    FORM_FIELDS = CREDENTIAL_FIELDS
    FIELD_WIDGETS = {field_name: f"#credential-{field_name}" for field_name in CREDENTIAL_FIELDS}
    PROBLEMS_ID = "credential-{}-problems"

    def __init__(self) -> None:
        super().__init__()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="credential-dialog", classes="dialog form", can_focus=False):
            yield Static("Create new credential", classes="dialog-title")
            for field_name in CREDENTIAL_FIELDS:
                with Horizontal(classes="form-row"):
                    yield Static(LABELS[field_name], classes="field-label")
                    if field_name == "type":
                        yield Select[str](
                            [(kind, kind) for kind in TYPE_CHOICES],
                            id="credential-type",
                            value=TYPE_CHOICES[0],
                            allow_blank=False,
                            compact=True,
                        )
                    else:
                        yield Input(id=f"credential-{field_name}", placeholder=PLACEHOLDERS[field_name], compact=True)
                yield ProblemList(id=f"credential-{field_name}-problems")
            yield ProblemList(id="credential-other-problems")
            yield Static(SECRETS_NOTE, classes="dialog-note", markup=False)
            with Horizontal(classes="button-row"):
                yield Button("Save", id="credential-save", variant="primary", compact=True)
                yield Button("Cancel", id="credential-cancel", compact=True)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.existing = engine.load_project(self.courier_app.db_path)
        apply_app_settings(self)
        self.query_one("#credential-name", Input).focus()
        self.begin_editing()
        self.validate_form()

    def values(self) -> dict[str, str]:
        """Field → text as typed."""
        values = {
            field_name: self.query_one(f"#credential-{field_name}", Input).value
            for field_name in CREDENTIAL_FIELDS
            if field_name != "type"
        }
        values["type"] = cast(str, self.query_one("#credential-type", Select).value)
        return values

    def check_form(self) -> FormCheck:
        """Check the fields as saving would."""
        return check_credential_form(self.values(), self.existing)

    def form_checked(self, check: FormCheck) -> None:
        self.query_one("#credential-save", Button).disabled = not check.ok

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        if self._ready:
            # Choosing a type asks for that type's fields: show what they still need.
            field_name = (event.control.id or "").removeprefix("credential-")
            if field_name != "type":
                self.touch(field_name, cause=event)
            else:
                self.touch(*(name for name in CREDENTIAL_FIELDS if name != "name"), cause=event)
            self.validate_form()

    def action_save(self) -> None:
        if self.refuse_save():
            return
        assert self.check.document is not None
        self._save(self.values()["name"].strip(), self.check.document)

    @work(thread=True, exclusive=True, exit_on_error=False, group="config", description="Save credential")
    def _save(self, name: str, document: dict[str, Any]) -> None:
        from core import engine

        result = engine.save_credential(self.courier_app.db_path, name, document)
        self.post_message(ConfigSaved("credential", name, result.changes, result.warnings, document))

    def document_root(self) -> tuple[PathPart, ...]:
        return ("credentials", self.values()["name"].strip() or "credential")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.refused_by_engine(event):
            event.prevent_default()  # said under its field: no second notification
            return

    def on_config_saved(self, message: ConfigSaved) -> None:
        message.stop()
        self.announce_saved(f'credential "{message.name}"', message.warnings)
        self.dismiss(message.name)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#credential-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#credential-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
