"""One error base class with a few subclasses; only main.py turns them into output and exit codes."""


class AuditMailError(Exception):
    """Base of every error the service raises on purpose; the message is meant for a person."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConfigError(AuditMailError):
    """The configuration file is missing, unreadable or has a wrong value."""

    exit_code = 2

    def __init__(self, message: str, key: str | None = None):
        super().__init__(f"config: {key}: {message}" if key else f"config: {message}")
        self.key = key


class InputFileError(AuditMailError):
    """A CSV the QA team supplied (roster, allocations) was rejected whole; `problems` lists each bad line."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]):
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path} was not imported; nothing was changed. Problems:\n{lines}")
        self.problems = problems


class UsageError(AuditMailError):
    """A command-line value is wrong (a month that is not YYYY-MM, a folder that may not be used)."""

    exit_code = 2


class StoreError(AuditMailError):
    """The durable store could not be read or written; the current pass stops and nothing is lost."""


class StoreLocked(StoreError):
    """Another process is already using the same data folder."""

    exit_code = 3


class StoreUnusable(StoreError):
    """The store is missing, damaged, of the wrong shape, or its folder cannot be used as configured.

    Raised before the inbox is touched, so no mail is taken in against a store that is not the real one.
    """

    exit_code = 2


class DiskFull(StoreError):
    """The disk holding the store (or its backups) is full; what was being written is not lost."""


class MalformedMessage(AuditMailError):
    """An incoming message cannot be parsed well enough to handle; it goes to failed/ with this reason."""


class TransportError(AuditMailError):
    """The mailbox or the sending server could not be reached or refused an operation."""


class TemporaryFailure(TransportError):
    """The server could not do it now (busy, throttled, unreachable, 4xx): try again later, with backoff."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked us to wait, when it said


class PermanentFailure(TransportError):
    """The server refused it for good (5xx, a refused recipient, a forbidden operation): trying again won't help."""
