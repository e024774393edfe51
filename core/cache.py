"""The landing cache: what it holds per courier, and pruning what nothing needs any more.

Landed files are raw customer data kept beside the database
(``<db stem>-landing/<courier>/<etag>/<key>``). They are kept for three
reasons, and pruning removes every file that has none of them:

- **samples**: the newest landed file of each courier and tag (what
  ``courier samples`` and the feed editor offer first), and every file a feed
  was built from or activated with (``feeds.sample_file_id``, drafts included);
- **cursors**: the files of the dump a Heap table's cursor stands in, so a
  resumed or re-run unit reads them from disk instead of S3;
- nothing else: older daily files and earlier dumps are already in the domain
  tables, and a run downloads any file it needs again.

Files in the cache that no ``landed_files`` row knows (a removed courier,
a ``.part`` left by a killed download) are pruned too. Pruning never runs while
a run is running, since the run may be about to read what it just landed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import CourierError
from core.store import STAGING_FOLDER, Store, landing_dir, pid_alive, staging_owner, tighten_modes


@dataclass
class CourierCache:
    """One courier's share of the landing cache."""

    courier: str
    files: int = 0
    bytes: int = 0
    prunable_files: int = 0
    prunable_bytes: int = 0


@dataclass
class CacheReport:
    """The landing cache: its directory, per-courier sizes, and what pruning removed (or would remove)."""

    root: Path
    couriers: list[CourierCache] = field(default_factory=list)
    pruned_files: int = 0
    pruned_bytes: int = 0
    tightened: int = 0
    """Files and folders whose modes were made private (0600/0700)."""

    @property
    def total_bytes(self) -> int:
        """Bytes held by every courier's files."""
        return sum(item.bytes for item in self.couriers)


def cache_report(store: Store, *, prune: bool = False) -> CacheReport:
    """Measure the landing cache and, with ``prune``, delete what no sample or cursor needs.

    Args:
        store: The open database; its landing cache is ``<stem>-landing`` beside it.
        prune: Delete prunable files and their ``landed_files`` rows.

    Returns:
        Sizes per courier (before pruning) and what was pruned (or would be).

    Raises:
        CourierError: ``prune`` was asked while a run is running.
    """
    root = landing_dir(store.path)
    report = CacheReport(root=root, tightened=len(tighten_modes(store.path, deep=True)))
    if prune:
        running = store.query("SELECT id, pid FROM runs WHERE status IN ('Running', 'Stopping')")
        alive = [row for row in running if row["pid"] and pid_alive(int(row["pid"]))]
        if alive:
            raise CourierError(
                f"Run {alive[0]['id']} is running and may be reading landed files: prune the "
                "cache when no run is running"
            )
    keep = _needed_ids(store)
    known: set[Path] = set()
    per_courier: dict[str, CourierCache] = {}
    prunable: list[tuple[int, Path]] = []
    for row in store.query("SELECT id, courier, local_path FROM landed_files ORDER BY id"):
        path = Path(row["local_path"])
        entry = per_courier.setdefault(row["courier"], CourierCache(row["courier"]))
        known.update((path, path.with_name(path.name + ".etag")))
        size = _size(path) + _size(path.with_name(path.name + ".etag"))
        entry.files += 1
        entry.bytes += size
        if row["id"] not in keep:
            entry.prunable_files += 1
            entry.prunable_bytes += size
            prunable.append((int(row["id"]), path))
    strays = [
        path
        for path in _files_under(root)
        if path not in known
        and ".stop" not in path.relative_to(root).parts
        and not _staged_by_a_live_load(path.relative_to(root))
    ]
    report.couriers = sorted(per_courier.values(), key=lambda item: item.courier)
    report.pruned_files = len(prunable) + len(strays)
    report.pruned_bytes = sum(item.prunable_bytes for item in report.couriers) + sum(_size(p) for p in strays)
    if prune:
        for file_id, path in prunable:
            # The row goes first: a file the database no longer lists is a stray, never a broken sample.
            with store.atomic():
                store.execute("DELETE FROM landed_files WHERE id = ?", (file_id,))
            for item in (path, path.with_name(path.name + ".etag")):
                item.unlink(missing_ok=True)
        for path in strays:
            path.unlink(missing_ok=True)
        _remove_empty_folders(root)
    return report


def _needed_ids(store: Store) -> set[int]:
    keep: set[int] = set()
    # The newest file of each courier and tag is its sample.
    keep.update(row[0] for row in store.query("SELECT MAX(id) FROM landed_files GROUP BY courier, tag"))
    keep.update(row[0] for row in store.query("SELECT sample_file_id FROM feeds WHERE sample_file_id IS NOT NULL"))
    # The dump each cursor stands in (its files may be re-read by a resumed or repeated unit).
    keep.update(
        row[0]
        for row in store.query(
            "SELECT landed_files.id FROM landed_files JOIN cursors ON cursors.courier = landed_files.courier "
            "AND cursors.source_table = landed_files.tag AND cursors.dump_id = landed_files.dump_id"
        )
    )
    return keep


def _staged_by_a_live_load(relative: Path) -> bool:
    """A load (a run, or a feed's activation outside any run) is still reading this file of the cache.

    ``relative`` is the file's path inside the landing cache; only ``.staging/<a load's folder>/…`` counts
    (a folder elsewhere, above the database or inside a courier's files, may be named anything).
    """
    if len(relative.parts) < 3 or relative.parts[0] != STAGING_FOLDER:
        return False
    owner = staging_owner(relative.parts[1])
    return owner is not None and pid_alive(owner)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _files_under(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found: list[Path] = []
    for directory, _, files in os.walk(root):
        found.extend(Path(directory) / name for name in files)
    return found


def _remove_empty_folders(root: Path) -> None:
    if not root.is_dir():
        return
    for directory, _, _ in os.walk(root, topdown=False):
        path = Path(directory)
        if path != root and path.name != ".stop":
            try:
                path.rmdir()  # only empty folders go; the walk is bottom-up, so emptied parents go too
            except OSError:
                pass
