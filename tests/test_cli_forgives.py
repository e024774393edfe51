"""The CLI forgives (issue 14, item 11): names ignore case when only one fits, "did you mean" otherwise, and
commands that read never create a database where there is none."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from core.errors import NotFoundError
from core.lookup import match_name
from tests.documents import example
from tests.test_cli import assert_one_error_line, run
from tests.tui.runs_tables_data import build_pageviews


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "never-used-by-default.db"))


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "cli.db"
    project = tmp_path / "project.json"
    project.write_text(json.dumps(example()), encoding="utf-8")
    assert run(capsys, "--db", str(path), "apply", str(project))[0] == 0
    return path


def test_a_name_in_another_case_means_the_one_stored_name(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "samples", "heap")
    assert (code, err) == (0, [])
    assert out == ['No landed files yet: courier run "Heap" (with {} load operations) lands samples']
    code, out, err = run(capsys, "--db", str(db), "group", "preview", "HEAP DAILY", "-n", "1")
    assert code == 0 and err == []
    assert out[0].startswith("Heap daily: ")


def test_a_misspelt_name_gets_did_you_mean(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "samples", "Hepa")
    assert (code, out) == (2, [])
    assert assert_one_error_line(err) == 'courier: There is no courier named "Hepa"; did you mean "Heap"?'
    code, out, err = run(capsys, "--db", str(db), "group", "run", "heap dialy", "--day", "2026-11-25")
    assert (code, out) == (2, [])
    assert (
        assert_one_error_line(err)
        == 'courier: There is no courier group named "heap dialy"; did you mean "Heap daily"?'
    )


def test_a_name_two_stored_names_share_ignoring_case_is_refused_naming_both() -> None:
    with pytest.raises(NotFoundError) as caught:
        match_name("heap", ["Heap", "HEAP", "Web"], "courier", plural="couriers")
    assert str(caught.value) == 'There is no courier named "heap"; ignoring case, "HEAP" or "Heap" match: which one?'
    assert match_name("Heap", ["Heap", "HEAP"], "courier", plural="couriers") == "Heap"


def test_a_name_nothing_is_close_to_lists_the_stored_names() -> None:
    with pytest.raises(NotFoundError) as caught:
        match_name("Nope", ["Web", "Heap"], "courier", plural="couriers")
    assert str(caught.value) == 'There is no courier named "Nope" (couriers: Heap, Web)'


def test_table_names_ignore_case_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "tables.db"
    build_pageviews(path, 5)
    code, out, err = run(
        capsys, "--db", str(path), "table", "heap:pageviews", "--columns", "event_id", "--format", "jsonl"
    )
    assert (code, err) == (0, [])
    assert len(out) == 5
    code, out, err = run(capsys, "--db", str(path), "profile", "Heap:Pageview", "country")
    assert (code, out) == (2, [])
    assert (
        assert_one_error_line(err) == 'courier: There is no domain table "Heap:Pageview"; did you mean '
        '"Heap:Pageviews"?'
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["tables"],
        ["table", "Heap:Users"],
        ["runs"],
        ["runs", "1"],
        ["export"],
        ["samples", "Heap"],
        ["group", "preview", "Heap daily"],
        ["group", "crontab", "Heap daily"],
        ["rejects"],
        ["cache"],
        ["query", "SELECT 1"],
        ["profile", "Heap:Users", "user_id"],
        ["run", "Heap", "--day", "2026-11-25"],
    ],
)
def test_commands_on_a_database_that_does_not_exist_say_so_and_create_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    missing = tmp_path / "typo" / "courer.db"
    code, out, err = run(capsys, "--db", str(missing), *argv)
    assert (code, out) == (2, [])
    line = assert_one_error_line(err)
    assert line.startswith(f"courier: there is no Courier database at {missing} (nothing was created)")
    assert not missing.exists() and not missing.parent.exists()


def test_the_default_database_is_not_created_by_a_read_either(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "tables")
    assert code == 2
    assert "there is no Courier database at" in assert_one_error_line(err)
    assert not (tmp_path / "never-used-by-default.db").exists()


def test_apply_and_cron_still_work_without_a_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    assert run(capsys, "--db", str(fresh), "cron", "0 6 * * *", "-n", "1")[0] == 0
    assert not fresh.exists()
    document = copy.deepcopy(example())
    project = tmp_path / "project.json"
    project.write_text(json.dumps(document), encoding="utf-8")
    assert run(capsys, "--db", str(fresh), "apply", str(project))[0] == 0
    assert fresh.exists()
