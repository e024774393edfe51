"""The ``courier`` command line: a thin layer over ``core``.

Exit status: 0 on success, 1 when a run fails, 2 on bad input. Errors are
printed as one clear line on stderr, never as a traceback. Textual is only
imported by the commands that open the app.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import CourierError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(CourierError):
    """The command line itself is wrong."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="courier",
        description="Pull Heap Connect exports from Amazon S3 into local SQLite domain tables.",
        epilog="Run 'courier demo' to try everything against an embedded S3 with realistic Heap data.",
    )
    parser.add_argument("--version", action="version", version=f"courier {__version__}")
    parser.add_argument("--db", metavar="PATH", help="the Courier database (default: $COURIER_DB or the "
                        "user data directory)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    apply = commands.add_parser("apply", help="validate a project file and write it (all or nothing)",
                                description="Validate a JSON project document and write every object it "
                                "defines in one transaction. Objects it does not mention are left alone.")
    apply.add_argument("file", help="the project file, or - for standard input")
    apply.add_argument("--dry-run", action="store_true", help="validate and show what would change")
    apply.set_defaults(handler=_cmd_apply)

    export = commands.add_parser("export", help="print the configuration as a project document",
                                 description="Print the whole configuration as JSON; 'courier export | "
                                 "courier apply -' changes nothing.")
    export.set_defaults(handler=_cmd_export)

    cron = commands.add_parser("cron", help="describe a cron expression and list its next runs",
                               description="Show what a 5-field cron expression means and when it runs next, "
                               "in a time zone and in UTC.")
    cron.add_argument("expression", help='five fields, e.g. "30 8 * * *" (day of week 0-6, Sunday = 0)')
    cron.add_argument("--tz", default="UTC", help="IANA time zone (default UTC)")
    cron.add_argument("-n", type=int, default=10, help="how many runs to list (default 10)")
    cron.set_defaults(handler=_cmd_cron)

    group = commands.add_parser("group", help="run, preview or export the schedule of a courier group",
                                description="Courier groups run couriers as one unit, by hand or on a cron "
                                "schedule (see courier scheduler).")
    group_commands = group.add_subparsers(dest="group_command", metavar="ACTION", parser_class=_Parser,
                                          required=True)
    group_run = group_commands.add_parser(
        "run", help="run a courier group now",
        description="Run every courier of a group in order, with its wait times, missing-data rules and "
        "constraint. A day, a period or all data is used exactly, with no offset; --scheduled runs the "
        "window of the latest scheduled slot, offsets applied (the crontab line uses it).")
    group_run.add_argument("name", help="the group's name")
    _window_arguments(group_run)
    group_run.add_argument(
        "--scheduled", action="store_true", help="run as the schedule would now: the latest slot's file windows")
    group_run.add_argument("--json", action="store_true", help="print one JSON object with the final status, "
                           "counts and courier runs")
    group_run.set_defaults(handler=_cmd_group_run)
    group_preview = group_commands.add_parser(
        "preview", help="the next scheduled runs with their file windows and DST notes",
        description="List a group's next runs in its zone and in UTC, with daylight-saving notes and the "
        "file dates each courier would load.")
    group_preview.add_argument("name", help="the group's name")
    group_preview.add_argument("-n", type=int, default=10, help="how many runs to list (default 10)")
    group_preview.set_defaults(handler=_cmd_group_preview)
    group_crontab = group_commands.add_parser(
        "crontab", help="print a crontab line that runs the group on its schedule",
        description="Print crontab lines for people who prefer system cron to courier scheduler.")
    group_crontab.add_argument("name", help="the group's name")
    group_crontab.add_argument("--log", metavar="PATH", help="where the runs' output goes (default: "
                               "courier-cron.log beside the database)")
    group_crontab.set_defaults(handler=_cmd_group_crontab)

    scheduler = commands.add_parser(
        "scheduler", help="run due courier groups (foreground, for systemd, tmux or nohup)",
        description="Run enabled courier groups when their schedules come due, until stopped (SIGTERM or "
        "Ctrl-C: the file being loaded rolls back). One scheduler per database. A slot missed while it was "
        "not running runs once on start.")
    scheduler.add_argument("--once", action="store_true", help="run whatever is due now and exit (for system cron)")
    scheduler.add_argument("--now", help=argparse.SUPPRESS)
    scheduler.set_defaults(handler=_cmd_scheduler)

    run = commands.add_parser("run", help="run a courier for a day, a period or all data",
                              description="Run a courier: find and land its files, then run its load "
                              "operations. Events stream as they happen.")
    run.add_argument("courier", help="the courier's name")
    _window_arguments(run)
    run.add_argument("--json", action="store_true", help="print one JSON object with the final status and counts")
    run.set_defaults(handler=_cmd_run)

    runs = commands.add_parser("runs", help="run history, one run's log, or stop a run",
                               description="List runs newest first, show one run's events, or stop a run "
                               "('courier runs stop ID': any run, started from this shell, another one or the "
                               "scheduler; the file being loaded rolls back).")
    runs.add_argument("run_id", nargs="?", metavar="ID", help="show this run's log (or: stop ID)")
    runs.add_argument("stop_id", nargs="?", metavar="ID", help=argparse.SUPPRESS)
    runs.add_argument("--follow", action="store_true", help="keep printing new events until the run ends")
    runs.add_argument("--limit", type=int, default=20, help="how many runs to list (default 20)")
    runs.set_defaults(handler=_cmd_runs)

    cache = commands.add_parser(
        "cache", help="the landing cache: size per courier; --prune deletes files nothing needs",
        description="Show how much the landing cache (raw landed files, beside the database) holds per courier, "
        "and make it private (0700/0600). --prune deletes every landed file that no sample (the newest file of "
        "each courier and tag, or a feed's sample file) and no cursor (the dump a Heap table stands in) needs; "
        "a later run downloads again whatever it needs.")
    cache.add_argument("--prune", action="store_true", help="delete the files nothing needs")
    cache.set_defaults(handler=_cmd_cache)

    samples = commands.add_parser("samples", help="a courier's landed sample files, newest first",
                                  description="List the files a courier has landed, newest first, with their "
                                  "schema and row count; --show ID prints a file's fields and rows.")
    samples.add_argument("courier", help="the courier's name")
    samples.add_argument("--show", type=int, metavar="ID", help="print this file's fields and up to 200 rows")
    samples.set_defaults(handler=_cmd_samples)

    tables = commands.add_parser("tables", help="domain tables with row counts and last load")
    tables.set_defaults(handler=_cmd_tables)

    table = commands.add_parser("table", help="print rows of a domain table",
                                description='Print the first rows of a domain table, e.g. courier table "Heap:Users".')
    table.add_argument("name", help="the table's exact name, e.g. Heap:Users")
    table.add_argument("--limit", type=int, default=20, help="rows to print (default 20)")
    table.set_defaults(handler=_cmd_table)

    demo = commands.add_parser("demo", help="try Courier on an embedded S3 with realistic Heap data",
                               description="Start a local S3 server with generated Heap Connect data, configure "
                               "couriers, feeds and a group for it in the demo database, and open the app. "
                               "No AWS account needed.")
    demo.add_argument("--headless", action="store_true",
                      help="no app: load the demo into domain tables and print the results")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _window_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--day", metavar="D", help="load data from a specific day (YYYY-MM-DD; default today, UTC)")
    group.add_argument("--from", dest="start", metavar="D", help="first day of a period (with --to)")
    group.add_argument("--all", action="store_true", help="load all data")
    parser.add_argument("--to", dest="end", metavar="D", help="day after the period's last day (end exclusive)")


