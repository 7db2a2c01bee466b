"""Making a rename or a delete durable: the one piece of crash safety every layer that writes files needs."""
import os
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries so a rename or delete survives a power cut (a no-op where unsupported)."""
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
