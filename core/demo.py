"""The embedded demo: a local S3 server full of realistic Heap data, and a configuration to use it.

``courier demo`` starts moto's S3 server on 127.0.0.1, fills a
``heap-rs3-demo`` bucket with generated Heap Connect dumps and daily export
files, and configures couriers, feeds and a courier group, so a newcomer can
walk the whole workflow with no AWS account. The data is deterministic for a
given day.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import CourierError
from core.store import Store

DEMO_BUCKET = "heap-rs3-demo"
DEMO_PORT = 45699
"""Preferred port, so other shells (``courier run``) reach the same server; any free port otherwise."""
DEMO_CREDENTIAL = "demo-s3"
HEAP_COURIER = "Heap"
EXPORTS_COURIER = "Heap exports"
DEMO_GROUP = "Heap daily"


@dataclass
class DemoServer:
    """A running demo S3 server."""

    endpoint_url: str
    bucket: str
    today: date
    summary: dict[str, int]
    _server: Any

    def stop(self) -> None:
        """Stop the server (its data lives in memory and is gone)."""
        self._server.stop()


def default_demo_db() -> Path:
    """The first demo's database, beside (never instead of) the user's."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("courier", appauthor=False)) / "demo.db"


@dataclass
class DemoClaim:
    """A demo database this process may use, and whether a running demo already serves it.

    ``endpoint_url`` is set when another ``courier demo`` holds the database: this demo
    attaches to that demo's S3 server instead of starting one (which would rewrite the
    endpoint under the other demo's feet).
    """

    db_path: Path
    endpoint_url: str | None
    _lock: Any = None
    _guest_lock: Any = None
    """A guest's shared lock on ``<db>.demo-guests``: the owner's S3 server stays up while any is held."""

    def publish(self, endpoint_url: str) -> None:
        """Record where this demo's S3 server listens, for a second demo on the same database."""
        if self._lock is not None:
            self._lock.seek(0)
            self._lock.truncate()
            self._lock.write(endpoint_url)
            self._lock.flush()

    def wait_for_guests(self, telling: Any) -> None:
        """Owner only: before its S3 server stops, wait until no guest demo uses it any more.

        ``telling(line)`` is called once if a guest is still running, so the user knows why
        the quit waits (Ctrl-C ends the wait). A guest's lock goes with its process however it
        ends, so a dead guest never holds the owner.
        """
        if self._lock is None:
            return
        handle = _open_private(_guests_path(self.db_path))
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            handle.close()
            return
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                telling(
                    f"Another courier demo on {self.db_path} uses this demo's S3 server: it keeps serving "
                    "until that demo quits (Ctrl-C stops it now)"
                )
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        finally:
            handle.close()

    def release(self) -> None:
        """Let another demo own the database (also happens when the process ends)."""
        for handle in (self._lock, self._guest_lock):
            if handle is not None:
                handle.close()
        self._lock = self._guest_lock = None


def _lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".demo-lock")


def _guests_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".demo-guests")


