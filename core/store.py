"""The SQLite store: one file holding configuration, runs, cursors and domain tables.

Keeping everything in one file is what lets a load and its cursor commit in
one transaction. The file is opened in WAL mode so the TUI, the scheduler and
``courier runs --follow`` can read while a run writes. Each thread opens its
own :class:`Store`; SQLite connections are not shared across threads.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from core.errors import CourierError, DatabaseBusyError, DiskFullError, disk_full_message, is_disk_full

DB_ENV = "COURIER_DB"
BUSY_TIMEOUT_MS = 15_000
"""How long a write waits for another process's write lock before giving up with a message naming the holder."""
BUSY_TIMEOUT_ENV = "COURIER_BUSY_TIMEOUT"
"""Seconds to wait for the write lock instead of :data:`BUSY_TIMEOUT_MS` (e.g. longer on a busy bastion)."""
MAX_BYTES_ENV = "COURIER_DB_MAX_BYTES"
"""Optional cap on the database file's size in bytes; past it writes fail as on a full disk."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "configuration, runs, landed files and cursors",
        """
        CREATE TABLE credentials (
            name TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            role_arn TEXT,
            external_id TEXT,
            profile TEXT,
            region TEXT,
            endpoint_url TEXT
        );
        CREATE TABLE couriers (
            name TEXT PRIMARY KEY,
            plugin TEXT NOT NULL DEFAULT 'amazon-s3',
            credential TEXT NOT NULL REFERENCES credentials(name),
            bucket TEXT NOT NULL,
            prefix TEXT NOT NULL DEFAULT '',
            layout TEXT NOT NULL,
            has_entities INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE entities (
            courier TEXT NOT NULL REFERENCES couriers(name) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            file_pattern TEXT NOT NULL,
            tag TEXT NOT NULL,
            content_type TEXT NOT NULL,
            optional INTEGER NOT NULL DEFAULT 0,
            header_rows INTEGER,
            separator TEXT,
            quote TEXT,
            PRIMARY KEY (courier, position)
        );
        CREATE TABLE load_operations (
            courier TEXT NOT NULL REFERENCES couriers(name) ON DELETE CASCADE,
            feed_id TEXT NOT NULL,
            feed_position INTEGER NOT NULL,
            position INTEGER NOT NULL,
            type TEXT NOT NULL,
            file TEXT,
            PRIMARY KEY (courier, feed_id, position)
        );
        CREATE TABLE feeds (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            name TEXT NOT NULL,
            primary_key TEXT NOT NULL,
            last_updated TEXT,
            stitch INTEGER NOT NULL DEFAULT 0,
            error_threshold INTEGER NOT NULL DEFAULT 1,
            has_fields INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'active',
            sample_file_id INTEGER,
            UNIQUE (source, name)
        );
        CREATE TABLE feed_fields (
            feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            required INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (feed_id, position)
        );
        CREATE TABLE courier_groups (
            name TEXT PRIMARY KEY,
            schedule TEXT,
            timezone TEXT NOT NULL DEFAULT 'UTC',
            file_dates_in_zone INTEGER NOT NULL DEFAULT 0,
            enabled INTEGER NOT NULL DEFAULT 1,
            run_after TEXT,
            notify_command TEXT
        );
        CREATE TABLE group_couriers (
            group_name TEXT NOT NULL REFERENCES courier_groups(name) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            courier TEXT NOT NULL REFERENCES couriers(name),
            wait TEXT NOT NULL DEFAULT '0m',
            offset_text TEXT NOT NULL DEFAULT '0d',
            notify_when_missing INTEGER NOT NULL DEFAULT 0,
            stop_when_missing INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (group_name, position)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            parent_id INTEGER REFERENCES runs(id),
            trigger TEXT NOT NULL,
            window_kind TEXT NOT NULL,
            window_start TEXT,
            window_end TEXT,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            files INTEGER NOT NULL DEFAULT 0,
            rows_read INTEGER NOT NULL DEFAULT 0,
            rows_inserted INTEGER NOT NULL DEFAULT 0,
            rows_updated INTEGER NOT NULL DEFAULT 0,
            rows_rejected INTEGER NOT NULL DEFAULT 0,
            message TEXT,
            stop_requested INTEGER NOT NULL DEFAULT 0,
            pid INTEGER
        );
        CREATE INDEX runs_by_target ON runs (kind, target, id);
        CREATE TABLE run_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            level TEXT NOT NULL,
            stage TEXT NOT NULL,
            message TEXT NOT NULL,
            file TEXT,
            done INTEGER,
            total INTEGER
        );
        CREATE INDEX run_events_by_run ON run_events (run_id, id);
        CREATE TABLE landed_files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            courier TEXT NOT NULL,
            key TEXT NOT NULL,
            tag TEXT NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            content_type TEXT NOT NULL,
            local_path TEXT NOT NULL,
            landed_at TEXT NOT NULL,
            file_date TEXT,
            dump_id INTEGER,
            part INTEGER,
            schema_json TEXT,
            row_count INTEGER,
            run_id INTEGER,
            UNIQUE (courier, key, etag)
        );
        CREATE TABLE cursors (
            table_name TEXT PRIMARY KEY,
            courier TEXT NOT NULL,
            source_table TEXT NOT NULL,
            dump_id INTEGER NOT NULL,
            last_part INTEGER NOT NULL,
            last_key TEXT NOT NULL,
            dump_complete INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE identity_map (
            source TEXT NOT NULL,
            from_user_id NOT NULL,
            to_user_id NOT NULL,
            PRIMARY KEY (source, from_user_id)
        );
        CREATE TABLE domain_tables (
            name TEXT PRIMARY KEY,
            feed_id TEXT,
            last_loaded_at TEXT,
            last_run_id INTEGER
        );
        """,
    ),
    (
        2,
        "scheduler state: the last slot fired per courier group",
        """
        CREATE TABLE schedule_state (
            group_name TEXT PRIMARY KEY,
            schedule TEXT NOT NULL,
            timezone TEXT NOT NULL,
            last_slot TEXT NOT NULL,
            last_run_id INTEGER,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        9,
        "rejected rows and the source-column to domain-column names of each domain table",
        """
        CREATE TABLE rejected_rows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER,
            table_name TEXT NOT NULL,
            file TEXT NOT NULL,
            position INTEGER NOT NULL,
            key TEXT,
            column_name TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX rejected_rows_by_run ON rejected_rows (run_id, id);
        CREATE INDEX rejected_rows_by_table ON rejected_rows (table_name, id);
        CREATE TABLE domain_columns (
            table_name TEXT NOT NULL,
            source_name TEXT NOT NULL,
            column_name TEXT NOT NULL,
            feed_type TEXT NOT NULL,
            source_type TEXT NOT NULL DEFAULT '',
            source_file TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (table_name, source_name)
        );
        """,
    ),
    (
        12,
        "courier group constraints get their own offset",
        """
        ALTER TABLE courier_groups ADD COLUMN run_after_offset TEXT NOT NULL DEFAULT '0d';
        """,
    ),
    (
        13,
        "typed run progress: phase, planned and done units and files, the table and file being worked on",
        """
        ALTER TABLE runs ADD COLUMN phase TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN units_planned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN units_done INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN files_to_land INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN files_landed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN files_planned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN files_done INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN current_table TEXT;
        ALTER TABLE runs ADD COLUMN current_file TEXT;
        """,
    ),
    (
        15,
        "recent read-only queries of the table review's SQL pane",
        """
        CREATE TABLE recent_queries (
            id INTEGER PRIMARY KEY,
            sql TEXT NOT NULL UNIQUE,
            ran_at TEXT NOT NULL
        );
        """,
    ),
    (
        1201,
        "a heap-connect rebuild run records the table it rebuilt",
        """
        ALTER TABLE runs ADD COLUMN window_table TEXT;
        """,
    ),
]
"""Numbered schema migrations, applied in order on open; never edit a released one."""


