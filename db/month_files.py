"""Where an audit month is kept: one store file per month. Shared by the month, item and index repos."""
from db.store import Store


def month_file(month: str) -> str:
    """The store file of one audit month."""
    return f"months/{month}"


def stored_months(store: Store) -> list[str]:
    """Every audit month the store holds, oldest first."""
    return [name.split("/", 1)[1] for name in store.files("months")]


def stored_months_back(store: Store, month: str, count: int) -> list[str]:
    """`month` and the `count` months before it that the store holds, oldest first (nothing older is read)."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1  # months since year 0, so stepping back crosses years by itself
    wanted = [f"{(index - n) // 12}-{(index - n) % 12 + 1:02d}" for n in range(count, -1, -1)]
    stored = set(stored_months(store))
    return [m for m in wanted if m in stored]
