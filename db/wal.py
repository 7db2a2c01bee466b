"""The write-ahead log: one small fsync'd append per transaction, instead of rewriting whole files.

    data/wal.jsonl   one line per committed transaction: {"c": [[file, table, id, record or null], ...]}

In a store opened with `logged=True` (the service), a transaction's changed records are appended here
and fsync'd: that append is the commit. The files themselves are brought up to date ("folded") at
the close of a store (a command's end; the daemon's next pass with no mail, db/kept.py), when the log
grows past FOLD_BYTES, before a backup or a purge, and on the next opening after a crash. Each
changed file is written atomically and the log is removed last, so the log is the fold's journal:
each change sets a record or removes it, so folding a line twice gives the same files, and a crash
during a fold is finished by folding again.

A transaction opened with `durable=False` is appended but not fsync'd. It is kept for certain when
the process is killed (the bytes are already the operating system's), and becomes durable with the
next fsync'd append, the fold, or `Store.sync()`; only a power cut before then can lose it. The
service uses it for the two records whose loss can only repeat safe work, never lose any: the count
of attempts at a message (an attempt forgotten is one more try), and the record that a letter went
(a letter recorded as unsent is sent again, with the same Message-ID). So a handled message costs
one fsync for the store, however many letters it sends.

A line cut short by a crash mid-append was never acknowledged: it is ignored, and cut off before
the next append. Any other line that cannot be read, or that would leave a file of the wrong shape,
is damage: the store refuses to open, as for a damaged file.

One exception, a line holding a NUL byte: it and every line after it are read as a torn tail
(ignored, cut off before the next append, logged as a warning naming the line). Why that is safe:
- Our writer never writes a NUL: every line is JSON, which escapes every control character.
  A NUL is a byte the disk never received. On a filesystem without ordered data writes (XFS, ext4
  data=writeback) a power cut can keep the log's new size but not all of its new blocks; those read
  back as NULs. The unwritten bytes can start and end anywhere in a line, so it is the line holding
  the first NUL that goes, not only a line made wholly of NULs.
- Nothing at or after that NUL was made durable. An fsync writes every byte given to the file before
  it was called, and returns only when they are on the disk. The log is written in order, each
  append at the end of the one before, so the NUL bytes were handed to the file before any line
  after them. Had an fsync completed after any of those lines was written, it would have written
  the NUL region too, and it would read back as JSON. So each ignored line was a commit left to a
  later fsync (`durable=False`, whose loss can only repeat safe work: see above) or a durable commit
  whose fsync never returned, which its caller never saw succeed.
- What comes before the NUL line is a whole prefix of the transactions, in order: folding it gives
  the state just before the first lost commit.
Two cases this cannot tell apart, so they stay as they are: a failing disk that reads back zeros
inside the fsync'd part (a hardware fault; the warning names the line for whoever looks), and stale
non-NUL bytes a filesystem may show in unwritten blocks (ext4 data=writeback): those are not NUL,
so they are damage and the store refuses to open, the safe side.
"""
import json
import logging
import os
import re
from pathlib import Path

from core.durable import fsync, fsync_folder
from db.check import Damaged, check_tables
from db.files import FILE_MODE, dump, remove_durably
from db.tables import IndexedTable

WAL_NAME = "wal.jsonl"
FOLD_BYTES = 8 << 20  # a month-end surge folds every few hundred messages; a quiet pass folds at its end
FILE_NAME = re.compile(r"^[a-z_]+(/[0-9A-Za-z_-]+)?$")

log = logging.getLogger("auditmail.store")