def window_from_args(args: argparse.Namespace) -> Any:
    """The run window the command line asks for."""
    from core.runs import RunWindow

    if args.end and not args.start:
        raise UsageError("--to needs --from")
    if args.start:
        if not args.end:
            raise UsageError("--from needs --to (the end day is exclusive)")
        return RunWindow.period(parse_day(args.start), parse_day(args.end))
    if args.all:
        return RunWindow.all()
    return RunWindow.day(parse_day(args.day) if args.day else datetime.now(timezone.utc).date())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``courier`` command."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.db is not None:
            if not args.db.strip():
                raise UsageError("--db needs a file name, not an empty string")
            os.environ["COURIER_DB"] = str(Path(args.db).expanduser().resolve())
        elif os.environ.get("COURIER_DB") == "":
            raise UsageError("COURIER_DB is set but empty: unset it or name a file")
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            return _open_app(args)
        return handler(args)
    except CourierError as error:
        _fail(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except sqlite3.Error as error:
        # Last line of defence: the engine translates what it expects; anything else stays one line.
        from core.errors import is_disk_full

        if is_disk_full(error):
            _fail(f"the disk holding the Courier database is full ({error}); free space and rerun")
            return EXIT_FAILED
        _fail(f"database error: {' '.join(str(error).split())}")
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str) -> None:
    print(f"courier: {message}", file=sys.stderr)


