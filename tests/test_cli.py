"""The ``courier`` command line, run in-process through ``main``; one subprocess test for the entry point."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import tui.cli as cli
from core import __version__
from tests.documents import example

EXAMPLE_ADDED = [
    "added credential heap",
    "added feed df-users01",
    "added courier Heap",
    "added courier group Heap daily",
]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A default database the tests must never touch: --db always wins.
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "never-used-by-default.db"))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def example_file(tmp_path: Path) -> Path:
    path = tmp_path / "project.json"
    path.write_text(json.dumps(example(), indent=2), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    """Run ``courier argv``; return the exit code and stdout/stderr lines."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def config_rows(db: Path) -> dict[str, list[tuple]]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}"))
            for t in (
                "credentials",
                "couriers",
                "entities",
                "load_operations",
                "feeds",
                "feed_fields",
                "courier_groups",
                "group_couriers",
            )
        }


def assert_one_error_line(err: list[str]) -> str:
    assert len(err) == 1, err
    assert err[0].startswith("courier: ")
    assert "Traceback" not in err[0]
    return err[0]


# --- apply / export ----------------------------------------------------------------------------


def test_apply_example_prints_what_was_added(capsys: pytest.CaptureFixture[str], db: Path, example_file: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "apply", str(example_file))
    assert code == 0
    assert out == EXAMPLE_ADDED
    assert err == []
    assert config_rows(db)["couriers"][0][0] == "Heap"


def test_apply_twice_prints_nothing_to_change(capsys: pytest.CaptureFixture[str], db: Path, example_file: Path) -> None:
    run(capsys, "--db", str(db), "apply", str(example_file))
    code, out, err = run(capsys, "--db", str(db), "apply", str(example_file))
    assert (code, out, err) == (0, ["nothing to change (4 objects already up to date)"], [])


def test_export_then_apply_from_stdin_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: Path, example_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "--db", str(db), "apply", str(example_file))
    code, out, err = run(capsys, "--db", str(db), "export")
    assert (code, err) == (0, [])
    exported = "\n".join(out)
    document = json.loads(exported)
    assert set(document) == {"credentials", "couriers", "feeds", "courier-groups"}
    before = config_rows(db)
    monkeypatch.setattr(sys, "stdin", io.StringIO(exported))
    code, out, err = run(capsys, "--db", str(db), "apply", "-")
    assert code == 0
    assert out == ["nothing to change (4 objects already up to date)"]
    assert err == []
    assert config_rows(db) == before
    code, again, _ = run(capsys, "--db", str(db), "export")
    assert "\n".join(again) == exported


def test_export_of_an_empty_database(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    from core.engine import open_database

    open_database(db)  # exists but holds nothing (a path that does not exist is refused: test_cli_forgives)
    code, out, err = run(capsys, "--db", str(db), "export")
    assert (code, err) == (0, [])
    assert json.loads("\n".join(out)) == {"credentials": {}, "couriers": {}, "feeds": {}, "courier-groups": {}}


def test_db_option_wins_over_environment(
    capsys: pytest.CaptureFixture[str], db: Path, example_file: Path, tmp_path: Path
) -> None:
    run(capsys, "--db", str(db), "apply", str(example_file))
    assert db.exists()
    assert not (tmp_path / "never-used-by-default.db").exists()


def test_environment_variable_chooses_the_database(
    capsys: pytest.CaptureFixture[str], example_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "from-env.db"
    monkeypatch.setenv("COURIER_DB", str(target))
    code, out, _ = run(capsys, "apply", str(example_file))
    assert (code, out) == (0, EXAMPLE_ADDED)
    assert config_rows(target)["credentials"][0][0] == "heap"


def test_apply_dry_run_writes_nothing(capsys: pytest.CaptureFixture[str], db: Path, example_file: Path) -> None:
    code, out, err = run(capsys, "--db", str(db), "apply", "--dry-run", str(example_file))
    assert code == 0
    assert out == [f"would be {line}" for line in EXAMPLE_ADDED]
    assert all(not rows for rows in config_rows(db).values())


def test_apply_prints_warnings_on_stderr(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    document = example()
    document["couriers"]["Heap"]["load-operations"] = {"df-xxxxxx": []}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    code, out, err = run(capsys, "--db", str(db), "apply", str(path))
    assert code == 0
    assert out == EXAMPLE_ADDED
    assert err == [
        "warning: couriers.Heap.load-operations.df-xxxxxx: no feed has this ID yet; runs will land "
        'files, then fail with Cannot find required feeds: "df-xxxxxx" until you put the real feed ID here'
    ]


# --- bad input: exit 2, one clear line, nothing written ----------------------------------------


def test_invalid_json_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"credentials": {,}}')
    code, out, err = run(capsys, "--db", str(db), "apply", str(path))
    assert code == 2
    assert out == []
    line = assert_one_error_line(err)
    assert line == (
        f"courier: {path} is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 18"
    )
    assert all(not rows for rows in config_rows(db).values())


def test_validation_failure_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], db: Path, example_file: Path, tmp_path: Path
) -> None:
    run(capsys, "--db", str(db), "apply", str(example_file))
    before = config_rows(db)
    document = example()
    document["couriers"]["Heap"]["bucket"] = "heap-rs3-other"
    document["couriers"]["Heap"]["load-operations"]["df-users01"][1]["file"] = "user"
    document["courier-groups"]["Heap daily"]["schedule"] = "61 8 * * *"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    code, out, err = run(capsys, "--db", str(db), "apply", str(path))
    assert code == 2
    assert out == []
    assert err == [
        f"courier: 2 problems in {path}; nothing was changed:",
        '  couriers.Heap.load-operations.df-users01[1].file: "user" matches no file/tag (known: users)',
        "  courier-groups.Heap daily.schedule: 61 is out of range for the minute field (0-59)",
    ]
    assert config_rows(db) == before


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, "--db", str(db), "apply", str(missing))
    assert code == 2
    assert out == []
    assert assert_one_error_line(err) == f"courier: cannot read {missing}: No such file or directory"


