"""The ``courier`` command line: a thin layer over ``core``.

Exit status: 0 on success, 1 when a run fails, 2 on bad input. Errors are
printed as one clear line on stderr, never as a traceback. Textual is only
imported by the commands that open the app.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from enum import IntEnum
from pathlib import Path
from typing import Any

from core import __version__, engine
from core.errors import CourierError, DatabaseError
from tui.output import render, size_text


class Exit(IntEnum):
    """The command's exit status."""

    OK = 0
    FAILED = 1
    """A run failed (or the run shown did)."""
    BAD_INPUT = 2
    """The command line, a file or a name was wrong; nothing changed."""


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = Exit.OK, Exit.FAILED, Exit.BAD_INPUT
GLOBAL_OPTIONS_WITH_VALUE = ("--db",)
"""Options of ``courier`` itself that may also come after the subcommand (``courier runs --db X``)."""
CREATES_DATABASE = frozenset({"_cmd_apply", "_cmd_demo", "_cmd_cron", "_cmd_scheduler"})
"""Commands that may run on a database that does not exist yet (they create it, or need none); every
other command reads what is stored, so a path that does not exist is a mistake, not an empty database."""


class UsageError(CourierError):
    """The command line itself is wrong."""


def _require_database(db_path: Path) -> None:
    """Refuse a command that reads what is stored when the database does not exist (creating none).

    Raises:
        UsageError: one line naming the path and how to make a database.
    """
    if not db_path.exists():
        raise UsageError(
            f"there is no Courier database at {db_path} (nothing was created): "
            "check --db or COURIER_DB; courier apply FILE or courier demo creates one"
        )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


MAX_LIMIT = 1_000_000_000
"""The largest ``--limit``: SQLite takes 64-bit integers, and no terminal shows a billion rows."""


