"""A stateful fake Exchange Web Services server on loopback, for testing the ews transport end to end.

It keeps one shared mailbox (Inbox, Sent Items and whatever folders are created, such as Processed and
Failed) and speaks the subset of EWS SOAP that inbox/ews.py and mailer/ews.py use through exchangelib:
ConvertId (exchangelib's version probe), GetFolder, FindFolder, CreateFolder, FindItem, GetItem (with
MimeContent and DateTimeReceived), MoveItem, CreateItem (SendOnly / SendAndSaveCopy, ExtendedProperty),
Subscribe and GetStreamingEvents (streaming notifications) and Unsubscribe. It checks basic auth or an
OAuth bearer token (and serves the token endpoint), delegate access (FullAccess, SendAs) and
impersonation grants, and can be told to answer the next requests with ErrorServerBusy, HTTP 503, 401 or 403.

What it proves: our adapter's logic and exchangelib's serialisation and retry handling. What it does not:
how a real Exchange server converts MIME, which headers it keeps, its throttling budgets, NTLM.
"""
import base64
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree as ET

from servers.fake_ews_ops import OPERATIONS, T, envelope, fault, streaming_closed, streaming_notification

SHARED = "qa-audits@wexcombe.example"
DISTINGUISHED = {"root": "", "msgfolderroot": "Top of Information Store", "inbox": "Inbox",
                 "sentitems": "Sent Items", "drafts": "Drafts", "deleteditems": "Deleted Items"}


@dataclass
class Item:
    """One message in a folder of the fake mailbox."""

    id: str
    mime: bytes
    received: datetime
    folder: str
    changekey: str = "CK1"

    @property
    def name(self) -> str:
        return self.id

    def read_bytes(self) -> bytes:
        return self.mime


@dataclass
class Sent:
    """One CreateItem the fake accepted for sending: the MIME and the extended properties, as received."""

    mime: bytes
    properties: dict
    disposition: str
    saved_to: str | None


@dataclass
class Folder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None


@dataclass
class Grants:
    """What the Exchange admin granted the service account on the shared mailbox."""

    full_access: bool = True
    send_as: bool = True
    impersonation: bool = True


