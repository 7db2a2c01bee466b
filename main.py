"""The command line: parses, then calls app.commands. The only place errors become messages and exit codes.

    python main.py [--config PATH] [--now ISO-8601] [--dry-run] COMMAND
"""
import argparse
import logging
import os
import sys
from pathlib import Path

from app import commands
from app.demo import SHOWN_AT as DEMO_SHOWN_AT, run_demo
from app.doctor import checks as run_doctor
from app.context import open_context
from core.clock import Clock, parse_instant
from core.config import load_config
from core.errors import AuditMailError

DEFAULT_CONFIG = "config.toml"
READ_ONLY_COMMANDS = {"status"}  # these work while the daemon holds the store


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
    issue = sub.add_parser("issue", help="issue a month's audits from an allocations CSV (re-running sends nothing twice)")
    issue.add_argument("--month", required=True, help="the audit month, YYYY-MM")
    issue.add_argument("--allocations", required=True, type=Path, help="CSV: auditor_email,case_ref,audit_type[,team_manager_email]")
    status = sub.add_parser("status", help="the month at a glance: per service and overall")
    status.add_argument("--month", help="YYYY-MM (default: the latest month issued)")
    demo = sub.add_parser("demo", help="play a month of a fictional council through the real daemon (default DIR: ./demo)")
    demo.add_argument("dir", nargs="?", type=Path, default=Path("demo"))
    sub.add_parser("once", help="one intake pass plus whatever scheduled work is due")
    sub.add_parser("run", help="the daemon: poll the mailbox until stopped (SIGTERM/SIGINT)")
    # --- doctor and resend: checking the mailbox, and letters the mail server would not take -------
    doctor = sub.add_parser("doctor", help="check the config, connect, count the folders; exit 2 when something is wrong")
    doctor.add_argument("--send-test", metavar="ADDRESS", help="also send a test message to ADDRESS")
    resend = sub.add_parser("resend", help="send again letters set aside after the mail server refused them")
    which = resend.add_mutually_exclusive_group(required=True)
    which.add_argument("message_id", nargs="?", metavar="MESSAGE-ID", help="one letter, as `status` lists it")
    which.add_argument("--all", action="store_true", help="every letter set aside")
    # -- retry: mail set aside in failed/ back into the inbox (issue 12) --
    retry = sub.add_parser("retry", help="bring mail set aside in failed/ back into the inbox, its attempts reset")
    retry.add_argument("names", nargs="*", metavar="NAME", help="a message's name as `status` lists it")
    retry.add_argument("--all", action="store_true", dest="retry_all", help="every message in failed/")
    restore = sub.add_parser("restore", help="list the store's daily backups, or put one back (refused while the daemon runs)")
    restore.add_argument("--from", dest="backup", metavar="BACKUP", help="the backup to put back, e.g. data-2026-11-30, or 'newest'")
    # -- the monthly QA report (issue 9): read-only unless --send ------------------------------------
    report = sub.add_parser("report", help="the month's QA report: print it, write its files, or send it")
    report.add_argument("--month", required=True, help="the audit month, YYYY-MM")
    report.add_argument("--out", type=Path, metavar="DIR", help="write qa-report-YYYY-MM.{html,txt,csv,xlsx} and "
                        "the Director's draft director-letter-YYYY-MM.{html,txt} into DIR")
    report.add_argument("--send", action="store_true", help="also send it to the QA team and the Director")
    purge = sub.add_parser("purge", help="remove records and mail older than the retention period, and list what went")
    purge.add_argument("--before", metavar="YYYY-MM", help="remove months before this one (default: [store] retention_months)")
    return parser


