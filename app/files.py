"""Reading the CSV files the QA team keeps in Excel: byte-order marks and Windows encodings tolerated."""
import csv
import io
from pathlib import Path

from core.errors import InputFileError, UsageError

# .xlsx (and .ods) files are ZIP archives; .xls files are OLE2 compound documents.
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows (with their line numbers) of a CSV saved by Excel or by hand."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if data.startswith(WORKBOOK_MAGIC):
        # Known by its bytes, not its name: "roster.csv" saved from Excel as a workbook is still a workbook.
        raise UsageError(f"{path}: this is an Excel workbook; save it as CSV "
                         "(File > Save As > CSV UTF-8) and import that")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows saves in the Windows code page, not UTF-8.
        text = data.decode("windows-1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{path}: the file is empty; nothing was changed") from None
    except csv.Error as exc:
        raise InputFileError(str(path), [f"line 1: {exc}"]) from None
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InputFileError(str(path), [f"line {reader.line_num}: {exc}"]) from None
    return header, rows
