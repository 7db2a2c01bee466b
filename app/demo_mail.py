"""Emails as the demo's invented staff would send them, in the shapes their mail clients produce.

Each builder answers one of our letters (threaded by In-Reply-To/References) with the sender's own
words on top and the quoted letter below, as Outlook, Gmail, Apple Mail and Outlook mobile do.
"""
import secrets
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime


def _message(sender: str, to: str, subject: str, when, in_reply_to: str | None, headers=()) -> EmailMessage:
    msg = EmailMessage(policy=default.clone(max_line_length=998))
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{secrets.token_hex(8)}@mail.wexcombe.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in headers:
        msg[name] = value
    return msg


def _quoted_outlook(letter) -> str:
    return ("\n________________________________\n"
            f"From: {letter['From']}\nSent: {letter['Date']}\nTo: {letter['To']}\nSubject: {letter['Subject']}\n\n"
            + letter.get_body(("plain",)).get_content())


def outlook_reply(sender, to, letter, when, words: str) -> bytes:
    """Outlook desktop: top-posted, a signature, the letter quoted under a From/Sent block; text and HTML."""
    msg = _message(sender, to, f"RE: {letter['Subject']}", when, letter["Message-ID"],
                   [("Thread-Topic", letter["Subject"]), ("X-MS-Has-Attach", "")])
    name = sender.split("<")[0].strip()
    text = f"{words}\n\nKind regards\n{name}\nWexcombe County Council\n" + _quoted_outlook(letter)
    msg.set_content(text)
    html_words = "".join(f"<p class=MsoNormal>{line}</p>" for line in words.splitlines())
    msg.add_alternative(f"<html><body>{html_words}<p class=MsoNormal>Kind regards<br>{name}</p>"
                        f"<div style='border-top:solid #E1E1E1 1.0pt'><p><b>From:</b> {letter['From']}</p></div>"
                        "</body></html>", subtype="html")
    return msg.as_bytes()


def gmail_reply(sender, to, letter, when, words: str) -> bytes:
    """Gmail: "On … wrote:" and every quoted line prefixed with ">"."""
    msg = _message(sender, to, f"Re: {letter['Subject']}", when, letter["Message-ID"])
    quoted = "\n".join("> " + line for line in letter.get_body(("plain",)).get_content().splitlines())
    msg.set_content(f"{words}\n\nOn {letter['Date']}, {letter['From']} wrote:\n\n{quoted}\n")
    return msg.as_bytes()


def apple_reply(sender, to, letter, when, words: str) -> bytes:
    """Apple Mail on an iPhone: "Sent from my iPhone", then the quoted letter."""
    msg = _message(sender, to, f"Re: {letter['Subject']}", when, letter["Message-ID"],
                   [("X-Mailer", "iPhone Mail (21G93)")])
    quoted = "\n".join("> " + line for line in letter.get_body(("plain",)).get_content().splitlines())
    msg.set_content(f"{words}\n\nSent from my iPhone\n\n> On {letter['Date']}, {letter['From']} wrote:\n>\n{quoted}\n")
    return msg.as_bytes()


def outlook_mobile_reply(sender, to, letter, when, words: str) -> bytes:
    """Outlook for iOS: "Get Outlook for iOS", then an underscored From/Sent block."""
    msg = _message(sender, to, f"Re: {letter['Subject']}", when, letter["Message-ID"])
    msg.set_content(f"{words}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n" + _quoted_outlook(letter))
    return msg.as_bytes()


def out_of_office(sender, to, letter, when) -> bytes:
    """An Exchange automatic reply to one of our letters."""
    msg = _message(sender, to, f"Automatic reply: {letter['Subject']}", when, letter["Message-ID"],
                   [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")])
    msg.set_content("I am on annual leave until Monday 4 January and have no access to email.")
    return msg.as_bytes()


def new_email(sender, to, subject, when, words: str) -> bytes:
    """A fresh email, not a reply."""
    msg = _message(sender, to, subject, when, None)
    msg.set_content(words)
    return msg.as_bytes()
