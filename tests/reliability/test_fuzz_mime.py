"""MIME fuzzing: whatever arrives, parsing raises nothing but MalformedMessage and a pass files every message.

Messages are built from parts a hostile or broken mailer produces: headers in odd or lying encodings,
raw 8-bit bytes, NULs and control characters, huge lines, nested multiparts with missing or wrong
boundaries, unknown charsets and transfer encodings, attached messages, and plain random bytes; and
real samples from tests/data with bytes flipped, cut or inserted. The fast run tries a few hundred;
`AUDITMAIL_LONG=1` tries thousands.
"""
import atexit
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import DATA, Site, issue, utc
from core.errors import MalformedMessage
from inbox.parse import parse_message

LONG = os.environ.get("AUDITMAIL_LONG") == "1"
PARSE_EXAMPLES = 4000 if LONG else 200
PASS_EXAMPLES = 120 if LONG else 6
FUZZ = settings(deadline=None, database=None, max_examples=PARSE_EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
SAMPLES = sorted(p.read_bytes() for p in DATA.glob("*.eml"))
RECEIVED = utc(2026, 12, 10, 9, 0)

charsets = st.sampled_from(["utf-8", "UTF-8", "windows-1252", "iso-8859-1", "us-ascii", "utf-16", "utf-7",
                            "x-unknown", "", "utf-8\x00", "gb2312", "koi8-r", "=?", "ascii;"])
awkward_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["Grade: Good", "AUD-2026-12-001 Outstanding", "[AUD-2026-12-001]", "[EXM-2026-12-001] Approved",
     "Exemption request", "Slippage", "\x00", "\r", "\n", "\x1b[31m", "\u202e", "\ufeff", "é" * 3])


@st.composite
def encoded_word(draw) -> str:
    """An RFC 2047 word, well formed or not."""
    charset, text = draw(charsets), draw(awkward_text)
    if draw(st.booleans()):
        import base64

        payload = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
        payload = payload[: draw(st.integers(0, len(payload)))] if draw(st.booleans()) else payload
        return f"=?{charset}?b?{payload}?="
    return f"=?{charset}?{draw(st.sampled_from(['q', 'Q', 'x']))}?{text.replace(' ', '_')}?="


header_value = st.one_of(
    awkward_text, encoded_word(),
    st.lists(awkward_text | encoded_word(), max_size=5).map(" ".join),
    st.integers(200, 20000).map(lambda n: "x" * n),  # a huge line
    st.sampled_from(["Marcus Ellery <marcus.ellery@wexcombe.example>", "<aisha.patel@wexcombe.example>",
                     "=?utf-8?q?marcus.ellery=40wexcombe.example=0A?= <x@evil.example>", "a@b, c@d", "<>",
                     "Undisclosed recipients:;", '"unclosed <a@b', "<" * 50, "(((((comment", "@", ""]),
).map(lambda v: v.encode("utf-8", "surrogatepass"))
raw_header_value = header_value | st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" "))
senders = st.tuples(awkward_text | encoded_word(), st.sampled_from(
    ["aisha.patel@wexcombe.example", "marcus.ellery@wexcombe.example", "imogen.thackeray@wexcombe.example",
     "pat.doe@mailprovider.example", "MAILER-DAEMON@mx.wexcombe.example", "qa-audits@wexcombe.example"])).map(
    lambda pair: f"{pair[0]} <{pair[1]}>".encode("utf-8", "surrogatepass"))
header_name = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                               "Reply-To", "Sender", "Auto-Submitted", "Authentication-Results", "Content-Type",
                               "Content-Transfer-Encoding", "Return-Path", "X-Junk", "MIME-Version",
                               "Content-Disposition"]) | st.from_regex(r"\A[!-9;-~]{1,20}\Z")
headers = st.lists(st.tuples(header_name, raw_header_value), max_size=12)


