"""Validation problems reach the editors' fields by their path, never by their text.

Every test here rewords every problem core makes (``reworded_problems``): if any editor read
the message to find its field, the problem would land under the wrong field or nowhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.config import validate_document
from core.models import FeedField, Project
from core.project import apply_document
from core.store import Store
from tests.conftest import REWORDED_PROBLEM
from tests.documents import example
from tests.waiting import pilot_wait
from tui.app import CourierApp
from tui.feed_form import FEED_FORM_FIELDS, FeedForm, check_feed_form
from tui.forms import CourierForm, check_courier_form, check_credential_form
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.group_editor import GROUP_FIELDS, GroupForm, MemberForm, check_group_form
from tui.widgets import ProblemList

pytestmark = pytest.mark.usefixtures("reworded_problems")
SAID = REWORDED_PROBLEM


def existing() -> Project:
    validation = validate_document(example())
    assert validation.ok
    return validation.project


def test_courier_problems_land_on_their_fields() -> None:
    form = CourierForm(
        name="Files",
        credential="nobody",
        bucket="Bad_Bucket",
        prefix="",
        layout="file-pattern",
        entities_text="""[{"object/file-pattern": "'x.avro'", "object/land-as": {"file/tag": "a b"}}]""",
        load_operations_text='{"df-users01": [{"type": "load", "file": "nope"}]}',
    )
    check = check_courier_form(form, existing(), None)
    assert check.errors == {
        "credential": [f"credential: {SAID}"],
        "bucket": [f"bucket: {SAID}"],
        "entities": [f"entities[0].object/land-as.file/tag: {SAID}"],
        "load-operations": [f"load-operations.df-users01[0].file: {SAID}"],
    }


def test_an_unknown_file_tag_is_set_aside_by_its_kind_while_the_entities_do_not_parse() -> None:
    form = CourierForm(
        name="Files",
        credential="heap",
        bucket="heap-rs3-files",
        prefix="",
        layout="file-pattern",
        entities_text="[not json",
        load_operations_text='{"df-users01": [{"type": "load", "file": "nope"}]}',
    )
    check = check_courier_form(form, existing(), None)
    assert list(check.errors) == ["entities"]  # the file/tag cannot be checked before the list parses


def test_credential_problems_land_on_their_fields() -> None:
    values = {"name": "heap", "type": "iam-role-to-role", "role-arn": "arn:aws:iam::12:role/x", "region": "Mars"}
    check = check_credential_form(values, existing())
    assert check.errors == {
        "name": ['a credential named "heap" already exists; choose another name'],  # the form's own, not core's
        "role-arn": [f"role-arn: {SAID}"],
        "region": [f"region: {SAID}"],
    }


def test_feed_problems_land_on_their_fields() -> None:
    form = FeedForm(
        feed_id="df-orders01",
        source="Heap",
        name="Orders",
        fields=[FeedField("order_id", "Integer")],
        primary_key=[],
        threshold_text="200",
        status="active",
    )
    check = check_feed_form(form, existing())
    assert check.errors == {"primary-key": [f"primary-key: {SAID}"], "error-threshold": [f"error threshold: {SAID}"]}
    # The domain table Heap:Users belongs to df-users01: a problem about the whole feed, shown under its name.
    taken = FeedForm(feed_id="df-orders01", source="Heap", name="Users", fields=form.fields, primary_key=["order_id"])
    assert check_feed_form(taken, existing()).errors == {"name": [SAID]}


def test_group_problems_land_on_their_fields_and_rows() -> None:
    form = GroupForm(
        name="Nightly",
        schedule="61 8 * * *",
        timezone="UTC",
        file_dates_in_zone=False,
        enabled=True,
        members=(MemberForm("Heap", wait="2 hours"), MemberForm("Heap")),
        run_after="Nightly",
        notify_command="",
        run_after_offset="1 day",
    )
    check = check_group_form(form, existing(), None)
    assert check.errors == {
        "schedule": [SAID],
        "couriers": [f"row 1, wait: {SAID}", f"row 2, courier: {SAID}"],
        "run-after": [SAID, f"offset: {SAID}"],
    }


async def test_a_reworded_problem_shows_under_its_field_in_the_courier_editor(
    db_path: Path, app_factory: Callable[..., CourierApp]
) -> None:
    with Store(db_path) as store:
        apply_document(store, {"credentials": example()["credentials"]})
    app = app_factory(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, CourierEditorScreen)
        app.screen.query_one("#courier-name").focus()
        await pilot.press(*"Heap")
        app.screen.query_one("#bucket").focus()
        await pilot.press(*"Bad_Bucket")
        bucket = app.screen.query_one("#bucket-problems", ProblemList)
        await pilot_wait(pilot, lambda: bool(bucket.errors))
        assert bucket.errors == [f"bucket: {SAID}"]
        assert not app.screen.query_one("#name-problems", ProblemList).errors


def test_a_refused_save_names_the_field_of_its_first_problem_from_the_structure() -> None:
    """The refusal names the field once, whether or not the field's line is labelled with its own path."""
    feed = FeedForm(feed_id="df-orders01", source="Heap", name="", fields=[FeedField("id")], primary_key=["id"])
    assert check_feed_form(feed, existing()).refusal(FEED_FORM_FIELDS) == f"name: {SAID}"
    group = GroupForm("Nightly", "", "UTC", False, True, (MemberForm("Heap", wait="soon"),), None, "")
    assert check_group_form(group, existing(), None).refusal(GROUP_FIELDS) == f"couriers: row 1, wait: {SAID}"
