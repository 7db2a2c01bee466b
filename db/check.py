"""Checking the store's files before anything is taken in: there, readable, and of the shape the code expects.

A damaged file is never read as an empty one. Roster `{}` or `null`, bad UTF-8, garbled bytes, a
month whose tables are not tables of records: each is a `Damaged` naming the file and what is wrong,
found when the store opens, not as a TypeError half-way through handling someone's email.
"""
import json
import os
from pathlib import Path

from db.transport_state import FILE as TRANSPORT_STATE

# file kind -> table -> the fields every record must have, and their types. The code reads these
# fields without a second thought, so a record without them would fail a message later, not here.
# Tables not listed (added by a newer version) need only be tables of records.
SHAPES: dict[str, dict[str, dict[str, type]]] = {
    "roster": {"people": {"email": str, "name": str, "roles": list, "service": str, "head_of_service": str}},
    "outbox": {"pending": {"message_id": str, "created_at": str}},  # and "raw" or "spool" (db/spool.py)
    "months": {
        "meta": {"month": str, "counter": int},
        "allocations": {"reference": str, "auditor": str, "month": str},
        "submissions": {"reference": str, "received_at": str},
        "exemptions": {"reference": str, "state": str, "history": list},
        "slippage": {"reference": str, "state": str, "history": list},
        "counters": {"kind": str, "count": int},
    },
    "ledgers": {
        "handled": {"key": str},
        "attempts": {"key": str, "count": int},
        "sent": {"message_id": str},
        "answers": {"sender": str, "day": str, "count": int},
        "triage": {},
        "done": {"key": str, "at": str},
    },
}

# Not store files: the manifest and journal themselves, and the transport's own small state (a Graph
# delta link, an IMAP UIDVALIDITY), which it writes outside the store's transactions.
NOT_DATA = {"manifest", "journal", "checked", Path(TRANSPORT_STATE).stem}

# Beside the files: the stamps of the files last found good, so the next process (`status`, `report`,
# `once` from cron) need not re-read years of settled months to re-prove them. Only a cache: a missing
# or garbled one means every file is checked again.
CHECKED_NAME = "checked.json"
_recalled: dict[str, tuple[int, int, int]] = {}  # checked.json path -> its stamp when this process last read it

# path -> (inode, size, mtime) of the file when it was last found good (or written by us). The daemon
# opens the store every pass; re-parsing years of months each minute to re-prove what has not changed
# would be waste.
_known_good: dict[str, tuple[int, int, int]] = {}


class Damaged(Exception):
    """One store file is missing, unreadable or of the wrong shape."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path} {problem}")
        self.path, self.problem = path, problem


def read_json(path: Path):
    """The parsed content of one JSON file of the store; raises Damaged saying what is wrong with it."""
    return read_text_json(path)[1]


def read_text_json(path: Path) -> tuple[str, object]:
    """The text of one JSON file of the store and its parsed content; raises Damaged if either is wrong."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Damaged(path, "is missing") from None
    except IsADirectoryError:
        raise Damaged(path, "is a folder, not a file") from None
    except OSError as exc:
        raise Damaged(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise Damaged(path, "is empty") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Damaged(path, f"is not UTF-8 text (garbled at byte {exc.start})") from None
    try:
        return text, json.loads(text)
    except ValueError as exc:
        raise Damaged(path, f"is not valid JSON ({exc})") from None


def check_tables(path: Path, kind: str, data) -> None:
    """Raise Damaged unless `data` is TinyDB tables of records, with the fields SHAPES asks of `kind`."""
    if not isinstance(data, dict):
        raise Damaged(path, f"holds {_what(data)} where tables of records were expected")
    shapes = SHAPES.get(kind, {})
    for table, records in data.items():
        if not isinstance(records, dict):
            raise Damaged(path, f"table {table!r} holds {_what(records)} where records were expected")
        fields = shapes.get(table, {})
        for record_id, record in records.items():
            if not record_id.isdigit() or not isinstance(record, dict):
                raise Damaged(path, f"table {table!r} record {record_id!r} is not a record")
            for name, kind_of in fields.items():
                value = record.get(name)
                if not isinstance(value, kind_of) or isinstance(value, bool):
                    raise Damaged(path, f"table {table!r} record {record_id} has no valid {name!r}")


def check_file(folder: Path, name: str) -> bool:
    """Check one store file by its name in the store (e.g. "months/2026-11"), unless known good and unchanged;
    True when it was read and checked now."""
    path = Path(folder) / f"{name}.json"
    try:
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        stamp = None
    if stamp is not None and _known_good.get(str(path)) == stamp:
        return False
    check_tables(path, name.split("/", 1)[0], read_json(path))
    if stamp is not None:
        _known_good[str(path)] = stamp
    return True


def recall_checked(folder: Path) -> None:
    """Take as known good what an earlier process found good in `folder` and has not changed since."""
    path = Path(folder) / CHECKED_NAME
    try:
        stat = path.stat()
        if _recalled.get(str(path)) == (stat.st_ino, stat.st_size, stat.st_mtime_ns):
            return  # already taken in by this process (the daemon opens the store every pass)
        stamps = json.loads(path.read_text(encoding="utf-8"))
        _recalled[str(path)] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except (OSError, ValueError):
        return
    if not isinstance(stamps, dict):
        return
    for name, stamp in stamps.items():
        if isinstance(stamp, list) and len(stamp) == 3 and all(type(n) is int for n in stamp):
            _known_good.setdefault(str(Path(folder) / f"{name}.json"), tuple(stamp))


def remember_checked(folder: Path, names: set[str]) -> None:
    """Leave the stamps of the files of `folder` known good for the next process (no fsync: only a cache)."""
    paths = {name: str(Path(folder) / f"{name}.json") for name in sorted(names)}
    stamps = {name: _known_good[path] for name, path in paths.items() if path in _known_good}
    target = Path(folder) / CHECKED_NAME
    tmp = target.with_name(f"{CHECKED_NAME}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(stamps, out)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk: the next process checks again, nothing worse


def note_written(path: Path) -> None:
    """Remember a file this process has just written from checked data, so it is not re-checked."""
    try:
        stat = Path(path).stat()
    except OSError:
        return
    _known_good[str(path)] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def data_files(folder: Path) -> list[str]:
    """The names of the data files in a store folder ("roster", "months/2026-11", ...), not the manifest or journal."""
    folder = Path(folder)
    names = []
    for path in list(folder.glob("*.json")) + list(folder.glob("*/*.json")):
        name = path.relative_to(folder).with_suffix("").as_posix()
        if name not in NOT_DATA and path.is_file():
            names.append(name)
    return sorted(names)


def _what(value) -> str:
    return "null" if value is None else f"a {type(value).__name__}"
