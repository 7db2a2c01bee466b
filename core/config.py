"""The TOML configuration: read once, checked key by key, paths made relative to the file.

A wrong value is reported as one ConfigError naming the key, never as a traceback.
Secrets (passwords, tokens) are never read from the file, only from environment variables.
"""
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.errors import ConfigError
from core.transport_config import TRANSPORT_SCHEMA, TRANSPORT_SECTIONS, check_transport
from core.letterhead import Letterhead

TRANSPORTS = ("maildir", "imap", "ews", "graph")
REQUIRED = object()

# section -> key -> (type, default). The one place that says what the file may hold.
SCHEMA: dict[str, dict[str, tuple[type, object]]] = {
    "organisation": {
        "name": (str, REQUIRED),
        "department": (str, "Children's Safeguarding and Care"),
        "address": (list, REQUIRED),
        "phone": (str, REQUIRED),
        # The address the letterhead shows ("Email: …"); empty means the shared mailbox.
        "letterhead_email": (str, ""),
    },
    "director": {
        "name": (str, REQUIRED),
        "title": (str, REQUIRED),
        "email": (str, REQUIRED),
        "please_ask_for": (str, ""),
        "our_ref": (str, ""),
    },
    "mailbox": {
        "transport": (str, "maildir"),
        "address": (str, REQUIRED),
        "display_name": (str, "QA Audits"),
        "path": (str, "mailbox"),
        "max_message_mb": (int, 25),  # a bigger message is set aside unread and its sender told
    },
    **TRANSPORT_SCHEMA,
    "store": {
        "path": (str, "data"),
        "backup_path": (str, "backups"),     # daily copies of the store, the newest backups_kept kept
        "backups_kept": (int, 14),
        "retention_months": (int, 84),       # how long records are kept; `purge` removes what is older
    },
    "cycle": {
        "reminder_working_days": (tuple, (10, 5, 0)),
        "reminder_hour": (int, 9),
        "closure_days": (list, []),
    },
    "approvals": {
        "remind_after_working_days": (int, 2),
        "escalate_after_working_days": (int, 4),
    },
    "daemon": {
        "poll_seconds": (int, 60),
        "max_answers_per_sender_per_day": (int, 10),
        "log_level": (str, "INFO"),
    },
}

# After the deadline: moderation, remedial actions, digests and the monthly report (DESIGN.md,
# "Moderation, digests, the monthly report"). Percentages are of the audits that count for the month.
SCHEMA["targets"] = {
    "good_or_better_min": (float, 40.0),   # at least this % good or better
    "inadequate_max": (float, 12.0),       # less than this % inadequate
}
SCHEMA["moderation"] = {
    "sample_percent": (float, 25.0),       # of the audits not graded Inadequate (every Inadequate one is moderated)
    "close_after_working_days": (int, 5),  # moderation closes this many working days into the next month
}
SCHEMA["remedial"] = {
    "due_working_days": (int, 10),         # an action raised at submission is due this many working days later
}
SCHEMA["digests"] = {
    "qa_hour": (int, 8),                   # the QA team's digest, each working day at this hour (London)
    "hos_weekday": (int, 0),               # the Heads of Service's digest: 0 = Monday
    "hos_hour": (int, 8),
}

# Sending that never stalls: a letter not taken after this many temporary failures is set aside for a person.
SCHEMA["daemon"]["max_send_attempts"] = (int, 8)


@dataclass(frozen=True)
class Config:
    """Everything the service is told by its configuration file, checked and with paths resolved."""

    source: Path
    letterhead: Letterhead
    transport: str
    mailbox_address: str
    mailbox_name: str
    maildir_path: Path
    store_path: Path
    reminder_working_days: tuple[int, ...]
    reminder_hour: int
    closure_days: tuple[date, ...]
    remind_after_working_days: int
    escalate_after_working_days: int
    delegates: dict
    poll_seconds: int
    max_answers_per_sender_per_day: int
    log_level: str
    # The checked [imap] [smtp] [ews] [graph] [oauth] sections, section -> key -> value.
    transport_settings: dict = field(default_factory=dict)
    max_send_attempts: int = 8
    # Incoming mail larger than this many megabytes is set aside unread ([mailbox] max_message_mb).
    max_message_mb: int = 25
    # [targets] [moderation] [remedial] [digests], checked, section -> key -> value (see SCHEMA).
    after_deadline: dict = field(default_factory=dict)

    def settings(self, section: str) -> dict:
        """One transport section's checked values (defaults filled in)."""
        return self.transport_settings[section]
    # [store] backups and retention (defaults here too, so code building a Config by hand still works)
    backup_path: Path = Path("backups")
    backups_kept: int = 14
    retention_months: int = 84

    @property
    def mailbox_domain(self) -> str:
        """The domain of the shared mailbox, used for Message-IDs."""
        return self.mailbox_address.rsplit("@", 1)[1]


