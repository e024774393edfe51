"""The ``courier`` command line: a thin layer over ``core``.

Exit status: 0 on success, 1 when a run fails, 2 on bad input. Errors are
printed as one clear line on stderr, never as a traceback. Textual is only
imported by the commands that open the app.
"""

from __future__ import annotations

import argparse
import json
import os
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``courier`` command."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.db:
            os.environ["COURIER_DB"] = str(Path(args.db).expanduser().resolve())
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
    from core.schedule import describe_cron, next_runs, validate_cron, validate_timezone

    problem = validate_cron(args.expression) or validate_timezone(args.tz)
    if problem:
        raise UsageError(problem)
    if args.n < 1:
        raise UsageError("-n must be 1 or more")
    print(describe_cron(args.expression) + f" ({args.tz})")
    for moment in next_runs(args.expression, args.tz, datetime.now(timezone.utc), args.n):
        utc = moment.astimezone(timezone.utc)
        print(f"  {moment:%a %Y-%m-%d %H:%M %Z}   {utc:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def _open_app(args: argparse.Namespace) -> int:
    raise UsageError("the terminal app is not part of this build yet; use a subcommand (courier --help)")


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day from the command line."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UsageError(f'"{text}" is not a day; use YYYY-MM-DD, e.g. 2026-11-25') from error


if __name__ == "__main__":
    sys.exit(main())
