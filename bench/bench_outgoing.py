"""Measures the outgoing side at month start: `issue` for 150 auditors, and a pass sending 150 reminders
(a pass of a daemon already running: a quiet pass earlier in the month warms what every process loads once).

For each: the wall time, the bytes written into the store folder (the log included; counted at every
os.write to a file under it), the fsyncs, and the bytes the process wrote in all (/proc/self/io
wchar: the sent letters in the Maildir `sent/` too), and how much of the time went on composing the
letters (templates and MIME: work the floor does not do), and how many templates were compiled in the run
(none once Jinja2's bytecode cache holds them: every run after the first on a machine). Then the mail server refusing everything for
ten passes, 16 minutes apart, with the 150 letters of `issue` waiting: what each pass writes to the
store while nothing can go (goal: the waiting letters are not written again). Beside them, a floor from the same run: the same
letters written as files, each fsync'd, the folder fsync'd once (what any service that keeps its
letters durably before sending must do). Goals: within 3x the floor's time, and at most 3x its bytes
(every letter's bytes once in the store's log and once in sent/ is already 2x).
"""
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinja2 import Environment  # noqa: E402

from app import commands  # noqa: E402
from app.context import open_context  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from app.postman import Postman  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.errors import TemporaryFailure  # noqa: E402

AUDITORS = 150
MONTH = "2026-12"
HEADS = ["marcus.ellery@wexcombe.example"]


class Meter:
    """Counts bytes written to files under one folder, fsyncs, and the process's own write total."""

    def __init__(self, folder: Path):
        self.folder = str(Path(folder).resolve()) + os.sep
        self.paths: dict[int, str] = {}

    def __enter__(self):
        self.bytes = self.fsyncs = 0
        self._open, self._write, self._fsync = os.open, os.write, os.fsync
        meter = self

        def counted_open(path, flags, mode=0o777, *, dir_fd=None):
            fd = meter._open(path, flags, mode, dir_fd=dir_fd)
            meter.paths[fd] = os.path.abspath(os.fspath(path))
            return fd

        def counted_write(fd, data):
            written = meter._write(fd, data)
            if meter.paths.get(fd, "").startswith(meter.folder):
                meter.bytes += written
            return written

        def counted_fsync(fd):
            meter.fsyncs += 1
            return meter._fsync(fd)

        os.open, os.write, os.fsync = counted_open, counted_write, counted_fsync
        self.composing, self._compose = 0.0, Postman.compose

        def timed_compose(postman, letter):
            begun = time.perf_counter()
            try:
                return meter._compose(postman, letter)
            finally:
                meter.composing += time.perf_counter() - begun

        Postman.compose = timed_compose
        # Templates compiled in the measured run: 0 when Jinja2's bytecode cache (mailer/template_cache.py) had
        # them from an earlier process, as for every run after the first on a machine; printed beside the time.
        self.compiled, self._compile = 0, Environment.compile

        def counted_compile(env, *args, **kwargs):
            meter.compiled += 1
            return meter._compile(env, *args, **kwargs)

        Environment.compile = counted_compile
        self.wchar = _wchar()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.wchar = _wchar() - self.wchar
        os.open, os.write, os.fsync = self._open, self._write, self._fsync
        Postman.compose = self._compose
        Environment.compile = self._compile


def _wchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def site(folder: Path):
    """A fresh site whose roster has AUDITORS more auditors, and an allocations file giving each one audit."""
    commands.init(folder)
    config = load_config(folder / "config.toml")
    roster = (folder / "roster.csv").read_text()
    roster += "".join(f"bench.auditor{n:03d}@wexcombe.example,Bench Auditor {n:03d},auditor,Children in Care,"
                      f"{HEADS[0]}\n" for n in range(AUDITORS))
    (folder / "roster.csv").write_text(roster)
    commands.import_roster(config.store_path, folder / "roster.csv", mailbox_address=config.mailbox_address)
    rows = "auditor_email,case_ref,audit_type\n" + "".join(
        f"bench.auditor{n:03d}@wexcombe.example,CR-{60000 + n},monthly\n" for n in range(AUDITORS))
    (folder / "allocations.csv").write_text(rows)
    return config


