"""Step 1 of 7, Get details: what to have at hand before adding a courier, and a test of the connection."""

from __future__ import annotations

from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Select, Static

from core import engine
from core.models import Courier
from tui.forms import CourierForm, preview_courier
from tui.messages import ConnectionTested
from tui.screens.base import AppAccess, ReportsWorkerFailures, apply_app_settings
from tui.widgets.footer import CourierFooter
from tui.widgets.form_row import form_row

NEEDS = """Before adding a courier (Amperity's "Get details"), have at hand:

  1. Heap Connect for Amazon S3 set up by Heap, exporting to your bucket.
  2. How Courier reaches the bucket: a role ARN and the external ID Heap's
     bucket policy expects (iam-role-to-role), an AWS profile (aws-profile),
     or access keys in the environment (iam-credential).
  3. The bucket name, usually heap-rs3-<your company>, and any prefix.
  4. Which Heap tables to load (users, sessions, pageviews, events…).

Then test the connection below (F4), and add the courier (F6)."""


class DetailsScreen(AppAccess, ReportsWorkerFailures, Screen[None]):
    """What step 1 asks for, with a connection test on a stored credential and a bucket."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f4", "test_connection", "Test connection"),
        Binding("f6", "add_courier", "Add courier"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="details-form", classes="form", can_focus=False):
            yield Static(NEEDS, id="details-needs", markup=False)
            yield form_row(
                "Credential",
                Select[str](
                    [], id="details-credential", prompt="None yet: add one with the courier (F6)", compact=True
                ),
            )
            yield form_row("Bucket", Input(id="details-bucket", placeholder="heap-rs3-…", compact=True))
            yield form_row("Prefix", Input(id="details-prefix", placeholder="optional, e.g. heap/", compact=True))
            yield Static("", id="details-result", markup=False)
        yield CourierFooter()

    def on_mount(self) -> None:
        self.title = "Step 1 of 7: Get details"
        self.existing = engine.load_project(self.courier_app.db_path)
        select = self.query_one("#details-credential", Select)
        select.set_options(
            [(f"{name} ({credential.type})", name) for name, credential in self.existing.credentials.items()]
        )
        if self.existing.credentials:
            select.value = next(iter(self.existing.credentials))
        apply_app_settings(self)
        self.query_one("#details-bucket", Input).focus()

    def action_test_connection(self) -> None:
        credential = self.query_one("#details-credential", Select).value
        form = CourierForm(
            name="details",
            credential=cast(str, credential) if isinstance(credential, str) else None,
            bucket=self.query_one("#details-bucket", Input).value,
            prefix=self.query_one("#details-prefix", Input).value,
            layout="heap-connect",
            entities_text="",
            load_operations_text="{}",
        )
        courier = preview_courier(form, self.existing)
        if isinstance(courier, str):
            self._show(courier)
            return
        self._show(f"Connecting to s3://{courier.bucket}/{courier.prefix}…")
        self._test(courier)

    @work(thread=True, exclusive=True, exit_on_error=False, group="test", description="Test connection")
    def _test(self, courier: Courier) -> None:
        self.post_message(ConnectionTested(engine.test_connection(self.courier_app.db_path, courier)))

    def on_connection_tested(self, message: ConnectionTested) -> None:
        self._show(message.line)

    def _show(self, text: str) -> None:
        result = self.query_one("#details-result", Static)
        result.update(text)
        self.call_after_refresh(result.scroll_visible)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_test_connection()

    def action_add_courier(self) -> None:
        self.dismiss()
        self.courier_app.action_add_courier()

    def action_back(self) -> None:
        self.dismiss()
