"""The Sources screen's data loader and the seven-step hint, without Textual."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from core.project import apply_document
from core.store import Store
from tui.forms import CourierForm, check_courier_form, check_credential_form
from tui.overview import load_overview

from .conftest import FIXED_NOW, ROLE_ARN, SAMPLE_DOCUMENT

CREDENTIAL = {"heap-s3": {"type": "iam-role-to-role", "role-arn": ROLE_ARN}}
KEYS = {"add_courier": "a", "edit": "e"}


def courier(operations: dict[str, Any]) -> dict[str, Any]:
    return {"credential": "heap-s3", "bucket": "heap-rs3-acme", "layout": "heap-connect", "load-operations": operations}


def feed(name: str, status: str = "active") -> dict[str, Any]:
    return {"source": "Heap", "name": name, "primary-key": ["user_id"], "status": status}


def hint(tmp_path: Path, document: dict[str, Any], *, landed: bool = False, loaded: bool = False) -> str:
    with Store(tmp_path / "c.db") as store:
        apply_document(store, document)
        if landed:
            store.execute(
                "INSERT INTO landed_files (courier, key, tag, size, etag, content_type, local_path, "
                "landed_at) VALUES ('Heap', 'k', 'users', 1, 'e', 'application/avro', 'p', 'now')"
            )
        if loaded:
            store.execute(
                "INSERT INTO runs (kind, target, trigger, window_kind, status, started_at, rows_read) "
                "VALUES ('courier', 'Heap', 'manual', 'all', 'Succeeded', 'now', 10)"
            )
        return load_overview(store.path, FIXED_NOW, keys=KEYS).next_step


PLACEHOLDER = {"df-xxxxxx": [{"type": "load", "file": "users"}]}
REAL = {"df-usersx01": [{"type": "load", "file": "users"}]}
GROUP = {"Daily": {"schedule": "30 8 * * *", "couriers": [{"courier": "Heap"}]}}


@pytest.mark.parametrize(
    ("document", "landed", "loaded", "expected"),
    [
        ({}, False, False, "Step 2 of 7: add a courier for the Heap bucket (press a)."),
        (
            {"couriers": {"Heap": courier({})}},
            False,
            False,
            "Step 3 of 7: get sample files: run Heap; it lands a sample file of each Heap table",
        ),
        ({"couriers": {"Heap": courier(PLACEHOLDER)}}, False, False, "Step 3 of 7"),
        ({"couriers": {"Heap": courier(PLACEHOLDER)}}, True, False, "Step 4 of 7: add a feed for each sample file"),
        (
            {"feeds": {"df-usersx01": feed("Users", "draft")}, "couriers": {"Heap": courier(PLACEHOLDER)}},
            True,
            False,
            "Step 4 of 7: activate the draft feeds (Heap:Users)",
        ),
        (
            {"feeds": {"df-usersx01": feed("Users")}, "couriers": {"Heap": courier(PLACEHOLDER)}},
            True,
            False,
            "Step 5 of 7: fix the load operations of Heap: df-xxxxxx is not a feed; use the IDs of your active feeds "
            "(press e).",
        ),
        (
            {"feeds": {"df-usersx01": feed("Users")}, "couriers": {"Heap": courier(REAL)}},
            True,
            False,
            "Step 6 of 7: run Heap to load data into the domain tables.",
        ),
        (
            {"feeds": {"df-usersx01": feed("Users")}, "couriers": {"Heap": courier(REAL)}},
            True,
            True,
            "Step 7 of 7: add Heap to a courier group with a cron schedule.",
        ),
        (
            {"feeds": {"df-usersx01": feed("Users")}, "couriers": {"Heap": courier(REAL)}, "courier-groups": GROUP},
            True,
            True,
            "All set:",
        ),
    ],
)
def test_next_step_follows_the_seven_steps(
    tmp_path: Path, document: dict[str, Any], landed: bool, loaded: bool, expected: str
) -> None:
    full = {"credentials": CREDENTIAL, **copy.deepcopy(document)} if document else {}
    assert hint(tmp_path, full, landed=landed, loaded=loaded).startswith(expected)


def test_overview_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        apply_document(store, SAMPLE_DOCUMENT)
        overview = load_overview(store.path, FIXED_NOW)
    assert [row.status for row in overview.couriers] == ["never run", "never run"]
    assert [(row.id, row.table, row.status) for row in overview.feeds][0] == ("df-pagevi01", "Heap:Pageviews", "draft")
    group = overview.groups[0]
    assert (group.schedule, group.description, group.next_run) == (
        "30 8 * * *",
        "At 08:30 AM (America/Los_Angeles)",
        "Thu 2026-11-26 08:30 PST",
    )


def test_courier_form_routes_problems_to_fields() -> None:
    from core.models import Credential, Project

    existing = Project(credentials={"heap-s3": Credential("heap-s3", "aws-profile", profile="p")})
    form = CourierForm(
        name="Heap",
        credential="heap-s3",
        bucket="heap-rs3-acme",
        prefix="",
        layout="file-pattern",
        entities_text='[{"object/file-pattern": "\'x\'", "object/land-as": {"file/content-type": "text/csv"}}]',
        load_operations_text='{"df-xxxxxx": [{"type": "load", "file": "nope"}]}',
    )
    check = check_courier_form(form, existing, None)
    assert check.errors["entities"] == ["entities[0].object/land-as.file/tag: is required"]
    assert check.errors["load-operations"] == [
        'load-operations.df-xxxxxx[0].file: "nope" matches no file/tag (known: no entities yet)'
    ]
    assert check.warnings["load-operations"][0].startswith("load-operations.df-xxxxxx: no feed has this ID yet")


def test_credential_form_never_accepts_unknown_types() -> None:
    from core.models import Project

    check = check_credential_form({"name": "x", "type": "aws-profile"}, Project())
    assert check.errors == {"profile": ["profile: is required for an aws-profile credential"]}
