"""Letters waiting to be sent, kept as files beside the outbox rather than inside it.

    data/spool/3f9c…e1.eml   one composed letter, exactly as it will be sent (0600)

Most letters are sent moments after they are stored, in the same pass. So a letter first travels
only in its transaction's line in the write-ahead log (base64, in the outbox record's "raw"): that
append is its one durable write, and a letter sent before the fold never touches the spool at all.
At the fold, a letter still waiting (or set aside for a person) is written to the spool, each file
fsync'd and the folder once, *before* the outbox file that names it; its record keeps only the
file's name ("spool") and the letter's metadata. So the outbox file stays small, and removing a
sent letter rewrites nothing but that small file.

After a crash at any step: files written but the outbox not yet folded are written again from the
log by the next fold (same name, same bytes); the outbox folded but the log not yet removed folds
the same way again; a file whose letter went is removed once a fold no longer names it, or when the
store opens (an orphan). A letter the outbox names whose file is missing is damage: the store
refuses to open, naming the letter, never dropping it in silence.
"""
import base64
import hashlib
from pathlib import Path

from db.check import Damaged, read_json
from db.files import fsync_folder, make_private_folder, write_private

FOLDER = "spool"
OUTBOX = "outbox"
LETTER_TABLES = ("pending", "set_aside")  # the outbox tables whose records are letters
HELD_AT_MOST = 1000  # letters whose bytes one process keeps beside their base64 (a month's issue is ~150)


def file_name(message_id: str) -> str:
    """The spool file of a letter: from its Message-ID, so folding the same letter twice writes the same file."""
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:40] + ".eml"


def encoded(raw: bytes) -> str:
    """A letter's bytes as an outbox record carries them until the fold."""
    return base64.b64encode(raw).decode("ascii")


class Spool:
    """The spool folder of one store: spill letters into it at a fold, read them back, tidy it."""

    def __init__(self, store_folder: Path):
        self.folder = Path(store_folder) / FOLDER
        # The bytes of letters this process stored and has not yet sent or spilled, by Message-ID, with the
        # very base64 text their record carries: most letters go in the pass that stored them, and decoding
        # each one's base64 back (~60 us a letter) only gave the same bytes again. `read` uses them only for
        # a record whose "raw" is that same text object (so made from exactly these bytes; a record read
        # again from disk or the log has a text of its own and is decoded). Let go when sent or spilled,
        # and all at once when the memo is full (letters rolled back with their transaction).
        self._held: dict[str, tuple[str, bytes]] = {}

    def hold(self, message_id: str, text: str, raw: bytes) -> None:
        """Keep the bytes of a letter just stored with `text`, their base64, for `read` in this process."""
        if len(self._held) >= HELD_AT_MOST:
            self._held.clear()
        self._held[message_id] = (text, raw)

    def let_go(self, message_ids) -> None:
        """Forget the bytes of letters sent (or spilled to their files)."""
        for message_id in message_ids:
            self._held.pop(message_id, None)

    def spill(self, outbox: dict) -> None:
        """Write every letter an outbox's records still carry to its file (durably), and keep only its name.

        `outbox` is the outbox file's tables, about to be written; its records are changed in place.
        """
        spilled = False
        for record in _letters(outbox):
            if "raw" not in record:
                continue
            if not spilled:
                make_private_folder(self.folder)
            name = file_name(record["message_id"])
            write_private(self.folder / name, base64.b64decode(record["raw"]))  # fsync'd
            self._held.pop(record["message_id"], None)
            del record["raw"]
            record["spool"] = name
            spilled = True
        if spilled:
            fsync_folder(self.folder)  # the names too, before the outbox file that refers to them

    def read(self, record: dict) -> bytes:
        """The letter of one outbox record; raises Damaged when its spool file is missing or unreadable."""
        if "raw" in record:
            held = self._held.get(record.get("message_id"))
            if held is not None and held[0] is record["raw"]:
                return held[1]
            return base64.b64decode(record["raw"])
        path = self.folder / str(record.get("spool"))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise Damaged(path, f"(the letter {_described(record)}) cannot be read: "
                                f"{'it is missing' if isinstance(exc, FileNotFoundError) else exc}") from None

    def names(self) -> set[str]:
        """The files in the spool now."""
        try:
            return {p.name for p in self.folder.iterdir() if p.suffix == ".eml"}
        except FileNotFoundError:
            return set()

    def tidy(self, outbox: dict | None) -> None:
        """Remove the files of letters the (folded) outbox no longer names: sent, or orphaned by a crash."""
        gone = self.names() - spool_names(outbox or {})
        for name in gone:
            (self.folder / name).unlink(missing_ok=True)
        if gone:
            fsync_folder(self.folder)

    def check(self, outbox: dict | None) -> None:
        """Raise Damaged when a letter the outbox names has no spool file, or neither bytes nor a file."""
        present = None
        for record in _letters(outbox or {}):
            if "raw" in record:
                continue
            if not isinstance(record.get("spool"), str):
                raise Damaged(self.folder.parent / f"{OUTBOX}.json",
                              f"holds a letter ({_described(record)}) with neither its bytes nor a spool file")
            present = self.names() if present is None else present
            if record["spool"] not in present:
                raise Damaged(self.folder / record["spool"], f"(the letter {_described(record)}) is missing")


def folded_outbox(store_folder: Path) -> dict | None:
    """The outbox file's tables as folded on disk (None when there is no outbox yet); raises Damaged."""
    path = Path(store_folder) / f"{OUTBOX}.json"
    return read_json(path) if path.exists() else None


def check_folder(store_folder: Path) -> None:
    """Raise Damaged unless every letter the store's folded outbox names has its spool file (`check`, backups)."""
    Spool(store_folder).check(folded_outbox(store_folder))


def spool_names(outbox: dict) -> set[str]:
    """The spool files an outbox's records name."""
    return {r["spool"] for r in _letters(outbox) if isinstance(r.get("spool"), str)}


def _letters(outbox: dict):
    for table in LETTER_TABLES:
        rows = outbox.get(table)
        if isinstance(rows, dict):
            yield from (r for r in rows.values() if isinstance(r, dict))


def _described(record: dict) -> str:
    refs = ", ".join(record.get("refs") or []) or "no reference"
    return f"{record.get('message_id')}, {record.get('kind', 'letter')} about {refs}"
