"""Pilot tests of the guided setup (Amperity's steps 2–6) against the local S3 server with Heap data.

The wizard is walked by keys: credential and courier, sample files, a feed from
the users sample (activated), load operations filled in, the courier run. Bad
input in the feed editor shows inline and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import DataTable, Select, Static

from core.project import apply_document, load_project
from core.store import Store
from tests.waiting import palette_wait, pilot_wait
from tui.app import CourierApp
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.credential import CredentialScreen
from tui.screens.feed_editor import FeedEditorScreen
from tui.screens.load_operations import LoadOperationsScreen
from tui.screens.run_courier import RunCourierScreen
from tui.screens.samples import GetSamplesScreen, SampleFileScreen, SamplesScreen
from tui.screens.sources import SourcesScreen
from tui.screens.tag_picker import TagPickerScreen
from tui.screens.type_picker import TypePickerScreen
from tui.widgets import ProblemList

from ..conftest import read_avro
from .conftest import wait_for_workers

AppFactory = Callable[..., CourierApp]
SIZE = (100, 30)
PLACEHOLDER_OPERATIONS = '{"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]}'


def stored(db_path: Path) -> Any:
    with Store(db_path) as store:
        return load_project(store)


def text_of(app: CourierApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def errors(app: CourierApp, widget_id: str) -> list[str]:
    return app.screen.query_one(f"#{widget_id}", ProblemList).errors


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def paste(pilot: Any, text: str) -> None:
    """Paste into the focused widget, as a terminal's bracketed paste does."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def count_rows(db_path: Path, table: str) -> int:
    with Store(db_path) as store:
        return int(store.query(f'SELECT COUNT(*) AS n FROM "{table}"')[0]["n"])


