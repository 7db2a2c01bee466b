"""Compiled templates kept between processes: Jinja2's own bytecode cache, which can never fail a letter.

Jinja2 compiles a template (parses it and generates Python) the first time a process uses it: about
0.05 s for the allocation letter and its letterhead, paid by every `issue`, `report` or `once` run in
its own process, and by the daemon at the first letter of each kind. The cache keeps the compiled code
as one file a template, so a later process loads it with `marshal` (about 1 ms) instead.

Why Jinja2's `FileSystemBytecodeCache` in its default folder, `<tmp>/_jinja2-cache-<uid>`:
- Jinja2 keys each file by the template's name and checks a SHA-1 of the template's source (and the
  Python version) before using it, so an edited template or a new Python is compiled again, never
  served stale;
- Jinja2 makes the folder 0700 and refuses one owned by another user, or open to others, or a symlink:
  only the service's own user can put code there, and the files are written to a temporary name and
  renamed, so a reader never sees half a file;
- it is outside the store, so the store's manifest, its backups and a dry run's copy never see it, and
  no configuration key is needed.
Measured (bench/bench_outgoing.py, docs/PERFORMANCE.md): compiling the four templates of the allocation
letter took 35–50 ms; loading them from the cache 1–2 ms. Compiling fewer templates was not an option
(Jinja2 already compiles only those a run uses), nor was merging them (the letterhead exists once).

A cache is only a cache: one that cannot be made, read or written is skipped (and said once in the log),
and the template is compiled as before.
"""
from __future__ import annotations

import logging

from jinja2 import BytecodeCache, FileSystemBytecodeCache
from jinja2.bccache import Bucket

log = logging.getLogger("auditmail.mailer")


class _SafeCache(FileSystemBytecodeCache):
    """Jinja2's file cache, with any failure to read or write it turned into a miss."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as exc:  # noqa: BLE001 - an unreadable cache file must not stop a letter
            log.warning("compiled template cache unreadable (%s); compiling %s", exc, bucket.key[:12])
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # a full or read-only /tmp: the next process compiles again
            log.warning("compiled template not kept (%s)", exc)


def template_cache(folder: str | None = None) -> BytecodeCache | None:
    """The bytecode cache for the service's templates (in Jinja2's own folder unless `folder` is given),
    or None (compile every time) when it cannot be used."""
    try:
        return _SafeCache(folder)
    except (OSError, RuntimeError) as exc:  # Jinja2 refuses an unsafe folder with RuntimeError
        log.warning("compiled templates are not kept between processes: %s", exc)
        return None