def _open_store() -> Any:
    from core.store import open_store

    return open_store()


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read {path}: it is not UTF-8 text") from error
    try:
        return json.loads(text)
    except RecursionError:
        name = "standard input" if path == "-" else path
        raise UsageError(f"{name} is nested too deeply to be a project document") from None
    except json.JSONDecodeError as error:
        name = "standard input" if path == "-" else path
        raise UsageError(f"{name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") \
            from error


def _cmd_apply(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from core.project import apply_document

    document = _read_json(args.file)
    with _open_store() as store:
        try:
            result = apply_document(store, document, dry_run=args.dry_run)
        except ConfigError as error:
            count = len(error.problems)
            _fail(f"{count} problem{'s' if count != 1 else ''} in {args.file}; nothing was changed:")
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_BAD_INPUT
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    verb = "would be " if args.dry_run else ""
    for change in result.changes:
        print(f"{verb}{change}" if args.dry_run else change)
    if not result.changes:
        print(f"nothing to change ({result.unchanged} object{'s' if result.unchanged != 1 else ''} already "
              "up to date)")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from core.project import export_document, load_project

    with _open_store() as store:
        document = export_document(load_project(store))
    print(json.dumps(document, indent=2))
    return EXIT_OK


def _cmd_cron(args: argparse.Namespace) -> int:
    from core.schedule import describe_cron, upcoming_runs, validate_cron, validate_timezone

    problem = validate_cron(args.expression) or validate_timezone(args.tz)
    if problem:
        raise UsageError(problem)
    if args.n < 1:
        raise UsageError("-n must be 1 or more")
    print(describe_cron(args.expression) + f" ({args.tz})")
    for slot in upcoming_runs(args.expression, args.tz, _now(), args.n):
        print(_slot_line(slot))
        if slot.dst_note:
            print(f"      ~ DST {slot.dst_note}")
    return EXIT_OK


def _now() -> datetime:
    """The current time; ``COURIER_FAKE_NOW`` (an ISO instant) pins it for tests and rehearsals."""
    fake = os.environ.get("COURIER_FAKE_NOW")
    if fake:
        from core.scheduler import parse_now

        return parse_now(fake)
    return datetime.now(timezone.utc)


def _slot_line(slot: Any) -> str:
    if slot.at is None:
        return f"  {slot.wall:%a %Y-%m-%d %H:%M} {'':<3}   skipped"
    return f"  {slot.at:%a %Y-%m-%d %H:%M %Z}   {slot.at_utc:%Y-%m-%d %H:%M} UTC"


def _load_group(store: Any, name: str) -> Any:
    from core.project import load_project

    project = load_project(store)
    group = project.groups.get(name)
    if group is None:
        known = ", ".join(sorted(project.groups)) or "none yet"
        raise UsageError(f'There is no courier group named "{name}" (groups: {known})')
    return group


def _cmd_group_preview(args: argparse.Namespace) -> int:
    from core.schedule import describe_cron, schedule_preview

    if args.n < 1:
        raise UsageError("-n must be 1 or more")
    with _open_store() as store:
        group = _load_group(store, args.name)
    if not group.schedule:
        raise UsageError(f'Courier group "{group.name}" has no schedule: it runs only by hand '
                         f'(courier group run "{group.name}" --day D)')
    frame = group.timezone if group.file_dates_in_zone else "UTC"
    print(f"{group.name}: {describe_cron(group.schedule)} ({group.timezone}); file dates in {frame}"
          + ("" if group.enabled else "; disabled, so the scheduler will not run it"))
    for member in group.couriers:
        flags = [flag for flag, on in (("notify when missing", member.notify_when_missing),
                                       ("stop when missing", member.stop_when_missing)) if on]
        print(f"  {member.courier}: wait {member.wait}, offset {member.offset}"
              + (f", {', '.join(flags)}" if flags else ""))
    if group.run_after:
        print(f'  Runs after courier group "{group.run_after}" has succeeded for the same window')
    for run in schedule_preview(group, _now(), args.n):
        print(_slot_line(run.slot))
        for courier, window in run.windows:
            print(f"      {courier}: files dated {_days(window.days)} (window {window.start:%Y-%m-%d %H:%M} → "
                  f"{window.end:%Y-%m-%d %H:%M} {window.end:%Z}, {window.kind})")
        for note in (run.dst_note, run.utc_note):
            if note:
                print(f"      ~ DST {note}")
    return EXIT_OK


def _days(days: Any) -> str:
    from core.schedule import describe_days

    return describe_days(days)


def _cmd_group_run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from core.groups import run_group
    from core.store import default_db_path

    if args.scheduled and (args.day or args.start or args.end or args.all):
        raise UsageError("--scheduled cannot be combined with --day, --from/--to or --all")
    window = None if args.scheduled else window_from_args(args)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("courier: stopping the group after rolling back the file being loaded (again to abort)",
              file=sys.stderr)

    listener = None if args.json else _print_event
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.scheduled:
            summary = _run_group_scheduled(args.name, stop, listener)
        else:
            summary = run_group(default_db_path(), args.name, window, trigger="manual", now=_now(), stop=stop,
                                listener=listener)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.json:
        from core.groups import run_summary_json

        with _open_store() as store:
            print(json.dumps(run_summary_json(store, summary.id), indent=2))
    else:
        print(f"Group run {summary.id} {summary.status}: {summary.files:,} files, {summary.rows_read:,} rows read, "
              f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated, "
              f"{summary.rows_rejected:,} rejected" + (f" ({summary.message.splitlines()[0]})"
                                                       if summary.message else ""))
    _report_failure(summary)
    return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED


def _run_group_scheduled(name: str, stop: Any, listener: Any) -> Any:
    from core.schedule import latest_run, previous_run
    from core.scheduler import DueRun, fire, read_state
    from core.store import default_db_path

    now = _now()
    with _open_store() as store:
        group = _load_group(store, name)
        state = read_state(store).get(group.name)
    if not group.schedule:
        raise UsageError(f'Courier group "{group.name}" has no schedule: choose --day, --from/--to or --all')
    slot = latest_run(group.schedule, group.timezone, now)
    if slot is None:
        raise UsageError(f'Courier group "{group.name}" has never been due on "{group.schedule}"')
    since = None
    if state is not None and state.schedule == group.schedule and state.timezone == group.timezone:
        before = previous_run(group.schedule, group.timezone, slot)
        if before is not None and state.last_slot < before:
            since = state.last_slot
    summary = fire(default_db_path(), DueRun(group, slot, since, 1), now, stop=stop,
                   log=lambda message: print(f"courier: {message}", file=sys.stderr), listener=listener)
    if summary is None:
        raise UsageError(f'Courier group "{group.name}" could not start (see above)')
    return summary


def _cmd_group_crontab(args: argparse.Namespace) -> int:
    import shlex

    from core.schedule import describe_cron
    from core.store import default_db_path

    with _open_store() as store:
        group = _load_group(store, args.name)
    if not group.schedule:
        raise UsageError(f'Courier group "{group.name}" has no schedule, so it has no crontab line')
    db_path = default_db_path().expanduser().resolve()
    log = Path(args.log).expanduser().resolve() if args.log else db_path.parent / "courier-cron.log"
    installed = Path(sys.executable).with_name("courier")
    program = [str(installed)] if installed.exists() else [sys.executable, "-m", "tui.cli"]
    command = " ".join(shlex.quote(part) for part in
                       [*program, "--db", str(db_path), "group", "run", group.name, "--scheduled"])
    line = (f"{group.schedule} cd {shlex.quote(str(db_path.parent))} && {command} "
            f">> {shlex.quote(str(log))} 2>&1")
    # cron turns an unescaped % into a newline.
    line = line.replace("%", "\\%")
    print(f"# Courier group {json.dumps(group.name)}: {describe_cron(group.schedule)} ({group.timezone})")
    if not group.enabled:
        print("# The group is disabled: courier scheduler skips it, but this line would still run it.")
    print("# CRON_TZ needs cronie (Fedora, RHEL, Arch); other crons use the system zone. Or run: courier scheduler")
    print(f"CRON_TZ={group.timezone}")
    print(line)
    return EXIT_OK


def _cmd_scheduler(args: argparse.Namespace) -> int:
    import signal
    import threading

    from core.scheduler import offset_clock, parse_now, run_scheduler
    from core.store import default_db_path

    fake = args.now or os.environ.get("COURIER_FAKE_NOW")
    clock = offset_clock(parse_now(fake)) if fake else None
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("courier: scheduler stopping (the file being loaded rolls back; again to abort)", file=sys.stderr,
              flush=True)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_scheduler(default_db_path(), once=args.once, clock=clock, stop=stop,
                      log=lambda message: print(message, flush=True), listener=_print_event)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def _print_event(event: Any) -> None:
    from core.runs import RunEvent

    if isinstance(event, RunEvent):
        marker = {"error": "!", "warning": "~"}.get(event.level, " ")
        print(f"{event.at[11:19]} {marker} {event.stage}: {event.message}", flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from core.runs import run_courier
    from core.store import default_db_path

    window = window_from_args(args)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("courier: stopping after rolling back the file being loaded (again to abort)", file=sys.stderr)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda signum, frame: _hang_up(stop))
    try:
        summary = run_courier(default_db_path(), args.courier, window, trigger="manual",
                              listener=None if args.json else _print_event, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(f"Run {summary.id} {summary.status}: {summary.files:,} files, {summary.rows_read:,} rows read, "
              f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated, "
              f"{summary.rows_rejected:,} rejected")
    _report_failure(summary)
    return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED


def _report_failure(summary: Any) -> None:
    """A failed run's reason, as the one stderr line the README promises (the log has the details)."""
    if summary.status == "Failed":
        reason = ": ".join(line.strip() for line in (summary.message or "no reason recorded").splitlines() if line)
        _fail(f"{'group ' if summary.kind == 'group' else ''}run {summary.id} failed: {reason}")


def _hang_up(stop: Any) -> None:
    """SIGHUP (the SSH session closed): stop the run cleanly, as Stopped with its unit rolled back.

    The terminal is gone, so standard output and error go to /dev/null from now
    on: a write to a hung-up terminal would fail and must not turn a clean stop
    into a crash. The run's log stays in the database (courier runs ID). Use
    nohup or tmux for a run that must outlive the session.
    """
    stop.set()
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
            os.dup2(sink, stream.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(sink)


def _cmd_runs(args: argparse.Namespace) -> int:
    import time

    from core.runs import FINAL_STATUSES, get_run, list_runs, reconcile_stale_runs, run_events

    if args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    if args.run_id == "stop":
        from core.engine import stop_run
        from core.store import default_db_path

        if args.stop_id is None:
            raise UsageError("runs stop needs a run ID, e.g. courier runs stop 12")
        print(stop_run(default_db_path(), _run_id(args.stop_id)))
        return EXIT_OK
    if args.stop_id is not None:
        raise UsageError(f"unexpected {args.stop_id!r}: use courier runs ID, or courier runs stop ID")
    if args.run_id is not None:
        args.run_id = _run_id(args.run_id)
    with _open_store() as store:
        reconcile_stale_runs(store)
        if args.run_id is None:
            runs = list_runs(store, limit=args.limit)
            if not runs:
                print("No runs yet: courier run COURIER")
            for run in runs:
                print(f"{run.id:>5}  {run.status:<9}  {run.kind:<7} {run.target:<20.20}  "
                      f"{run.window.describe():<28.28}  {run.started_at[:19].replace('T', ' ')}  "
                      f"{run.rows_read:>10,} rows")
            return EXIT_OK
        run = get_run(store, args.run_id)
        print(f"Run {run.id}: {run.kind} {run.target}, {run.window.describe()}, {run.trigger}, started "
              f"{run.started_at[:19].replace('T', ' ')} UTC")
        last_id = 0
        while True:
            for event in run_events(store, run.id, last_id):
                _print_event(event)
                last_id = event.id
            run = get_run(store, run.id)
            if not args.follow or run.status in FINAL_STATUSES:
                break
            time.sleep(0.5)
            reconcile_stale_runs(store)
        print(f"Status: {run.status}" + (f" ({run.message.splitlines()[-1]})" if run.message else ""))
        return EXIT_OK if run.status != "Failed" else EXIT_FAILED


def _run_id(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"{text!r} is not a run ID: use the number courier runs shows")
    return int(text)


def _cmd_cache(args: argparse.Namespace) -> int:
    from core.engine import landing_cache
    from core.store import default_db_path

    report = landing_cache(default_db_path(), prune=args.prune)
    print(f"Landing cache {report.root} (private: 0700 folders, 0600 files"
          + (f"; tightened {report.tightened}" if report.tightened else "") + ")")
    if not report.couriers:
        print("No landed files yet")
    for item in report.couriers:
        print(f"  {item.courier:<24.24} {item.files:>6,} files  {_bytes(item.bytes):>10}   "
              f"{item.prunable_files:,} not needed ({_bytes(item.prunable_bytes)})")
    verb = "Pruned" if args.prune else "Prunable (courier cache --prune)"
    print(f"{verb}: {report.pruned_files:,} files, {_bytes(report.pruned_bytes)}")
    return EXIT_OK


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _cmd_samples(args: argparse.Namespace) -> int:
    from core.feeds import landed_file, view_landed_file
    from core.project import load_project
    from core.runs import list_landed_files

    with _open_store() as store:
        if args.courier not in load_project(store).couriers:
            raise UsageError(f'There is no courier named "{args.courier}"')
        if args.show is not None:
            item = landed_file(store, args.show)
            print(f"{item.key} ({item.tag}, {item.row_count if item.row_count is not None else '?'} rows)")
            for field in item.fields:
                print(f"  {field['name']:<28} {field.get('feed_type', ''):<9} {field.get('avro_type', '')}")
            columns, rows = view_landed_file(store, args.show)
            print("\t".join(columns))
            for row in rows:
                print("\t".join("" if value is None else str(value) for value in row))
            return EXIT_OK
        files = list_landed_files(store, args.courier)
        if not files:
            print(f"No landed files yet: courier run \"{args.courier}\" (with {{}} load operations) lands samples")
        for item in files:
            rows = f"{item.row_count:,}" if item.row_count is not None else "?"
            print(f"{item.id:>5}  {item.landed_at[:19].replace('T', ' ')}  {item.tag:<18.18} {rows:>9} rows  "
                  f"{len(item.fields):>3} fields  {item.key}")
    return EXIT_OK


def _cmd_tables(args: argparse.Namespace) -> int:
    from core.tables import list_domain_tables

    with _open_store() as store:
        tables = list_domain_tables(store)
    if not tables:
        print("No domain tables yet: activate a feed or run a courier with load operations")
    for table in tables:
        loaded = (table.last_loaded_at or "")[:19].replace("T", " ")
        print(f"{table.name:<48} {table.kind:<5} {table.rows:>10,} rows  {loaded}")
    return EXIT_OK


def _cmd_table(args: argparse.Namespace) -> int:
    from core.tables import first_rows

    if args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    with _open_store() as store:
        columns, rows = first_rows(store, args.name, args.limit)
    print("\t".join(columns))
    for row in rows:
        print("\t".join("" if value is None else str(value) for value in row))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from core.demo import HEAP_COURIER, configure_demo, default_demo_db, start_demo_server
    from core.runs import RunWindow, run_courier
    from core.store import DB_ENV, open_store

    db_path = Path(os.environ[DB_ENV]) if args.db else default_demo_db()
    os.environ[DB_ENV] = str(db_path)
    print(f"Starting the demo S3 server with generated Heap data (database {db_path})…", file=sys.stderr)
    server = start_demo_server()
    try:
        with open_store(db_path) as store:
            configure_demo(store, server.endpoint_url)
        if not args.headless:
            return _open_app(args, demo_note=f"Demo S3 at {server.endpoint_url} (bucket {server.bucket})")
        summary = run_courier(db_path, HEAP_COURIER, RunWindow.all(), listener=_print_event)
        print(f"Run {summary.id} {summary.status}: {summary.rows_read:,} rows read, "
              f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated")
        _cmd_tables(args)
        return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED
    finally:
        server.stop()


def _open_app(args: argparse.Namespace, demo_note: str | None = None) -> int:
    from core.store import default_db_path
    from tui.app import make_app

    make_app(default_db_path(), demo_note=demo_note).run()
    return EXIT_OK


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day from the command line."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UsageError(f'"{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25') from error


if __name__ == "__main__":
    sys.exit(main())