def load_config(path: str | Path) -> Config:
    """Read and check the configuration file; raises ConfigError naming the first wrong key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {path} (make one with `init DIR`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    values = _checked(raw)
    return _build(path.resolve(), values)


def _checked(raw: dict) -> dict[str, dict]:
    unknown = sorted(set(raw) - set(SCHEMA) - {"delegates"})
    if unknown:
        raise ConfigError(f"unknown section (expected one of {', '.join(SCHEMA)})", key=unknown[0])
    out: dict[str, dict] = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError("must be a [section]", key=section)
        extra = sorted(set(given) - set(keys))
        if extra:
            raise ConfigError(f"unknown key (expected one of {', '.join(keys)})", key=f"{section}.{extra[0]}")
        out[section] = {name: _value(section, name, kind, default, given) for name, (kind, default) in keys.items()}
    out["delegates"] = _delegates(raw.get("delegates", {}))
    return out


def _delegates(given) -> dict[str, str]:
    # [delegates] maps an approver's address to the address of who stands in for them.
    if not isinstance(given, dict):
        raise ConfigError("must be a [delegates] section of \"approver\" = \"delegate\" lines", key="delegates")
    out = {}
    for approver, delegate in given.items():
        if not isinstance(delegate, str) or not _is_address(approver) or not _is_address(delegate):
            raise ConfigError(f"must be \"approver@…\" = \"delegate@…\", not {approver!r} = {delegate!r}",
                              key=f"delegates.{approver}")
        out[approver.strip().lower()] = delegate.strip().lower()
    return out


def _is_address(text: str) -> bool:
    return text.count("@") == 1 and " " not in text.strip() and "." in text.rsplit("@", 1)[1]


def _value(section: str, name: str, kind: type, default: object, given: dict):
    key = f"{section}.{name}"
    if name not in given:
        if default is REQUIRED:
            raise ConfigError("is required but missing", key=key)
        return default
    value = given[name]
    if kind is tuple:  # a list of whole numbers
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise ConfigError(f"must be a list of whole numbers like [10, 5, 0], not {value!r}", key=key)
        return tuple(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # "40" and "40.0" are the same percentage
    # TOML booleans are ints in Python; a poll interval of `true` is still wrong.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"must be {_describe(kind)}, not {value!r}", key=key)
    if kind is str and not value.strip() and default is REQUIRED:
        raise ConfigError("must not be empty", key=key)
    if kind is list and not all(isinstance(item, str) for item in value):
        raise ConfigError("must be a list of text lines", key=key)
    return value


def _describe(kind: type) -> str:
    return {str: "text in quotes", int: "a whole number", float: "a number", list: "a list like [\"a\", \"b\"]"}[kind]


def _build(source: Path, v: dict[str, dict]) -> Config:
    mailbox, daemon = v["mailbox"], v["daemon"]
    if mailbox["transport"] not in TRANSPORTS:
        raise ConfigError(f"must be one of {', '.join(TRANSPORTS)}, not {mailbox['transport']!r}", key="mailbox.transport")
    for key, address in (("mailbox.address", mailbox["address"]), ("director.email", v["director"]["email"]),
                         *([("organisation.letterhead_email", v["organisation"]["letterhead_email"])]
                           if v["organisation"]["letterhead_email"] else [])):
        if not _is_address(address):
            raise ConfigError(f"must be an email address like name@council.gov.uk, not {address!r}", key=key)
    if not 1 <= daemon["poll_seconds"] <= 3600:
        raise ConfigError("must be between 1 and 3600 seconds", key="daemon.poll_seconds")
    check_transport(mailbox["transport"], v)
    if not 1 <= mailbox["max_message_mb"] <= 1000:
        raise ConfigError("must be between 1 and 1000 (megabytes)", key="mailbox.max_message_mb")
    if not 1 <= daemon["max_answers_per_sender_per_day"] <= 1000:
        raise ConfigError("must be between 1 and 1000", key="daemon.max_answers_per_sender_per_day")
    if daemon["log_level"].upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("must be one of DEBUG, INFO, WARNING, ERROR", key="daemon.log_level")
    cycle = v["cycle"]
    if not cycle["reminder_working_days"] or any(not 0 <= n <= 20 for n in cycle["reminder_working_days"]):
        raise ConfigError("must list between one and a few numbers of working days from 0 to 20",
                          key="cycle.reminder_working_days")
    if not 6 <= cycle["reminder_hour"] <= 18:
        raise ConfigError("must be an hour of the working day, 6 to 18", key="cycle.reminder_hour")
    closures = []
    for text in cycle["closure_days"]:
        try:
            closures.append(date.fromisoformat(text))
        except ValueError:
            raise ConfigError(f"must be dates like \"2026-12-29\", not {text!r}", key="cycle.closure_days") from None
    approvals = v["approvals"]
    if not 1 <= approvals["remind_after_working_days"] < approvals["escalate_after_working_days"] <= 20:
        raise ConfigError("must be at least 1 and less than approvals.escalate_after_working_days (at most 20)",
                          key="approvals.remind_after_working_days")
    _check_store(v["store"])
    _check_after_deadline(v)
    org, director = v["organisation"], v["director"]
    letterhead = Letterhead(
        organisation=org["name"], department=org["department"], director_name=director["name"],
        director_title=director["title"], address_lines=tuple(org["address"]), phone=org["phone"],
        email=director["email"], please_ask_for=director["please_ask_for"] or director["name"],
        our_ref_prefix=director["our_ref"], contact_email=org["letterhead_email"].strip(),
    )
    base = source.parent
    return Config(
        source=source, letterhead=letterhead, transport=mailbox["transport"],
        mailbox_address=mailbox["address"].strip().lower(), mailbox_name=mailbox["display_name"],
        maildir_path=base / mailbox["path"], store_path=base / v["store"]["path"],
        reminder_working_days=tuple(sorted(set(cycle["reminder_working_days"]), reverse=True)),
        reminder_hour=cycle["reminder_hour"], closure_days=tuple(closures),
        remind_after_working_days=approvals["remind_after_working_days"],
        escalate_after_working_days=approvals["escalate_after_working_days"], delegates=v["delegates"],
        poll_seconds=daemon["poll_seconds"], max_answers_per_sender_per_day=daemon["max_answers_per_sender_per_day"],
        log_level=daemon["log_level"].upper(),
        transport_settings={name: v[name] for name in TRANSPORT_SECTIONS},
        max_send_attempts=_max_send_attempts(daemon),
        max_message_mb=mailbox["max_message_mb"],
        backup_path=base / v["store"]["backup_path"], backups_kept=v["store"]["backups_kept"],
        retention_months=v["store"]["retention_months"],
        after_deadline={name: dict(v[name]) for name in ("targets", "moderation", "remedial", "digests")},
    )


def _check_after_deadline(v: dict[str, dict]) -> None:
    for key, value, low, high in (
            ("targets.good_or_better_min", v["targets"]["good_or_better_min"], 0, 100),
            ("targets.inadequate_max", v["targets"]["inadequate_max"], 0, 100),
            ("moderation.sample_percent", v["moderation"]["sample_percent"], 0, 100),
            ("moderation.close_after_working_days", v["moderation"]["close_after_working_days"], 1, 20),
            ("remedial.due_working_days", v["remedial"]["due_working_days"], 1, 60),
            ("digests.qa_hour", v["digests"]["qa_hour"], 6, 18),
            ("digests.hos_weekday", v["digests"]["hos_weekday"], 0, 4),
            ("digests.hos_hour", v["digests"]["hos_hour"], 6, 18)):
        if not low <= value <= high:
            raise ConfigError(f"must be between {low} and {high}, not {value!r}", key=key)


def _max_send_attempts(daemon: dict) -> int:
    if not 1 <= daemon["max_send_attempts"] <= 100:
        raise ConfigError("must be between 1 and 100", key="daemon.max_send_attempts")
    return daemon["max_send_attempts"]


def secret(env_name: str, key: str) -> str:
    """A secret from the environment variable the config names; never from the file itself."""
    value = os.environ.get(env_name, "")
    if not value:
        raise ConfigError(f"names the environment variable {env_name}, which is not set (it must hold the secret)",
                          key=key)
    return value


def _check_store(store: dict) -> None:
    # Backups inside the store would be copied into every backup, and restoring one would bury the rest.
    data, backups = Path(store["path"]), Path(store["backup_path"])
    if backups == data or data in backups.parents:
        raise ConfigError(f"must be a folder outside the store's folder ({store['path']!r})", key="store.backup_path")
    if not 1 <= store["backups_kept"] <= 366:
        raise ConfigError("must be between 1 and 366 daily backups", key="store.backups_kept")
    if not 2 <= store["retention_months"] <= 1200:
        raise ConfigError("must be between 2 and 1200 months (the current and last month are always kept)",
                          key="store.retention_months")
