"""IMAP IDLE (RFC 2177) on an imaplib connection, which (before Python 3.14) cannot do it itself.

The server pushes "* n EXISTS" the moment mail arrives, so the daemon hears of it within a second.
We read the socket directly with a one-second timeout, which lets us check `should_stop` every
second, and end IDLE before 29 minutes because servers may drop an idle client after 30.
imaplib's own buffered reader is not used while idling: a timeout would leave it unusable.
"""
import imaplib
import re
import socket
import time
from typing import Callable

# RFC 2177: re-issue IDLE at least every 29 minutes.
RENEW_SECONDS = 25 * 60
TICK_SECONDS = 1.0
NEW_MAIL = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)


class IdleDropped(Exception):
    """The server closed the connection or answered IDLE with something other than a continuation."""


def idle(connection: imaplib.IMAP4, seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Wait in IDLE up to `seconds`; True when the server announced new mail, False on timeout or stop."""
    deadline = time.monotonic() + seconds
    while True:
        renew_at = min(deadline, time.monotonic() + RENEW_SECONDS)
        arrived = _one_idle(connection, renew_at, should_stop)
        if arrived or should_stop() or time.monotonic() >= deadline:
            return arrived


def _one_idle(connection: imaplib.IMAP4, until: float, should_stop: Callable[[], bool]) -> bool:
    """One IDLE command, ended with DONE at `until`, on new mail, or when asked to stop."""
    sock = connection.sock
    previous_timeout = sock.gettimeout()
    tag = connection._new_tag()  # imaplib's own tag counter, so later commands stay in sequence
    reader = _Lines(sock)
    try:
        connection.send(tag + b" IDLE\r\n")
        first = reader.line(time.monotonic() + 30)
        if first is None or not first.startswith(b"+"):
            raise IdleDropped(f"IDLE was not accepted: {first!r}")
        arrived = False
        while not arrived and not should_stop() and time.monotonic() < until:
            line = reader.line(min(until, time.monotonic() + TICK_SECONDS))
            arrived = line is not None and bool(NEW_MAIL.match(line))
        connection.send(b"DONE\r\n")
        while True:  # read up to the tagged end of IDLE, so the next command starts clean
            line = reader.line(time.monotonic() + 30)
            if line is None:
                raise IdleDropped("no answer to DONE")
            if NEW_MAIL.match(line):
                arrived = True
            if line.startswith(tag + b" "):
                return arrived
    except OSError as exc:
        raise IdleDropped(str(exc)) from None
    finally:
        sock.settimeout(previous_timeout)


class _Lines:
    """CRLF-terminated lines from a socket, each read waiting no longer than a given instant."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buffer = b""

    def line(self, until: float) -> bytes | None:
        """The next line without its CRLF, or None if none came by `until`."""
        while b"\r\n" not in self._buffer:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return None
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except (TimeoutError, socket.timeout):
                return None
            if not chunk:
                raise IdleDropped("the server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line
