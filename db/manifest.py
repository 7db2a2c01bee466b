"""The manifest: what the store should hold, so a file that vanished is noticed instead of read as empty.

    data/manifest.json   {"schema": 1, "files": ["ledgers/2026-11", "months/2026-11", "outbox", "roster"],
                          "purged_before": "2019-01"}

It changes in the same journalled commit as the files it lists, so the two never disagree after a
crash. A store written before manifests existed is adopted: its manifest is built from what is there.
"""
import functools
from dataclasses import dataclass, field
from pathlib import Path

from db.check import Damaged, read_json
from db.files import dump

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1


@dataclass
class Manifest:
    """The store's list of its own files, its schema version, and how far it has been purged."""

    files: set[str] = field(default_factory=set)
    purged_before: str | None = None
    schema: int = SCHEMA_VERSION

    def text(self, files: set[str] | None = None) -> str:
        """The manifest's file content (with `files` in place of the current list when given)."""
        body = {"schema": self.schema, "files": sorted(self.files if files is None else files)}
        if self.purged_before:
            body["purged_before"] = self.purged_before
        return dump(body)


def manifest_path(folder: Path) -> Path:
    """Where a store folder keeps its manifest."""
    return Path(folder) / MANIFEST_NAME


def read_manifest(folder: Path) -> Manifest | None:
    """The store's manifest, None if it has none yet; raises Damaged if it is there but unusable."""
    path = manifest_path(folder)
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list) \
            or not all(isinstance(name, str) for name in data["files"]):
        raise Damaged(path, "is not a store manifest (no list of files)")
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise Damaged(path, "has no schema version")
    if schema > SCHEMA_VERSION:
        raise Damaged(path, f"is from a newer version of the service (schema {schema}, this one reads "
                            f"{SCHEMA_VERSION}); upgrade the service instead")
    purged = data.get("purged_before")
    return Manifest(set(data["files"]), purged if isinstance(purged, str) else None, schema)


@functools.lru_cache(maxsize=1024)
def name_of(folder: Path, path: Path) -> str | None:
    """A data file's name in the store ("months/2026-11"), or None for anything else (the manifest, the journal).

    Kept per (folder, path): it is pure, and a pass asks it for every file in the log each time it lists one."""
    try:
        relative = Path(path).relative_to(folder)
    except ValueError:
        return None
    if relative.suffix != ".json" or relative.name in (MANIFEST_NAME, "journal.json"):
        return None
    return relative.with_suffix("").as_posix()

