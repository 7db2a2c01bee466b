"""A stateful fake of Microsoft Graph and its sign-in ctx, on loopback HTTPS, for the graph transport's tests.

It keeps one mailbox (folders, messages with their raw MIME and receivedDateTime, a change log for
delta queries) and speaks the subset of Graph REST the adapter uses: delta queries with
@odata.nextLink / @odata.deltaLink, $value, move, mailFolders list/create, sendMail with MIME. The
sign-in half serves the tenant's OpenID discovery document and the client-credentials token
endpoint that msal uses, with Microsoft's AADSTS errors. Every Graph request must carry a token it
issued. Tests can make it answer 429 / 503 / 403 for the next N requests, forget its delta links
(410 Gone), or withdraw a permission. HTTPS because msal accepts only an https authority; the
certificate is made at test time and trusted through REQUESTS_CA_BUNDLE.
"""
import base64
import email
import json
import re
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from http.server import ThreadingHTTPServer
from pathlib import Path

from servers.fake_graph_http import Handler, make_certificate

WELL_KNOWN = {"inbox": "Inbox", "msgfolderroot": "Top of Information Store", "sentitems": "Sent Items"}


@dataclass
class FakeMessage:
    """A message in the fake mailbox; `read_bytes` and `name` make it look like a Maildir file to tests."""

    id: str
    raw: bytes
    received: datetime
    folder: str

    @property
    def name(self) -> str:
        return self.id

    def read_bytes(self) -> bytes:
        return self.raw


@dataclass
class Fault:
    status: int
    left: int
    retry_after: int | None = None
    code: str = ""
    only: str = ""  # when set, only requests whose path and query contain it are refused


@dataclass
class Seen:
    """One request as the fake saw it: for tests that count requests, connections or waits."""

    method: str
    path: str
    query: str
    connection: tuple
    authorised: bool = True
    answered: int = 0
    extra: dict = field(default_factory=dict)


class FakeGraph:
    """Graph + sign-in on https://127.0.0.1:PORT, for the mailbox `mailbox`."""

    def __init__(self, certificate_folder: Path, mailbox: str, *, page_size: int = 2):
        self.mailbox, self.page_size = mailbox, page_size
        self.tenant, self.client_id, self.secret = "wexcombe-tenant-0001", "auditmail-app-0001", "fake-secret-value"
        self.permissions = {"Mail.ReadWrite", "Mail.Send"}
        self.folders: dict[str, dict] = {fid: {"displayName": name, "parent": None} for fid, name in WELL_KNOWN.items()}
        self.messages: dict[str, FakeMessage] = {}
        self.changes: list[tuple[int, str, str]] = []    # (seq, folder id, message id)
        self.sent: list[bytes] = []
        self.seen: list[Seen] = []
        self.tokens: set[str] = set()
        self.faults: list[Fault] = []
        self.sync_epoch = 0       # raised by forget_delta_links(): older links answer 410 Gone
        self.pages: dict[str, list] = {}
        self.lock = threading.RLock()
        self._flight = threading.Condition()
        self.in_flight = self.most_in_flight = 0  # requests being answered at once (Outlook allows 4)
        self.hold_seconds = 0.0
        self.cert, key = make_certificate(certificate_folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.fake = self
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.endpoint = self.url + "/v1.0"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests do to the mailbox ----------------------------------------------------------

    def deliver(self, raw: bytes, received: datetime) -> str:
        """Mail arriving in the inbox, received by the server at `received`."""
        with self.lock:
            message = FakeMessage(self.new_id("msg"), raw, received.astimezone(timezone.utc), "inbox")
            self.messages[message.id] = message
            self.changed(message)
            return message.id

    def in_folder(self, name: str) -> list[FakeMessage]:
        """The messages in a folder (by display name or well-known name), oldest receipt first."""
        with self.lock:
            folder_id = name if name in self.folders else self.folder_named(name)
            return sorted((m for m in self.messages.values() if folder_id and m.folder == folder_id),
                          key=lambda m: m.received)

    def sent_messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for raw in self.sent]

    def fail_next(self, count: int, status: int, *, retry_after: int | None = None, code: str = "",
                  only: str = "") -> None:
        """The next `count` Graph requests (whose target contains `only`) get `status`, with Retry-After when given."""
        with self.lock:
            self.faults.append(Fault(status, count, retry_after, code, only))

    def forget_delta_links(self) -> None:
        """Every delta link handed out so far now answers 410 Gone (the server dropped its sync state)."""
        with self.lock:
            self.sync_epoch += 1

    def mark_read(self, message_id: str) -> None:
        """A person opened the message: it is reported again as a change by the next delta query."""
        with self.lock:
            self.changed(self.messages[message_id])

    def entered(self) -> None:
        with self._flight:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.hold_seconds:  # hold each request open a moment, so clients that overlap are seen to
                self._flight.wait(self.hold_seconds)

    def left(self) -> None:
        with self._flight:
            self.in_flight -= 1

    def graph_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/v1.0/")]

    # --- used by the handler -------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        # Exchange ids are long base64; '=' and '-' in them must survive a URL path.
        return f"AAMk{prefix}-{secrets.token_urlsafe(12)}="

    def changed(self, message: FakeMessage, folder: str | None = None) -> None:
        self.changes.append((len(self.changes) + 1, folder or message.folder, message.id))

    def folder_named(self, name: str) -> str | None:
        for folder_id, folder in self.folders.items():
            if folder["displayName"].lower() == name.lower():
                return folder_id
        return None

    def take_fault(self, target: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.left > 0 and fault.only in target:
                    fault.left -= 1
                    return fault
            return None

    def delta(self, folder_id: str, since: int | None) -> list[dict]:
        """The changes to a folder after change number `since` (everything in it when None), newest first."""
        if since is None:
            items = [m for m in self.messages.values() if m.folder == folder_id]
            return [_item(m) for m in sorted(items, key=lambda m: m.received, reverse=True)]
        latest: dict[str, int] = {}
        for seq, folder, message_id in self.changes:
            if seq > since and folder == folder_id:
                latest[message_id] = seq
        result = []
        for message_id in sorted(latest, key=latest.get, reverse=True):
            message = self.messages.get(message_id)
            if message is not None and message.folder == folder_id:
                result.append(_item(message))
            else:
                result.append({"id": message_id, "@removed": {"reason": "deleted"}})
        return result

    def filter_name(self, query: str) -> str | None:
        match = re.search(r"displayName eq '((?:[^']|'')*)'", query)
        return match.group(1).replace("''", "'") if match else None

    def store_sent(self, body: bytes) -> bytes:
        raw = base64.b64decode(body, validate=True)
        self.sent.append(raw)
        message = FakeMessage(self.new_id("sent"), raw, datetime.now(timezone.utc), "sentitems")
        self.messages[message.id] = message
        return raw


def _item(message: FakeMessage) -> dict:
    return {"@odata.type": "#microsoft.graph.message", "id": message.id,
            "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ")}


def graph_json(value) -> bytes:
    return json.dumps(value).encode()
