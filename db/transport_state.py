"""A few values the mailbox transport keeps between runs (a Graph delta link, an IMAP UIDVALIDITY).

Kept in their own small file beside the store, written atomically, because the transport lives for
the daemon's whole life while the store is opened only for a pass.
"""
import json
from pathlib import Path

from db.files import write_atomic

FILE = "transport-state.json"


class TransportStateFile:
    """Key-value pairs in `data/transport-state.json`, each change written atomically."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / FILE

    def get(self, key: str) -> str | None:
        """The stored value, or None."""
        return self._read().get(key)

    def put(self, key: str, value: str) -> None:
        """Store a value durably (a no-op when it has not changed)."""
        values = self._read()
        if values.get(key) != value:
            values[key] = value
            write_atomic(self.path, json.dumps(values, sort_keys=True))

    def _read(self) -> dict:
        try:
            values = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}  # lost or damaged: the transport starts over (a full delta sync), which loses nothing
        return values if isinstance(values, dict) else {}
