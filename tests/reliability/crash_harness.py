"""The crash harness: the real daemon, killed with SIGKILL at random moments, against a run never killed.

    python tests/reliability/crash_harness.py --messages 600 --kills 120 --seed 7

One deployment is made with the real command line (`init`, `issue`), then copied twice. The same mix
of mail (tests/reliability/mail_mix.py) lands in both inboxes with the same file names and receipt
times, and both daemons run with the clock fixed at the same instant (`--now`), so the crash-free
run is what the killed one must end up as. The killed one is `python main.py run` started, killed
after a random delay, started again, a hundred times and more; then it runs until it is quiet.

Every figure a user would care about must be 0: mail lost, handled twice or sent twice, forged
decisions that took effect, daemons that died on their own. A message whose handling was cut off
three times is set aside in failed/ by design; it is counted on its own line, never as lost.
"""
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[2]), str(Path(__file__).parent)]

from inbox.maildir import deliver  # noqa: E402
from crash_compare import Figures, compare, maildir_names  # noqa: E402
from mail_mix import NOW, ROOT, Mail, allocations_csv, build_mix, roster  # noqa: E402
from mix_shapes import Letter  # noqa: E402

QUIET_SECONDS = 3.0       # a run is finished when nothing has changed for this long (polls are 1 s apart)
RUN_LIMIT_SECONDS = 900   # a run that never settles is a failure, not a hang


# -- the deployment ------------------------------------------------------------------------------
def cli(site: Path, *args: str, now: str | None = None) -> subprocess.CompletedProcess:
    """`python main.py --config site/config.toml [--now …] ARGS`, as an operator types it."""
    command = [sys.executable, str(ROOT / "main.py"), "--config", str(site / "config.toml")]
    return subprocess.run(command + (["--now", now] if now else []) + list(args),
                          capture_output=True, text=True, check=True, cwd=site)


def prepare(folder: Path, count: int, seed: int) -> tuple[Path, list[Mail]]:
    """A deployment with December 2026 issued (poll_seconds = 1), and the mix of mail answering its letters."""
    base = folder / "base"
    subprocess.run([sys.executable, str(ROOT / "main.py"), "init", str(base)], capture_output=True, check=True)
    config = base / "config.toml"
    # The clock stands still at NOW for the whole run, so every answer falls on one "day": lift the
    # per-sender daily brake, or it would hold back most answers of the month (it is tested in the storms).
    text = re.sub(r"(?m)^poll_seconds = \d+", "poll_seconds = 1", config.read_text())
    config.write_text(re.sub(r"(?m)^max_answers_per_sender_per_day = \d+", "max_answers_per_sender_per_day = 1000", text))
    (base / "allocations-2026-12.csv").write_text(allocations_csv(roster()), encoding="utf-8")
    cli(base, "issue", "--month", "2026-12", "--allocations", str(base / "allocations-2026-12.csv"),
        now="2026-12-01T08:30")
    letters = {}
    for path in sorted((base / "mailbox" / "sent" / "new").iterdir()):
        letter = Letter(message_from_bytes(path.read_bytes(), policy=policy.default))
        letters[letter["To"]] = letter
    return base, build_mix(count, letters, seed)


def copy_with_mail(base: Path, target: Path, mix: list[Mail]) -> Path:
    """A copy of the deployment with every message of the mix waiting in its inbox."""
    shutil.copytree(base, target)
    for mail in mix:
        deliver(target / "mailbox" / "inbox", mail.raw, name=mail.name, received_at=mail.at)
    return target


# -- running the daemon --------------------------------------------------------------------------
def start(site: Path, log) -> subprocess.Popen:
    """`python main.py --now NOW run`, its output appended to `log`."""
    command = [sys.executable, str(ROOT / "main.py"), "--config", str(site / "config.toml"), "--now", NOW, "run"]
    return subprocess.Popen(command, stdout=log, stderr=log, cwd=site)


def run_until_quiet(site: Path, log, figures: Figures) -> None:
    """Run the daemon until the inbox and outbox are empty and nothing changes; then stop it with SIGTERM."""
    proc = start(site, log)
    try:
        _wait_until_quiet(site, proc, figures)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            if code != 0:
                figures.daemon_deaths += 1
                figures.problems.append(f"the daemon stopped with code {code} after SIGTERM")


def _wait_until_quiet(site: Path, proc: subprocess.Popen, figures: Figures) -> None:
    deadline, last, quiet_since = time.monotonic() + RUN_LIMIT_SECONDS, None, time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            figures.daemon_deaths += 1
            figures.problems.append(f"the daemon exited on its own with code {proc.returncode}")
            return
        now_state = fingerprint(site)
        if now_state != last:
            last, quiet_since = now_state, time.monotonic()
        elif not waiting(site) and time.monotonic() - quiet_since >= QUIET_SECONDS:
            return
        time.sleep(0.25)
    figures.problems.append(f"the daemon did not finish within {RUN_LIMIT_SECONDS} s")