class WriteAheadLog:
    """The log file of one store folder: read it whole, append one transaction, remove it after a fold."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / WAL_NAME
        self.size = 0  # where the last whole line ends; anything after it is a torn append
        self.unsynced = False  # whether an append since the last fsync was left to a later one

    def read(self) -> dict[str, list]:
        """The logged changes grouped by file name, in order; raises Damaged if a whole line is unreadable
        (one holding NUL bytes instead ends the log: the module docstring says why)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self.size = 0
            return {}
        except OSError as exc:
            raise Damaged(self.path, f"cannot be read ({exc.strerror or exc})") from None
        *lines, torn = data.split(b"\n")
        self.size = len(data) - len(torn)
        nul = data.find(b"\0", 0, self.size)
        if nul >= 0:
            # Bytes a power cut never wrote (see the module docstring): a torn tail from that line on.
            self.size = data.rfind(b"\n", 0, nul) + 1
            number = data.count(b"\n", 0, self.size) + 1
            log.warning("%s: line %d holds NUL bytes (a write the disk never received before a power cut); "
                        "it and the %d line(s) after it were never made durable by an fsync and are ignored",
                        self.path, number, len(lines) - number)
            lines = lines[:number - 1]
        # A log found on disk may hold lines a killed process never fsync'd: the fold syncs it first.
        self.unsynced = self.unsynced or self.size > 0
        changes: dict[str, list] = {}
        for number, line in enumerate(lines, 1):
            for change in _checked_line(self.path, number, line):
                changes.setdefault(change[0], []).append(change)
        for name, logged in changes.items():
            # Every logged record checked as the store checks its files, before any is laid over one.
            records: dict = {}
            for _, table, doc_id, record in logged:
                if table is None:
                    check_tables(self.path, name.split("/", 1)[0], record)
                elif record is not None:
                    records.setdefault(table, {})[doc_id] = record
            check_tables(self.path, name.split("/", 1)[0], records)
        return changes

    def append(self, changes: list[list], *, durable: bool = True) -> None:
        """Log one transaction's changes: one write, and one fsync unless `durable` is False (which leaves
        it to the next fsync'd append or `sync`). Raises OSError, with the log unchanged."""
        line = (dump({"c": changes}) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), FILE_MODE)
        try:
            if os.fstat(fd).st_size != self.size:
                os.ftruncate(fd, self.size)  # a torn append from a failed write must not glue onto this line
            os.lseek(fd, self.size, os.SEEK_SET)
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, self.size)
            except OSError:
                pass  # left torn: ignored when read, cut off before the next append
            raise
        finally:
            os.close(fd)
        if self.size == 0:
            fsync_folder(self.path.parent)  # the log's own name must survive a power cut
        self.size += len(line)
        self.unsynced = not durable

    def sync(self) -> None:
        """Make every append so far durable (one fsync; nothing to do when the last append was synced)."""
        if not getattr(self, "unsynced", False):
            return
        fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        try:
            fsync(fd)
        finally:
            os.close(fd)
        self.unsynced = False

    def remove(self) -> None:
        """Forget the log once every change in it is in the files."""
        remove_durably(self.path)
        self.size, self.unsynced = 0, False


def apply(path: Path, name: str, data: dict | None, changes: list[list]) -> dict:
    """`data` (a file's tables, or None for a new file) with `changes` made, checked for shape."""
    data = {} if data is None else data
    for _, table, doc_id, record in changes:
        if table is None:
            data = record  # a whole file written other than through a table
            continue
        rows = data.setdefault(table, {})
        if record is None:
            rows.pop(doc_id, None)
        else:
            rows[doc_id] = record
    check_tables(path, name.split("/", 1)[0], data)
    return data


def _checked_line(path: Path, number: int, line: bytes) -> list[list]:
    try:
        entry = json.loads(line)
    except ValueError:
        raise Damaged(path, f"line {number} is not valid JSON") from None
    changes = entry.get("c") if isinstance(entry, dict) else None
    if not isinstance(changes, list):
        raise Damaged(path, f"line {number} is not a logged transaction")
    for change in changes:
        if not (isinstance(change, list) and len(change) == 4 and isinstance(change[0], str)
                and FILE_NAME.match(change[0]) and _is_change(change[1], change[2], change[3])):
            raise Damaged(path, f"line {number} holds a change that is not one: {str(change)[:80]}")
    return changes


def _is_change(table, doc_id, record) -> bool:
    if table is None:
        return doc_id is None and isinstance(record, dict)
    return (isinstance(table, str) and isinstance(doc_id, str) and doc_id.isdigit()
            and (record is None or isinstance(record, dict)))


class TrackedTable(IndexedTable):
    """A TinyDB table that tells its storage which records each write changed, so only those are logged
    (and, as an IndexedTable, writes in place and finds records by key without a scan: db/tables.py)."""

    def insert(self, document):
        with self._storage.operation():
            doc_id = super().insert(document)
            self._storage.touch(self.name, [doc_id])
        return doc_id

    def insert_multiple(self, documents):
        with self._storage.operation():
            ids = super().insert_multiple(documents)
            self._storage.touch(self.name, ids)
        return ids

    def update(self, fields, cond=None, doc_ids=None):
        with self._storage.operation():
            ids = super().update(fields, cond, doc_ids)
            self._storage.touch(self.name, ids)
        return ids

    def update_multiple(self, updates):
        with self._storage.operation():
            ids = super().update_multiple(updates)
            self._storage.touch(self.name, ids)
        return ids

    def upsert(self, document, cond=None):
        with self._storage.operation():
            return super().upsert(document, cond)  # through update/insert, which are tracked

    def remove(self, cond=None, doc_ids=None):
        with self._storage.operation():
            ids = super().remove(cond, doc_ids)
            self._storage.touch(self.name, ids)
        return ids

    def truncate(self):
        with self._storage.operation():
            ids = list(self._read_table())
            super().truncate()
            self._storage.touch(self.name, ids)
