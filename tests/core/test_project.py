"""Configuration as code: apply (all or nothing), load, export, delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import core.project as project_module
from core.errors import ConfigError, NotFoundError
from core.models import (
    Courier,
    CourierGroup,
    Credential,
    Entity,
    Feed,
    FeedField,
    GroupCourier,
    LoadOperation,
    Project,
)
from core.problems import lines
from core.project import apply_document, delete_object, export_document, load_project
from core.store import Store
from tests.documents import example, rich

EXAMPLE_ADDED = [
    "added credential heap",
    "added feed df-users01",
    "added courier Heap",
    "added courier group Heap daily",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "courier.db") as opened:
        yield opened


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, for before/after comparisons."""
    names = [
        row[0]
        for row in store.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: sorted(map(tuple, store.execute(f'SELECT * FROM "{name}"')), key=repr) for name in names}


def assert_contains(full: Any, part: Any, path: str = "") -> None:
    """Every key and value of ``part`` (recursively) is in ``full``."""
    if isinstance(part, dict):
        assert isinstance(full, dict), path
        for key, value in part.items():
            assert key in full, f"{path}.{key} missing"
            assert_contains(full[key], value, f"{path}.{key}")
    elif isinstance(part, list):
        assert isinstance(full, list) and len(full) == len(part), path
        for index, (a, b) in enumerate(zip(full, part)):
            assert_contains(a, b, f"{path}[{index}]")
    else:
        assert full == part, path


EXPECTED_EXAMPLE = Project(
    credentials={
        "heap": Credential(
            name="heap",
            type="iam-role-to-role",
            role_arn="arn:aws:iam::123456789012:role/heap-reader",
            external_id="acme-42",
            profile=None,
            region="us-east-1",
            endpoint_url=None,
        )
    },
    couriers={
        "Heap": Courier(
            name="Heap",
            credential="heap",
            bucket="heap-rs3-acme",
            prefix="",
            layout="heap-connect",
            entities=(
                Entity(
                    file_pattern="'exports/users-'yyyy-MM-dd'.avro'",
                    tag="users",
                    content_type="application/avro",
                    optional=False,
                ),
            ),
            load_operations={"df-users01": (LoadOperation(type="truncate"), LoadOperation(type="load", file="users"))},
            plugin="amazon-s3",
        )
    },
    feeds={
        "df-users01": Feed(
            id="df-users01",
            source="Heap",
            name="Users",
            primary_key=("user_id",),
            last_updated="last_modified",
            stitch=True,
            error_threshold=1,
            fields=(FeedField(name="email", type="String", tags=("email",), required=False),),
            status="active",
        )
    },
    groups={
        "Heap daily": CourierGroup(
            name="Heap daily",
            schedule="30 8 * * *",
            timezone="America/Los_Angeles",
            file_dates_in_zone=False,
            enabled=True,
            run_after=None,
            notify_command=None,
            couriers=(
                GroupCourier(courier="Heap", wait="2h", offset="1d", notify_when_missing=True, stop_when_missing=False),
            ),
        )
    },
)

