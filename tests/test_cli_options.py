"""The command line's own plumbing: where ``--db`` may go, that it never writes the environment, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from core.engine import open_database
from tests.documents import example
from tui import cli


def test_db_after_the_subcommand_is_the_same_as_before_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURIER_DB", str(tmp_path / "not-this.db"))
    project = tmp_path / "project.json"
    project.write_text(json.dumps(example()), encoding="utf-8")
    before, after = tmp_path / "before.db", tmp_path / "after.db"
    assert cli.main(["--db", str(before), "apply", str(project)]) == 0
    assert cli.main(["apply", str(project), "--db", str(after)]) == 0
    assert cli.main(["runs", f"--db={after}"]) == 0
    out = capsys.readouterr().out
    assert before.exists() and after.exists()
    assert not (tmp_path / "not-this.db").exists()
    assert out.splitlines()[-1] == "No runs yet: courier run COURIER"


def test_db_option_does_not_write_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COURIER_DB", raising=False)
    open_database(tmp_path / "c.db")  # export refuses a path that does not exist
    assert cli.main(["--db", str(tmp_path / "c.db"), "export"]) == 0
    assert "COURIER_DB" not in os.environ


@pytest.mark.parametrize(
    ("argv", "hoisted"),
    [
        (["runs", "--db", "x.db", "--limit", "3"], ["--db", "x.db", "runs", "--limit", "3"]),
        (["table", "Heap:Users", "--db=x.db"], ["--db=x.db", "table", "Heap:Users"]),
        (["apply", "-", "--", "--db", "y"], ["apply", "-", "--", "--db", "y"]),
        (["--db", "x.db", "tables"], ["--db", "x.db", "tables"]),
    ],
)
def test_hoisting_global_options(argv: list[str], hoisted: list[str]) -> None:
    assert cli.hoist_global_options(argv) == hoisted


def test_first_signal_requests_a_stop_and_the_second_aborts(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGINT)
    with cli.stop_on_signals("stopping (again to abort)") as stop:
        handler = signal.getsignal(signal.SIGINT)
        assert callable(handler)
        handler(signal.SIGINT, None)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGINT) is before
    assert capsys.readouterr().err == "courier: stopping (again to abort)\n"


def test_exit_statuses_are_typed() -> None:
    assert (cli.Exit.OK, cli.Exit.FAILED, cli.Exit.BAD_INPUT) == (0, 1, 2)