class FakeEws:
    """The server: start it, point exchangelib at `endpoint`, deliver mail, look at what was sent."""

    def __init__(self, username="svc-qa-audits", password="s3cret", mailbox=SHARED, streaming=True):
        self.username, self.password, self.mailbox = username, password, mailbox
        self.streaming = streaming
        self.grants = Grants()
        self.tokens: set[str] = set()
        self.client_secret = "app-secret"
        self.folders: dict[str, Folder] = {}
        self.items: dict[str, Item] = {}
        self.sent: list[Sent] = []
        self.operations: list[str] = []
        self.faults: list[str] = []  # what the next requests get instead of an answer
        self.stream_seconds = 2.0  # a streaming connection is closed after this long (a real one lasts minutes)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._events: dict[str, list[Item]] = {}  # subscription id -> new mail not yet streamed
        self._stopping = threading.Event()
        for key, name in DISTINGUISHED.items():
            parent = None if key == "root" else ("F-root" if key == "msgfolderroot" else "F-msgfolderroot")
            self.folders[f"F-{key}"] = Folder(f"F-{key}", name, parent, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- running ---------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def endpoint(self) -> str:
        return f"{self.base}/EWS/Exchange.asmx"

    def start(self) -> "FakeEws":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do -----------------------------------------------------------------------------

    def deliver(self, raw: bytes, received: datetime) -> Item:
        """Mail arrives in the inbox at `received` (the server's receipt time)."""
        with self._changed:
            item = Item(f"I-{next(self._ids)}", raw, received, "F-inbox")
            self.items[item.id] = item
            for pending in self._events.values():
                pending.append(item)
            self._changed.notify_all()
            return item

    def folder_items(self, name: str) -> list[Item]:
        """The items in the folder with this display name, oldest receipt first."""
        with self._lock:
            ids = [f.id for f in self.folders.values() if f.name.lower() == name.lower()]
            return sorted((i for i in self.items.values() if i.folder in ids), key=lambda i: i.received)

    def fail_next(self, kind: str, count: int = 1) -> None:
        """The next `count` EWS requests fail: "busy" (ErrorServerBusy, 50 ms back-off), "503", "401" or "403"."""
        with self._lock:
            self.faults += [kind] * count

    # --- serving -------------------------------------------------------------------------------------

    def soap(self, body: bytes, authorization: str) -> tuple[int, bytes, dict]:
        """Answer one SOAP request: (HTTP status, body, extra headers)."""
        with self._lock:
            if self.faults:
                kind = self.faults.pop(0)
                if kind == "busy":
                    return 500, envelope(fault("ErrorServerBusy", "The server cannot service this request right now.",
                                               back_off_ms=50)), {}
                status = int(kind)
                headers = {"WWW-Authenticate": 'Basic realm="fake"'} if status == 401 else {}
                return status, b"", headers
        if not self._authorised(authorization):
            return 401, b"", {"WWW-Authenticate": 'Basic realm="fake"'}
        root = ET.fromstring(body)
        header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
        request = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        operation = request.tag.split("}")[1]
        with self._lock:
            self.operations.append(operation)
        impersonating = header is not None and header.find(f"{{{T}}}ExchangeImpersonation") is not None
        if impersonating and not self.grants.impersonation:
            return 500, envelope(fault("ErrorImpersonateUserDenied", "The account does not have permission to "
                                       "impersonate the requested user.")), {}
        handler = OPERATIONS.get(operation)
        if handler is None:
            return 500, envelope(fault("ErrorInvalidRequest", f"The fake does not speak {operation}")), {}
        with self._lock:
            return 200, envelope(handler(self, request, impersonating)), {}

    def _authorised(self, authorization: str) -> bool:
        if authorization.startswith("Bearer "):
            return authorization[7:] in self.tokens
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return authorization == f"Basic {expected}"

    def token(self, form: dict) -> tuple[int, bytes]:
        """The OAuth client-credentials token endpoint (what login.microsoftonline.com does)."""
        if form.get("client_secret") != self.client_secret:
            return 401, json.dumps({"error": "invalid_client", "error_description":
                                    "AADSTS7000215: Invalid client secret provided."}).encode()
        token = f"token-{next(self._ids)}"
        self.tokens.add(token)
        return 200, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3599}).encode()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def subscribe(self) -> str:
        with self._lock:
            sub = self.new_id("S")
            self._events[sub] = []
            return sub

    def stream(self, subscription: str, write) -> None:
        """Hold a GetStreamingEvents connection: each new mail is written as a notification, then Closed."""
        deadline = threading.Event()
        timer = threading.Timer(self.stream_seconds, lambda: (deadline.set(), self._notify()))
        timer.start()
        try:
            while not deadline.is_set() and not self._stopping.is_set():
                with self._changed:
                    pending = self._events.get(subscription)
                    if pending is None:
                        return
                    if not pending:
                        self._changed.wait(0.5)
                        continue
                    items, pending[:] = list(pending), []
                write(envelope(streaming_notification(subscription, items)))
            write(envelope(streaming_closed()))
        finally:
            timer.cancel()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def _handler(fake: FakeEws):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one request must not wait 40 ms for a delayed ACK

        def log_message(self, *args):  # quiet: pytest shows failures, not every request
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.endswith("/oauth2/v2.0/token"):
                from urllib.parse import parse_qsl

                status, payload = fake.token(dict(parse_qsl(body.decode())))
                return self._answer(status, payload, {"Content-Type": "application/json"})
            if b"GetStreamingEvents" in body and fake._authorised(self.headers.get("Authorization", "")):
                return self._stream(body)
            status, payload, headers = fake.soap(body, self.headers.get("Authorization", ""))
            self._answer(status, payload, {"Content-Type": "text/xml; charset=utf-8", **headers})

        def _answer(self, status, payload, headers):
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, body):
            sub = ET.fromstring(body).find(f".//{{{T}}}SubscriptionId").text
            with fake._lock:
                fake.operations.append("GetStreamingEvents")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def write(chunk: bytes):
                self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()

            try:
                fake.stream(sub, write)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def now_utc() -> datetime:
    return datetime.now(timezone.utc)

