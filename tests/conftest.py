"""A whole deployment in a temporary folder, and helpers to play email conversations through it.

Tests read as stories: `site.receive("gmail_submission.eml", at=...)`, `site.once()`, then look at
what landed in sent/, processed/ and failed/ — through the real maildir transport and the real store.
"""
import email
from datetime import datetime, timezone
from email import policy
from pathlib import Path

import pytest
from freezegun import freeze_time

from app import commands
from app.daemon import one_pass
from app.context import open_context
from core.clock import Clock
from core.config import load_config
from inbox.maildir import deliver

DATA = Path(__file__).parent / "data"
MAILBOX = "qa-audits@wexcombe.example"


def sample(name: str) -> bytes:
    """The raw bytes of a sample email under tests/data/."""
    return (DATA / name).read_bytes()


def threaded_under(raw: bytes, letter) -> bytes:
    """A sample reply as its mail client sends it: threaded under `letter` (In-Reply-To and References)."""
    newline = b"\r\n" if b"\r\n" in raw else b"\n"
    message_id = letter["Message-ID"].encode()
    return raw.replace(newline + b"Date:", newline + b"In-Reply-To: " + message_id + newline + b"References: "
                       + message_id + newline + b"Date:", 1)


def stored_item(site, reference: str, now: datetime | None = None) -> dict | None:
    """An item of any kind (EXM, SLP, MOD, ACT, LTR) as the store holds it, read without taking the lock."""
    ctx = site.open(now or utc(2027, 2, 1), read_only=True)
    try:
        from db.items import ItemRepo

        return ItemRepo(ctx.store).get(reference)
    finally:
        ctx.close()


def refused_notes(site, month: str = "2026-12") -> list[str]:
    """Refused decisions as the QA team's triage list holds them (the daily digest gathers them; no letter each)."""
    ctx = site.open(utc(2026, 12, 31), read_only=True)
    try:
        return [t["note"] for t in ctx.ledger.triage(month) if "refused (" in t["note"]]
    finally:
        ctx.close()


def utc(*args) -> datetime:
    """A UTC instant, as mail servers report receipt times."""
    return datetime(*args, tzinfo=timezone.utc)


class Site:
    """One deployment made by `init`: config, sample roster, Maildirs, store."""

    def __init__(self, folder: Path):
        self.folder = folder
        commands.init(folder)
        self.config_path = folder / "config.toml"
        self.mailbox = folder / "mailbox"

    @property
    def config(self):
        return load_config(self.config_path)

    def receive(self, eml: str | bytes, *, at: datetime, name: str | None = None) -> Path:
        """Put a message into the shared mailbox as received by the server at `at`."""
        raw = sample(eml) if isinstance(eml, str) else eml
        return deliver(self.mailbox / "inbox", raw, name=name, received_at=at)

    def open(self, now: datetime | None = None, **kwargs):
        """The service as `main.py` builds it (close it after use)."""
        return open_context(self.config, Clock(now), **kwargs)

    def once(self, now: datetime) -> dict:
        """One pass of the daemon at the instant `now` (the clock frozen there with freezegun)."""
        with freeze_time(now):
            ctx = self.open()
            try:
                return one_pass(ctx)
            finally:
                ctx.close()

    def status(self, now: datetime, month: str | None = None) -> str:
        """What `status [--month]` prints at the instant `now`."""
        from app.status import month_status

        ctx = self.open(now, read_only=True)
        try:
            return month_status(ctx, month)
        finally:
            ctx.close()

    def files(self, folder: str) -> list[Path]:
        """The message files in one of the Maildirs (inbox, processed, failed, sent)."""
        base = self.mailbox / folder
        return sorted(p for sub in ("new", "cur") for p in (base / sub).iterdir())

    def sent(self) -> list[email.message.EmailMessage]:
        """Every message the service sent, parsed as a mail client would, oldest first."""
        return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in self.files("sent")]

    def sent_since(self, at: datetime) -> list[email.message.EmailMessage]:
        """The messages the service sent at or after the instant `at` (by their Date), oldest first."""
        return [m for m in self.sent() if m["Date"].datetime >= at]

    def reply(self, who: str, subject_part: str, words: str, *, at: datetime, shape=None,
              headers: dict | None = None, handle: bool = True) -> list[email.message.EmailMessage]:
        """`who` answers the newest letter to them whose subject has `subject_part`, received at `at`.

        `who` is "Name <address>" or an address; `shape` is the mail client (app/demo_mail.py, Outlook
        unless given); `headers` are put on top of the reply. Then one pass handles it at `at` and the
        letters sent in answer to it (threaded under it) are returned, not what else the pass sent;
        `site.sent_since(at)` has everything. With `handle=False` it only waits in the inbox.
        """
        from app.demo_mail import outlook_reply

        address = who.split("<")[-1].strip(">")
        letter = letters_to(self, address, subject_part)[-1]
        raw = (shape or outlook_reply)(who, MAILBOX, letter, at, words)
        raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in (headers or {}).items()) + raw
        self.receive(raw, at=at)
        if not handle:
            return []
        self.once(at)
        message_id = email.message_from_bytes(raw)["Message-ID"]
        return [m for m in self.sent_since(at) if m["In-Reply-To"] == message_id]