def default_db_path() -> Path:
    """``$COURIER_DB`` if set, else ``courier.db`` in the platform's user data directory."""
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("courier", appauthor=False)) / "courier.db"


def utc_now() -> str:
    """The current time as ISO 8601 UTC text with microseconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """An open Courier database.

    Args:
        path: The SQLite file; created (mode 0600, with its directory) when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if not str(path).strip():
            raise CourierError("The database path is empty: pass --db PATH (or set COURIER_DB) to a file name")
        self._depth = 0
        self.waiting_for: str | None = None
        """While this store waits for the write lock a sort-index build holds: the line naming the build."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Create the file ourselves so it is never world-readable, even briefly.
                descriptor = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(descriptor)
            tighten_modes(self.path)
            timeout_ms = busy_timeout_ms()
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=timeout_ms / 1000
            )
            self.conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._cap_size()
            self._migrate()
        except sqlite3.DatabaseError as error:
            if _is_locked(error):
                raise DatabaseBusyError(self.busy_message()) from None
            if is_disk_full(error):
                raise DiskFullError(disk_full_message(self.path, "opening the database")) from None
            raise CourierError(
                f"Cannot open the Courier database {self.path}: {error}; "
                "pass --db PATH (or set COURIER_DB) to use another file"
            ) from error
        except OSError as error:
            raise CourierError(
                f"Cannot create the Courier database {self.path}: {error.strerror}; "
                "pass --db PATH (or set COURIER_DB) to use another file"
            ) from error

    def _cap_size(self) -> None:
        text = os.environ.get(MAX_BYTES_ENV, "").strip()
        if not text:
            return
        if not text.isdigit() or int(text) <= 0:
            raise CourierError(f"{MAX_BYTES_ENV}={text!r} is not valid: use a size in bytes, e.g. 10000000000")
        page_size = int(self.conn.execute("PRAGMA page_size").fetchone()[0])
        self.conn.execute(f"PRAGMA max_page_count = {max(1, int(text) // page_size)}")

    def busy_message(self) -> str:
        """One line naming who holds the write lock: a run (id, target, pid) or another program."""
        holder = (
            "another program holds its write lock (e.g. an sqlite3 shell with an open transaction); close it and retry"
        )
        try:
            rows = self.conn.execute(
                "SELECT id, kind, target, pid FROM runs WHERE status IN ('Running', 'Stopping') "
                "AND (pid IS NULL OR pid != ?) ORDER BY id DESC",
                (os.getpid(),),
            ).fetchall()
        except (sqlite3.Error, AttributeError):
            rows = []
        building = index_build_in_progress(self.path)
        if building is not None:
            rows = []
            holder = f"{building}; retry when it ends (Courier's own writers wait for it by themselves)"
        for run_id, kind, target, pid in rows:
            if pid and pid_alive(int(pid)):
                holder = (
                    f'run {run_id} ({kind} "{target}", pid {pid}) is writing to it; wait for it to commit and '
                    f"retry, or stop it with courier runs stop {run_id}"
                )
                break
        return f"The Courier database {self.path} is busy: {holder}"

    def _translate(self, error: sqlite3.Error, doing: str) -> CourierError | None:
        if _is_locked(error):
            return DatabaseBusyError(self.busy_message())
        if is_disk_full(error):
            return DiskFullError(disk_full_message(self.path, doing))
        return None

    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
        for version, name, script in MIGRATIONS:
            if version in applied:
                continue
            with self.atomic():
                for statement in _statements(script):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, utc_now()))

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file."""
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @contextmanager
    def atomic(self, main_only: bool = False) -> Iterator[sqlite3.Connection]:
        """A transaction: everything inside commits together or not at all.

        Nested use becomes a savepoint, so helpers can be atomic on their own and
        still join a caller's transaction.

        Args:
            main_only: Take the write lock of the main database alone (``BEGIN``, then a write
                that changes nothing), instead of ``BEGIN IMMEDIATE``, which also opens a read
                transaction on every attached database at once. An attached database is then
                read as it is when first read inside the transaction: the fast path attaches the
                pieces of a file still being staged and reads each when it is complete.
        """
        depth = self._depth
        if depth == 0:
            self._waiting(lambda: self._begin(main_only), "starting a write")
        else:
            self.conn.execute(f"SAVEPOINT sp{depth}")
        self._depth = depth + 1
        try:
            yield self.conn
        except BaseException as error:
            self._depth = depth
            try:
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO sp{depth}")
                    self.conn.execute(f"RELEASE sp{depth}")
            except sqlite3.OperationalError:
                # SQLite may already have rolled back (e.g. after SQLITE_FULL); the cause is what matters,
                # never "cannot rollback - no transaction is active".
                if self.conn.in_transaction and depth == 0:
                    raise
            if isinstance(error, sqlite3.Error):
                translated = self._translate(error, "writing")
                if translated is not None:
                    raise translated from None
            raise
        else:
            self._depth = depth
            try:
                if depth == 0:
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute(f"RELEASE sp{depth}")
            except sqlite3.OperationalError as error:
                translated = self._translate(error, "committing")
                if depth == 0 and self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise (translated or error) from None

    def _begin(self, main_only: bool) -> None:
        if main_only:
            version = self.conn.execute("PRAGMA main.user_version").fetchone()[0]
            self.conn.execute("BEGIN")
            try:
                # Writing the header takes main's write lock (waiting like BEGIN IMMEDIATE) and nothing else.
                self.conn.execute(f"PRAGMA main.user_version = {int(version)}")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        else:
            self.conn.execute("BEGIN IMMEDIATE")

    def _waiting(self, take_lock: Callable[[], _T], doing: str) -> _T:
        """Run ``take_lock`` (a statement that takes the write lock first); wait on while a sort-index build holds it.

        A statement refused with "database is locked" changed nothing, so it can be tried again.
        While a live Courier process builds a sort index (its marker file, pid alive) the write
        lock is busy for as long as ``CREATE INDEX`` runs — 12 s at 5,000,000 rows, more on a
        larger table — so a Courier writer keeps waiting, one busy timeout after another, and
        says once what it waits for (:func:`report_lock_waits`), instead of failing; the build
        need not give the lock back. Anything else holding the lock past the busy timeout
        (another run, an ``sqlite3`` shell) is reported as before. A marker left by a killed
        build names a dead pid and is ignored.

        Raises:
            DatabaseBusyError: the lock stayed busy for the busy timeout and no build holds it.
            DiskFullError: the disk (or ``COURIER_DB_MAX_BYTES``) is full.
        """
        waited = False
        try:
            while True:
                try:
                    return take_lock()
                except sqlite3.OperationalError as error:
                    if _is_locked(error):
                        building = index_build_in_progress(self.path)
                        if building is not None:
                            if self.waiting_for is None:
                                self.waiting_for = building
                                _report_wait(self.path, building)
                            waited = True
                            # With a busy timeout of 0 the attempt returns at once: do not spin.
                            time.sleep(BUILD_WAIT_POLL_SECONDS)
                            continue
                        if waited:
                            waited = False  # the build ended as this attempt gave up: one more try
                            continue
                    raise (self._translate(error, doing) or error) from None
        finally:
            self.waiting_for = None

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`atomic`."""
        return self._depth > 0

    def execute(self, sql: str, parameters: tuple | list | dict = ()) -> sqlite3.Cursor:
        """Run one statement (outside :meth:`atomic` it commits on its own).

        Raises:
            DatabaseBusyError: Outside a transaction, another process held the write lock too long.
            DiskFullError: Outside a transaction, the disk (or ``COURIER_DB_MAX_BYTES``) is full.
        """
        if self._depth:
            return self.conn.execute(sql, parameters)
        return self._waiting(lambda: self.conn.execute(sql, parameters), "writing")

    def query(self, sql: str, parameters: tuple | list | dict = ()) -> list[sqlite3.Row]:
        """Rows of a query as :class:`sqlite3.Row` (access by column name)."""
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, parameters).fetchall()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def busy_timeout_ms() -> int:
    """The write-lock wait in milliseconds: ``COURIER_BUSY_TIMEOUT`` seconds, else :data:`BUSY_TIMEOUT_MS`."""
    text = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not text:
        return BUSY_TIMEOUT_MS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise CourierError(f"{BUSY_TIMEOUT_ENV}={text!r} is not valid: use a number of seconds, e.g. 60")
    return int(seconds * 1000)


_T = TypeVar("_T")
BUILD_WAIT_POLL_SECONDS = 0.05
"""Pause between two tries for the write lock while a sort-index build holds it (each try waits the busy timeout)."""
_lock_wait_reporter: Callable[[Path, str], None] | None = None


def report_lock_waits(reporter: Callable[[Path, str], None] | None) -> None:
    """Have ``reporter(db_path, line)`` called once each time a writer starts waiting for a sort-index build.

    The CLI prints the line on stderr, the TUI shows it as a notification; ``None`` stops reporting.
    The line names the build (``Courier is building the sort index on … (pid N)``).
    """
    global _lock_wait_reporter
    _lock_wait_reporter = reporter


def _report_wait(path: Path, building: str) -> None:
    reporter = _lock_wait_reporter
    if reporter is not None:
        try:
            reporter(path, building)
        except Exception:  # noqa: BLE001 - saying so must never stop the write
            pass


def index_build_marker(db_path: str | Path) -> Path:
    """The file that says a sort-index build holds the database's write lock: ``<db>-index-build``."""
    path = Path(db_path).expanduser()
    return path.with_name(path.name + "-index-build")


