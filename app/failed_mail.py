"""Mail set aside in failed/: listed by `status`, brought back into the inbox by `retry`.

A message is set aside when it cannot be parsed, when handling it raised an error, or when its
handling was cut off three times (a crash, a kill). Once the cause is fixed, `retry` moves it back
with its receipt time unchanged and its attempts reset, so the next pass handles it afresh. A
message that was already handled is never handled twice: the ledger still knows it.
"""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from core.clock import LONDON, month_of
from core.errors import UsageError
from core.text import one_line
from inbox.mailbox import FailedMail, SetAside

from app.oversize import message_key
from inbox.maildir import MaildirMailbox

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.retry")
RETRY_HINT = "bring one back with `auditmail --config {config} retry NAME`, or all of them with `… retry --all`"
SHOWN = 20


def failed_folder(ctx: Context) -> FailedMail | None:
    """The mailbox's failed folder, when its transport can list it and bring mail back."""
    if ctx.config.transport != "maildir":
        return None  # only the embedded mailbox can do this for now; and `status` never connects to a server
    # Folders on disk: looking at them is not connecting, so `status` can list them.
    return MaildirMailbox(ctx.config.maildir_path)


def shown_name(name: str) -> str:
    """A file name as it can be printed and typed back: bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace").split(":2,")[0].removeprefix("cur/").removeprefix("new/")


def retry(ctx: Context, names: list[str], everything: bool, *, dry_run: bool = False) -> list[str]:
    """Bring the named messages (or all) back from failed/ with their attempts reset; returns their names."""
    folder = failed_folder(ctx)
    if folder is None:
        raise UsageError(f"retry works only with the embedded maildir transport for now (this mailbox uses "
                         f"{ctx.config.transport}); move the message back to the inbox in a mail client")
    waiting = folder.set_aside()
    if everything:
        chosen = waiting
    else:
        by_name = {}
        for item in waiting:
            for alias in (item.name, shown_name(item.name), item.name.split("/", 1)[-1]):
                by_name.setdefault(alias, item)
        unknown = [n for n in names if n not in by_name and n.split(":2,")[0] not in by_name]
        if unknown:
            raise UsageError(f"not in failed/: {', '.join(one_line(n, 80) for n in unknown)} "
                             "(`status` lists what is there)")
        chosen = list(dict.fromkeys(by_name.get(n) or by_name[n.split(":2,")[0]] for n in names))
    if dry_run:
        return [shown_name(item.name) for item in chosen]
    for item in chosen:
        _bring_back(ctx, folder, item)
    return [shown_name(item.name) for item in chosen]


def _bring_back(ctx: Context, folder: FailedMail, item: SetAside) -> None:
    # The attempts are reset first: a crash between the two steps leaves the message in failed/
    # with nothing lost, and running `retry` again finishes the job.
    key = message_key(folder.read_set_aside(item), item.received_at)
    with ctx.store.transaction():
        ctx.ledger.set_attempts(key, item.received_at, 0)
    folder.bring_back(item)
    log.info("retry message_id=%s file=%s: brought back to the inbox, attempts reset", one_line(key, 250), shown_name(item.name))


def failed_section(ctx: Context) -> list[str]:
    """`status` lines for the mail in failed/, each with the reason it was set aside, and the way out."""
    folder = failed_folder(ctx)
    items = folder.set_aside() if folder else []
    if not items:
        return []
    reasons = _reasons(ctx, items)
    lines = ["", f"Set aside in failed/ ({len(items)}); {RETRY_HINT.format(config=ctx.config.source)}:"]
    for item in items[-SHOWN:]:
        name = shown_name(item.name)
        reason = reasons.get(name, "")
        lines.append(f"  {item.received_at.astimezone(LONDON):%d %b %H:%M}  {one_line(name, 80)}  "
                     f"({_size(item.size)}){'  ' + reason if reason else ''}")
    if len(items) > SHOWN:
        lines.insert(2, f"  ... {len(items) - SHOWN} earlier")
    return lines


def _reasons(ctx: Context, items: list[SetAside]) -> dict[str, str]:
    """Why each message was set aside, from the triage notes of the month it was received."""
    reasons = {}
    for month in sorted({month_of(item.received_at) for item in items}):
        for note in ctx.ledger.triage(month):
            if note.get("failed"):
                text = note.get("note", "")
                reason = text[text.find("(") + 1:text.rfind(")")] if "(" in text else text
                reasons[shown_name(str(note["failed"]))] = one_line(reason, 120)
    return reasons


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MB"
