"""Whether a folder holds a whole, readable store: its manifest, and every file it lists, of the right shape.

Used on a backup right after it is taken, and on backups when one is chosen for a restore.
Changes nothing.
"""
from pathlib import Path

from db.check import Damaged, check_file, data_files
from db.manifest import read_manifest
from db.spool import check_folder


def store_problem(folder: Path) -> str | None:
    """What is wrong with the store in `folder`, or None if it opens as a valid store."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        manifest = read_manifest(folder)
        if manifest is None:
            return f"{folder} has no manifest.json"
        if "roster" not in manifest.files:
            return f"{folder} holds no roster"
        missing = sorted(manifest.files - set(data_files(folder)))
        if missing:
            return f"{folder / missing[0]}.json is listed in the manifest but missing"
        for name in sorted(manifest.files):
            check_file(folder, name)
        check_folder(folder)  # every waiting letter's own file (db/spool.py)
    except Damaged as exc:
        return str(exc)
    return None