@st.composite
def leaf(draw) -> tuple[bytes, bytes]:
    """(headers, body) of one leaf part."""
    kind = draw(st.sampled_from(["text/plain", "text/html", "application/octet-stream", "message/rfc822",
                                 "image/png", "text/calendar", "bogus"]))
    cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", ""]))
    body = draw(st.one_of(awkward_text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300),
                          st.sampled_from([b"=\r\n=ZZ=4", b"!!!not base64!!!", b"R3JhZGU6IEdvb2Q=", b"\x00" * 20,
                                           b"<html><body><p>Grade: Good</p>", b"Grade: Good\r\n> quoted"])))
    name = draw(st.none() | header_value.map(lambda v: v.decode("utf-8", "replace")))
    head = f"Content-Type: {kind}; charset=\"{draw(charsets)}\"" + (f'; name="{name}"' if name is not None else "")
    return (head + f"\r\nContent-Transfer-Encoding: {cte}\r\n").encode("utf-8", "surrogatepass"), body


def multipart(children):
    """A multipart of `children`; the boundary used may not be the one declared, and the closing one may be missing."""
    return st.builds(_render_multipart, st.lists(children, max_size=4),
                     st.sampled_from(["b1", "", "==x==", "a" * 80, "same", "b1 b2"]),
                     st.sampled_from(["declared", "other", "cut"]),
                     st.sampled_from(["mixed", "alternative", "related", "report", "signed", "digest"]), st.booleans())


def _render_multipart(parts, boundary: str, which: str, subtype: str, closed: bool) -> tuple[bytes, bytes]:
    used = {"declared": boundary, "other": "other", "cut": boundary[:-1]}[which]
    body = b"preamble\r\n"
    for head, part_body in parts:
        body += f"--{used}\r\n".encode() + head + b"\r\n" + part_body + b"\r\n"
    if closed:
        body += f"--{used}--\r\n".encode()
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode(), body


mime_tree = st.recursive(leaf(), multipart, max_leaves=8)


@st.composite
def built_message(draw) -> bytes:
    """A message from headers and a MIME tree, with line endings as a careless mailer writes them."""
    own = draw(headers)
    head, body = draw(mime_tree)
    top = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in own)
    if draw(st.integers(0, 9)) < 9:  # mostly with a From someone could have written, so the later stages are reached
        top = b"From: " + draw(st.one_of(senders, senders, senders, header_value)) + b"\r\n" + top
    raw = top + head + b"\r\n" + body
    ending = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    return raw.replace(b"\r\n", ending)


@st.composite
def mutated_sample(draw) -> bytes:
    """A real client's message from tests/data with bytes flipped, cut out or inserted."""
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at: at + draw(st.integers(1, 200))]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=40) | st.sampled_from(
                [b"\r\n\r\n", b"\r\n--", b"=?utf-8?b?", b"\x00", b"\r\nContent-Type: multipart/mixed; boundary=x\r\n"]))
    return bytes(raw)


any_message = st.one_of(built_message(), mutated_sample(), st.binary(max_size=2000))


@FUZZ
@given(any_message)
def test_parsing_raises_nothing_but_malformed_message(raw):
    try:
        mail = parse_message(raw, RECEIVED)
    except MalformedMessage as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert mail.key and mail.from_addr and mail.received_at == RECEIVED
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)


class _Deployment:
    """One sample council for every example: December issued, so fuzzed submissions can name a real audit."""

    site: Site | None = None
    count = 0

    @classmethod
    def get(cls) -> Site:
        if cls.site is None:
            folder = Path(tempfile.mkdtemp(prefix="auditmail-fuzz-"))
            atexit.register(shutil.rmtree, folder, True)
            cls.site = Site(folder / "site")
            issue(cls.site, "2026-12", "auditor_email,case_ref,audit_type\n"
                  "aisha.patel@wexcombe.example,CR-40117,monthly\n", utc(2026, 12, 1, 8, 30))
        return cls.site


@settings(FUZZ, max_examples=PASS_EXAMPLES)
@given(st.lists(any_message, min_size=1, max_size=10))
def test_a_pass_files_every_message_whatever_it_holds(messages):
    site = _Deployment.get()
    names = []
    for raw in messages:
        _Deployment.count += 1
        name = f"fuzz{_Deployment.count}"
        site.receive(raw, at=RECEIVED + timedelta(seconds=_Deployment.count), name=name)
        names.append(name)
    with freeze_time(RECEIVED + timedelta(hours=1)):
        ctx = site.open()
        try:
            from app.daemon import one_pass

            one_pass(ctx)  # any exception here fails the test
        finally:
            ctx.close()
    filed = {p.name.split(":2,")[0] for folder in ("processed", "failed") for p in site.files(folder)}
    assert site.files("inbox") == [] and set(names) <= filed
