"""Two ``courier demo`` processes never share a database behind each other's back (issue 14, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.demo import claim_demo_db
from core.errors import CourierError


@pytest.fixture(autouse=True)
def _user_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_second_demo_gets_its_own_database_and_the_first_is_reused_once_free(tmp_path: Path) -> None:
    first = claim_demo_db(None)
    second = claim_demo_db(None)
    try:
        assert first.db_path.name == "demo.db"
        assert second.db_path.name == "demo-2.db"
        assert first.endpoint_url is None and second.endpoint_url is None
    finally:
        first.release()
    third = claim_demo_db(None)
    try:
        assert third.db_path == first.db_path
    finally:
        third.release()
        second.release()


def test_a_demo_on_a_held_database_attaches_to_the_running_demos_server(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    owner = claim_demo_db(db)
    try:
        with pytest.raises(CourierError, match="still starting"):
            claim_demo_db(db)
        owner.publish("http://127.0.0.1:45123")
        guest = claim_demo_db(db)
        assert guest.db_path == db
        assert guest.endpoint_url == "http://127.0.0.1:45123"
        guest.release()
    finally:
        owner.release()
    again = claim_demo_db(db)
    try:
        assert again.endpoint_url is None
    finally:
        again.release()


def test_the_owner_keeps_its_server_up_until_the_guest_demo_quits(tmp_path: Path) -> None:
    """Issue 14, item 3: quitting the demo that owns the S3 server must not break a guest demo."""
    import os
    import stat
    import threading

    from tests.waiting import wait_for

    db = tmp_path / "shared.db"
    owner = claim_demo_db(db)
    owner.publish("http://127.0.0.1:45123")
    guest = claim_demo_db(db)
    told: list[str] = []
    done = threading.Event()

    def quit_owner() -> None:
        owner.wait_for_guests(told.append)
        done.set()

    quitting = threading.Thread(target=quit_owner, daemon=True)
    quitting.start()
    wait_for(lambda: told, "the owner to say it waits for the guest")
    assert "uses this demo's S3 server: it keeps serving until that demo quits" in told[0]
    assert not done.is_set()  # still serving: the guest runs
    late = claim_demo_db(db)  # a guest arriving now is waited for too
    guest.release()
    assert not done.is_set()
    late.release()
    quitting.join(timeout=60)
    assert done.is_set() and len(told) == 1
    owner.release()
    for name in ("shared.db.demo-lock", "shared.db.demo-guests"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    # Without a guest the owner does not wait and says nothing.
    alone = claim_demo_db(db)
    alone.wait_for_guests(told.append)
    alone.release()
    assert len(told) == 1


def test_courier_demo_on_a_held_database_runs_against_the_owners_server_and_says_where_its_database_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.cli as cli
    from core.demo import configure_demo, start_demo_server
    from core.store import open_store

    db = tmp_path / "shared.db"
    monkeypatch.setenv("COURIER_DB", str(db))
    owner = claim_demo_db(db)
    server = start_demo_server(users=60, pageviews=200, port=0)
    try:
        owner.publish(server.endpoint_url)
        with open_store(db) as store:
            configure_demo(store, server.endpoint_url)
        code = cli.main(["--db", str(db), "demo", "--headless"])
        out, err = capsys.readouterr()
    finally:
        server.stop()
        owner.release()
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0].startswith(
        f"Demo database {db} (a running demo owns it: using its S3 server at {server.endpoint_url}"
    )
    assert lines[-1].startswith(f"Demo database {db} kept. Open it again with: courier --db {db} tables")
    assert "Heap:Users" in out