def floor(letters: list[bytes], folder: Path) -> Meter:
    """The same letters written as files, each fsync'd, then the folder once."""
    folder.mkdir()
    with Meter(folder) as meter:
        for n, raw in enumerate(letters):
            fd = os.open(folder / f"{n}.eml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, raw)
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return meter


def sent_letters(folder: Path, since: set[str]) -> list[bytes]:
    return [p.read_bytes() for p in sorted((folder / "mailbox" / "sent" / "new").iterdir()) if p.name not in since]


def report(what: str, meter: Meter, letters: int, base: Meter) -> None:
    print(f"{what}: {letters} letters in {meter.seconds:.2f} s ({meter.seconds / base.seconds:.1f}x the floor's "
          f"{base.seconds:.2f} s, goal < 3x); {meter.bytes / 1e6:.1f} MB written to the store "
          f"({meter.bytes / base.bytes:.1f}x the floor's {base.bytes / 1e6:.1f} MB, goal <= 3x), "
          f"{meter.wchar / 1e6:.1f} MB written in all; {meter.fsyncs} fsyncs (floor {base.fsyncs}); "
          f"composing the letters took {meter.composing:.2f} s of it; templates compiled: {meter.compiled} "
          f"({'none: loaded from the bytecode cache' if not meter.compiled else 'the cache was cold'})")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = site(tmp / "site")
        store = config.store_path
        ctx = open_context(config, Clock(datetime.fromisoformat(f"{MONTH}-01T08:00+00:00")))
        with Meter(store) as issued:
            counts = commands.issue(ctx, MONTH, tmp / "site" / "allocations.csv")
            ctx.close()
        letters = sent_letters(tmp / "site", set())
        base = floor(letters, tmp / "floor-issue")
        report(f"issue for {AUDITORS} auditors", issued, counts["letters"], base)

        # The daemon has been running since the letters went: a quiet pass the next day (no reminder is due)
        # has loaded what any pass loads once per process (the bank-holiday calendar's module is ~0.15 s
        # to import). The pass measured still takes its own daily backup and compiles the reminder templates.
        ctx = open_context(config, Clock(datetime.fromisoformat(f"{MONTH}-02T08:00+00:00")))
        one_pass(ctx)
        ctx.close()
        before = {p.name for p in (tmp / "site" / "mailbox" / "sent" / "new").iterdir()}
        ctx = open_context(config, Clock(datetime.fromisoformat(f"{MONTH}-16T10:00+00:00")))
        ctx.postman._max_answers = 10_000
        with Meter(store) as reminded:
            one_pass(ctx)
            ctx.close()
        letters = sent_letters(tmp / "site", before)
        base = floor(letters, tmp / "floor-reminders")
        report("a pass sending reminders", reminded, len(letters), base)
        server_down(tmp / "down")


def server_down(folder: Path, passes: int = 10) -> None:
    """`issue` while the server refuses every letter, then `passes` passes that try again and fail."""
    config = site(folder)

    def refused(*args):
        raise TemporaryFailure("451 4.3.2 the server is not accepting mail now")

    at = datetime.fromisoformat(f"{MONTH}-01T08:00+00:00")
    ctx = open_context(config, Clock(at))
    ctx.postman._sender.send = refused
    commands.issue(ctx, MONTH, folder / "allocations.csv")
    ctx.close()
    with Meter(config.store_path) as down:
        for n in range(1, passes + 1):
            ctx = open_context(config, Clock(at + timedelta(minutes=16 * n)))
            ctx.postman._sender.send = refused
            one_pass(ctx)
            ctx.close()
    spool = config.store_path / "spool"
    waiting = sum(p.stat().st_size for p in spool.iterdir()) if spool.is_dir() else 0
    print(f"the server down for {passes} passes, {AUDITORS} letters waiting ({waiting / 1e6:.1f} MB in the spool): "
          f"{down.bytes / passes / 1e3:.0f} kB written to the store per pass, {down.fsyncs / passes:.0f} fsyncs "
          f"per pass (goal: far below the letters' own size)")


if __name__ == "__main__":
    main()