def table_exists(db_path: Path, table: str) -> bool:
    with Store(db_path) as store:
        return bool(store.query("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)))


async def test_wizard_by_keys_from_courier_to_loaded_domain_table(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any, heap_data: Any
) -> None:
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        # Step 2: a credential and a heap-connect courier with the placeholder load operations.
        await pilot.press("a")
        assert isinstance(app.screen, CourierEditorScreen)
        await paste(pilot, "Heap")
        await pilot.press("tab", "enter", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CredentialScreen)
        await paste(pilot, "local-s3")
        await pilot.press("tab")  # type: iam-credential, the seed's, already chosen
        assert app.screen.query_one("#credential-type", Select).value == "iam-credential"
        await pilot.press("tab", "tab", "tab", "tab")
        assert app.focused is app.screen.query_one("#credential-region")
        await paste(pilot, "us-east-1")
        await pilot.press("tab")
        await paste(pilot, heap_bucket.endpoint)
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, CourierEditorScreen)
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#bucket")
        await paste(pilot, heap_bucket.name)
        await pilot.press("tab", "tab", "enter", "down", "enter")  # layout: heap-connect
        assert app.screen.query_one("#layout", Select).value == "heap-connect"
        await pilot.press("tab", "f7", "delete")  # no entities list: every Heap table
        assert app.screen.query_one("#entities").text == ""
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#load-operations")
        await pilot.press("f7")
        await paste(pilot, PLACEHOLDER_OPERATIONS)
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SourcesScreen)
        assert "press s to see them" in text_of(app, "#next-step").lower()

        # Step 3: get sample files; the run lands them, then fails on df-xxxxxx, as expected.
        await pilot.press("s")
        assert isinstance(app.screen, SamplesScreen)
        await pilot.press("g")
        assert isinstance(app.screen, GetSamplesScreen)
        assert app.screen.query_one("#samples-day").value == "2026-11-25"
        explanation = text_of(app, "#samples-explanation")
        assert 'Error running load-operations task\n  Cannot find required feeds: "df-xxxxxx"' in explanation
        assert "That is expected" in explanation
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SamplesScreen)
        samples = app.screen.query_one("#samples-table", DataTable)
        assert samples.row_count == 6
        assert samples.get_row_at(0)[1] == "users"  # newest first: users landed last
        assert "failed as expected" in text_of(app, "#samples-result")
        failure = [n for n in app._notifications if n.severity == "error"][-1]
        assert failure.title == "Heap: Failed"
        assert failure.message == 'Error running load-operations task\nCannot find required feeds: "df-xxxxxx"'

        # A file's fields and rows, then a feed from it.
        await pilot.press("enter")
        assert isinstance(app.screen, SampleFileScreen)
        await wait_for_workers(pilot)
        assert app.screen.query_one("#sample-fields", DataTable).get_row_at(0)[:3] == ["user_id", "long", "Integer"]
        sample_rows = app.screen.landed.row_count
        assert sample_rows and app.screen.query_one("#sample-rows", DataTable).row_count == sample_rows
        await pilot.press("f")

        # Step 4: the feed editor starts from the sample; key, tags, Stitch, then Activate.
        editor = app.screen
        assert isinstance(editor, FeedEditorScreen)
        assert editor.form.source == "Heap" and editor.form.name == "Users"
        assert text_of(app, "#feed-table-name") == "Domain table: Heap:Users"
        assert app.focused is editor.query_one("#feed-fields")
        key_problems = app.screen.query_one("#feed-primary-key-problems", ProblemList)
        assert key_problems.warnings == ["primary-key: none chosen yet: choose at least one field before activating"]
        await pilot.press("space")  # user_id is the primary key
        assert (key_problems.errors, key_problems.warnings) == ([], [])
        await pilot.press("down", "down", "down")  # email
        await pilot.press("enter")
        assert isinstance(app.screen, TagPickerScreen)
        await type_text(pilot, "emal")  # fuzzy
        await pilot.press("enter", "f2")
        assert app.screen is editor
        fields = {f.name: f for f in editor.form.fields}
        assert fields["email"].tags == ("email",)
        await pilot.press("tab", "tab", "space")  # past "Last updated" (generated) to Stitch
        assert editor.form.stitch is True
        await pilot.press("f5")
        await wait_for_workers(pilot)
        feed_id = editor.form.feed_id
        result = text_of(app, "#feed-result")
        assert result.startswith(f"Activated {feed_id}: {sample_rows} rows read into Heap:Users")
        assert "press l" in result

        # Step 5: fill in the real feed ID in place of df-xxxxxx.
        await pilot.press("l")
        assert isinstance(app.screen, LoadOperationsScreen)
        table = app.screen.query_one("#load-ops-table", DataTable)
        assert [str(cell) for cell in table.get_row_at(0)[:2]] == ["df-xxxxxx", "unknown ✗"]
        await pilot.press("F")
        assert f"df-xxxxxx → {feed_id} (Heap:Users)" in text_of(app, "#load-ops-changes")
        assert f'"{feed_id}": [' in text_of(app, "#load-ops-preview")
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert [str(cell) for cell in table.get_row_at(0)[:3]] == [feed_id, "active", "Heap:Users"]

        # Step 6: run the courier from the Run Courier dialog.
        await pilot.press("r")
        assert isinstance(app.screen, RunCourierScreen)
        await pilot.press("f2")
        await wait_for_workers(pilot)
        done = [n for n in app._notifications if n.title == "Heap: Succeeded"]
        assert done, [n.title for n in app._notifications]

    project = stored(db_path)
    feed = project.feeds[feed_id]
    assert (feed.table_name, feed.status, feed.primary_key, feed.stitch) == ("Heap:Users", "active", ("user_id",), True)
    assert feed.last_updated is None
    assert {f.name: f.tags for f in feed.fields or ()}["email"] == ("email",)
    operations = project.couriers["Heap"].load_operations
    assert list(operations) == [feed_id]
    assert [(step.type, step.file) for step in operations[feed_id]] == [("truncate", None), ("load", "users")]
    with Store(db_path) as store:
        run = store.query("SELECT status, rows_read FROM runs ORDER BY id DESC LIMIT 1")[0]
        users = {
            row["user_id"]
            for key, body in heap_data.objects.items()
            if key.startswith("sync_") and "/users/" in key
            for row in read_avro(body)
        }
    assert run["status"] == "Succeeded" and run["rows_read"] > 0
    assert 0 < count_rows(db_path, "Heap:Users") <= len(users)


