"""How mail clients quote a letter under a reply: the header lines they write, with or without ">".

Each style is written as the client writes it (Outlook in English, German, French, Dutch, Italian,
Swedish, Danish, Polish and Welsh; Gmail, Apple Mail, Thunderbird, Zoho; the old separators), so
tests can put any letter we send under any of them.
"""
from __future__ import annotations

from conftest import MAILBOX

QA = f"QA Audits <{MAILBOX}>"
PERSON = "Sam Okafor <sam.okafor@wexcombe.example>"
NB = "\u00a0"

HEADER_STYLES: dict[str, str] = {
    "outlook-en": f"________________________________\nFrom: {QA}\nSent: 01 December 2026 09:00\nTo: {PERSON}\n"
                  "Subject: [AUD-2026-12-001] Your audits for December 2026\n",
    "outlook-en-bold": f"*From:* {QA}\n*Sent:* Tuesday, December 1, 2026 9:00:00 AM\n*To:* {PERSON}\n"
                       "*Subject:* Your audits\n",
    "outlook-de": f"Von: {QA}\nGesendet: Dienstag, 1. Dezember 2026 09:00\nAn: {PERSON}\nBetreff: Ihre Audits\n",
    "outlook-fr": f"De{NB}: {QA}\nEnvoyé{NB}: mardi 1 décembre 2026 09:00\nÀ{NB}: {PERSON}\nObjet{NB}: Vos audits\n",
    "outlook-nl": "Van: QA Audits\nVerzonden: dinsdag 1 december 2026 09:00\nAan: Sam Okafor\nOnderwerp: Audits\n",
    "outlook-it": f"Da: {QA}\nInviato: martedì 1 dicembre 2026 09:00\nA: {PERSON}\nOggetto: Audit\n",
    "outlook-sv": f"Från: {QA}\nSkickat: den 1 december 2026 09:00\nTill: {PERSON}\nÄmne: Granskningar\n",
    "outlook-da": f"Fra: {QA}\nSendt: 1. december 2026 09:00\nTil: {PERSON}\nEmne: Revisioner\n",
    "outlook-pl": f"Od: {QA}\nWysłano: wtorek, 1 grudnia 2026 09:00\nDo: {PERSON}\nTemat: Audyty\n",
    "outlook-cy": f"Oddi wrth: {QA}\nAnfonwyd: Dydd Mawrth, 1 Rhagfyr 2026 09:00\nAt: {PERSON}\nPwnc: Archwiliadau\n",
    "date-first": f"Date: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: {QA}\nTo: {PERSON}\nSubject: Your audits\n",
    "sent-first": f"Sent: Tuesday, December 1, 2026 9:00 AM\nFrom: {QA}\nTo: {PERSON}\n",
    "original-message": f"-----Original Message-----\nFrom: {QA}\nSent: 01 December 2026 09:00\n",
    "reply-message": "-----Reply Message-----\n",
    "samsung": f"-------- Original message --------\nFrom: {QA}\nDate: 01/12/2026 09:00 (GMT+00:00)\n",
    "gmail": f"On Tue, 1 Dec 2026 at 09:00, {QA} wrote:\n",
    "gmail-wrapped": f"On Tue, 1 Dec 2026 at 09:00, QA Audits <\n{MAILBOX}> wrote:\n",
    "gmail-wrapped-before-wrote": f"On Tue, 1 Dec 2026 at 09:00, {QA}\nwrote:\n",
    "no-colon": "On 01/12/2026 09:00, QA Audits wrote\n",
    "apple": f"On 1 Dec 2026, at 09:00, {QA} wrote:\n",
    "zoho": f"---- On Tue, 01 Dec 2026 09:00:00 +0000 {QA} wrote ----\n",
    "thunderbird-de": "Am 01.12.26 um 09:00 schrieb QA Audits:\n",
    "thunderbird-fr": "Le 01/12/2026 à 09:00, QA Audits a écrit :\n",
    "gmail-nl": f"Op di 1 dec 2026 om 09:00 schreef {QA}:\n",
    "gmail-cy": f"Ar Maw, 1 Rhag 2026 am 09:00, {QA} ysgrifennodd:\n",
    "gmail-it": f"Il giorno mar 1 dic 2026 alle ore 09:00 {QA} ha scritto:\n",
    "gmail-pl": f"wt., 1 gru 2026 o 09:00 {QA} napisał(a):\n",
    "old-gmail-date-first": f"2026-12-01 9:00 GMT+00:00 {QA}:\n",
}
# No header at all: the letter straight under the reply (a client that wrote nothing we know).
NO_HEADER = "none"


def quote(letter: str, style: str, prefixed: bool) -> str:
    """`letter` quoted under the header of `style`, each line prefixed with "> " when `prefixed`."""
    body = "\n".join(("> " + line).rstrip() for line in letter.split("\n")) if prefixed else letter
    header = "" if style == NO_HEADER else HEADER_STYLES[style]
    return f"{header}\n{body}" if header else body


def reply(fresh: str, letter: str, style: str, prefixed: bool) -> str:
    """A reply: the fresh text, a blank line, then the quoted letter."""
    return f"{fresh}\n\n{quote(letter, style, prefixed)}"
