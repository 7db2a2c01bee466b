import pytest
from conftest import utc
from test_intake import question, MORNING
from test_cycle import ALLOCATIONS
from conftest import issue, letters_to

@pytest.mark.transports("maildir", "imap")
def test_probe(site):
    site.receive(question(), at=MORNING)
    assert site.once(MORNING) == {"handled": 1, "sent": 1}
    assert not site.files("inbox") and len(site.files("processed")) == 1
    assert site.once(MORNING) == {"handled": 0, "sent": 0}

@pytest.mark.transports("maildir", "imap")
def test_probe_issue(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    assert len(site.sent()) == 2