def _limit(text: str) -> int:
    """``--limit``'s type: a whole number from 1 to :data:`MAX_LIMIT`.

    Raises:
        UsageError: anything else (one line, exit 2).
    """
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--limit takes a whole number, not {text!r}") from None
    if value < 1:
        raise UsageError("--limit must be 1 or more")
    if value > MAX_LIMIT:
        raise UsageError(f"--limit must be at most {MAX_LIMIT:,}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="courier",
        description="Pull Heap Connect exports from Amazon S3 into local SQLite domain tables.",
        epilog="Run 'courier demo' to try everything against an embedded S3 with realistic Heap data.",
    )
    parser.add_argument("--version", action="version", version=f"courier {__version__}")
    parser.add_argument(
        "--db", metavar="PATH", help="the Courier database (default: $COURIER_DB or the user data directory)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    apply = commands.add_parser(
        "apply",
        help="validate a project file and write it (all or nothing)",
        description="Validate a JSON project document and write every object it "
        "defines in one transaction. Objects it does not mention are left alone.",
    )
    apply.add_argument("file", help="the project file, or - for standard input")
    apply.add_argument("--dry-run", action="store_true", help="validate and show what would change")
    apply.set_defaults(handler=_cmd_apply)

    export = commands.add_parser(
        "export",
        help="print the configuration as a project document",
        description="Print the whole configuration as JSON; 'courier export | courier apply -' changes nothing.",
    )
    export.set_defaults(handler=_cmd_export)

    cron = commands.add_parser(
        "cron",
        help="describe a cron expression and list its next runs",
        description="Show what a 5-field cron expression means and when it runs next, in a time zone and in UTC.",
    )
    cron.add_argument(
        "expression", help='five fields, e.g. "30 8 * * *" (day of week 0-7, Sunday = 0 or 7; names such as MON, JAN)'
    )
    cron.add_argument("--tz", default="UTC", help="IANA time zone (default UTC)")
    cron.add_argument("-n", type=int, default=10, help="how many runs to list (default 10)")
    cron.set_defaults(handler=_cmd_cron)

    group = commands.add_parser(
        "group",
        help="run, preview or export the schedule of a courier group",
        description="Courier groups run couriers as one unit, by hand or on a cron schedule (see courier scheduler).",
    )
    group_commands = group.add_subparsers(dest="group_command", metavar="ACTION", parser_class=_Parser, required=True)
    group_run = group_commands.add_parser(
        "run",
        help="run a courier group now",
        description="Run every courier of a group in order, with its wait times, missing-data rules and "
        "constraint. A day, a period or all data is used exactly, with no offset; --scheduled runs the "
        "window of the latest scheduled slot, offsets applied (the crontab line uses it).",
    )
    group_run.add_argument("name", help="the group's name")
    _window_arguments(group_run)
    group_run.add_argument(
        "--scheduled", action="store_true", help="run as the schedule would now: the latest slot's file windows"
    )
    group_run.add_argument(
        "--json", action="store_true", help="print one JSON object with the final status, counts and courier runs"
    )
    group_run.set_defaults(handler=_cmd_group_run)
    group_preview = group_commands.add_parser(
        "preview",
        help="the next scheduled runs with their file windows and DST notes",
        description="List a group's next runs in its zone and in UTC, with daylight-saving notes and the "
        "file dates each courier would load.",
    )
    group_preview.add_argument("name", help="the group's name")
    group_preview.add_argument("-n", type=int, default=10, help="how many runs to list (default 10)")
    group_preview.set_defaults(handler=_cmd_group_preview)
    group_crontab = group_commands.add_parser(
        "crontab",
        help="print a crontab line that runs the group on its schedule",
        description="Print crontab lines for people who prefer system cron to courier scheduler.",
    )
    group_crontab.add_argument("name", help="the group's name")
    group_crontab.add_argument(
        "--log", metavar="PATH", help="where the runs' output goes (default: courier-cron.log beside the database)"
    )
    group_crontab.set_defaults(handler=_cmd_group_crontab)

    scheduler = commands.add_parser(
        "scheduler",
        help="run due courier groups (foreground, for systemd, tmux or nohup)",
        description="Run enabled courier groups when their schedules come due, until stopped (SIGTERM or "
        "Ctrl-C: the file being loaded rolls back). One scheduler per database. A slot missed while it was "
        "not running runs once on start. SIGHUP (the SSH session closed) does not stop it: its output goes "
        "on in a log file beside the database. 'courier scheduler status' says whether one is running; "
        "'courier scheduler unit' prints a systemd user unit.",
    )
    scheduler.add_argument(
        "action",
        nargs="?",
        choices=("status", "unit"),
        metavar="status|unit",
        help="status: is a scheduler running, its pid and next due group; unit: print a "
        "systemd user unit that keeps it running",
    )
    scheduler.add_argument("--once", action="store_true", help="run whatever is due now and exit (for system cron)")
    scheduler.add_argument("--now", help=argparse.SUPPRESS)
    scheduler.add_argument("--clock-file", help=argparse.SUPPRESS)
    scheduler.set_defaults(handler=_cmd_scheduler)

    run = commands.add_parser(
        "run",
        help="run a courier for a day, a period or all data",
        description="Run a courier: find and land its files, then run its load "
        "operations. Events stream as they happen. A heap-connect courier follows "
        "Heap's manifests and its tables' cursors, not days: it loads every complete "
        "dump newer than the cursors, or with --rebuild one table from its latest full "
        "dump.",
    )
    run.add_argument("courier", help="the courier's name")
    _window_arguments(run)
    run.add_argument(
        "--rebuild",
        metavar="TABLE",
        help="heap-connect: empty this domain table (e.g. Heap:Users) and reload it from its latest full Heap dump",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object with the final status and counts")
    run.set_defaults(handler=_cmd_run)

    runs = commands.add_parser(
        "runs",
        help="run history, one run's log, or stop a run",
        description="List runs newest first, show one run's events, or stop a run "
        "('courier runs stop ID': any run, started from this shell, another one or the "
        "scheduler; the file being loaded rolls back).",
    )
    runs.add_argument("run_id", nargs="?", metavar="ID", help="show this run's log (or: stop ID)")
    runs.add_argument("stop_id", nargs="?", metavar="ID", help=argparse.SUPPRESS)
    runs.add_argument("--follow", action="store_true", help="keep printing new events until the run ends")
    runs.add_argument("--limit", type=_limit, default=20, help="how many runs to list (default 20)")
    runs.set_defaults(handler=_cmd_runs)

    cache = commands.add_parser(
        "cache",
        help="the landing cache: size per courier; --prune deletes files nothing needs",
        description="Show how much the landing cache (raw landed files, beside the database) holds per courier, "
        "and make it private (0700/0600). --prune deletes every landed file that no sample (the newest file of "
        "each courier and tag, or a feed's sample file) and no cursor (the dump a Heap table stands in) needs; "
        "a later run downloads again whatever it needs.",
    )
    cache.add_argument("--prune", action="store_true", help="delete the files nothing needs")
    cache.set_defaults(handler=_cmd_cache)

    samples = commands.add_parser(
        "samples",
        help="a courier's landed sample files, newest first",
        description="List the files a courier has landed, newest first, with their "
        "schema and row count; --show ID prints a file's fields and rows.",
    )
    samples.add_argument("courier", help="the courier's name")
    samples.add_argument("--show", type=int, metavar="ID", help="print this file's fields and up to 200 rows")
    _format_argument(samples)
    samples.set_defaults(handler=_cmd_samples)

    tables = commands.add_parser("tables", help="domain tables with row counts and last load")
    tables.set_defaults(handler=_cmd_tables)

    table = commands.add_parser(
        "table",
        help="print rows of a domain table",
        description='Print the first rows of a domain table, e.g. courier table "Heap:Users".',
    )
    table.add_argument("name", help="the table's exact name, e.g. Heap:Users")
    table.add_argument("--limit", type=_limit, default=20, help="rows to print (default 20)")
    table.add_argument("--where", metavar="CONDITION", help="a read-only filter, e.g. \"country = 'US'\"")
    table.add_argument("--columns", metavar="A,B,…", help="only these columns, in this order")
    _format_argument(table)
    table.set_defaults(handler=_cmd_table)

    profile = commands.add_parser(
        "profile",
        help="count, NULLs, distinct, min/max, mean and top values of a table's column",
        description='Profile one column of a domain table, e.g. courier profile "Heap:Pageviews" country. '
        "Datetime columns also get rows per day.",
    )
    profile.add_argument("name", help="the table's exact name, e.g. Heap:Pageviews")
    profile.add_argument("column", help="the column to profile")
    profile.add_argument("--where", metavar="CONDITION", help="profile only the rows matching this filter")
    profile.add_argument(
        "--estimate",
        action="store_true",
        help="estimate from a sample (runs of consecutive rows spread over the table) instead of reading every row",
    )
    profile.set_defaults(handler=_cmd_profile)

    index = commands.add_parser(
        "index",
        help="build, drop or list the sort indexes Courier built on domain tables",
        description="Build an index that serves sorting a domain table by a column, e.g. courier index "
        '"Heap:Pageviews" time; --drop removes it, --list shows them. Every later load keeps an index up to '
        "date, so build one only for columns you sort by often.",
    )
    index.add_argument("name", nargs="?", help="the table's exact name, e.g. Heap:Pageviews")
    index.add_argument("column", nargs="?", help="the column to sort by")
    index.add_argument("--drop", action="store_true", help="drop the index instead of building it")
    index.add_argument("--list", action="store_true", help="list Courier's sort indexes (of NAME, or of every table)")
    index.set_defaults(handler=_cmd_index)

    query = commands.add_parser(
        "query",
        help="run a read-only SQL query over the domain tables",
        description="Run one read-only query, e.g. courier query 'SELECT country, COUNT(*) FROM "
        '"Heap:Pageviews" GROUP BY 1\'. Writes are refused; a query is stopped after 30 s.',
    )
    query.add_argument("sql", help="one SELECT (or WITH … SELECT, VALUES) statement")
    query.add_argument("--limit", type=_limit, default=100, help="rows to print (default 100)")
    _format_argument(query)
    query.set_defaults(handler=_cmd_query)

    rejects = commands.add_parser(
        "rejects",
        help="rows a run rejected: file, row, key, column and reason",
        description="Print the rows a run rejected because a value could not be "
        "stored exactly: the file, the row's position in it (from 1), its key when "
        "readable, the column and the reason. Without RUN, the latest run's.",
    )
    rejects.add_argument("run_id", nargs="?", type=int, metavar="RUN", help="the run's ID (see courier runs)")
    rejects.add_argument("--limit", type=_limit, default=1000, help="rows to print (default 1000)")
    _format_argument(rejects)
    rejects.set_defaults(handler=_cmd_rejects)

    demo = commands.add_parser(
        "demo",
        help="try Courier on an embedded S3 with realistic Heap data",
        description="Start a local S3 server with generated Heap Connect data, configure "
        "couriers, feeds and a group for it in the demo database, and open the app. "
        "No AWS account needed.",
    )
    demo.add_argument(
        "--headless", action="store_true", help="no app: load the demo into domain tables and print the results"
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json", "jsonl"),
        default="table",
        help="table (default: NULL and '' told apart, control characters escaped, wide values "
        "cut with …), csv, json or jsonl (exact values)",
    )


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


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move ``--db PATH`` (or ``--db=PATH``) from anywhere before ``--`` to the front, where argparse wants it."""
    front: list[str] = []
    rest: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        if item == "--":
            rest += items[index:]
            break
        name = item.split("=", 1)[0]
        if name in GLOBAL_OPTIONS_WITH_VALUE:
            if "=" in item:
                front.append(item)
            else:
                front += items[index : index + 2]
                index += 1
        else:
            rest.append(item)
        index += 1
    return front + rest


def resolve_db_path(option: str | None) -> Path:
    """The database this command uses: ``--db``, else ``$COURIER_DB``, else the user data directory."""
    from core.store import default_db_path

    return Path(option).expanduser().resolve() if option else default_db_path()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``courier`` command."""
    parser = build_parser()
    try:
        args = parser.parse_args(hoist_global_options(sys.argv[1:] if argv is None else argv))
        if args.db is not None and not args.db.strip():
            raise UsageError("--db needs a file name, not an empty string")
        if args.db is None and os.environ.get("COURIER_DB") == "":
            raise UsageError("COURIER_DB is set but empty: unset it or name a file")
        args.db_path = resolve_db_path(args.db)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            return _open_app(args)
        if handler.__name__ not in CREATES_DATABASE:
            _require_database(args.db_path)
        from core import engine

        # A write that meets a sort-index build waits for it (core.store); say so once rather than seem hung.
        engine.report_lock_waits(
            lambda path, line: print(f"courier: waiting: {line}; going on when it ends", file=sys.stderr)
        )
        return handler(args)
    except CourierError as error:
        _fail(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except DatabaseError as error:
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


@contextmanager
def stop_on_signals(message: str) -> Iterator[threading.Event]:
    """Turn the first SIGINT/SIGTERM into a stop request (the file being loaded rolls back); the second aborts.

    Yields the event a run watches; the previous handlers come back on exit.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(f"courier: {message}", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
        raise UsageError(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error


def _cmd_apply(args: argparse.Namespace) -> Exit:
    from core.errors import ConfigError

    document = _read_json(args.file)
    try:
        result = engine.apply_project(args.db_path, document, dry_run=args.dry_run)
    except ConfigError as error:
        from core.problems import lines

        shown = lines(error.problems) or [str(error)]
        count = len(shown)
        _fail(f"{count} problem{'s' if count != 1 else ''} in {args.file}; nothing was changed:")
        for line in shown:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    verb = "would be " if args.dry_run else ""
    for change in result.changes:
        print(f"{verb}{change}" if args.dry_run else change)
    if not result.changes:
        print(f"nothing to change ({result.unchanged} object{'s' if result.unchanged != 1 else ''} already up to date)")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> Exit:
    document = engine.export_project(args.db_path)
    # Read-only: where a case twin or reserved name is stored (apply accepts and ignores it).
    for body in document.get("feeds", {}).values():
        renamed = engine.column_names(args.db_path, f"{body['source']}:{body['name']}")
        if renamed:
            body["column-names"] = renamed
    print(json.dumps(document, indent=2))
    return EXIT_OK


MAX_LISTED_RUNS = 10_000
"""The most runs ``cron`` and ``group preview`` list: enough for a year of a 5-minute job's days."""


def _cmd_cron(args: argparse.Namespace) -> Exit:
    from core.schedule import describe_cron, dst_rule, upcoming_runs, validate_cron, validate_timezone, zone_has_dst

    problem = validate_cron(args.expression) or validate_timezone(args.tz)
    if problem:
        raise UsageError(problem)
    if not 1 <= args.n <= MAX_LISTED_RUNS:
        raise UsageError(f"-n must be 1 to {MAX_LISTED_RUNS:,}")
    print(describe_cron(args.expression) + f" ({args.tz})")
    if zone_has_dst(args.tz, _now().year):
        print(dst_rule(args.expression))
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


def _load_group(db_path: Path, name: str) -> Any:
    return engine.load_project(db_path).groups[engine.resolve_name(db_path, "courier group", name)]


def _cmd_group_preview(args: argparse.Namespace) -> Exit:
    from core.schedule import describe_cron

    if not 1 <= args.n <= MAX_LISTED_RUNS:
        raise UsageError(f"-n must be 1 to {MAX_LISTED_RUNS:,}")
    group = _load_group(args.db_path, args.name)
    if not group.schedule:
        raise UsageError(
            f'Courier group "{group.name}" has no schedule: it runs only by hand '
            f'(courier group run "{group.name}" --day D)'
        )
    frame = group.timezone if group.file_dates_in_zone else "UTC"
    print(
        f"{group.name}: {describe_cron(group.schedule)} ({group.timezone}); file dates in {frame}"
        + ("" if group.enabled else "; disabled, so the scheduler will not run it")
    )
    for member in group.couriers:
        flags = [
            flag
            for flag, on in (
                ("notify when missing", member.notify_when_missing),
                ("stop when missing", member.stop_when_missing),
            )
            if on
        ]
        print(
            f"  {member.courier}: wait {member.wait}, offset {member.offset}"
            + (f", {', '.join(flags)}" if flags else "")
        )
    if group.run_after:
        moved = (
            f" moved back {group.run_after_offset} (the constraint's offset)"
            if group.run_after_offset not in ("0d", "0m", "0h", "0w")
            else ""
        )
        print(f'  Runs after courier group "{group.run_after}" has succeeded for the same window{moved}')
    runs = engine.preview_schedule(group, _now(), args.n)
    waits = {
        wait.slot: wait
        for wait in engine.constraint_waits(
            group, engine.load_project(args.db_path), [run.at_local for run in runs if run.at_local is not None]
        )
    }
    for run in runs:
        print(_slot_line(run.slot))
        for courier, window in run.windows:
            print(
                f"      {courier}: files dated {_days(window.days)} (window {window.start:%Y-%m-%d %H:%M} → "
                f"{window.end:%Y-%m-%d %H:%M} {window.end:%Z}, {window.kind})"
            )
        for note in (run.dst_note, run.utc_note):
            if note:
                print(f"      ~ DST {note}")
        if run.at_local in waits:
            print(f"      {waits[run.at_local].describe(group.run_after_offset)}")
    return EXIT_OK


def _days(days: Any) -> str:
    from core.schedule import describe_days

    return describe_days(days)


def _cmd_group_run(args: argparse.Namespace) -> Exit:
    if args.scheduled and (args.day or args.start or args.end or args.all):
        raise UsageError("--scheduled cannot be combined with --day, --from/--to or --all")
    window = None if args.scheduled else window_from_args(args)
    args.name = engine.resolve_name(args.db_path, "courier group", args.name)
    listener = None if args.json else _print_event
    with stop_on_signals("stopping the group after rolling back the file being loaded (again to abort)") as stop:
        if args.scheduled:
            summary = _run_group_scheduled(args.db_path, args.name, stop, listener)
        else:
            summary = engine.run(args.db_path, "group", args.name, window, now=_now(), stop=stop, listener=listener)
    if args.json:
        print(json.dumps(engine.group_run_json(args.db_path, summary.id), indent=2))
    else:
        print(
            f"Group run {summary.id} {summary.status}: {summary.files:,} files, {summary.rows_read:,} rows read, "
            f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated, "
            f"{summary.rows_rejected:,} rejected" + (f" ({summary.message.splitlines()[0]})" if summary.message else "")
        )
    _report_failure(summary)
    return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED


def _run_group_scheduled(db_path: Path, name: str, stop: threading.Event, listener: Any) -> Any:
    from core.scheduler import fire

    now = _now()
    group = _load_group(db_path, name)  # a usage error naming the known groups
    try:
        due = engine.scheduled_slot(db_path, name, now)
    except CourierError as error:
        raise UsageError(str(error)) from error
    summary = fire(
        db_path,
        due,
        now,
        stop=stop,
        log=lambda message: print(f"courier: {message}", file=sys.stderr),
        listener=listener,
    )
    if summary is None:
        raise UsageError(f'Courier group "{group.name}" could not start (see above)')
    return summary


def _cmd_group_crontab(args: argparse.Namespace) -> Exit:
    import shlex

    from core.schedule import describe_cron

    group = _load_group(args.db_path, args.name)
    if not group.schedule:
        raise UsageError(f'Courier group "{group.name}" has no schedule, so it has no crontab line')
    db_path = args.db_path.expanduser().resolve()
    log = Path(args.log).expanduser().resolve() if args.log else db_path.parent / "courier-cron.log"
    command = " ".join(
        shlex.quote(part)
        for part in [*_courier_program(), "--db", str(db_path), "group", "run", group.name, "--scheduled"]
    )
    line = f"{group.schedule} cd {shlex.quote(str(db_path.parent))} && {command} >> {shlex.quote(str(log))} 2>&1"
    # cron turns an unescaped % into a newline.
    line = line.replace("%", "\\%")
    print(f"# Courier group {json.dumps(group.name)}: {describe_cron(group.schedule)} ({group.timezone})")
    if not group.enabled:
        print("# The group is disabled: courier scheduler skips it, but this line would still run it.")
    print("# CRON_TZ needs cronie (Fedora, RHEL, Arch); other crons use the system zone. Or run: courier scheduler")
    print(f"CRON_TZ={group.timezone}")
    print(line)
    return EXIT_OK


def _cmd_scheduler(args: argparse.Namespace) -> Exit:
    from core.scheduler import file_clock, offset_clock, parse_now, run_scheduler

    if args.action and args.once:
        raise UsageError(f"--once runs the scheduler; it cannot be combined with {args.action}")
    if args.action in ("unit", "status"):
        _require_database(args.db_path)  # only running the scheduler may start on an empty database
    if args.action == "unit":
        print(engine.scheduler_unit(args.db_path, _courier_program()), end="")
        return EXIT_OK
    fake = args.now or os.environ.get("COURIER_FAKE_NOW")
    clock = file_clock(args.clock_file) if args.clock_file else offset_clock(parse_now(fake)) if fake else None
    if args.action == "status":
        return _scheduler_status(args.db_path, clock() if clock else _now())
    notes: list[str] = []
    log_file = Path(args.db_path).with_name(Path(args.db_path).name + ".scheduler.log")
    with stop_on_signals("scheduler stopping (the file being loaded rolls back; again to abort)") as stop:
        # Asked now: once the terminal has hung up, isatty() on it fails and says False.
        terminals = [stream for stream in (sys.stdout, sys.stderr) if _is_terminal(stream)]
        previous_hup = signal.signal(
            signal.SIGHUP, lambda signum, frame: notes.append(_survive_hang_up(terminals, log_file))
        )
        try:
            run_scheduler(
                args.db_path,
                once=args.once,
                clock=clock,
                stop=stop,
                log=lambda message: print(message, flush=True),
                listener=_print_event,
                notes=lambda: [notes.pop(0) for _ in list(notes)],
            )
        finally:
            signal.signal(signal.SIGHUP, previous_hup)
    return EXIT_OK


def _is_terminal(stream: Any) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (OSError, ValueError):
        return False


def _survive_hang_up(terminals: list[Any], log_file: Path) -> str:
    """SIGHUP to the scheduler (its SSH session closed): keep running, and keep the output if the terminal is gone.

    The scheduler's slots must not depend on a login session, so the signal never
    stops it. The streams in ``terminals`` (those that were a terminal when it
    started) wrote to a terminal that is gone: writing there would fail, so they are
    appended to ``log_file`` (beside the database, private) from now on. Output going
    to a file, a pipe or the journal stays where it is. Returns the note the
    scheduler logs at its next wake-up.
    """
    if not terminals:
        return "SIGHUP received: still running (the scheduler is not tied to a login session)"
    used = _redirect(terminals, log_file)
    terminals.clear()
    return f"SIGHUP received (the terminal closed): still running; output continues in {used}"


def _redirect(streams: Sequence[Any], target: Path) -> Path:
    """Point ``streams`` (flushed first) at ``target``, appended to and private; ``/dev/null`` if it cannot open.

    A terminal that hung up fails every write, which must not turn into a crash; returns where output now goes.
    """
    try:
        sink = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        sink, target = os.open(os.devnull, os.O_WRONLY), Path(os.devnull)
    try:
        for stream in streams:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
            os.dup2(sink, stream.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(sink)
    return target


def _scheduler_status(db_path: Path, now: datetime) -> Exit:
    status = engine.scheduler_status(db_path, now)
    where = Path(db_path).expanduser().resolve()
    if status.running:
        print(f"A scheduler is running for {where}: pid {status.pid or 'unknown'} (lock {status.lock})")
    else:
        print(
            f"No scheduler is running for {where} (start one: courier scheduler; to keep it running: "
            "courier scheduler unit)"
        )
    plural = "s" if status.scheduled != 1 else ""
    if status.next_due is None:
        print(f"{status.scheduled} enabled scheduled group{plural}: nothing will run")
    else:
        due = status.next_due
        print(
            f'{status.scheduled} enabled scheduled group{plural}; next due: courier group "{due.group}" at '
            f"{due.slot:%a %Y-%m-%d %H:%M %Z} ({due.slot_utc:%Y-%m-%d %H:%M} UTC)"
        )
    return EXIT_OK


def _courier_program() -> list[str]:
    """The command that starts this Courier: the installed script beside the interpreter, else ``python -m``."""
    installed = Path(sys.executable).with_name("courier")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "tui.cli"]


def _print_event(event: Any) -> None:
    from core.run_records import RunEvent

    if isinstance(event, RunEvent):
        marker = {"error": "!", "warning": "~"}.get(event.level, " ")
        print(f"{event.at[11:19]} {marker} {event.stage}: {event.message}", flush=True)


def _cmd_run(args: argparse.Namespace) -> Exit:
    args.courier = engine.resolve_name(args.db_path, "courier", args.courier)
    window = _courier_run_window(args)
    with stop_on_signals("stopping after rolling back the file being loaded (again to abort)") as stop:
        # SIGHUP (the SSH session closed) stops the run cleanly too; see _hang_up.
        previous_hup = signal.signal(signal.SIGHUP, lambda signum, frame: _hang_up(stop))
        try:
            summary = engine.run(
                args.db_path, "courier", args.courier, window, listener=None if args.json else _print_event, stop=stop
            )
        finally:
            signal.signal(signal.SIGHUP, previous_hup)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(
            f"Run {summary.id} {summary.status}: {summary.files:,} files, {summary.rows_read:,} rows read, "
            f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated, "
            f"{summary.rows_rejected:,} rejected"
        )
    _report_failure(summary)
    return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED


def _courier_run_window(args: argparse.Namespace) -> Any:
    """The window of ``courier run``: days for a file-pattern courier, new dumps or a rebuild for heap-connect."""
    from core.runs import RunWindow

    courier = engine.load_project(args.db_path).couriers.get(args.courier)
    if courier is None or courier.layout != "heap-connect":
        if args.rebuild:
            raise UsageError(
                f'--rebuild is for heap-connect couriers; "{args.courier}" finds its files by date: '
                "use --day, --from/--to or --all"
            )
        return window_from_args(args)
    if args.day or args.start or args.end:
        raise UsageError(
            f'"{courier.name}" is a heap-connect courier: it loads every complete Heap dump newer '
            "than its tables' cursors, not files by day; run it without --day/--from, or with "
            "--rebuild TABLE"
        )
    if args.rebuild:
        if args.all:
            raise UsageError("--rebuild reloads one table; it cannot be combined with --all")
        return RunWindow.rebuild(args.rebuild)
    # --all is accepted (every dump not loaded yet); the run records new dumps and says all data did not apply.
    return RunWindow.all() if args.all else RunWindow.new_dumps()


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
    _redirect((sys.stdout, sys.stderr), Path(os.devnull))


def _cmd_runs(args: argparse.Namespace) -> Exit:
    import time

    if args.run_id == "stop":
        if args.stop_id is None:
            raise UsageError("runs stop needs a run ID, e.g. courier runs stop 12")
        print(engine.stop_any_run(args.db_path, _run_id(args.stop_id)))
        return EXIT_OK
    if args.stop_id is not None:
        raise UsageError(f"unexpected {args.stop_id!r}: use courier runs ID, or courier runs stop ID")
    if args.run_id is not None:
        args.run_id = _run_id(args.run_id)
    if args.run_id is None:
        runs = engine.run_history(args.db_path, limit=args.limit).runs
        if not runs:
            print("No runs yet: courier run COURIER")
        for run in runs:
            print(
                f"{run.id:>5}  {run.status:<9}  {run.kind:<7} {run.target:<20.20}  "
                f"{run.window.describe():<28.28}  {run.started_at[:19].replace('T', ' ')}  "
                f"{run.rows_read:>10,} rows"
            )
        return EXIT_OK
    run = engine.get_run(args.db_path, args.run_id)
    print(
        f"Run {run.id}: {run.kind} {run.target}, {run.window.describe()}, {run.trigger}, started "
        f"{run.started_at[:19].replace('T', ' ')} UTC"
    )

    def show(events: list[Any]) -> None:
        for event in events:
            _print_event(event)

    if args.follow:
        run = engine.follow_run_until_done(
            args.db_path,
            run.id,
            poll=lambda: time.sleep(0.5),
            on_events=show,
            on_progress=lambda row: print(progress_line(row), flush=True),
        )
    else:
        snapshot = engine.follow_run(args.db_path, run.id)
        show([event for event in snapshot.events if event.run_id == run.id])
        run = snapshot.run
    print(f"Status: {run.status}" + (f" ({run.message.splitlines()[-1]})" if run.message else ""))
    return EXIT_OK if run.status != "Failed" else EXIT_FAILED


def progress_line(run: Any) -> str:
    """``Progress: loading · 3 of 5 files loaded · …`` from a run's typed progress (``courier runs --follow``)."""
    progress = run.progress
    parts = [progress.phase or "—"]
    if run.kind == "group":
        parts.append(f"{progress.units_done:,} of {progress.units_planned:,} couriers run")
    else:
        parts += [
            f"{progress.files_landed:,} of {progress.files_to_land:,} files landed",
            f"{progress.files_done:,} of {progress.files_planned:,} files loaded",
            f"{progress.units_done:,} of {progress.units_planned:,} units",
        ]
    parts.append(
        f"rows read {progress.rows_read:,}, inserted {progress.rows_inserted:,}, "
        f"updated {progress.rows_updated:,}, rejected {progress.rows_rejected:,}"
    )
    where = " ".join(item for item in (progress.current_table, progress.current_file) if item)
    if where:
        parts.append(where)
    return "Progress: " + " · ".join(parts)


def _run_id(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"{text!r} is not a run ID: use the number courier runs shows")
    return int(text)


def _cmd_cache(args: argparse.Namespace) -> Exit:
    report = engine.landing_cache(args.db_path, prune=args.prune)
    print(
        f"Landing cache {report.root} (private: 0700 folders, 0600 files"
        + (f"; tightened {report.tightened}" if report.tightened else "")
        + ")"
    )
    if not report.couriers:
        print("No landed files yet")
    for item in report.couriers:
        print(
            f"  {item.courier:<24.24} {item.files:>6,} files  {size_text(item.bytes):>10}   "
            f"{item.prunable_files:,} not needed ({size_text(item.prunable_bytes)})"
        )
    verb = "Pruned" if args.prune else "Prunable (courier cache --prune)"
    print(f"{verb}: {report.pruned_files:,} files, {size_text(report.pruned_bytes)}")
    return EXIT_OK


def _cmd_samples(args: argparse.Namespace) -> Exit:
    args.courier = engine.resolve_name(args.db_path, "courier", args.courier)
    if args.show is not None:
        item = engine.landed_file(args.db_path, args.show)
        columns, rows = engine.sample_rows(args.db_path, args.show)
        if args.format == "table":
            print(f"{item.key} ({item.tag}, {item.row_count if item.row_count is not None else '?'} rows)")
            for field in item.fields:
                print(
                    f"  {field['name']:<28} {field.get('feed_type', ''):<9} {field.get('avro_type', ''):<18} "
                    f"{field.get('origin', '')}"
                )
        render(columns, rows, args.format, sys.stdout)
        return EXIT_OK
    files = engine.landed_files(args.db_path, args.courier)
    if not files:
        print(f'No landed files yet: courier run "{args.courier}" (with {{}} load operations) lands samples')
    for item in files:
        count = f"{item.row_count:,}" if item.row_count is not None else "?"
        print(
            f"{item.id:>5}  {item.landed_at[:19].replace('T', ' ')}  {item.tag:<18.18} {count:>9} rows  "
            f"{len(item.fields):>3} fields  {item.key}"
        )
    return EXIT_OK


def _cmd_tables(args: argparse.Namespace) -> Exit:
    tables = engine.domain_tables(args.db_path)
    if not tables:
        print("No domain tables yet: activate a feed or run a courier with load operations")
    for table in tables:
        loaded = (table.last_loaded_at or "")[:19].replace("T", " ")
        print(f"{table.name:<48} {table.kind:<5} {table.rows or 0:>10,} rows  {loaded}")
    return EXIT_OK


def _cmd_table(args: argparse.Namespace) -> int:
    columns = [name.strip() for name in args.columns.split(",")] if args.columns else None
    if columns is not None and not all(columns):
        raise UsageError("--columns takes names separated by commas, e.g. --columns event_id,time")
    args.name = engine.resolve_name(args.db_path, "domain table", args.name)
    names, rows = engine.table_rows(args.db_path, args.name, where=args.where, columns=columns, limit=args.limit)
    _print_rows(names, rows, args.format)
    return EXIT_OK


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    from tui.output import render

    render(columns, rows, fmt, sys.stdout)


def _cmd_profile(args: argparse.Namespace) -> int:
    from core.browse import View

    args.name = engine.resolve_name(args.db_path, "domain table", args.name)
    profile = engine.profile_column(args.db_path, View(args.name, args.where), args.column, exact=not args.estimate)
    for line in profile_lines(profile):
        print(line)
    return EXIT_OK


def _cmd_index(args: argparse.Namespace) -> int:
    if args.list:
        if args.column is not None or args.drop:
            raise UsageError("--list takes at most a table name: courier index --list [NAME]")
        table = engine.resolve_name(args.db_path, "domain table", args.name) if args.name else None
        indexes = engine.sort_indexes(args.db_path, table)
        if not indexes:
            print("No sort indexes" + (f" on {table}" if table else "") + ": build one with courier index NAME COLUMN")
        for found in indexes:
            print(f"{found.table:<40} {found.column:<24} {found.name}")
        return EXIT_OK
    if args.name is None or args.column is None:
        raise UsageError("name a table and a column, e.g. courier index Heap:Pageviews time (or --list)")
    args.name = engine.resolve_name(args.db_path, "domain table", args.name)
    if args.drop:
        dropped = engine.drop_sort_index(args.db_path, args.name, args.column)
        print(f"Dropped the sort index on {dropped.table} ({dropped.column})")
        return EXIT_OK
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = done * 100 // max(1, total)
        if sys.stderr.isatty() and percent != shown[0]:
            shown[0] = percent
            print(f"\rBuilding the sort index on {args.name} ({args.column}): {percent}%", end="", file=sys.stderr)

    with stop_on_signals("cancelling the index build; nothing will be built") as stop:
        try:
            built, new = engine.build_sort_index(
                args.db_path, args.name, args.column, progress=progress, should_stop=stop.is_set
            )
        finally:
            if shown[0] >= 0:
                print(file=sys.stderr)
    verb = "Built" if new else "Already built:"
    print(f"{verb} the sort index on {built.table} ({built.column}); sorting by {built.column} reads it")
    return EXIT_OK


def profile_lines(profile: Any, bar_width: int = 30) -> list[str]:
    """A column profile as plain lines: the summary, top values with bars, and rows per day."""

    def shown(value: Any) -> str:
        return "NULL" if value is None else str(value)

    share = (lambda n: f"{100.0 * n / profile.rows:5.1f}%") if profile.rows else (lambda n: "    -")
    lines = [
        f"{profile.table} · {profile.column} ({profile.kind}; {profile.basis()})"
        + (f" WHERE {profile.where}" if profile.where else ""),
        f"rows      {profile.rows:,}",
        f"NULL      {profile.nulls:,} ({share(profile.nulls).strip()})",
        f"distinct  {profile.distinct:,}{'' if profile.exact else ' (in the sample)'}",
        f"min       {shown(profile.minimum)}{'' if profile.exact else ' (in the sample)'}",
        f"max       {shown(profile.maximum)}{'' if profile.exact else ' (in the sample)'}",
    ]
    if profile.mean is not None:
        lines.append(f"mean      {profile.mean:,.6g}")
    for title, items in (("top values", profile.top), ("rows per day", profile.days)):
        if not items:
            continue
        lines.append(title)
        top = max(count for _, count in items) or 1
        width = min(40, max(len(shown(value)) for value, _ in items))
        for value, count in items:
            label = shown(value).replace("\n", "⏎")
            label = label if len(label) <= width else label[: width - 1] + "…"
            lines.append(
                f"  {label:<{width}}  {count:>12,}  {share(count)}  {'█' * max(1, round(bar_width * count / top))}"
            )
    return lines


def _cmd_query(args: argparse.Namespace) -> int:
    page = engine.run_query(args.db_path, args.sql, limit=args.limit)
    _print_rows(page.columns, page.rows, args.format)
    if page.has_after:
        print(f"courier: showing the first {args.limit:,} rows; pass --limit for more", file=sys.stderr)
    return EXIT_OK


def _cmd_rejects(args: argparse.Namespace) -> Exit:
    columns, rows = engine.rejected_rows(args.db_path, args.run_id, args.limit)
    render(columns, rows, args.format, sys.stdout)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> Exit:
    from core.demo import HEAP_COURIER, claim_demo_db, start_demo_server
    from core.store import DB_ENV
    from core.windows import RunWindow

    requested = args.db_path if args.db or os.environ.get(DB_ENV) else None
    claim = claim_demo_db(requested)
    db_path = claim.db_path
    args.db_path = db_path
    server = None
    try:
        if claim.endpoint_url is not None:
            endpoint = claim.endpoint_url
            print(
                f"Demo database {db_path} (a running demo owns it: using its S3 server at {endpoint}, "
                "which it keeps up until this demo quits too)",
                file=sys.stderr,
            )
        else:
            print(f"Demo database {db_path}", file=sys.stderr)
            print("Starting the demo S3 server with generated Heap data…", file=sys.stderr)
            server = start_demo_server()
            endpoint = server.endpoint_url
            claim.publish(endpoint)
            engine.configure_demo(db_path, endpoint)
        if not args.headless:
            return _open_app(args, demo_note=f"Demo S3 at {endpoint} (bucket heap-rs3-demo) · database {db_path}")
        summary = engine.run(db_path, "courier", HEAP_COURIER, RunWindow.all(), listener=_print_event)
        print(
            f"Run {summary.id} {summary.status}: {summary.rows_read:,} rows read, "
            f"{summary.rows_inserted:,} inserted, {summary.rows_updated:,} updated"
        )
        _cmd_tables(args)
        return EXIT_OK if summary.status in ("Succeeded", "Warning") else EXIT_FAILED
    finally:
        if server is not None:
            try:  # a guest demo uses this server: keep it up until the guest quits
                claim.wait_for_guests(lambda line: print(line, file=sys.stderr))
            except KeyboardInterrupt:
                pass
            server.stop()
        claim.release()
        print(
            f"Demo database {db_path} kept. Open it again with: courier --db {db_path} tables "
            f"(or courier demo --db {db_path} to run against a new demo S3)",
            file=sys.stderr,
        )


def _open_app(args: argparse.Namespace, demo_note: str | None = None) -> Exit:
    from tui.app import LeftRun, make_app

    app = make_app(args.db_path, demo_note=demo_note)
    if demo_note is None:
        app.leave_note = (
            "Leave it running: Courier closes at once and a background process takes the run over (the file "
            "being loaded rolls back and loads again there, from what is committed). Courier prints the new "
            f"run's ID, to follow with: courier --db {args.db_path} runs ID --follow"
        )

    def left(runs: dict[int, LeftRun]) -> None:
        if demo_note is not None:
            # The demo's S3 server lives in this process: the run stays here, and so does the server.
            for run_id, run in runs.items():
                _wait_for_left_run(args.db_path, run_id, run.target)
            return
        hand_over_left_runs(args.db_path, runs)

    app.when_left_running = left
    app.run()
    return EXIT_OK


BACKGROUND_LOG_SUFFIX = ".background.log"
"""Output of the runs handed to a background process goes to ``<database>.background.log`` (mode 0600)."""


def window_options(window: Any) -> list[str] | None:
    """The ``courier run`` / ``courier group run`` options that ask for ``window`` again, or ``None`` when the
    command line has none for it (an hours window, which only a group's schedule makes)."""
    kind = getattr(window, "kind", None)
    if kind == "day" and window.start:
        return ["--day", window.start.isoformat()]
    if kind == "period" and window.start and window.end:
        return ["--from", window.start.isoformat(), "--to", window.end.isoformat()]
    if kind == "all":
        return ["--all"]
    if kind == "new dumps":
        return []
    if kind == "rebuild" and window.table:
        return ["--rebuild", window.table]
    return None


def hand_over_left_runs(db_path: Path, runs: dict[int, Any], *, out: Any = None) -> dict[int, int]:
    """Continue runs the user left going when quitting the app in detached ``courier run`` processes.

    A run lives in the app's threads, which cannot outlive it, so each one is asked to stop (the
    file being loaded rolls back, everything committed stays) and, once stopped, the same courier
    or group is run again for the same window by a child in its own session: it continues from the
    committed cursors (a stopped run plus a rerun converges by design), survives the terminal, and
    is followed with ``courier runs ID --follow`` and stopped with ``courier runs stop ID``. The
    runner refuses a second run of a courier that is running, so the child starts only once the
    stopped run has ended. A run that ended meanwhile is only reported; one whose window has no
    command-line form is waited for here, as before.

    Args:
        db_path: The database.
        runs: Run ID → ``tui.app.LeftRun`` (kind, window, target).
        out: Where to say what happens (standard error by default).

    Returns:
        Old run ID → the ID of the run that continues it, for each run handed over.
    """
    import subprocess
    import time

    from core.vocab import RunStatus

    out = out or sys.stderr

    def say(text: str) -> None:
        try:
            print(text, file=out, flush=True)
        except OSError:
            pass  # the terminal went away: the handover goes on all the same

    def ended(run_id: int) -> Any:
        while not RunStatus((run := engine.get_run(db_path, run_id)).status).is_final:
            time.sleep(0.1)
        return run

    handed: dict[int, int] = {}
    for run_id, left in runs.items():
        options = window_options(left.window)
        if options is None:
            _wait_for_left_run(db_path, run_id, left.target)
            continue
        say(f"Run {run_id} ({left.target}): handing it to a background process (the file being loaded rolls back)…")
        engine.stop_run(db_path, run_id)
    for run_id, left in runs.items():
        options = window_options(left.window)
        if options is None:
            continue
        run = ended(run_id)
        if run.status != RunStatus.STOPPED:
            say(f"Run {run_id} ({left.target}) ended {run.status} before it could be handed over.")
            continue
        command = [sys.executable, "-m", "tui.cli", "--db", str(db_path)]
        command += ["group", "run", left.target] if left.kind == "group" else ["run", left.target]
        log = Path(f"{db_path}{BACKGROUND_LOG_SUFFIX}")
        sink = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            child = subprocess.Popen(
                [*command, *options],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,  # no terminal: closing it (SIGHUP) or Ctrl-C here does not reach the run
                close_fds=True,
            )
        finally:
            os.close(sink)
        new_id = _started_run(db_path, left.kind, left.target, run_id, child)
        if new_id is None:
            say(f"Run {run_id} ({left.target}) is Stopped: the background run did not start (see {log}).")
            continue
        handed[run_id] = new_id
        say(
            f"Run {run_id} ({left.target}) goes on in the background as run {new_id} (pid {child.pid}). "
            f"Follow it: courier --db {db_path} runs {new_id} --follow · stop it: courier --db {db_path} runs "
            f"stop {new_id}"
        )
    return handed


def _started_run(db_path: Path, kind: str, target: str, after: int, child: Any) -> int | None:
    """The ID of the run ``child`` started for ``target`` (the first one after run ``after``), waiting for its row;
    ``None`` when the child ended without one (refused, or it failed before starting)."""
    import time

    while True:
        exited = child.poll() is not None  # before reading: a child that ended has written its row, if any
        runs = engine.run_history(db_path, kind=kind, target=target, limit=5).runs
        newer = [run.id for run in runs if run.id > after]
        if newer:
            return min(newer)
        if exited:
            return None
        time.sleep(0.1)


def _wait_for_left_run(db_path: Path, run_id: int, target: str) -> None:
    """The user quit and left a run going: it lives in this process, so wait for it, saying how to follow it.

    The terminal may close meanwhile (SIGHUP is ignored so the run still finishes); Ctrl-C stops it cleanly.
    """
    import time

    print(
        f"Run {run_id} ({target}) goes on in this process until it ends; Ctrl-Z then bg puts it in the "
        f"background, Ctrl-C stops it. Follow it with: courier --db {db_path} runs {run_id} --follow",
        file=sys.stderr,
        flush=True,
    )
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals("stopping the run after rolling back the file being loaded (again to abort)") as stop:

            def poll() -> None:
                if stop.is_set():
                    engine.stop_run(db_path, run_id)
                time.sleep(0.5)

            run = engine.follow_run_until_done(db_path, run_id, poll=poll, on_events=lambda events: None)
        print(f"Run {run_id} ({target}) {run.status}", file=sys.stderr)
    except OSError:
        pass  # the terminal went away: the run finished all the same
    finally:
        signal.signal(signal.SIGHUP, previous_hup)


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day from the command line."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UsageError(f'"{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25') from error


if __name__ == "__main__":
    sys.exit(main())
