"""Images shown inside the HTML (the report's charts): each is a cid: part beside the HTML in a
multipart/related, so Outlook shows it in place; the plain text never carries them."""
import email
from email import policy

import pytest

from core.letter import OutgoingAttachment
from letters import NOW
from mailer.charts import grade_mix_chart, trend_chart
from test_report_letters import contexts, sample_report

PNG = b"\x89PNG\r\n\x1a\n"


def compose(composer, attachments):
    message = composer.letter("report/qa_report", to=["priya.ramsden@wexcombe.example"], subject="Monthly QA report",
                              context=contexts()["report/qa_report"], now=NOW, attachments=attachments)
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def test_inline_images_sit_beside_the_html_and_other_files_stay_attachments(composer):
    report = sample_report()
    message = compose(composer, [
        OutgoingAttachment("trend.png", "image/png", trend_chart(report.trend, report.targets), inline_id="trend@x"),
        OutgoingAttachment("mix.png", "image/png", grade_mix_chart(report.service_grades), inline_id="<mix@x>"),
        OutgoingAttachment("figures.csv", "text/csv", b"reference\r\nAUD-2026-11-001\r\n"),
    ])
    shape = [(part.get_content_type(), part.get_content_disposition()) for part in message.walk()]
    assert shape == [("multipart/mixed", None), ("multipart/alternative", None), ("text/plain", None),
                     ("multipart/related", None), ("text/html", None), ("image/png", "inline"),
                     ("image/png", "inline"), ("text/csv", "attachment")]
    html = message.get_body(("html",)).get_content()
    for part in message.walk():
        if part.get_content_type() == "image/png":
            assert f'src="cid:{part["Content-ID"].strip("<>")}"' in html and part.get_content().startswith(PNG)
    assert "Chart: the trend." in message.get_body(("plain",)).get_content()


def test_without_inline_images_the_letter_is_as_before(composer):
    shape = [p.get_content_type() for p in compose(composer, []).walk()]
    assert shape == ["multipart/alternative", "text/plain", "text/html"]


@pytest.mark.parametrize(("content_type", "cid"), [("text/csv", "a@x"), ("image/png", "no domain part ")])
def test_an_inline_part_must_be_an_image_with_a_usable_content_id(composer, content_type, cid):
    with pytest.raises(ValueError):
        compose(composer, [OutgoingAttachment("a", content_type, b"x", inline_id=cid)])


def test_charts_draw_for_no_months_no_services_and_many(composer):
    report = sample_report()
    assert trend_chart([], report.targets).startswith(PNG)
    assert grade_mix_chart([]).startswith(PNG)
    many = report.trend * 12
    assert trend_chart(many, report.targets).startswith(PNG)