# --- bad input in the feed editor: inline errors, nothing written ------------------------------


def land_samples(db_path: Path, bucket: Any) -> int:
    """Configure a heap-connect courier on the bucket and land its sample files; return the users file's ID."""
    from core.runs import RunWindow, list_landed_files, run_courier

    with Store(db_path) as store:
        apply_document(
            store,
            {
                "credentials": {
                    "local-s3": {"type": "iam-credential", "endpoint-url": bucket.endpoint, "region": "us-east-1"}
                },
                "couriers": {
                    "Heap": {
                        "credential": "local-s3",
                        "bucket": bucket.name,
                        "layout": "heap-connect",
                        "load-operations": {},
                    }
                },
            },
        )
    run_courier(db_path, "Heap", RunWindow.day(date(2026, 11, 25)))
    with Store(db_path) as store:
        return next(item.id for item in list_landed_files(store, "Heap") if item.tag == "users")


async def open_editor(pilot: Any, file_id: int) -> FeedEditorScreen:
    app = pilot.app
    app.action_add_feed(file_id)
    await pilot.pause()
    assert isinstance(app.screen, FeedEditorScreen)
    return app.screen


async def test_a_draft_saves_without_a_primary_key_but_does_not_activate(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        problems = app.screen.query_one("#feed-primary-key-problems", ProblemList)
        assert (problems.errors, problems.warnings) == (
            [],
            ["primary-key: none chosen yet: choose at least one field before activating"],
        )
        await pilot.press("f5")
        await wait_for_workers(pilot)
        assert app.screen is editor
        assert text_of(app, "#feed-result") == (
            "Not activated: choose the primary key first (space on a field in the table)."
        )
        assert app.focused is editor.query_one("#feed-fields")
        assert stored(db_path).feeds == {}
        await pilot.press("f2")  # Save draft
        await wait_for_workers(pilot)
        assert app.screen is editor
        assert text_of(app, "#feed-result").startswith("Saved Heap:Users")
    feed = stored(db_path).feeds[editor.form.feed_id]
    assert (feed.status, feed.primary_key) == ("draft", ())


async def test_invalid_threshold_is_shown_and_nothing_is_saved(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        await pilot.press("space")  # user_id
        editor.query_one("#feed-threshold").focus()
        await pilot.press("backspace", *"150")
        assert errors(app, "feed-error-threshold-problems") == [
            "error threshold: must be a whole percentage from 0 to 100"
        ]
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert text_of(app, "#feed-result").startswith("Not saved")
        await pilot.press("backspace", "backspace", "backspace", *"x")
        assert errors(app, "feed-error-threshold-problems") == [
            "error threshold: must be a whole percentage from 0 to 100"
        ]
        await pilot.press("f5")
        await wait_for_workers(pilot)
        assert text_of(app, "#feed-result").startswith("Not activated")
        assert app.focused is editor.query_one("#feed-threshold")
    assert stored(db_path).feeds == {}


async def test_activation_over_the_error_threshold_keeps_the_feed_a_draft(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        await pilot.press("space", "down")  # key user_id; then identity, a string…
        await pilot.press("t")  # …its type from the list: String, one up is Integer
        await pilot_wait(pilot, lambda: isinstance(app.screen, TypePickerScreen), "the type list")
        await pilot.press("up", "enter")
        await pilot_wait(pilot, lambda: app.screen is editor, "the feed editor")
        assert {f.name: f.type for f in editor.form.fields}["identity"] == "Integer"
        editor.query_one("#feed-threshold").focus()
        await pilot.press("backspace", "0")
        await pilot.press("f5")
        await wait_for_workers(pilot)
        result = editor.query_one("#feed-result", Static)
        assert result.has_class("-error")
        text = text_of(app, "#feed-result")
        assert text.startswith("Not activated: Heap:Users: ")
        assert "rows rejected, more than the feed's 0% error threshold" in text
        assert text.endswith("The feed is saved and stays a draft.")
        assert editor.check_action("load_operations", ()) is False  # no "go to load operations" offer
    feed = stored(db_path).feeds[editor.form.feed_id]
    assert (feed.status, feed.error_threshold) == ("draft", 0)
    assert not table_exists(db_path, "Heap:Users") or count_rows(db_path, "Heap:Users") == 0


async def test_fill_in_feed_ids_explains_what_it_cannot_fill(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    land_samples(db_path, heap_bucket)
    with Store(db_path) as store:
        apply_document(
            store,
            {
                "couriers": {
                    "Heap": {
                        "credential": "local-s3",
                        "bucket": heap_bucket.name,
                        "layout": "heap-connect",
                        "load-operations": {"df-xxxxxx": [{"type": "load", "file": "sessions"}]},
                    }
                }
            },
        )
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        assert isinstance(app.screen, LoadOperationsScreen)
        await pilot.press("F")
        assert errors(app, "load-ops-problems") == [
            (
                "df-xxxxxx loads sessions: no active feed was made from a sessions sample file; "
                "add a feed from one and activate it"
            )
        ]
        assert text_of(app, "#load-ops-changes") == "No feed ID could be filled in."
        await pilot.press("f2")
        await wait_for_workers(pilot)
    assert list(stored(db_path).couriers["Heap"].load_operations) == ["df-xxxxxx"]


async def test_sources_keys_and_palette_open_the_feed_screens(configured_db: Path, app_factory: AppFactory) -> None:
    app = app_factory(configured_db)
    async with app.run_test(size=SIZE) as pilot:
        assert "(press l)" not in text_of(app, "#next-step")
        await pilot.press("s")
        assert isinstance(app.screen, SamplesScreen) and app.screen.courier_name == "Heap"
        assert app.screen.query_one("#samples-empty").display
        await pilot.press("escape", "l")
        assert isinstance(app.screen, LoadOperationsScreen)
        table = app.screen.query_one("#load-ops-table", DataTable)
        assert [str(row[1]) for row in map(table.get_row_at, range(table.row_count))] == ["active", "active"]
        await pilot.press("escape", "tab")
        assert app.focused is app.screen.query_one("#feeds-table")
        assert app.screen.check_action("samples", ()) is None  # row-sensitive: couriers only
        await pilot.press("enter")
        assert isinstance(app.screen, FeedEditorScreen)
        assert (app.screen.form.feed_id, app.screen.form.table_name) == ("df-pagevi01", "Heap:Pageviews")
        assert app.screen.query_one("#feed-source-choice", Select).value == "Heap"
        await pilot.press("escape")
        assert isinstance(app.screen, SourcesScreen)
        await pilot.press("colon")
        await type_text(pilot, "sample files of heap exp")
        await palette_wait(pilot, "Sample files of Heap exports")
        await pilot.press("enter")
        assert isinstance(app.screen, SamplesScreen) and app.screen.courier_name == "Heap exports"
        await pilot.press("question_mark")
        rows = app.screen.query_one("#help-table", DataTable)
        keys = [rows.get_row_at(index)[0] for index in range(rows.row_count)]
        assert "g" in keys and "f" in keys


async def test_t_opens_a_type_list_and_esc_leaves_the_type_alone(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        before = {f.name: f.type for f in editor.form.fields}
        await pilot.press("t")  # a stray t: the list opens, nothing changes yet
        await pilot_wait(pilot, lambda: isinstance(app.screen, TypePickerScreen), "the type list")
        assert {f.name: f.type for f in editor.form.fields} == before
        await pilot.press("down", "escape")
        await pilot_wait(pilot, lambda: app.screen is editor, "the feed editor")
        assert {f.name: f.type for f in editor.form.fields} == before
        assert not editor.dirty


async def test_activation_without_loading_the_sample_file(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    from textual.widgets import Checkbox

    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        load_sample = editor.query_one("#feed-load-sample", Checkbox)
        assert load_sample.value  # Amperity's default: on
        await pilot.press("space")  # key user_id
        load_sample.focus()
        await pilot.press("space", "f5")  # untick, activate
        await wait_for_workers(pilot)
        assert text_of(app, "#feed-result").startswith(
            f"Activated {editor.form.feed_id} without loading the sample file: Heap:Users fills on the next run."
        )
        assert editor.check_action("load_operations", ()) is True  # the next step is offered
    feed = stored(db_path).feeds[editor.form.feed_id]
    assert feed.status == "active"
    assert not table_exists(db_path, "Heap:Users") or count_rows(db_path, "Heap:Users") == 0


async def test_the_expected_sample_failure_is_recognised_however_the_run_words_it(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any, monkeypatch: Any
) -> None:
    """The samples screen knows the failure is the expected one from the project and the typed progress."""
    import core.runner
    from tests.conftest import heap_document

    original = core.runner.close_run

    def reworded(store: Any, db: Path, log: Any, status: str, message: str | None) -> None:
        original(store, db, log, status, "Said otherwise" if message else message)

    monkeypatch.setattr(core.runner, "close_run", reworded)
    document = heap_document(heap_bucket.endpoint, heap_bucket.name, load_operations={}, feeds={})
    document["couriers"]["Heap"]["load-operations"] = {"df-xxxxxx": [{"type": "load", "file": "users"}]}
    with Store(db_path) as store:
        apply_document(store, document)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, SamplesScreen)
        await pilot.press("g")
        assert isinstance(app.screen, GetSamplesScreen)
        await pilot.press("f2")
        await wait_for_workers(pilot)
        assert isinstance(app.screen, SamplesScreen)
        await pilot_wait(pilot, lambda: "Landed" in text_of(app, "#samples-result"), "the run's result")
        result_text = text_of(app, "#samples-result")
        assert "failed as expected:\nSaid otherwise" in result_text
        assert "Add a feed from a file (f)" in result_text


async def test_a_save_the_stored_rows_refuse_is_shown_under_its_field_and_changes_nothing(
    db_path: Path, app_factory: AppFactory, heap_bucket: Any
) -> None:
    """A retype the loaded rows cannot take is refused by the engine at save time (the form's check cannot see
    the rows): its problem lands under the fields, by its path, with the cursor there, said once."""
    file_id = land_samples(db_path, heap_bucket)
    app = app_factory(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, file_id)
        await pilot.press("space", "f5")  # key user_id, activate: the sample file loads into Heap:Users
        await wait_for_workers(pilot)
        assert text_of(app, "#feed-result").startswith(f"Activated {editor.form.feed_id}")
        feed_id, table = editor.form.feed_id, editor.form.table_name
        rows = count_rows(db_path, table)
        names = [f.name for f in editor.form.fields]
        assert "identity" in names  # Heap's user identity: an email address in the sample data, never a number
        editor.query_one("#feed-fields", DataTable).focus()
        await pilot.press(*["down"] * names.index("identity"), "t")
        await pilot_wait(pilot, lambda: isinstance(app.screen, TypePickerScreen), "the type list")
        await pilot.press("up", "enter")  # String → Integer
        await pilot_wait(pilot, lambda: app.screen is editor, "the feed editor")
        assert next(f.type for f in editor.form.fields if f.name == "identity") == "Integer"
        assert not errors(app, "feed-fields-problems")  # the form alone cannot know the rows refuse
        app.clear_notifications()
        editor.query_one("#feed-name").focus()
        await pilot.press("f2")
        await pilot_wait(pilot, lambda: text_of(app, "#feed-result").startswith("Not saved"), "the refusal")
        [problem] = errors(app, "feed-fields-problems")
        assert problem.startswith("fields.identity.type: ") and "not Integer" in problem
        assert app.focused is editor.query_one("#feed-fields")
        assert text_of(app, "#feed-result") == f"Not saved: fields: {problem}"
        assert not list(app._notifications)  # said under the field and on the result line, not a third time
    assert next(f.type for f in stored(db_path).feeds[feed_id].fields if f.name == "identity") == "String"
    assert count_rows(db_path, table) == rows
