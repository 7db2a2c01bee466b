"""The floor: what handling a message costs when nothing but the disk stands in the way.

For each message: the stdlib parses it, one small JSON record is written atomically with fsync
(new file, fsync, rename, fsync the folder), and a reply file is written and fsync'd. Run in the
same process over the same messages as the service (bench_service.py), so figures are ratios.
"""
import email
import json
import os
import statistics
import time
from email import policy
from pathlib import Path


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def floor_one(raw: bytes, n: int, folder: Path) -> None:
    """Parse one message, record it durably, write its reply: the least any service must do."""
    message = email.message_from_bytes(raw, policy=policy.default)
    record = {"key": str(message["Message-ID"]), "from": str(message["From"]),
              "subject": str(message["Subject"]), "n": n}
    tmp, final = folder / "records" / f"{n}.json.tmp", folder / "records" / f"{n}.json"
    _write_synced(tmp, json.dumps(record).encode())
    os.replace(tmp, final)
    _fsync_folder(final.parent)
    reply = (f"To: {record['from']}\r\nSubject: Re: {record['subject']}\r\n"
             f"In-Reply-To: {record['key']}\r\n\r\nReceived, thank you.\r\n").encode()
    _write_synced(folder / "replies" / f"{n}.eml", reply)
    _fsync_folder(folder / "replies")


def floor_folder(folder: Path) -> Path:
    """Make the floor's folders under `folder`; returns it."""
    for name in ("records", "replies"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return folder


def floor_per_message(messages: list[bytes], folder: Path) -> tuple[float, float]:
    """Median and mean seconds per message for the floor over `messages`, written under `folder`."""
    floor_folder(folder)
    times = []
    for n, raw in enumerate(messages):
        start = time.perf_counter()
        floor_one(raw, n, folder)
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.fmean(times)


if __name__ == "__main__":
    import sys
    import tempfile

    sample = Path(sys.argv[1]).read_bytes() if len(sys.argv) > 1 else (
        b"From: Ann <ann@x.example>\r\nTo: qa@x.example\r\nSubject: AUD-2026-12-001\r\n"
        b"Message-ID: <1@x.example>\r\n\r\nGrade: Good\r\n")
    with tempfile.TemporaryDirectory() as tmp:
        median, mean = floor_per_message([sample] * 300, Path(tmp))
        print(f"floor: median {median * 1000:.2f} ms, mean {mean * 1000:.2f} ms per message")