def _open_private(path: Path) -> Any:
    """``path`` opened for appending, created readable by this user only (like the database)."""
    return open(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+", encoding="utf-8")  # noqa: SIM115


def _guest_lock(db_path: Path) -> Any:
    """A shared lock on ``<db>.demo-guests`` that keeps the owner's S3 server up while this guest runs.

    Raises:
        CourierError: the owner is quitting (it holds the lock exclusively while it waits).
    """
    handle = _locked(_guests_path(db_path), exclusive=False)
    if handle is None:
        raise CourierError(f"the demo on {db_path} is quitting; try again in a moment")
    return handle


def _locked(path: Path, *, exclusive: bool) -> Any | None:
    """``path`` opened private (0600) and ``flock``-ed without waiting, or ``None`` when another holds it.

    Without ``fcntl`` (Windows) the lock always succeeds.
    """
    handle = _open_private(path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return handle
    try:
        fcntl.flock(handle.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _try_lock(db_path: Path) -> Any | None:
    """An open, exclusively locked lock file beside ``db_path``, or ``None`` when a running demo holds it.

    ``flock`` locks belong to the open file, so the kernel drops them when a demo dies
    however it dies; no stale lock files to clean up. Without ``fcntl`` (Windows) every
    claim succeeds, as before.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return _locked(_lock_path(db_path), exclusive=True)  # held for the demo's life


def claim_demo_db(requested: Path | None) -> DemoClaim:
    """Choose the database a new ``courier demo`` uses, so two demos never break each other.

    Args:
        requested: ``--db``/``$COURIER_DB`` if given. When a running demo holds it, the new demo
            attaches to that demo's S3 server (``endpoint_url`` set), which then serves until
            this demo quits too (:meth:`DemoClaim.wait_for_guests`).
            Without one: ``demo.db`` in the user data directory, or ``demo-2.db``, ``demo-3.db``…
            when earlier ones are held by running demos (a later demo keeps the user's edits).

    Raises:
        CourierError: A running demo holds ``requested`` but has not started its S3 server yet.
        OSError: The directory cannot be created or the lock file opened.
    """
    if requested is not None:
        handle = _try_lock(requested)
        if handle is not None:
            return DemoClaim(requested, None, handle)
        endpoint = _lock_path(requested).read_text(encoding="utf-8").strip()
        if not endpoint:
            raise CourierError(f"a demo on {requested} is still starting; try again in a moment")
        return DemoClaim(requested, endpoint, _guest_lock=_guest_lock(requested))
    first = default_demo_db()
    for number in range(1, 1000):
        candidate = first if number == 1 else first.with_name(f"demo-{number}.db")
        handle = _try_lock(candidate)
        if handle is not None:
            return DemoClaim(candidate, None, handle)
    raise OSError(f"a thousand demos are running from {first.parent}")


def _free_port(preferred: int) -> int:
    """``preferred`` if free, else any free port (``0`` asks for any port at once)."""
    if preferred:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_demo_server(
    *, today: date | None = None, users: int = 3000, pageviews: int = 30000, port: int | None = None
) -> DemoServer:
    """Start moto's S3 server on 127.0.0.1 and fill the demo bucket."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    from core.heapgen import generate_heap_bucket

    # The server's request log would scribble over the terminal app.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    today = today or date.today()
    chosen = _free_port(DEMO_PORT if port is None else port)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=chosen, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{chosen}"
    bucket = generate_heap_bucket(DEMO_BUCKET, users=users, pageviews=pageviews, today=today)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=DEMO_BUCKET, ACL="public-read")
    # Public-read so any shell can reach the demo without keys (S3Source signs nothing for a
    # loopback endpoint when no credentials are configured).
    for key, body in bucket.objects.items():
        client.put_object(Bucket=DEMO_BUCKET, Key=key, Body=body, ACL="public-read")
    summary = dict(bucket.summary)
    return DemoServer(endpoint_url=endpoint, bucket=DEMO_BUCKET, today=today, summary=summary, _server=server)


def demo_document(endpoint_url: str) -> dict[str, Any]:
    """The demo configuration: a Heap Connect courier with feeds, a daily-files courier awaiting its feeds, a group."""
    return {
        "credentials": {
            DEMO_CREDENTIAL: {"type": "iam-credential", "region": "us-east-1", "endpoint-url": endpoint_url},
        },
        "feeds": {
            "df-hpusers": {
                "source": "Heap",
                "name": "Users",
                "primary-key": ["user_id"],
                "last-updated": "last_modified",
                "stitch": True,
                "error-threshold": 1,
                "fields": {
                    "email": {"type": "String", "tags": ["email"], "required": False},
                    "identity": {"type": "String", "tags": ["email"], "required": False},
                },
            },
            "df-hpsessn": {
                "source": "Heap",
                "name": "Sessions",
                "primary-key": ["session_id"],
                "last-updated": None,
                "stitch": False,
                "error-threshold": 1,
            },
            "df-hppgvws": {
                "source": "Heap",
                "name": "Pageviews",
                "primary-key": ["event_id"],
                "last-updated": None,
                "stitch": False,
                "error-threshold": 1,
            },
            "df-hpmigrt": {
                "source": "Heap",
                "name": "User Migrations",
                "primary-key": ["from_user_id"],
                "last-updated": None,
                "stitch": False,
                "error-threshold": 1,
            },
            "df-hpcheck": {
                "source": "Heap",
                "name": "Checkout Complete Order",
                "primary-key": ["event_id"],
                "last-updated": None,
                "stitch": False,
                "error-threshold": 1,
            },
        },
        "couriers": {
            HEAP_COURIER: {
                "plugin": "amazon-s3",
                "credential": DEMO_CREDENTIAL,
                "bucket": DEMO_BUCKET,
                "prefix": "",
                "layout": "heap-connect",
                "load-operations": {
                    "df-hpmigrt": [{"type": "load", "file": "user_migrations"}],
                    "df-hpcheck": [{"type": "load", "file": "checkout_complete_order"}],
                    "df-hpsessn": [{"type": "load", "file": "sessions"}],
                    "df-hppgvws": [{"type": "load", "file": "pageviews"}],
                    "df-hpusers": [{"type": "load", "file": "users"}],
                },
            },
            EXPORTS_COURIER: {
                "plugin": "amazon-s3",
                "credential": DEMO_CREDENTIAL,
                "bucket": DEMO_BUCKET,
                "prefix": "",
                "layout": "file-pattern",
                "entities": [
                    {
                        "object/type": "file",
                        "object/file-pattern": f"'exports/{table}-'yyyy-MM-dd'.avro'",
                        "object/land-as": {"file/tag": table, "file/content-type": "application/avro"},
                    }
                    for table in ("users", "sessions", "pageviews")
                ],
                # Amperity's placeholder: get sample files first, then add feeds and put their IDs here.
                "load-operations": {"df-xxxxxx": [{"type": "truncate"}, {"type": "load", "file": "users"}]},
            },
        },
        "courier-groups": {
            DEMO_GROUP: {
                "schedule": "30 8 * * *",
                "timezone": "America/Los_Angeles",
                "file-dates-in-zone": False,
                "enabled": True,
                "couriers": [
                    {
                        "courier": HEAP_COURIER,
                        "wait": "2h",
                        "offset": "1d",
                        "notify-when-missing": True,
                        "stop-when-missing": False,
                    }
                ],
            },
        },
    }


def configure_demo(store: Store, endpoint_url: str) -> list[str]:
    """Write the demo configuration; on later starts only the endpoint changes (the user's edits stay)."""
    from core.project import apply_document, load_project

    document = demo_document(endpoint_url)
    current = load_project(store)
    if HEAP_COURIER in current.couriers or DEMO_CREDENTIAL in current.credentials:
        document = {"credentials": document["credentials"]}
    return apply_document(store, document).changes
