"""A real Dovecot (IMAP + LMTP) on free loopback ports, in a throwaway folder.

Debian's `dovecot-imapd dovecot-lmtpd` packages, started with our own minimal dovecot.conf: any user
name with one password, a Maildir per user, plain IMAP (with STARTTLS), IMAP over TLS and LMTP,
all on 127.0.0.1. The certificate is self-signed, made here with `openssl`; `cert_file` is what a
client must trust. Run as root, the mail files belong to the system user `auditmail-mail` (made if
missing); run as anyone else, everything runs as that user.
"""
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from servers.skips import missing

MAIL_USER = "auditmail-mail"
HOW_TO_ENABLE = "apt-get install -y dovecot-imapd dovecot-lmtpd (as root; .ci/run does it)"

CONF = """\
instance_name = auditmail-test-{imap_port}
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = 0
mail_location = maildir:{folder}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
disable_plaintext_auth = no
auth_verbose = yes
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
{capability}
passdb {{
  # Every user has the same password (an XOAUTH2 token is checked as a password, so it works as one too).
  # A passwd-file would be re-read at most once a second: too slow for a user made per test.
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%n allow_all_users=yes
}}
# Speed for tests that log in often: login processes serve many clients, imap processes wait ready.
service imap-login {{
  service_count = 0
  process_min_avail = 1
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service imap {{
  process_min_avail = 2
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
protocol lmtp {{
  # Deliver to the mailbox named by the recipient's local part (qa-audits@… -> user qa-audits).
  auth_username_format = %n
}}
"""


def dovecot_binary() -> str | None:
    """The dovecot executable, where the Debian package puts it (sbin is not on everyone's PATH)."""
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)


def free_port() -> int:
    """A TCP port nobody listens on at this moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot instance; `start()`, `stop()`, `restart()`; any user name logs in with `password`."""

    password = "correct-horse-battery-staple"  # no spaces: the static passdb splits its args on them

    def __init__(self, *, advertise_move: bool = True):
        binary = dovecot_binary()
        if binary is None:
            missing("Dovecot", HOW_TO_ENABLE)
        self.binary = binary
        # Short on purpose: Dovecot's sockets live under it and a socket path may not exceed 108 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.imap_port, self.imaps_port, self.lmtp_port = free_port(), free_port(), free_port()
        self.cert_file = self.folder / "cert.pem"
        self._process: subprocess.Popen | None = None
        self._write_config(advertise_move)

    def _write_config(self, advertise_move: bool) -> None:
        if os.geteuid() == 0:
            uid, gid = _system_user(MAIL_USER)
            internal, login = "dovecot", "dovenull"
        else:
            uid, gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(uid).pw_name
        self.folder.chmod(0o755)  # Dovecot's own users must reach the certificate and the mail folder
        (self.folder / "mail").mkdir()
        os.chown(self.folder / "mail", uid, gid)
        _self_signed_certificate(self.folder)
        # Dovecot speaks MOVE whatever it advertises; hiding it makes a client take the COPY road.
        capability = "" if advertise_move else (
            "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT LITERAL+ UIDPLUS "
            "NAMESPACE CHILDREN LIST-EXTENDED SPECIAL-USE")
        (self.folder / "dovecot.conf").write_text(CONF.format(
            folder=self.folder, imap_port=self.imap_port, imaps_port=self.imaps_port, lmtp_port=self.lmtp_port,
            uid=uid, gid=gid, internal_user=internal, login_user=login, capability=capability,
            password=self.password))

    def start(self) -> "Dovecot":
        """Start in the foreground (our child process) and wait until IMAP and LMTP answer."""
        # A process group of its own, so `stop` can end every process Dovecot started, as systemd would.
        self._process = subprocess.Popen([self.binary, "-F", "-c", str(self.folder / "dovecot.conf")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while not all(_listening(port) for port in (self.imap_port, self.imaps_port, self.lmtp_port)):
            if self._process.poll() is not None or time.monotonic() > deadline:
                error = self._process.stderr.read().decode(errors="replace") if self._process.poll() is not None else ""
                raise RuntimeError(f"Dovecot did not start: {error.strip() or self.log()[-2000:]}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop the master and every process it started, cutting every connection (as `systemctl stop` does)."""
        if self._process is None:
            return
        group = self._process.pid  # the group we gave it in `start`
        _signal_group(group, signal.SIGTERM)
        self._process.wait(timeout=10)
        deadline = time.monotonic() + 2
        while _group_alive(group):  # a client's imap process outlives the master unless told to go
            _signal_group(group, signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL)
            time.sleep(0.02)
        self._process = None

    def restart(self) -> None:
        """Stop, then start again on the same ports with the same mail."""
        self.stop()
        self.start()

    def remove(self) -> None:
        """Stop and delete the throwaway folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        """What Dovecot logged (to explain a failing test)."""
        try:
            return (self.folder / "dovecot.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- a mail client's view, for tests ---------------------------------------------------------

    def client(self, user: str, password: str | None = None) -> imaplib.IMAP4:
        """A logged-in plain IMAP connection, as a person's mail client would have."""
        connection = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        connection.login(user, password or self.password)
        return connection

    def append(self, user: str, raw: bytes, *, at: datetime, folder: str = "INBOX") -> None:
        """Put a message into a folder with an explicit receipt time (INTERNALDATE), as the server's delivery would."""
        with _logged_in(self.client(user)) as connection:
            status, detail = connection.append(folder, "", imaplib.Time2Internaldate(at), raw)
            assert status == "OK", detail

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in a folder (an empty list when the folder does not exist)."""
        with _logged_in(self.client(user)) as connection:
            status, _ = connection.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, data = connection.uid("FETCH", "1:*", "(BODY.PEEK[])") if _count(connection) else ("OK", [])
            return [part[1] for part in data if isinstance(part, tuple)]


class _logged_in:
    """Log out however the block ends."""

    def __init__(self, connection: imaplib.IMAP4):
        self.connection = connection

    def __enter__(self) -> imaplib.IMAP4:
        return self.connection

    def __exit__(self, *exc) -> None:
        try:
            self.connection.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _count(connection: imaplib.IMAP4) -> int:
    _, data = connection.uid("SEARCH", None, "ALL")
    return len(data[0].split())


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _system_user(name: str) -> tuple[int, int]:
    """The uid and gid of a system user for the mail files, made once if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], check=True, capture_output=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, grp.getgrgid(entry.pw_gid).gr_gid


def _self_signed_certificate(folder: Path) -> None:
    """A certificate for localhost and 127.0.0.1 (an EC key: made in milliseconds)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    (folder / "key.pem").chmod(0o644)  # read by Dovecot's unprivileged processes; a throwaway test key
