"""Where an audit month is kept: one store file per month. Shared by the month, item and index repos."""
from db.store import Store


def month_file(month: str) -> str:
    """The store file of one audit month."""
    return f"months/{month}"


def stored_months(store: Store) -> list[str]:
    """Every audit month the store holds, oldest first."""
    return [name.split("/", 1)[1] for name in store.files("months")]
