"""The engine façade: one function per user action, first argument the database path.

Each function opens and closes what it needs, so the TUI and the CLI never
touch the store or SQL themselves.
"""

from __future__ import annotations

from pathlib import Path

from core.cache import CacheReport


def landing_cache(db_path: Path | str, *, prune: bool = False) -> CacheReport:
    """The landing cache's size per courier; with ``prune``, delete what no sample or cursor needs.

    See :mod:`core.cache` for the policy. Raises :class:`~core.errors.CourierError`
    when pruning is asked while a run is running.
    """
    from core.cache import cache_report
    from core.store import Store

    with Store(db_path) as store:
        return cache_report(store, prune=prune)


def stop_run(db_path: Path | str, run_id: int) -> str:
    """Ask run ``run_id`` to stop, whichever process runs it (this shell's, another's, the scheduler's).

    Returns:
        One line for the user: the run was asked to stop, or it had already ended.

    Raises:
        NotFoundError: There is no such run.
    """
    from core.runs import FINAL_STATUSES, get_run, reconcile_stale_runs, request_stop
    from core.store import Store

    with Store(db_path) as store:
        reconcile_stale_runs(store)
        run = get_run(store, run_id)
    if run.status in FINAL_STATUSES:
        return f"Run {run_id} already ended {run.status}; nothing to stop"
    request_stop(Path(db_path), run_id)
    return (f"Asked run {run_id} ({run.kind} {run.target}, pid {run.pid}) to stop: the file being loaded rolls "
            f"back (follow it with courier runs {run_id} --follow)")