def test_document_that_is_not_an_object_exits_2(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]")
    code, _, err = run(capsys, "--db", str(db), "apply", str(path))
    assert code == 2
    assert err == [
        f"courier: 1 problem in {path}; nothing was changed:",
        "  document: must be a JSON object, not an array",
    ]


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bogus")
    assert code == 2
    assert out == []
    line = assert_one_error_line(err)
    assert "invalid choice: 'bogus'" in line
    assert line.endswith("(see courier --help)")


def test_missing_argument_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "apply")
    assert code == 2
    assert assert_one_error_line(err) == (
        "courier: the following arguments are required: file (see courier apply --help)"
    )


def test_unusable_database_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite " * 200)
    code, _, err = run(capsys, "--db", str(bad), "export")
    assert code == 2
    line = assert_one_error_line(err)
    assert line.startswith(f"courier: Cannot open the Courier database {bad}: ")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out == f"courier {__version__}\n"


# --- cron --------------------------------------------------------------------------------------


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        moment = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)
        return moment if tz is None else moment.astimezone(tz)


def test_cron_lists_next_runs_in_zone_and_utc(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "datetime", _FrozenDatetime)
    code, out, err = run(capsys, "cron", "30 8 * * 0", "--tz", "America/Los_Angeles", "-n", "3")
    assert (code, err) == (0, [])
    # 2026-03-08 is the first Sunday of US daylight saving time: 08:30 is then 15:30 UTC, not 16:30.
    assert out == [
        "At 08:30 AM, only on Sunday (America/Los_Angeles)",
        "Daylight saving (as cronie): a fixed time in the spring gap runs once just after it; a fixed time in "
        "the repeated autumn hour runs once, at its first occurrence",
        "  Sun 2026-03-01 08:30 PST   2026-03-01 16:30 UTC",
        "  Sun 2026-03-08 08:30 PDT   2026-03-08 15:30 UTC",
        "  Sun 2026-03-15 08:30 PDT   2026-03-15 15:30 UTC",
    ]


def test_cron_defaults_to_utc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "datetime", _FrozenDatetime)
    code, out, _ = run(capsys, "cron", "0 6 * * *", "-n", "2")
    assert code == 0
    assert out == [
        "At 06:00 AM (UTC)",
        "  Sun 2026-03-01 06:00 UTC   2026-03-01 06:00 UTC",
        "  Mon 2026-03-02 06:00 UTC   2026-03-02 06:00 UTC",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cron", "61 8 * * *"], "courier: 61 is out of range for the minute field (0-59)"),
        (
            ["cron", "30 8 * *"],
            'courier: "30 8 * *" has 4 fields; a schedule has 5: minute hour day-of-month '
            "month day-of-week, e.g. 30 8 * * *",
        ),
        (
            ["cron", "30 8 * * 8"],
            "courier: 8 is out of range for the day of week field (0-7 or SUN-SAT; 0 and 7 are Sunday)",
        ),
        (
            ["cron", "30 8 * * *", "--tz", "Mars/Olympus"],
            'courier: "Mars/Olympus" is not an IANA time zone, e.g. America/Los_Angeles or UTC',
        ),
        (["cron", "30 8 * * *", "-n", "0"], "courier: -n must be 1 to 10,000"),
    ],
    ids=["minute 61", "four fields", "day of week 8", "unknown zone", "n zero"],
)
def test_bad_cron_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == []
    assert assert_one_error_line(err) == message


# --- the installed entry point -----------------------------------------------------------------


def test_installed_command_help_for_every_subcommand(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    courier = Path(sys.executable).with_name("courier")
    assert courier.exists(), f"{courier} is missing: install the package (pip install -e .)"
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if a.dest == "command"]
    commands = sorted(subparsers.choices)
    assert {"apply", "export", "cron"} <= set(commands)
    env = {**os.environ, "COURIER_DB": str(tmp_path / "help.db")}
    # The installed entry point itself, in a process of its own (each costs a Python start-up) ...
    for argv in [["--help"], ["run", "--help"]]:
        done = subprocess.run([str(courier), *argv], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, (argv, done.stderr)
        assert done.stdout.startswith("usage: courier"), argv
        assert done.stderr == "", argv
    # ... and every subcommand's help through the same main() it calls.
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "help.db"))
    for name in commands:
        with pytest.raises(SystemExit) as exited:
            cli.main([name, "--help"])
        out, err = capsys.readouterr()
        assert exited.value.code == 0, (name, err)
        assert out.startswith("usage: courier"), name
        assert err == "", name
    assert not (tmp_path / "help.db").exists(), "--help must not create a database"