def index_build_in_progress(db_path: str | Path) -> str | None:
    """One line naming a sort-index build in progress on this database (its process alive), or ``None``."""
    try:
        text = index_build_marker(db_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    pid, _, what = text.partition(" ")
    if not pid.isdigit() or not pid_alive(int(pid)):
        return None
    return f"Courier is building the sort index {what.strip()} (pid {pid})"


def landing_dir(db_path: str | Path) -> Path:
    """The landing cache of a database: ``<stem>-landing`` beside it."""
    path = Path(db_path).expanduser()
    return path.parent / f"{path.stem}-landing"


STAGING_FOLDER = ".staging"
"""The folder of the landing cache where loads stage (see :func:`staging_dir`)."""


def staging_dir(db_path: str | Path) -> Path:
    """Where a load stages decoded files (:class:`core.fastload.Stager`): ``.staging`` in the landing cache.

    Staged rows are the landed data again, so they stay in Courier's own private (0700) directory
    on the database's disk, never in the system's temp directory. Each load stages in a folder of
    its own named by :data:`STAGING_PREFIX` and its pid; the next load deletes the folders of
    processes that are gone (a load killed midway).
    """
    return landing_dir(db_path) / STAGING_FOLDER


STAGING_PREFIX = "courier-stage-"
"""A load's own folder in :func:`staging_dir` is ``courier-stage-<pid>-<random>``: the pid says whose it is."""


def staging_owner(name: str) -> int | None:
    """The pid of the load whose staging folder (directly in :func:`staging_dir`) is called ``name``, or ``None``."""
    if not name.startswith(STAGING_PREFIX):
        return None
    pid = name[len(STAGING_PREFIX) :].split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents as 0700 (landed and staged files are customer data)."""
    missing = []
    current = Path(directory)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def tighten_modes(db_path: str | Path, *, deep: bool = False) -> list[Path]:
    """Make the database, its WAL/SHM files and the landing cache private to the user (0600 / 0700).

    Landed files hold raw customer data and the database holds the loaded
    tables, so neither may be readable by other users, whatever the umask was
    when they were made. A 0700 landing directory already closes everything in
    it to other users, so opening the store only fixes the top; ``deep`` (used by
    ``courier cache``) walks the whole cache. Only files the user owns are
    changed; returns those that were.
    """
    path = Path(db_path).expanduser()
    changed: list[Path] = []
    for item in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if _chmod_private(item, 0o600):
            changed.append(item)
    root = landing_dir(path)
    if root.is_dir() and not root.is_symlink():
        if _chmod_private(root, 0o700):
            changed.append(root)
        if deep:
            for directory, folders, files in os.walk(root):
                for name, mode in [*((f, 0o700) for f in folders), *((f, 0o600) for f in files)]:
                    if _chmod_private(Path(directory) / name, mode):
                        changed.append(Path(directory) / name)
    return changed


def _chmod_private(path: Path, mode: int) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    import stat

    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or not info.st_mode & 0o077:
        return False
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError:
        return False
    return True


def _is_locked(error: BaseException) -> bool:
    message = str(error)
    return isinstance(error, sqlite3.OperationalError) and (
        "database is locked" in message or "database is busy" in message
    )


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists (this process counts; another user's process counts too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_store(path: str | Path | None = None) -> Store:
    """Open (creating and migrating as needed) the database at ``path`` or the default location."""
    return Store(path if path is not None else default_db_path())


def where_equals(filters: dict[str, object]) -> tuple[str, list[object]]:
    """A ``WHERE a = ? AND b = ?`` clause (empty when no filter is set) and its parameters.

    ``filters`` maps trusted column names to values; ``None`` values are left out.
    """
    set_filters = {column: value for column, value in filters.items() if value is not None}
    where = f"WHERE {' AND '.join(f'{column} = ?' for column in set_filters)}" if set_filters else ""
    return where, list(set_filters.values())


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]