def text_of(message) -> str:
    """The plain-text part of a sent message, with line wrapping folded into single spaces."""
    return " ".join(message.get_body(("plain",)).get_content().split())


def new_mail(*, sender: str, subject: str, body: str, message_id: str | None = "<m1@mail.wexcombe.example>",
             headers: dict | None = None) -> bytes:
    """A minimal plain-text email, for stories where the client's shape does not matter."""
    lines = [f"From: {sender}", f"To: QA Audits <{MAILBOX}>", f"Subject: {subject}",
             "Date: Mon, 02 Nov 2026 10:00:00 +0000", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def issue(site: Site, month: str, csv_text: str, now: datetime) -> dict:
    """Issue a month's audits from CSV text at the instant `now`, as `main.py issue` would."""
    path = site.folder / f"allocations-{month}.csv"
    path.write_text(csv_text, encoding="utf-8")
    with freeze_time(now):
        ctx = site.open()
        try:
            return commands.issue(ctx, month, path)
        finally:
            ctx.close()


def letters_to(site: Site, address: str, subject_part: str = "") -> list:
    """Sent letters addressed to `address` (To or Cc) whose subject contains `subject_part`."""
    return [m for m in site.sent()
            if address in (m["To"] or "") + (m["Cc"] or "") and subject_part in m["Subject"]]


# --- fsync: real only where a test is about durability ---------------------------------------------
# As TinyDB's own tests run over its in-memory and its JSON storage, the stories here run on the real
# store with fsync skipped (core/durable.py: every rename, journal and log step still happens), which
# spends their time on the story rather than on the disk. Tests about durability say so with
# `@pytest.mark.durable` (or `pytestmark`), and everything under tests/reliability/ is durable: those
# run with real fsync, and so does a daemon or a command such a test starts, since it inherits the
# test's environment. `pytest --fsync` runs every test with real fsync.

RELIABILITY = Path(__file__).parent / "reliability"


def pytest_addoption(parser):
    parser.addoption("--fsync", action="store_true", help="run every test with real fsync, as the service runs")


def pytest_collection_modifyitems(items):
    for item in items:
        if RELIABILITY in Path(item.path).parents:
            item.add_marker(pytest.mark.durable)


@pytest.fixture(autouse=True)
def fsync_unless_durable(request, monkeypatch):
    """Skip fsync for this test (and what it starts) unless it is marked `durable`."""
    from core.durable import NO_FSYNC_FOR_TESTS

    if request.node.get_closest_marker("durable") or request.config.getoption("--fsync"):
        monkeypatch.delenv(NO_FSYNC_FOR_TESTS, raising=False)  # whatever the shell running pytest says
    else:
        monkeypatch.setenv(NO_FSYNC_FOR_TESTS, "1")


# --- letters ------------------------------------------------------------------------------------

from letters import LETTERHEAD  # noqa: E402  (tests/letters.py: what the letter tests share)
from mailer.compose import Composer  # noqa: E402
from core.letterhead import Letterhead  # noqa: E402


@pytest.fixture
def composer() -> Composer:
    """The real Composer with the sample council's letterhead, writing from the shared mailbox."""
    return Composer(Letterhead(**LETTERHEAD), MAILBOX)


# --- transport: ews (a stateful fake EWS server on loopback; always runs) ------------------------

@pytest.fixture
def fake_ews():
    """The fake Exchange server, started for one test."""
    from servers.fake_ews import FakeEws

    server = FakeEws().start()
    yield server
    server.stop()


@pytest.fixture
def ews_site(tmp_path, fake_ews, monkeypatch):
    """A fresh deployment of the sample council whose mailbox is the fake EWS server (`transport = "ews"`)."""
    import freezegun
    from core import ews
    from servers.ews_site import EwsSite

    # exchangelib's back-off must see real time while the service's clock is frozen at the story's instant.
    freezegun.configure(extend_ignore_list=["exchangelib", "core.ews", "requests", "urllib3"])
    monkeypatch.setattr(ews, "FIRST_RETRY_SECONDS", 0.05)
    return EwsSite(tmp_path / "site", fake_ews, monkeypatch)


# --- the graph transport: the same stories through transport = "graph", against a fake Graph ---------
# (tests/servers/fake_graph.py: Microsoft Graph and its sign-in service on loopback HTTPS; always runs)

@pytest.fixture(scope="session")
def graph_certificate_folder(tmp_path_factory) -> Path:
    """Where the fake Graph's self-signed certificate is made, once per test run."""
    return tmp_path_factory.mktemp("fake-graph-tls")


@pytest.fixture
def fake_graph(graph_certificate_folder, monkeypatch):
    """A running fake Graph for the sample mailbox, trusted by requests (and so by msal) for this test only."""
    from servers.fake_graph import FakeGraph

    fake = FakeGraph(graph_certificate_folder, MAILBOX)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("AUDITMAIL_CLIENT_SECRET", fake.secret)
    yield fake
    fake.stop()


@pytest.fixture
def graph_site(tmp_path, fake_graph):
    """A fresh deployment of the sample council whose mailbox is the fake Graph's."""
    from servers.graph_site import GraphSite

    return GraphSite(tmp_path / "site", fake_graph)


# --- transports: the same stories through a real mail server ------------------------------------
# A test (or a module, with `pytestmark`) marked `@pytest.mark.transports("maildir", "imap")` runs once
# per transport with the same `site` fixture. SITE_VARIANTS maps a transport to the fixture that
# builds its Site; each transport adds its own line.

from servers.dovecot import Dovecot  # noqa: E402

SITE_VARIANTS = {"maildir": None, "imap": "imap_site"}


def pytest_configure(config):
    config.addinivalue_line("markers", "transports(*names): run the test's `site` through each named transport")
    config.addinivalue_line("markers", "digests: run with the scheduled digests, as deployed (see below)")
    config.addinivalue_line("markers", "durable: run with real fsync (every other test skips it; see below)")
    # Only the fixture below turns fsync off, test by test: a value left in the shell running pytest
    # must not reach a module- or session-wide fixture (the crash harness's daemons) either.
    import os
    from core.durable import NO_FSYNC_FOR_TESTS

    os.environ.pop(NO_FSYNC_FOR_TESTS, None)


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("transports")
    if marker and "site" in metafunc.fixturenames:
        metafunc.parametrize("site", marker.args, indirect=True, ids=[f"via-{name}" for name in marker.args])


@pytest.fixture
def site(request, tmp_path) -> Site:
    """A fresh deployment of the fictional sample council (on the maildir transport unless parametrised)."""
    variant = SITE_VARIANTS[getattr(request, "param", "maildir")]
    return Site(tmp_path / "site") if variant is None else request.getfixturevalue(variant)


@pytest.fixture(scope="session")
def dovecot():
    """One real Dovecot for the whole run (each test gets its own user, so its own mailbox)."""
    server = Dovecot().start()
    yield server
    server.remove()


@pytest.fixture
def imap_site(tmp_path, dovecot, monkeypatch):
    """The sample council on transport = "imap": Dovecot for reading, aiosmtpd (delivering over LMTP) for sending."""
    from servers.imap_site import ImapSite  # here, not above: it builds on this module's Site

    imap_site = ImapSite(tmp_path / "site", dovecot, monkeypatch)
    yield imap_site
    imap_site.smtp.stop()


# --- digests (issue 9): a pass after 08:00 on a working day also sends the QA team's digest, and on
# Mondays each Head of Service's. A story about something else counts the letters its own mail caused,
# so it runs without them; a test marked `@pytest.mark.digests` (tests/test_digests*.py) runs with them.

@pytest.fixture(autouse=True)
def _digests_only_where_marked(request):
    import app.digests

    # Its own MonkeyPatch: a story's `monkeypatch.undo()` must not bring the digests back mid-story.
    with pytest.MonkeyPatch.context() as patch:
        if request.node.get_closest_marker("digests") is None:
            patch.setattr(app.digests, "register", lambda ctx: None)
        yield