def _instant(text: str):
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date and time: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(_shared_options_first(sys.argv[1:] if argv is None else argv))
    clock = Clock(args.now)
    try:
        if args.command == "init":
            for line in commands.init(args.dir):
                print(f"wrote {line}")
            config = args.dir / "config.toml"
            print(f"next: edit {config} and {args.dir / 'roster.csv'} (then `{_me()} --config {config} roster import "
                  f"{args.dir / 'roster.csv'}`), issue a month with `{_me()} --config {config} issue --month YYYY-MM "
                  f"--allocations {args.dir / 'allocations.csv'}`, and start the daemon with `{_me()} --config {config} run`")
            return 0
        if args.command == "demo":
            sent = run_demo(args.dir, print)
            print(f"\nEvery letter the service sent is a complete email in {sent}/new "
                  "(open one in any mail client); the mailbox and store are in "
                  f"{args.dir}, and `{_me()} --config {args.dir / 'config.toml'} --now {DEMO_SHOWN_AT} status` shows the "
                  "month again (the demo keeps its own clock).")
            return 0
        if args.command == "doctor":
            # Loading the config is doctor's first check, so it reports a bad file rather than stopping at it.
            results = []
            if args.dry_run and args.send_test:
                print(f"dry run: no test message will be sent to {args.send_test}")
            for check in run_doctor(Path(args.config), clock, None if args.dry_run else args.send_test):
                print(check)
                results.append(check.ok)
            return 0 if all(results) else 2
        config = load_config(args.config)
        # A dry run prints what would be sent; its log would only say "sent" of letters that never went.
        _configure_logging("WARNING" if args.dry_run else config.log_level)
        if args.command == "roster":
            count = commands.import_roster(config.store_path, args.csv, dry_run=args.dry_run,
                                           mailbox_address=config.mailbox_address,
                                           director_email=config.letterhead.email)
            print(f"roster checked: {count} people; dry run, nothing imported" if args.dry_run
                  else f"roster imported: {count} people")
            return 0
        if args.command == "restore":
            stamp = clock.london_now().strftime("%Y%m%dT%H%M%S")
            for line in commands.restore(config, args.backup, stamp, dry_run=args.dry_run):
                print(line)
            return 0
        if args.command == "purge":
            purged = commands.purge(config, clock, args.before, dry_run=args.dry_run)
            print(_purge_report(purged, args.dry_run))
            return 0
        output = print if args.dry_run else None
        if args.command == "run" and args.dry_run:
            # A dry run changes nothing, so a daemon would show the same letters at every poll.
            print("dry run: one pass only, as `once` would do it")
            args.command = "once"
        if args.command == "run":
            commands.run(lambda mailbox: open_context(config, clock, mailbox=mailbox), config)
            return 0
        read_only = args.command in READ_ONLY_COMMANDS or (args.command == "report" and not args.send)
        ctx = open_context(config, clock, dry_run_output=output, read_only=read_only)
        try:
            if args.command == "issue":
                counts = commands.issue(ctx, args.month.strip(), args.allocations)
                print(f"{counts['new']} allocation(s) issued in {counts['letters']} letter(s); "
                      f"{counts['already_issued']} already issued, not sent again"
                      + (" (dry run: nothing was changed or sent)" if args.dry_run else ""))
            elif args.command == "status":
                print(commands.status(ctx, args.month))
            elif args.command == "retry":
                names = commands.retry(ctx, args.names, args.retry_all, dry_run=args.dry_run)
                print(("dry run: would bring back " if args.dry_run else "brought back to the inbox: ")
                      + (", ".join(names) or "nothing (failed/ is empty)")
                      + ("" if args.dry_run or not names else f"; the next pass (`{_me()} --config {args.config} once`, or the daemon) handles them"))
            elif args.command == "once":
                counts = commands.once(ctx)
                print(f"{counts['handled']} message(s) handled, {counts['sent']} sent"
                      + (" (dry run: nothing was changed or sent)" if args.dry_run else ""))
            elif args.command == "report":
                done = commands.report(ctx, args.month.strip(), args.out, args.send)
                print(done["text"], end="")
                for path in done["written"]:
                    print(f"wrote {path}", file=sys.stderr)
                if args.send:
                    print("sent to the QA team and the Director" + (" (dry run: nothing was sent)" if args.dry_run
                          else "" if done["sent"] else ": held back, see the log"), file=sys.stderr)
            elif args.command == "resend":
                print(_resent(commands.resend(ctx, None if args.all else args.message_id), args.dry_run))
        finally:
            ctx.close()
    except AuditMailError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def _resent(counts: dict, dry_run: bool) -> str:
    """What `resend` did, and what still did not go."""
    lines = [f"{counts['put_back']} letter(s) put back in the outbox; {counts['sent']} sent now"
             + (" (dry run: nothing was changed or sent)" if dry_run else "")]
    lines += [f"  {r['message_id']} not taken yet, tried again on its own: {r['last_error']}" for r in counts["waiting"]]
    lines += [f"  {r['message_id']} set aside again: {r['last_error']}" for r in counts["set_aside"]]
    return "\n".join(lines)


def _me() -> str:
    """How the person typed this command, so the hints we print can be pasted back as they are."""
    return "python main.py" if Path(sys.argv[0]).name == "main.py" else sys.argv[0] or "auditmail"


def _purge_report(purged, dry_run: bool) -> str:
    """What `purge` removed: a summary line, then each store file and message file by name."""
    mail = sum(map(len, purged.mail.values()))
    lines = [f"{'dry run, nothing removed; would remove' if dry_run else 'removed'} everything before {purged.before}: "
             f"{len(purged.records)} store file(s) and {mail} message(s) ("
             + ", ".join(f"{len(names)} in {folder}/" for folder, names in purged.mail.items()) + ")"]
    lines += [f"  {purged.store}/{name}.json" for name in purged.records]
    lines += [f"  {folder}/{name}" for folder, names in purged.mail.items() for name in names]
    return "\n".join(lines)


SHARED_FLAGS, SHARED_WITH_VALUE = ("--dry-run",), ("--config", "--now")


def _shared_options_first(argv: list[str]) -> list[str]:
    """The shared options moved before the command, so `purge --dry-run` means what `--dry-run purge` does."""
    shared, rest, i = [], [], 0
    while i < len(argv):
        word = argv[i]
        if word in SHARED_FLAGS or word.split("=", 1)[0] in SHARED_WITH_VALUE and "=" in word:
            shared.append(word)
        elif word in SHARED_WITH_VALUE and i + 1 < len(argv):
            shared += argv[i:i + 2]
            i += 1
        else:
            rest.append(word)
        i += 1
    return shared + rest


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z")


def cli() -> None:
    """The console command's entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`… | head`): not an error worth a traceback. Python would otherwise
        # complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    cli()