EXPECTED_EXAMPLE_EXPORT = {
    "credentials": {
        "heap": {
            "type": "iam-role-to-role",
            "role-arn": "arn:aws:iam::123456789012:role/heap-reader",
            "external-id": "acme-42",
            "profile": None,
            "region": "us-east-1",
            "endpoint-url": None,
        }
    },
    "couriers": {
        "Heap": {
            "plugin": "amazon-s3",
            "credential": "heap",
            "bucket": "heap-rs3-acme",
            "prefix": "",
            "layout": "heap-connect",
            "entities": [
                {
                    "object/type": "file",
                    "object/file-pattern": "'exports/users-'yyyy-MM-dd'.avro'",
                    "object/land-as": {"file/tag": "users", "file/content-type": "application/avro"},
                }
            ],
            "load-operations": {"df-users01": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
        }
    },
    "feeds": {
        "df-users01": {
            "source": "Heap",
            "name": "Users",
            "primary-key": ["user_id"],
            "last-updated": "last_modified",
            "stitch": True,
            "error-threshold": 1,
            "fields": {"email": {"type": "String", "tags": ["email"], "required": False}},
        }
    },
    "courier-groups": {
        "Heap daily": {
            "schedule": "30 8 * * *",
            "timezone": "America/Los_Angeles",
            "file-dates-in-zone": False,
            "enabled": True,
            "couriers": [
                {
                    "courier": "Heap",
                    "wait": "2h",
                    "offset": "1d",
                    "notify-when-missing": True,
                    "stop-when-missing": False,
                }
            ],
            "run-after": None,
            "notify-command": None,
        }
    },
}


# --- apply the example -----------------------------------------------------------------


def test_apply_example_writes_every_object(store: Store) -> None:
    result = apply_document(store, example())
    assert result.changes == EXAMPLE_ADDED
    assert result.unchanged == 0
    assert lines(result.warnings) == []
    assert load_project(store) == EXPECTED_EXAMPLE


def test_export_of_example_is_the_equivalent_canonical_document(store: Store) -> None:
    apply_document(store, example())
    exported = export_document(load_project(store))
    assert exported == EXPECTED_EXAMPLE_EXPORT
    # Equivalent: every value the example sets is in the export; the export only adds defaults.
    assert_contains(exported, example())
    json.dumps(exported)  # plain JSON, nothing else


@pytest.mark.parametrize("make", [example, rich, lambda: {}], ids=["example", "every option", "empty"])
def test_export_then_apply_is_a_no_op(store: Store, tmp_path: Path, make: Any) -> None:
    apply_document(store, make())
    exported = export_document(load_project(store))
    before = dump(store)
    result = apply_document(store, json.loads(json.dumps(exported)))
    assert result.changes == []
    assert result.unchanged == sum(len(objects) for objects in exported.values())
    assert dump(store) == before
    assert export_document(load_project(store)) == exported
    # Applying the export to a fresh database reproduces the same configuration.
    with Store(tmp_path / "fresh.db") as fresh:
        apply_document(fresh, exported)
        assert load_project(fresh) == load_project(store)
        assert export_document(load_project(fresh)) == exported


def test_applying_the_same_document_twice_changes_nothing(store: Store) -> None:
    apply_document(store, example())
    result = apply_document(store, example())
    assert result.changes == []
    assert result.unchanged == 4


def test_changed_courier_is_reported_as_changed(store: Store) -> None:
    apply_document(store, example())
    document = example()
    document["couriers"]["Heap"]["prefix"] = "heap/"
    result = apply_document(store, document)
    assert result.changes == ["changed courier Heap"]
    assert result.unchanged == 3
    assert load_project(store).couriers["Heap"].prefix == "heap/"


def test_changed_load_operations_replace_the_old_ones(store: Store) -> None:
    apply_document(store, example())
    document = example()
    document["couriers"]["Heap"]["load-operations"] = {"df-users01": [{"type": "load", "file": "users"}]}
    assert apply_document(store, document).changes == ["changed courier Heap"]
    assert load_project(store).couriers["Heap"].load_operations == {
        "df-users01": (LoadOperation(type="load", file="users"),)
    }
    assert store.execute("SELECT COUNT(*) FROM load_operations").fetchone()[0] == 1


def test_changed_feed_fields_replace_the_old_ones(store: Store) -> None:
    apply_document(store, example())
    document = {"feeds": example()["feeds"]}
    document["feeds"]["df-users01"]["fields"] = {"user_id": {"type": "Integer"}, "email": {"type": "String"}}
    assert apply_document(store, document).changes == ["changed feed df-users01"]
    assert [f.name for f in load_project(store).feeds["df-users01"].fields] == ["user_id", "email"]


def test_dry_run_reports_changes_and_writes_nothing(store: Store) -> None:
    before = dump(store)
    result = apply_document(store, example(), dry_run=True)
    assert result.changes == EXAMPLE_ADDED
    assert dump(store) == before
    assert load_project(store) == Project()


def test_dry_run_of_a_change_writes_nothing(store: Store) -> None:
    apply_document(store, example())
    before = dump(store)
    document = example()
    document["couriers"]["Heap"]["bucket"] = "heap-rs3-other"
    assert apply_document(store, document, dry_run=True).changes == ["changed courier Heap"]
    assert dump(store) == before


def test_objects_not_mentioned_are_left_alone(store: Store) -> None:
    apply_document(store, example())
    before = load_project(store)
    result = apply_document(store, {"credentials": {"other": {"type": "aws-profile", "profile": "acme"}}})
    assert result.changes == ["added credential other"]
    after = load_project(store)
    assert after.couriers == before.couriers
    assert after.feeds == before.feeds
    assert after.groups == before.groups
    assert set(after.credentials) == {"heap", "other"}


def test_partial_document_may_reference_stored_objects(store: Store) -> None:
    apply_document(store, example())
    result = apply_document(
        store,
        {
            "courier-groups": {
                "Weekly": {"schedule": "0 6 * * 1", "couriers": [{"courier": "Heap"}], "run-after": "Heap daily"}
            }
        },
    )
    assert result.changes == ["added courier group Weekly"]
    assert lines(result.warnings) == []


def test_placeholder_feed_id_is_saved_with_a_warning(store: Store) -> None:
    document = example()
    document["couriers"]["Heap"]["load-operations"] = {"df-xxxxxx": []}
    del document["feeds"]
    result = apply_document(store, document)
    assert lines(result.warnings) == [
        "couriers.Heap.load-operations.df-xxxxxx: no feed has this ID yet; runs will land files, then fail with "
        'Cannot find required feeds: "df-xxxxxx" until you put the real feed ID here'
    ]
    assert load_project(store).couriers["Heap"].load_operations == {"df-xxxxxx": ()}
    assert export_document(load_project(store))["couriers"]["Heap"]["load-operations"] == {"df-xxxxxx": []}


# --- all or nothing ----------------------------------------------------------------------------


def test_document_with_one_invalid_feed_writes_nothing(store: Store) -> None:
    apply_document(store, {"credentials": {"old": {"type": "aws-profile", "profile": "acme"}}})
    before = dump(store)
    document = example()
    document["feeds"]["df-bad0001"] = {"source": "Heap", "name": "Sessions", "primary-key": []}
    with pytest.raises(ConfigError) as raised:
        apply_document(store, document)
    assert lines(raised.value.problems) == [
        "feeds.df-bad0001.primary-key: choose at least one field as the primary key"
    ]
    assert dump(store) == before


def test_feed_failing_while_writing_rolls_back_everything(store: Store) -> None:
    """Two feeds claiming one domain table pass validation one by one but cannot both be written."""
    apply_document(store, {"credentials": {"old": {"type": "aws-profile", "profile": "acme"}}})
    before = dump(store)
    document = example()
    document["feeds"]["df-users02"] = {"source": "Heap", "name": "Users", "primary-key": ["id"]}
    with pytest.raises(ConfigError) as raised:
        apply_document(store, document)
    assert str(raised.value) == (
        'feeds.df-users02: the domain table "Heap:Users" already belongs to feed df-users01; choose another feed name'
    )
    assert dump(store) == before


def test_failure_in_the_last_write_rolls_back_the_earlier_ones(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = dump(store)

    def broken(store: Store, group: CourierGroup) -> None:
        raise RuntimeError("disk went away")

    monkeypatch.setattr(project_module, "_write_group", broken)
    with pytest.raises(RuntimeError):
        apply_document(store, example())
    assert dump(store) == before
    assert not store.in_transaction


def test_domain_table_clash_is_found_before_writing(store: Store) -> None:
    """A dry run (and the TUI's live validation) must see the clash a real apply would hit."""
    document = example()
    document["feeds"]["df-users02"] = {"source": "Heap", "name": "Users", "primary-key": ["id"]}
    with pytest.raises(ConfigError) as raised:
        apply_document(store, document, dry_run=True)
    assert lines(raised.value.problems) == [
        'feeds.df-users02: the domain table "Heap:Users" already belongs to feed df-users01; choose another feed name'
    ]


def test_document_with_a_secret_writes_nothing(store: Store) -> None:
    before = dump(store)
    document = example()
    document["credentials"]["heap"]["secret-access-key"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(ConfigError) as raised:
        apply_document(store, document)
    assert [p.path for p in raised.value.problems] == [("credentials", "heap", "secret-access-key")]
    assert dump(store) == before
    assert b"wJalrXUtnFEMI" not in store.path.read_bytes()


# --- delete ------------------------------------------------------------------------------------


def test_delete_refuses_a_credential_still_used(store: Store) -> None:
    apply_document(store, example())
    before = dump(store)
    with pytest.raises(ConfigError) as raised:
        delete_object(store, "credential", "heap")
    assert str(raised.value) == 'Cannot delete credential "heap": courier Heap still uses it'
    assert dump(store) == before


def test_delete_refuses_a_courier_in_a_group(store: Store) -> None:
    apply_document(store, example())
    with pytest.raises(ConfigError) as raised:
        delete_object(store, "courier", "Heap")
    assert str(raised.value) == 'Cannot delete courier "Heap": courier group Heap daily still uses it'


def test_delete_refuses_a_group_another_runs_after(store: Store) -> None:
    apply_document(store, example())
    apply_document(store, {"courier-groups": {"Later": {"couriers": [{"courier": "Heap"}], "run-after": "Heap daily"}}})
    with pytest.raises(ConfigError) as raised:
        delete_object(store, "courier group", "Heap daily")
    assert str(raised.value) == 'Cannot delete courier group "Heap daily": courier group Later still uses it'


def test_delete_unknown_object(store: Store) -> None:
    with pytest.raises(NotFoundError) as raised:
        delete_object(store, "courier", "Nope")
    assert str(raised.value) == 'There is no courier named "Nope"'


def test_delete_in_dependency_order_removes_everything(store: Store) -> None:
    apply_document(store, example())
    delete_object(store, "courier group", "Heap daily")
    delete_object(store, "courier", "Heap")
    delete_object(store, "credential", "heap")
    delete_object(store, "feed", "df-users01")
    assert load_project(store) == Project()
    for table in ("entities", "load_operations", "feed_fields", "group_couriers"):
        assert store.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


# --- one description per object --------------------------------------------------------------------


def test_the_courier_group_dataclass_is_its_one_description(store: Store) -> None:
    """Its SQL columns, document keys and defaults all come from ``CourierGroup``/``GroupCourier``'s fields."""
    from dataclasses import fields

    from core.models import document_keys, field_default, stored_columns, to_document

    table = {row["name"] for row in store.query("PRAGMA table_info(courier_groups)")}
    rows = {row["name"] for row in store.query("PRAGMA table_info(group_couriers)")} - {"group_name", "position"}
    assert set(stored_columns(CourierGroup)) == table
    assert set(stored_columns(GroupCourier)) == rows
    every = CourierGroup(
        name="Nightly",
        schedule="30 8 * * *",
        timezone="Europe/Paris",
        file_dates_in_zone=True,
        enabled=False,
        couriers=(
            GroupCourier(courier="Heap", wait="2h", offset="1d", notify_when_missing=True, stop_when_missing=True),
        ),
        run_after="Heap daily",
        run_after_offset="1d",
        notify_command="cat > /dev/null",
    )
    assert all(getattr(every, item.name) != item.default for item in fields(CourierGroup))  # every field set
    body = to_document(every)
    assert tuple(body) == document_keys(CourierGroup)
    assert tuple(body["couriers"][0]) == document_keys(GroupCourier)
    document = example()
    document["courier-groups"]["Nightly"] = body
    apply_document(store, document)
    loaded = load_project(store)
    assert loaded.groups["Nightly"] == every
    assert export_document(loaded)["courier-groups"]["Nightly"] == body
    # A document that leaves a key out means the field's declared default.
    document["courier-groups"]["Nightly"] = {"couriers": [{"courier": "Heap"}]}
    apply_document(store, document)
    bare = load_project(store).groups["Nightly"]
    assert bare.timezone == field_default(CourierGroup, "timezone")
    assert bare.couriers[0].offset == field_default(GroupCourier, "offset")
    assert "run-after-offset" not in export_document(load_project(store))["courier-groups"]["Nightly"]


def _table_columns(store: Store, table: str, parent: tuple[str, ...] = ()) -> set[str]:
    return {row["name"] for row in store.query(f"PRAGMA table_info({table})")} - set(parent)


def _round_trip(store: Store, section: str, key: str, obj: Any) -> dict[str, Any]:
    """Apply ``obj``'s document under ``section`` with the example's other objects; it loads back equal."""
    from core.models import to_document

    body = to_document(obj)
    document = example()
    document[section][key] = body
    apply_document(store, document)
    loaded = load_project(store)
    assert getattr(loaded, {"courier-groups": "groups"}.get(section, section))[key] == obj
    assert export_document(loaded)[section][key] == body
    return body


def test_the_credential_dataclass_is_its_one_description(store: Store) -> None:
    """Its SQL columns, document keys, validation (required, choices, patterns) and defaults come from ``Credential``."""
    from dataclasses import fields

    from core.config import validate_document
    from core.models import document_keys, stored_columns

    assert set(stored_columns(Credential)) == _table_columns(store, "credentials")
    every = Credential(
        name="keys",
        type="iam-credential",
        role_arn="arn:aws:iam::123456789012:role/r",
        external_id="ext-1",
        profile="p",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9000",
    )
    assert all(getattr(every, item.name) is not item.default for item in fields(Credential))
    body = _round_trip(store, "credentials", "keys", every)
    assert tuple(body) == document_keys(Credential)
    # Required (no default), choices and patterns are read from the fields' metadata.
    problems = validate_document({"credentials": {"c": {"type": "nope", "region": "Mars"}}}).errors
    assert [(p.path[-1], p.message) for p in problems] == [
        ("type", '"nope" is not one of iam-role-to-role, aws-profile, iam-credential'),
        ("region", '"Mars" is not valid: expected an AWS region such as us-east-1'),
    ]


def test_the_courier_dataclasses_are_its_one_description(store: Store) -> None:
    """``Courier``, ``Entity`` and ``LoadOperation`` give the courier's columns, document keys and defaults."""
    from core.models import document_keys, field_default, stored_columns

    assert set(stored_columns(Courier)) == _table_columns(store, "couriers")
    assert set(stored_columns(Entity)) == _table_columns(store, "entities", ("courier", "position"))
    assert set(stored_columns(LoadOperation)) == _table_columns(
        store, "load_operations", ("courier", "feed_id", "feed_position", "position")
    )
    every = Courier(
        name="Files",
        plugin="amazon-s3",
        credential="heap",
        bucket="heap-rs3-files",
        prefix="exports/",
        layout="file-pattern",
        entities=(
            Entity(
                file_pattern="'users-'yyyy-MM-dd'.csv'",
                tag="users",
                content_type="text/csv",
                header_rows=1,
                separator=";",
                quote="'",
                optional=True,
            ),
        ),
        load_operations={"df-users01": (LoadOperation(type="truncate"), LoadOperation(type="load", file="users"))},
    )
    body = _round_trip(store, "couriers", "Files", every)
    assert tuple(body) == document_keys(Courier)
    assert tuple(body["entities"][0]) == document_keys(Entity)
    assert tuple(body["entities"][0]["object/land-as"]) == document_keys(Entity, within="object/land-as")
    assert tuple(body["load-operations"]["df-users01"][1]) == document_keys(LoadOperation)
    # A document that leaves a key out means the field's declared default.
    bare = example()
    bare["couriers"]["Bare"] = {
        "credential": "heap",
        "bucket": "heap-rs3-bare",
        "entities": [{"object/file-pattern": "'a.avro'", "object/land-as": {"file/tag": "a"}}],
    }
    apply_document(store, bare)
    courier = load_project(store).couriers["Bare"]
    assert (courier.prefix, courier.layout, courier.plugin, courier.load_operations) == (
        field_default(Courier, "prefix"),
        field_default(Courier, "layout"),
        field_default(Courier, "plugin"),
        {},
    )
    assert courier.entities == (Entity(file_pattern="'a.avro'", tag="a"),)
    assert courier.entities[0].content_type == field_default(Entity, "content_type")


def test_the_feed_dataclasses_are_its_one_description(store: Store) -> None:
    """``Feed`` and ``FeedField`` give the feed's columns, document keys and defaults."""
    from dataclasses import fields

    from core.models import document_keys, field_default, stored_columns

    assert set(stored_columns(Feed)) == _table_columns(store, "feeds") - {"sample_file_id"}  # written by activation
    assert set(stored_columns(FeedField)) == _table_columns(store, "feed_fields", ("feed_id", "position"))
    every = Feed(
        id="df-orders01",
        source="Shop",
        name="Orders",
        primary_key=("order_id", "line"),
        last_updated="updated_at",
        stitch=True,
        error_threshold=5,
        fields=(
            FeedField("order_id", "Integer", ("pk",), True),
            FeedField("line", "Integer"),
            FeedField("updated_at", "Datetime"),
        ),
        status="draft",
    )
    assert all(getattr(every, item.name) != item.default for item in fields(Feed))
    body = _round_trip(store, "feeds", "df-orders01", every)
    assert tuple(body) == document_keys(Feed)
    assert tuple(body["fields"]["order_id"]) == document_keys(FeedField)
    bare = example()
    bare["feeds"]["df-orders01"] = {"source": "Shop", "name": "Orders", "primary-key": ["id"], "fields": {"id": {}}}
    apply_document(store, bare)
    feed = load_project(store).feeds["df-orders01"]
    assert (feed.last_updated, feed.stitch, feed.error_threshold, feed.status) == tuple(
        field_default(Feed, name) for name in ("last_updated", "stitch", "error_threshold", "status")
    )
    assert feed.fields == (FeedField("id"),)
    assert "status" not in export_document(load_project(store))["feeds"]["df-orders01"]


def test_a_field_added_to_a_model_reaches_the_document_the_table_and_validation() -> None:
    """Declaring a field once is enough for its document key, SQL column, export, load and validation."""
    import re
    from dataclasses import dataclass

    from core.config import Validation, _Reader
    from core.models import described, document_keys, from_row, stored_columns, to_document, to_row

    @dataclass(frozen=True)
    class Wider(Credential):
        session_name: str | None = described(None, pattern=re.compile(r"^[a-z]+$"), hint="lowercase letters")

    assert document_keys(Wider)[-1] == "session-name"
    assert stored_columns(Wider)[-1] == "session_name"
    wider = Wider(name="c", type="aws-profile", profile="p", session_name="nightly")
    assert to_document(wider)["session-name"] == "nightly"
    assert from_row(Wider, dict(zip(stored_columns(Wider), to_row(wider), strict=True))) == wider
    validation = Validation()
    reader = _Reader(
        validation, ("credentials", "c"), {"type": "aws-profile", "session-name": "Bad!"}, document_keys(Wider)
    )
    assert reader.field(Wider, "session_name") is None
    assert [str(problem) for problem in validation.errors] == [
        'credentials.c.session-name: "Bad!" is not valid: lowercase letters'
    ]
