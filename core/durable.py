"""Making writes durable: the fsync calls every layer that writes files goes through.

For the test suite only, `AUDITMAIL_TEST_NO_FSYNC=1` in the environment skips the fsync calls and
nothing else: every temporary file, rename, journal and log append still happens, in the same order,
so the code behaves exactly as it does in service; only a power cut could tell the difference. The
story tests set it (tests/conftest.py) to spend their time on the stories rather than on the disk;
the durability tests (tests/reliability/, the store and log tests) run with it unset. It is read
here and nowhere else and is not a configuration key; it is obeyed only inside a pytest run (pytest
sets PYTEST_CURRENT_TEST for each test, and a daemon a test starts inherits both), and a daemon
started with it says so in its log. A service cannot run without fsync by accident.
"""
import os
from pathlib import Path

NO_FSYNC_FOR_TESTS = "AUDITMAIL_TEST_NO_FSYNC"


def fsync_skipped() -> bool:
    """Whether a test asked for fsync to be skipped (read at every call: each test sets or unsets it)."""
    return os.environ.get(NO_FSYNC_FOR_TESTS) == "1" and "PYTEST_CURRENT_TEST" in os.environ


def fsync(fd: int) -> None:
    """Flush an open file to the disk (raises OSError as os.fsync does)."""
    if not fsync_skipped():
        os.fsync(fd)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries so a rename or delete survives a power cut (a no-op where unsupported)."""
    if fsync_skipped():
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
