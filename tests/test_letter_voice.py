"""Who a letter comes from: the Director writes to staff; a letter to the Director comes from the QA team.

The letterhead's email is the shared mailbox unless the configuration names another address, so
replies to automated letters reach the mailbox, not the Director's own inbox.
"""
from dataclasses import replace
from html import unescape

from conftest import MAILBOX
from letters import NOW
from test_request_letters import contexts


def parts(message) -> tuple[str, str]:
    """The text part and the HTML part with its entities read, as a person sees them."""
    return message.get_body(("plain",)).get_content(), unescape(message.get_body(("html",)).get_content())


def send(composer, to, name="exemption/to_director"):
    return parts(composer.letter(name, to=to, subject="s", context=contexts()[name], now=NOW))


def test_a_letter_to_the_director_has_the_qa_teams_heading_and_signature(composer):
    for part in send(composer, ["Imogen Thackeray <imogen.thackeray@wexcombe.example>"]):
        head, signed = part.split("Dear", 1)[0], part.rsplit("Yours sincerely", 1)[1]
        assert "Quality Assurance Team" in head and "Director of Children's Safeguarding" not in head
        assert "Please ask for: the Quality Assurance Team" in head
        assert "The Quality Assurance Team" in signed and "Imogen Thackeray" not in signed


def test_a_letter_to_anyone_else_is_the_directors(composer):
    for part in send(composer, ["priya.shah@wexcombe.example"], "exemption/to_hos"):
        head = part.split("Dear", 1)[0]
        assert "Imogen Thackeray" in head and "Director of Children's Safeguarding" in head


def test_the_letterhead_email_is_the_mailbox_unless_configured(composer):
    text, html = send(composer, ["priya.shah@wexcombe.example"], "exemption/to_hos")
    assert f"Email: {MAILBOX}" in text and f"Email: {MAILBOX}" in html
    assert "imogen.thackeray@wexcombe.example" not in text
    composer.letterhead = replace(composer.letterhead, contact_email="childrens.qa@wexcombe.example")
    text, _ = send(composer, ["priya.shah@wexcombe.example"], "exemption/to_hos")
    assert "Email: childrens.qa@wexcombe.example" in text


def test_the_config_key_reaches_the_letterhead(site):
    config = site.config
    assert config.letterhead.contact_email == ""
    source = config.source.read_text(encoding="utf-8").replace(
        "[organisation]\n", '[organisation]\nletterhead_email = "childrens.qa@wexcombe.example"\n', 1)
    config.source.write_text(source, encoding="utf-8")
    from core.config import load_config
    assert load_config(config.source).letterhead.contact_email == "childrens.qa@wexcombe.example"
