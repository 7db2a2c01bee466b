"""England's bank holidays kept beside the store, so a process that counts working days need not import `holidays`.

The package answers from code, but importing it costs 0.1 s and its first look-up imports every
country it knows (0.2 s more): most of what `report` costs in its own process. The answer only
changes when the package does, so the years a process computed are kept in
`data/bank-holidays.cache`, keyed by the package's installed version (read from its
`holidays-<version>.dist-info` folder, without importing it). It is a cache, not store data:
- named so the store takes it for nothing of its own: not `*.json` (data files, the manifest,
  backups), not `*.tmp` (leftovers a writer removes);
- a year it does not hold is computed by the package and added, never guessed; a file written for
  another version of the package is recomputed, year by year, as years are asked for;
- a damaged, foreign or unreadable file is logged once and rewritten; a folder it cannot be written
  to costs the import, never an error; a backup need not copy it, a restore may lose it;
- two processes filling it at once each replace it whole (temp file, rename): the last writer wins,
  and what either wrote is correct.
"""
import functools
import importlib.util
import json
import logging
import os
import sys
import zlib
from contextlib import suppress
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from db.files import TMP_SUFFIX, dump, fsync_folder, write_private
from workflows.calendar import BankHolidaySource, england_bank_holidays

FILE = "bank-holidays.cache"
FORMAT, PACKAGE, REGION = 1, "holidays", "GB-ENG"

log = logging.getLogger("auditmail.store")


@functools.lru_cache(maxsize=8)
def bank_holidays_beside(folder: str) -> BankHolidaySource:
    """The bank holiday source for the store in `folder`: one per process and folder, so the daemon
    reads the file once, not once a pass. The package itself when its version cannot be found."""
    version = installed_version()
    if version is None:
        log.info("the installed version of %r was not found: bank holidays are not cached", PACKAGE)
        return england_bank_holidays
    return BankHolidayCache(Path(folder), version)


def installed_version(package: str = PACKAGE) -> str | None:
    """The version of `package` as installed, from its `.dist-info` folder; None when that is not plain.

    Found without importing it (nor importlib.metadata, 50 ms): where the import system would find
    the package (0.3 ms), then the one `<package>-<version>.dist-info` folder beside it.
    """
    imported = sys.modules.get(package)
    if imported is not None:  # already imported (the daemon, tests): what this process computes with
        return getattr(imported, "__version__", None)
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.submodule_search_locations:
        return None
    prefix, suffix = f"{package}-", ".dist-info"
    try:
        names = [entry.name for entry in os.scandir(Path(spec.origin).parent.parent)]
    except OSError:
        return None
    # A dist-info folder's name is "<name>-<version>", neither part holding a "-" (PEP 427/491).
    found = [v for v in (n[len(prefix):-len(suffix)] for n in names if n.startswith(prefix) and n.endswith(suffix))
             if v and "-" not in v]
    # Two of them (a broken upgrade) would leave the version in doubt: no cache then.
    return found[0] if len(found) == 1 else None


class BankHolidayCache:
    """England's bank holidays a year at a time: from the file when it holds the year for this
    version of the package, else computed by the package and written to the file."""

    def __init__(self, folder: Path, version: str, compute: BankHolidaySource = england_bank_holidays):
        self.path, self.version, self._compute = Path(folder) / FILE, version, compute
        self._years: dict[int, Mapping[date, str]] | None = None  # the file is read at the first look-up
        self._told: set[str] = set()  # what was logged already: once a process, not once a pass

    def __call__(self, year: int) -> Mapping[date, str]:
        """The bank holidays of `year`, {date: name}."""
        if self._years is None:
            self._years = self._read()
        if year not in self._years:
            self._years[year] = self._compute(year)
            self._write()
        return self._years[year]

    def _read(self) -> dict[int, Mapping[date, str]]:
        """The years the file holds for this version; {} when it is missing, stale or unusable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            self._tell("unreadable", "%s cannot be read (%s): ignored, the package computes the year",
                       self.path, exc)
            return {}
        try:
            version, years = parse(text)
        except ValueError as exc:
            self._tell("damaged", "%s is damaged (%s); ignored and rewritten", self.path, exc)
            return {}
        if version != self.version:
            # An upgrade, not damage: said once, quietly.
            self._tell("stale", "%s was written for %s %s, installed is %s: recomputed", self.path, PACKAGE,
                       version, self.version, level=logging.INFO)
            return {}
        return years

    def _write(self) -> None:
        """Replace the file with every year known here or written meanwhile by another process."""
        if getattr(sys.modules.get(PACKAGE), "__version__", self.version) != self.version:
            return  # the package was upgraded under this process: what it computed belongs to no key
        years = {**self._read(), **self._years}
        tmp = self.path.with_name(f"{FILE}.{os.getpid()}-{os.urandom(4).hex()}{TMP_SUFFIX}")  # one per writer
        try:
            write_private(tmp, render(self.version, years).encode("utf-8"))
            os.replace(tmp, self.path)
            fsync_folder(self.path.parent)
        except OSError as exc:
            with suppress(OSError):  # (no temporary file either, when the folder itself is unusable)
                tmp.unlink(missing_ok=True)
            self._tell("unwritable", "%s cannot be written (%s); bank holidays are computed in each process",
                       self.path, exc)

    def _tell(self, what: str, message: str, *args, level: int = logging.WARNING) -> None:
        if what not in self._told:
            self._told.add(what)
            log.log(level, message, *args)


def render(version: str, years: Mapping[int, Mapping[date, str]]) -> str:
    """The file's text: the package and version it holds answers for, and each year's {date: name}."""
    table = {str(year): {day.isoformat(): name for day, name in sorted(days.items())}
             for year, days in sorted(years.items())}
    return dump({"format": FORMAT, "package": PACKAGE, "region": REGION, "version": version,
                 "years": table, "check": _check(table)}) + "\n"


def parse(text: str) -> tuple[str, dict[int, Mapping[date, str]]]:
    """(version, years) from the file's text; ValueError saying what is wrong with it."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # (garbage nested deep enough exhausts the parser's stack)
        raise ValueError("not JSON") from None
    if not isinstance(data, dict) or (data.get("format"), data.get("package"), data.get("region")) != (
            FORMAT, PACKAGE, REGION):
        raise ValueError(f"not a cache of {PACKAGE} {REGION}, format {FORMAT}")
    version, table = data.get("version"), data.get("years")
    if not isinstance(version, str) or not isinstance(table, dict):
        raise ValueError("no version or no years")
    # A digit changed by a bad disk or a hand would be a wrong answer for a deadline: the check catches it.
    if data.get("check") != _check(table):
        raise ValueError("its check does not match its years")
    years = {}
    for key, days in table.items():
        if not key.isdigit() or not isinstance(days, dict):
            raise ValueError(f"year {key!r} is not a year of dates")
        year = years[int(key)] = {}
        for day, name in days.items():
            parsed = date.fromisoformat(day)  # a ValueError names the bad date
            if parsed.year != int(key) or not isinstance(name, str) or not name:
                raise ValueError(f"{day} does not belong under {key} with a name")
            year[parsed] = name
    return version, years


def _check(table: Mapping) -> int:
    return zlib.crc32(dump(table).encode("utf-8"))
