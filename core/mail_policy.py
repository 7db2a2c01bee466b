"""The email policy every message is parsed and composed with: the stdlib's default, minus a cost.

The stdlib's header registry makes a brand-new class for every header it parses or sets
(`type(...)` on each call). That was about a third of building a letter, and every one of those
classes is cyclic garbage left for the collector. The classes are the same each time for the same
header name, so they are made once per name and kept.
"""
from email.headerregistry import HeaderRegistry
from email.policy import default


class CachedHeaderRegistry(HeaderRegistry):
    """A HeaderRegistry that returns one class per header name instead of a new one every time."""

    def __init__(self):
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made

    def map_to_type(self, name: str, cls) -> None:
        """Register a header class (as the stdlib does) and forget the class made for that name."""
        super().map_to_type(name, cls)
        self._classes.pop(name.lower(), None)


# policy.default with the cached registry: same parsing, same output.
MAIL_POLICY = default.clone(header_factory=CachedHeaderRegistry())
