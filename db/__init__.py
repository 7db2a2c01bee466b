"""The durable store: TinyDB files written crash-safely, one per audit month plus the roster and the ledgers.

Nothing outside this package touches TinyDB.
"""
from db.store import Store

__all__ = ["Store"]