def run_with_kills(site: Path, log_path: Path, figures: Figures, kills: int, rng: random.Random,
                   delays: tuple[float, float]) -> None:
    """Start the daemon, SIGKILL it at a random moment, `kills` times; then let it finish in peace.

    One kill in five comes during start-up (imports, the journal's replay). The others come after the
    daemon has dealt with a random number of messages (at least one, so what the last kill cut off is
    finished first) and then a random delay more, so they land anywhere in handling, filing or
    sending. The kills are spread over the whole inbox whatever the speed of the machine: the delay is
    at most `delays[1]` and at most about two messages' time, and the number of messages waited for
    allows for those the daemon deals with during the delay (both measured over the lives so far).
    """
    pace = _Pace()
    with open(log_path, "ab") as log:
        for left in range(kills, 0, -1):
            had_mail, before = waiting(site), log_path.stat().st_size
            share = len(maildir_names(site, "inbox")) / left  # messages each life left should deal with
            per_life = max(1, round(2 * (share - pace.extra(delays)) - 1))
            proc = start(site, log)
            try:
                if rng.random() < 0.2:
                    proc.wait(timeout=rng.uniform(0.05, 1.0))
                else:
                    dealt = _wait_for(proc, site, log_path, before, rng.randint(1, per_life))
                    delay = rng.uniform(delays[0], pace.longest(delays))
                    try:
                        proc.wait(timeout=delay)
                    finally:
                        pace.note(len(DEALT_WITH.findall(_log_since(log_path, before))) - dealt, delay)
                figures.daemon_deaths += 1  # it ended before we killed it
                figures.problems.append(f"the daemon exited on its own with code {proc.returncode}")
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                figures.kills += 1
                figures.kills_with_mail_waiting += had_mail
                life = _log_since(log_path, before)
                figures.kills_while_handling += "message_id=" in life
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        run_until_quiet(site, log, figures)


class _Pace:
    """How fast the daemon deals with messages during the random delay before a kill, over the lives so far."""

    def __init__(self):
        self.messages, self.seconds = 0, 0.0

    def note(self, messages: int, seconds: float) -> None:
        self.messages, self.seconds = self.messages + max(messages, 0), self.seconds + seconds

    def longest(self, delays: tuple[float, float]) -> float:
        """The longest delay: `delays[1]`, or about two messages' time when that is shorter."""
        if not self.messages:
            return delays[1]
        return max(delays[0], min(delays[1], 2 * self.seconds / self.messages))

    def extra(self, delays: tuple[float, float]) -> float:
        """The messages a life deals with, on average, during its delay."""
        if not self.seconds:
            return 0.0
        return self.messages / self.seconds * (delays[0] + self.longest(delays)) / 2


DEALT_WITH = re.compile(r"(handled|failed) message_id=")


def _wait_for(proc: subprocess.Popen, site: Path, log_path: Path, before: int, messages: int) -> int:
    """Until this life of the daemon has dealt with `messages` messages (or the inbox is empty, or a minute
    passed); how many it had dealt with then."""
    deadline, dealt = time.monotonic() + 60, 0
    while time.monotonic() < deadline and proc.poll() is None:
        life = _log_since(log_path, before)
        dealt = len(DEALT_WITH.findall(life))
        if "daemon started" in life and (dealt >= messages or not maildir_names(site, "inbox")):
            return dealt
        time.sleep(0.02)
    return dealt


def _log_since(log_path: Path, offset: int) -> str:
    with open(log_path, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace")


def outbox_pending(site: Path) -> int:
    path = site / "data" / "outbox.json"
    tables = json.loads(path.read_text() or "{}") if path.exists() else {}
    return sum(len(rows) for rows in tables.values())


def waiting(site: Path) -> bool:
    """Whether mail waits in the inbox or the outbox."""
    return bool(maildir_names(site, "inbox")) or outbox_pending(site) > 0


def fingerprint(site: Path) -> tuple:
    """Changes whenever the daemon handles, files or sends anything, or writes the store."""
    data = 0
    # *.jsonl too: a commit is an append to data/wal.jsonl, and a long scheduled job (thirty letters
    # composed one by one) may change no other file for seconds; it is not quiet while it commits.
    for path in [*(site / "data").rglob("*.json"), *(site / "data").glob("*.jsonl")]:
        try:
            data = max(data, path.stat().st_mtime_ns)
        except FileNotFoundError:  # the journal comes and goes with each commit
            continue
    return (len(maildir_names(site, "inbox")), len(maildir_names(site, "sent")), data)


# -- the whole experiment -------------------------------------------------------------------------
def experiment(folder: Path, *, messages: int, kills: int, seed: int,
               delays: tuple[float, float] = (0.0, 0.15)) -> tuple[Figures, list[Mail]]:
    """Prepare, run clean, run with kills, compare; the figures of the whole experiment, and the mix."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    base, mix = prepare(folder, messages, seed)
    figures = Figures()
    clean, crashed = copy_with_mail(base, folder / "clean", mix), copy_with_mail(base, folder / "crashed", mix)
    # The two runs share nothing but the input, so they run side by side.
    with open(folder / "clean.log", "ab") as clean_log:
        beside = threading.Thread(target=run_until_quiet, args=(clean, clean_log, figures))
        beside.start()
        try:
            run_with_kills(crashed, folder / "crashed.log", figures, kills, random.Random(seed), delays)
        finally:
            beside.join()
    log_text = (folder / "crashed.log").read_text(errors="replace") + (folder / "clean.log").read_text(errors="replace")
    compare(clean, crashed, mix, log_text, figures)
    figures.seconds = round(time.monotonic() - started, 1)
    return figures, mix


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--kills", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=None, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="auditmail-crash-"))
    figures, _ = experiment(folder, messages=args.messages, kills=args.kills, seed=args.seed)
    print(json.dumps(figures.__dict__, indent=2, default=str))
    print(f"runs kept in {folder}")
    clean = not any(figures.zeroes().values()) and not figures.problems
    return 0 if clean and (not figures.differences or figures.set_aside_by_kills) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
