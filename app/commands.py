"""What each command does, in terms of the service; main.py only parses arguments and prints."""
from importlib import resources
from pathlib import Path
from typing import Callable

from app import backups, failed_mail, retention
from app.daemon import Daemon, one_pass
from app.cycle.issue import issue_month
from app.files import read_csv
from app.status import month_status
from app.context import WAIT_FOR_STORE_SECONDS, Context
from core.clock import Clock
from core.config import load_config
from core.errors import AuditMailError, ConfigError, InputFileError, StoreUnusable, UsageError
from db.files import make_private_folder, private_by_default
from db.outbox import OutboxRepo
from db.roster import RosterRepo
from db.store import Store
from inbox.mailbox import Mailbox
from inbox.maildir import FOLDERS, make_maildir
from workflows.roster import check_roster


def init(folder: Path) -> list[str]:
    """Write a commented config.toml, the fictional sample roster and the Maildirs; returns what was made."""
    folder = Path(folder)
    config = folder / "config.toml"
    if config.exists():
        raise UsageError(f"{config} already exists; init never overwrites a configuration "
                         "(choose a new folder, or edit that file)")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; init needs a folder (a new one, or an empty one)")
    if (folder / "data").exists():
        raise UsageError(f"{folder / 'data'} already holds a store; init never replaces one (choose a new folder)")
    private_by_default()  # the roster, the store and the mail are about people: readable by this user only
    try:
        make_private_folder(folder)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror or exc}") from None
    sample = resources.files("app.sample")
    config.write_text(sample.joinpath("config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    roster = folder / "roster.csv"
    for name in ("roster.csv", "allocations.csv"):
        if not (folder / name).exists():
            (folder / name).write_text(sample.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    for name in FOLDERS:
        make_maildir(folder / "mailbox" / name)
    settings = load_config(config)
    people = import_roster(folder / "data", roster, mailbox_address=settings.mailbox_address,
                           director_email=settings.letterhead.email)
    return [str(config), f"{roster} ({people} people, imported)", f"{folder / 'allocations.csv'} (a sample month's audits)",
            str(folder / "mailbox") + "/{inbox,processed,failed,sent}"]


def import_roster(store_path: Path, csv_path: Path, store: Store | None = None, *, dry_run: bool = False,
                  mailbox_address: str = "", director_email: str = "") -> int:
    """Check a roster CSV and replace the stored roster with it, all or nothing; returns how many people.

    With `dry_run` the file is only checked. `mailbox_address` (the shared mailbox) may not be a person;
    `director_email` (the configured Director) must be one, or no exemption could ever be decided.
    """
    header, rows = read_csv(csv_path)
    people, problems = check_roster(header, rows, mailbox_address)
    director = director_email.strip().lower()
    if director and people and not problems and director not in {person.email for person in people}:
        problems = [f"the configured Director ({director}, director.email in the configuration) is not in the "
                    "file: add them, or correct director.email"]
    if problems:
        raise InputFileError(str(csv_path), problems)
    if not people:
        raise InputFileError(str(csv_path), ["the file has no people in it"])
    if dry_run:
        return len(people)
    own = store is None
    if own:
        private_by_default()
    # Importing a roster is one of the two ways a new store is made (init is the other).
    store = store or Store(store_path, wait_seconds=WAIT_FOR_STORE_SECONDS, create=True)
    try:
        with store.transaction():
            RosterRepo(store).replace(people)
    finally:
        if own:
            store.close()
    return len(people)


def issue(ctx: Context, month: str, csv_path: Path) -> dict:
    """Issue a month's allocations and send the letters (what is already issued is skipped)."""
    counts = issue_month(ctx, month, csv_path)
    ctx.postman.deliver_pending()
    return counts


def status(ctx: Context, month: str | None) -> str:
    """The month's status table."""
    return month_status(ctx, month)


def once(ctx: Context) -> dict:
    """One intake pass plus whatever scheduled work is due."""
    return one_pass(ctx)


def retry(ctx: Context, names: list[str], everything: bool, *, dry_run: bool = False) -> list[str]:
    """Bring mail set aside in failed/ back into the inbox with its attempts reset; returns the names."""
    if not names and not everything:
        raise UsageError("name the messages to bring back (as `status` lists them), or use --all")
    return failed_mail.retry(ctx, names, everything, dry_run=dry_run)


# --- sending that never stalls: letters set aside, and sent again --------------------------------

def resend(ctx: Context, message_id: str | None) -> dict:
    """Put one set-aside letter (or all, with None) back in the outbox, end any pause, send now; returns counts.

    A person resending says the server is fixed, so a pause in sending ends too. What still cannot go
    is retried or set aside again as any letter is, and `status` says so.
    """
    with ctx.store.transaction():
        outbox = OutboxRepo(ctx.store)
        back = outbox.put_back(_bracketed(message_id) if message_id else None)
        if message_id and not back:
            raise UsageError(f"no letter with Message-ID {_bracketed(message_id)} is set aside "
                             "(`status` lists those that are)")
        outbox.resume()
    sent = ctx.postman.deliver_pending()
    outbox = OutboxRepo(ctx.store)
    ids = {r["message_id"] for r in back}
    waiting = [r for r in outbox.pending() if r["message_id"] in ids]
    aside = [r for r in outbox.set_aside_letters() if r["message_id"] in ids]
    return {"put_back": len(back), "sent": sent, "waiting": waiting, "set_aside": aside}


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def run(open_pass: Callable[[Mailbox], Context], config) -> None:
    """The daemon, until SIGTERM or SIGINT; `open_pass(mailbox)` opens the service for one pass.

    A store found missing or damaged, or a roster that no longer fits the configuration (its Director
    gone), stops the daemon (exit 2) instead of being retried at every poll while mail waits unanswered:
    a person must fix it, and a stopped service is what a supervisor such as systemd notices.
    """
    unusable: list[AuditMailError] = []

    def open_checked(mailbox: Mailbox) -> Context:
        try:
            return open_pass(mailbox)
        except (StoreUnusable, ConfigError) as exc:
            unusable.append(exc)
            daemon.stop()
            raise

    daemon = Daemon(open_checked, config)
    daemon.run()
    if unusable:
        raise unusable[0]


# -- keeping the data safe: backups, restore, retention (see app/backups.py, app/retention.py) ---------

def restore(config, name: str | None, stamp: str, *, dry_run: bool = False) -> list[str]:
    """Without a name, the list of backups; with one (or "newest"), put it back. Returns lines to print."""
    if name is None:
        return backups.backups_table(config) + ["restore one with `restore --from NAME` (or `--from newest`)"]
    backup, aside = backups.restore(config, name, stamp, dry_run=dry_run)
    if dry_run:
        return [f"dry run: would restore {backup} into {config.store_path}, setting the present store aside"]
    kept = f"; the store it replaced is kept in {aside}" if aside else ""
    return [f"restored {config.store_path} from {backup}{kept}",
            "mail handled after that backup was taken is in the mailbox's processed/ folder: move it back into "
            "inbox/new/ to have it handled again"]


def purge(config, clock: Clock, before: str | None, *, dry_run: bool = False) -> retention.Purged:
    """Remove records and mail older than `before` (default: the retention period); what went is returned."""
    return retention.purge(config, clock, before, dry_run=dry_run)


# -- the monthly QA report (issue 9; app/reports/) ---------------------------------------------------

def report(ctx: Context, month: str, out_dir: Path | None = None, send: bool = False) -> dict:
    """The month's report: its text, the files written to `out_dir` and, with `send`, the letter sent.

    Read-only on the store unless `send`: then the letter and the ledger mark are stored together.
    """
    from app.cycle.issue import checked_month
    from app.reports.build import monthly_report, render_text, write_files
    from app.director_letter import write_director_draft
    from app.reports.send import send_report

    checked_month(month)
    figures = monthly_report(ctx, month)
    written = []
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"--out: {out_dir} is a file; give a folder (a new one is made)")
        try:
            written = write_files(ctx, month, figures, out_dir)
            written += write_director_draft(ctx, month, figures.trend, out_dir, figures.moderation.moderated)
        except OSError as exc:
            raise UsageError(f"--out: cannot write into {out_dir}: {exc.strerror or exc}") from None
    sent = None
    if send:
        sent = send_report(ctx, month)
        ctx.postman.deliver_pending()
    return {"text": render_text(ctx, month, figures), "written": written, "sent": sent}
