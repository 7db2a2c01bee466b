"""The command line: parses, then calls app.commands. The only place errors become messages and exit codes.

    python main.py [--config PATH] [--now ISO-8601] [--dry-run] COMMAND
"""
import argparse
import logging
import sys
from pathlib import Path

from app import commands
from app.service import open_service
from core.clock import Clock, parse_instant
from core.config import load_config
from core.errors import AuditMailError

DEFAULT_CONFIG = "config.toml"


def build_parser() -> argparse.ArgumentParser:
    """The arguments every command shares, and one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="auditmail", description="The QA audit mailbox service.")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the configuration file (default: ./config.toml)")
    parser.add_argument("--now", type=_instant, help="fix the clock, e.g. 2026-11-30T23:58 (London time unless an offset is given)")
    parser.add_argument("--dry-run", action="store_true", help="change nothing, send nothing; print what would be sent")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="write a sample config.toml, roster.csv and the Maildirs into DIR")
    init.add_argument("dir", type=Path)
    roster = sub.add_parser("roster", help="manage the roster")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    roster_import = roster_sub.add_parser("import", help="replace the roster with a checked CSV (all or nothing)")
    roster_import.add_argument("csv", type=Path)
    sub.add_parser("once", help="one intake pass plus whatever scheduled work is due")
    sub.add_parser("run", help="the daemon: poll the mailbox until stopped (SIGTERM/SIGINT)")
    return parser


def _instant(text: str):
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date and time: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    clock = Clock(args.now)
    try:
        if args.command == "init":
            for line in commands.init(args.dir):
                print(f"wrote {line}")
            print(f"next: python main.py --config {args.dir / 'config.toml'} once")
            return 0
        config = load_config(args.config)
        _configure_logging(config.log_level)
        if args.command == "roster":
            count = commands.import_roster(config.store_path, args.csv)
            print(f"roster imported: {count} people")
            return 0
        service = open_service(config, clock, dry_run_output=print if args.dry_run else None)
        try:
            if args.command == "once":
                counts = commands.once(service)
                print(f"{counts['handled']} message(s) handled, {counts['sent']} sent"
                      + (" (dry run: nothing was changed or sent)" if args.dry_run else ""))
            elif args.command == "run":
                commands.run(service)
        finally:
            service.close()
    except AuditMailError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z")


def cli() -> None:
    """The console command's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
