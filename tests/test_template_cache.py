"""Compiled templates are kept between processes, and the cache never changes or stops a letter.

`issue` runs in its own process each month; Jinja2 compiling the allocation letter and its letterhead
cost it ~0.05 s. The first process compiles them and keeps the code (Jinja2's bytecode cache, in a
folder only the service's user can write); the next loads it. A template edited since is compiled
again; a cache folder someone else prepared is refused; a cache file that is garbage, or a cache that
cannot be written, is no cache: the letter is composed exactly as before.
"""
import os
import shutil
import stat
from datetime import datetime, timezone

import pytest
from jinja2 import Environment

from mailer import template_cache as cache_module
from mailer.compose import TEMPLATE_DIR, template_environment

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
AISHAS_AUDITS = {"person_name": "Aisha", "month_name": "December 2026", "reference": "AUD-2026-12-001",
                 "deadline": datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
                 "allocations": [{"reference": "AUD-2026-12-001", "case_ref": "CR-40117", "audit_type": "monthly"}]}


def fresh_environment(templates, cache) -> Environment:
    """The environment a new process builds (template_environment without its per-process memo)."""
    return template_environment.__wrapped__(str(templates), str(cache) if cache is not None else None)


def allocation_letter(composer, env) -> tuple[str, str]:
    composer.env = env
    return composer.render("cycle/allocation", AISHAS_AUDITS, now=NOW)


def never_compiles(*args, **kwargs):
    raise AssertionError("compiled again: the cache was not used")


def test_a_later_process_loads_the_compiled_letter_and_it_reads_the_same(composer, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    first = allocation_letter(composer, fresh_environment(TEMPLATE_DIR, cache))
    kept = list(cache.iterdir())
    assert len(kept) == 4, "the letter's text and HTML, and the letterhead's two"
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in kept), "compiled code readable by the service only"
    later = fresh_environment(TEMPLATE_DIR, cache)
    later.compile = never_compiles
    assert allocation_letter(composer, later) == first
    uncached = allocation_letter(composer, fresh_environment(TEMPLATE_DIR, None))
    assert uncached == first


def test_a_template_edited_since_is_compiled_again(composer, tmp_path):
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    shutil.copytree(TEMPLATE_DIR, templates)
    cache.mkdir(mode=0o700)
    before_text, _ = allocation_letter(composer, fresh_environment(templates, cache))
    letter = templates / "cycle" / "allocation.txt.j2"
    letter.write_text(letter.read_text().replace("Thank you for the time", "Thank you, truly, for the time"))
    after_text, _ = allocation_letter(composer, fresh_environment(templates, cache))
    assert "Thank you for the time" in before_text and "Thank you, truly, for the time" in after_text


def test_a_cache_file_that_is_garbage_or_a_cache_that_cannot_be_written_is_no_cache(composer, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    expected = allocation_letter(composer, fresh_environment(TEMPLATE_DIR, cache))
    for kept in cache.iterdir():
        kept.write_bytes(b"\x00 not compiled code")
    assert allocation_letter(composer, fresh_environment(TEMPLATE_DIR, cache)) == expected
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")  # every read and write of the cache fails (NotADirectoryError)
    assert allocation_letter(composer, fresh_environment(TEMPLATE_DIR, not_a_folder)) == expected


def test_a_cache_folder_prepared_by_someone_else_is_refused_and_letters_are_still_composed(composer, tmp_path,
                                                                                         monkeypatch):
    elsewhere = tmp_path / "someone-elses"
    elsewhere.mkdir()
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    os.symlink(elsewhere, tmp_path / f"_jinja2-cache-{os.getuid()}")  # a link planted where Jinja2 would look
    assert cache_module.template_cache() is None
    assert allocation_letter(composer, fresh_environment(TEMPLATE_DIR, None))[0].startswith("Wexcombe County Council")
    assert list(elsewhere.iterdir()) == []


def test_the_service_keeps_its_compiled_templates_in_a_folder_only_it_can_use():
    env = template_environment(str(TEMPLATE_DIR))
    folder = env.bytecode_cache.directory
    info = os.lstat(folder)
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()


@pytest.fixture(autouse=True)
def _quiet_cache_warnings(caplog):
    caplog.set_level("ERROR", logger="auditmail.mailer")
