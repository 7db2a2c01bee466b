"""The Director's draft letter beside the report files: `director-letter-YYYY-MM.html` and `.txt`.

>>> CALL SITE FOR THE LEAD: the drafting proper (the seed letter's model, every sentence true of the
>>> data) is another helper's work in `workflows/director_letter.py` + `app/director_letter.py`.
>>> When it is merged, make `write_director_draft` below call it; `report --out` calls only this.

Until then this writes a plain, factual placeholder from the same figures, so `--out` always
produces the files DESIGN.md names and nothing in it can be untrue.
"""
import html
from pathlib import Path

from db.files import write_bytes_atomic
from workflows.calendar import month_name
from workflows.results import MonthResult, verdict


def write_director_draft(ctx, month: str, results: list[MonthResult], out_dir: Path) -> list[Path]:
    """Write the draft for `month`; `results` are the trend's months, oldest first, `month` last."""
    lines = _placeholder_lines(ctx, month, results)
    text = "\n\n".join(lines) + "\n"
    page = ("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head><meta charset=\"utf-8\">"
            f"<title>Draft letter to all staff - {html.escape(month_name(month))}</title></head>\n<body>\n"
            + "".join(f"<p>{html.escape(line)}</p>\n" for line in lines) + "</body>\n</html>\n")
    written = []
    for ext, data in (("html", page), ("txt", text)):
        path = out_dir / f"director-letter-{month}.{ext}"
        write_bytes_atomic(path, data.encode("utf-8"))
        written.append(path)
    return written


def _placeholder_lines(ctx, month: str, results: list[MonthResult]) -> list[str]:
    this = results[-1]
    rate = "not applicable (no audits were due)" if this.completion_rate is None else f"{this.completion_rate:.1f}%"
    good = "-" if this.good_or_better_pct is None else f"{this.good_or_better_pct:.1f}%"
    inadequate = "-" if this.inadequate_pct is None else f"{this.inadequate_pct:.1f}%"
    return [
        f"DRAFT for {ctx.config.letterhead.director_name} to edit - not sent to anyone.",
        "Dear Colleague",
        f"Re: Quality assurance audits - results for {month_name(month)}",
        f"Completion: {rate} ({this.completed} of {this.due} audits due).",
        f"Good or better: {good} (target: {verdict(this.good_met)}). Inadequate: {inadequate} "
        f"(target: {verdict(this.inadequate_met)}).",
        "Yours sincerely",
        ctx.config.letterhead.director_name,
    ]
