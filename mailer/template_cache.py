"""Compiled templates kept between processes: Jinja2's own bytecode cache, which can never fail a letter.

Jinja2 compiles a template (parses it and generates Python) the first time a process uses it: about
0.05 s for the allocation letter and its letterhead, paid by every `issue`, `report` or `once` run in
its own process, and by the daemon at the first letter of each kind. The cache keeps the compiled code
as one file a template, so a later process loads it with `marshal` (about 1 ms) instead.

Why Jinja2's `FileSystemBytecodeCache` in its default folder, `<tmp>/_jinja2-cache-<uid>`:
- Jinja2 keys each file by the template's name and checks a SHA-1 of the template's source (and the
  Python version) before using it, so an edited template or a new Python is compiled again, never
  served stale;
- the folder is made 0700, and one owned by another user, or a symlink, is refused (`_own_folder`,
  as Jinja2 would, but without chmod-ing through a planted link): only the service's own user can put
  code there, and the files are written to a temporary name and
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
import os
import stat
import tempfile
from contextlib import suppress

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
        return _SafeCache(folder if folder is not None else _own_folder())
    except (OSError, RuntimeError) as exc:  # Jinja2 refuses an unsafe folder with RuntimeError
        log.warning("compiled templates are not kept between processes: %s", exc)
        return None


def _own_folder() -> str | None:
    """Jinja2's default folder, `<tmp>/_jinja2-cache-<uid>`, made and checked here without following a link.

    Jinja2's own check chmods the path to 0700 before it looks at it, and chmod follows a link: a link
    another user plants in a shared /tmp (emptied by a reboot) would make one of this user's folders
    0700 (a Maildir a mail server reads through its group, say) before Jinja2 refused it. Made with
    mkdir, which never follows a link, and looked at with lstat; in a sticky /tmp nobody else can then
    replace it. None where Jinja2 itself picks a per-user folder (Windows, no uid).
    """
    if not hasattr(os, "getuid"):
        return None
    path = os.path.join(tempfile.gettempdir(), f"_jinja2-cache-{os.getuid()}")
    with suppress(FileExistsError):
        os.mkdir(path, stat.S_IRWXU)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise RuntimeError(f"{path} is not a folder of this user's (a link, or someone else's)")
    if stat.S_IMODE(info.st_mode) != stat.S_IRWXU:
        os.chmod(path, stat.S_IRWXU)  # this user's own folder (checked above, not a link): only it may use it
    return path
