"""The monthly report's two charts as PNG images, drawn with Pillow: the trend against the targets, and
the grade mix per service.

PNG, because Outlook shows an image carried in the message (`cid:`) but not SVG, and blocks images
fetched from the web. Drawn at twice the size shown (1200 px for a 600 px slot) so they stay sharp on
high-density screens. Colours are the Okabe-Ito set, told apart by people with colour-blind sight,
and every line or bar also has a label, so nothing depends on colour alone. Every number drawn is in
the report's tables too.
"""
from io import BytesIO

from workflows.calendar import MONTH_NAMES
from workflows.report_audits import GRADES
from workflows.report_figures import GradeMix
from workflows.results import MonthResult, Targets

WIDTH = 1200
INK, GRID, WHITE = (34, 34, 34), (210, 210, 210), (255, 255, 255)
GOOD_COLOUR, INADEQUATE_COLOUR = (0, 114, 178), (213, 94, 0)
GRADE_COLOURS = {GRADES[0]: (0, 94, 150), GRADES[1]: (86, 180, 233), GRADES[2]: (230, 159, 0),
                 GRADES[3]: (213, 94, 0)}


def _pillow():
    # Imported when a chart is drawn, not when the service starts: every command (even `status`)
    # loads the report's modules, and Pillow's import was a tenth of a command's start-up.
    from PIL import Image, ImageDraw, ImageFont
    return Image, ImageDraw, ImageFont


def _font(size: int):
    # Pillow's own scalable font (no font file to install or find on the server).
    return _pillow()[2].load_default(size=size)


def _png(image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _short_month(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:]) - 1][:3]} {month[2:4]}"


def trend_chart(trend: list[MonthResult], targets: Targets) -> bytes:
    """% good or better and % inadequate per month, with both target lines; a PNG."""
    height, left, right, top, bottom = 640, 90, 40, 90, 90
    Image, ImageDraw, _ = _pillow()
    image = Image.new("RGB", (WIDTH, height), WHITE)
    draw = ImageDraw.Draw(image)
    small, label = _font(22), _font(24)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def y(pct: float) -> float:
        return top + plot_h * (1 - pct / 100)

    for tick in range(0, 101, 20):
        draw.line([(left, y(tick)), (left + plot_w, y(tick))], fill=GRID, width=2)
        draw.text((left - 12, y(tick)), f"{tick}%", fill=INK, font=small, anchor="rm")
    step = plot_w / max(len(trend), 1)
    xs = [left + step * (i + 0.5) for i in range(len(trend))]
    for x, result in zip(xs, trend):
        draw.text((x, top + plot_h + 16), _short_month(result.month), fill=INK, font=small, anchor="mt")
    for value, colour, name in ((targets.good_or_better_min, GOOD_COLOUR, "target: at least"),
                                (targets.inadequate_max, INADEQUATE_COLOUR, "target: less than")):
        _dashed(draw, left, left + plot_w, y(value), colour)
        draw.text((left + plot_w, y(value) - 6), f"{name} {value:.1f}%", fill=colour, font=small, anchor="rb")
    for field, colour in (("good_or_better_pct", GOOD_COLOUR), ("inadequate_pct", INADEQUATE_COLOUR)):
        points = [(x, y(getattr(r, field))) for x, r in zip(xs, trend) if getattr(r, field) is not None]
        if len(points) > 1:
            draw.line(points, fill=colour, width=5, joint="curve")
        for px, py in points:
            draw.ellipse([px - 8, py - 8, px + 8, py + 8], fill=colour)
    _legend(draw, [("Good or better", GOOD_COLOUR), ("Inadequate", INADEQUATE_COLOUR)], left, 24, label)
    return _png(image)


def grade_mix_chart(services: list[GradeMix]) -> bytes:
    """One bar per service split by grade (share of its graded audits, counts written on); a PNG."""
    bar, gap, top, left, right = 52, 26, 100, 380, 40
    rows = services or []
    height = top + max(len(rows), 1) * (bar + gap) + 10
    Image, ImageDraw, _ = _pillow()
    image = Image.new("RGB", (WIDTH, height), WHITE)
    draw = ImageDraw.Draw(image)
    small, label = _font(22), _font(24)
    plot_w = WIDTH - left - right
    _legend(draw, [(g, GRADE_COLOURS[g]) for g in GRADES], 24, 24, label)
    if not rows or not any(m.graded for m in rows):
        draw.text((WIDTH // 2, top + bar // 2), "No graded audits", fill=INK, font=label, anchor="mm")
    for i, mix in enumerate(rows):
        y0 = top + i * (bar + gap)
        draw.text((left - 16, y0 + bar / 2), _fit(draw, f"{mix.name} ({mix.graded})", small, left - 40),
                  fill=INK, font=small, anchor="rm")
        x = float(left)
        for grade in GRADES:
            count = mix.counts[grade]
            if not count:
                continue
            width = plot_w * count / mix.graded
            draw.rectangle([x, y0, x + width, y0 + bar], fill=GRADE_COLOURS[grade], outline=WHITE, width=2)
            text = str(count)
            if draw.textlength(text, font=small) + 8 < width:
                ink = WHITE if grade in (GRADES[0], GRADES[3]) else INK
                draw.text((x + width / 2, y0 + bar / 2), text, fill=ink, font=small, anchor="mm")
            x += width
    return _png(image)


def _dashed(draw, x0: float, x1: float, y: float, colour, dash: int = 18) -> None:
    x = x0
    while x < x1:
        draw.line([(x, y), (min(x + dash, x1), y)], fill=colour, width=3)
        x += dash * 2


def _legend(draw, items, x: float, y: float, font) -> None:
    for name, colour in items:
        draw.rectangle([x, y + 4, x + 28, y + 28], fill=colour)
        draw.text((x + 38, y + 16), name, fill=INK, font=font, anchor="lm")
        x += 38 + draw.textlength(name, font=font) + 40


def _fit(draw, text: str, font, room: float) -> str:
    """The text, shortened with an ellipsis until it fits `room` pixels."""
    if draw.textlength(text, font=font) <= room:
        return text
    while text and draw.textlength(text + "…", font=font) > room:
        text = text[:-1]
    return text + "…"
