"""Killed between any two steps of putting letters in the spool, the store still holds every unsent letter once.

A pass stores letters and sends some; at its end the fold writes the waiting ones to the spool,
then the outbox naming them, then removes the log, then the files of sent letters. The process is
killed (SIGKILL) before each of those steps in turn: before every write, fsync, rename and delete
the fold makes. After each kill the store is opened again, as the next pass does, and must hold
exactly the letters not yet sent, each with its exact bytes and one file, and nothing else.
"""
import os
import shutil
import signal

from db.outbox import OutboxRepo
from db.spool import FOLDER, file_name
from db.store import Store
from test_spool import ALLOCATION, NOW, RECEIPT, a_pass, letter, spooled

STEPS = ("write", "fsync", "replace", "rename", "unlink")  # every change a fold makes to the disk goes through these
LETTERS = {n: raw for n, raw in zip(range(1, 6), [ALLOCATION, RECEIPT, ALLOCATION + b"\r\nP.S.", RECEIPT, ALLOCATION])}


def the_pass_killed_at(folder, step: int) -> bool:
    """Run the second pass in a child process killed just before the fold's `step`th change; True if it was."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            with Store(folder, logged=True) as store:
                for n in (3, 4, 5):
                    with store.transaction():
                        OutboxRepo(store).add(letter(n, LETTERS[n]))
                for sent in ("<letter-1@wexcombe.example>", "<letter-3@wexcombe.example>"):
                    with store.transaction(durable=False):
                        OutboxRepo(store).remove(sent)
                with store.transaction():
                    OutboxRepo(store).set_aside("<letter-4@wexcombe.example>", "550 refused", NOW)
                _die_at(step)  # from here on: the fold (and its tidying) at close
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _die_at(step: int) -> None:
    count = [0]
    for name in STEPS:
        real = getattr(os, name)

        def counted(*args, _real=real, **kwargs):
            count[0] += 1
            if count[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return _real(*args, **kwargs)
        setattr(os, name, counted)


def test_a_kill_before_any_step_of_the_fold_leaves_every_unsent_letter_sendable_exactly_once(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(_first_pass(tmp_path / "first"), base)
    kills, step = 0, 1
    while True:
        folder = tmp_path / f"run-{step}"
        shutil.copytree(base, folder)
        killed = the_pass_killed_at(folder, step)
        with Store(folder, logged=True) as store:  # the next pass opens the store
            outbox = OutboxRepo(store)
            pending = {r["message_id"]: outbox.raw(r) for r in outbox.pending()}
            aside = {r["message_id"]: outbox.raw(r) for r in outbox.set_aside_letters()}
        assert pending == {f"<letter-{n}@wexcombe.example>": LETTERS[n] for n in (2, 5)}, step
        assert aside == {"<letter-4@wexcombe.example>": LETTERS[4]}, step
        assert spooled(folder) == {file_name(f"<letter-{n}@wexcombe.example>") for n in (2, 4, 5)}, step
        shutil.rmtree(folder)
        if not killed:
            break
        kills, step = kills + 1, step + 1
    # Spilling three letters (a write and an fsync each, then the folder), the journal, the files,
    # the log, the tidying: a kill fell between each of them.
    assert kills >= 12, kills


def _first_pass(folder):
    """A store whose earlier pass left letters 1 and 2 waiting in the spool."""
    with Store(folder, create=True) as store, store.transaction():
        store.table("roster", "people").insert({"email": "aisha.patel@wexcombe.example", "name": "Aisha Patel",
                                                "roles": ["auditor"], "service": "Children in Care",
                                                "head_of_service": "marcus.ellery@wexcombe.example"})
    a_pass(folder, store_letters=[letter(1, LETTERS[1]), letter(2, LETTERS[2])])
    assert spooled(folder) == {file_name("<letter-1@wexcombe.example>"), file_name("<letter-2@wexcombe.example>")}
    assert (folder / FOLDER).is_dir()
    return folder
