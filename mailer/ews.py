"""Sending through Exchange Web Services: the composed MIME, unchanged, from the shared mailbox.

The letter goes up as the item's MIME content (CreateItem), so every header the composer wrote travels
with it: Message-ID, In-Reply-To, References, both text parts. Exchange may drop headers it does not
know when it turns MIME into an item, so the two that stop mail loops are also set as properties it
does know: `Auto-Submitted` as an internet-header property (PS_INTERNET_HEADERS) and
`X-Auto-Response-Suppress` as PidTagAutoResponseSuppress (0x3FDF), the flags Exchange itself obeys.

A copy is saved in the shared mailbox's Sent Items (SendAndSaveCopy): people who open the shared
mailbox in Outlook see what the service sent, as they would for mail a colleague sent from it.
"""
import logging
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from core.ews import Diagnosis

log = logging.getLogger("auditmail.ews")

# X-Auto-Response-Suppress words -> PidTagAutoResponseSuppress flags ([MS-OXCMAIL] 2.2.3.2.20).
SUPPRESS_FLAGS = {"DR": 0x01, "NDR": 0x02, "RN": 0x04, "NRN": 0x08, "OOF": 0x10, "AUTOREPLY": 0x20}
ALL = 0xFFFFFFFF


class EwsSender:
    """Sends one complete RFC 5322 message as the shared mailbox through an exchangelib Account."""

    def __init__(self, account, diagnosis: Diagnosis, save_copy: bool = True):
        self._account = account
        self._diagnosis = diagnosis
        self._save_copy = save_copy
        _register_properties()

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """CreateItem with the MIME and the loop-stopping properties; EWS names no refused recipients (bounces do)."""
        from exchangelib import Message

        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        properties = {}
        if headers["Auto-Submitted"]:
            properties["auditmail_auto_submitted"] = str(headers["Auto-Submitted"]).strip()
        if headers["X-Auto-Response-Suppress"]:
            properties["auditmail_auto_response_suppress"] = suppress_flags(str(headers["X-Auto-Response-Suppress"]))
        with self._diagnosis.calls(f"sending {message_id}"):
            message = Message(account=self._account, mime_content=raw, **properties)
            message.send(save_copy=self._save_copy)
        return []


def suppress_flags(value: str) -> int:
    """The X-Auto-Response-Suppress header as the signed 32-bit integer EWS takes ("All" is 0xFFFFFFFF, i.e. -1)."""
    words = [w.strip().upper() for w in value.split(",") if w.strip()]
    flags = ALL if "ALL" in words else sum(SUPPRESS_FLAGS.get(w, 0) for w in set(words))
    return flags - (1 << 32) if flags >= 1 << 31 else flags


_registered = False


def _register_properties() -> None:
    """Teach exchangelib's Message the two extended properties (once per process: it is class-wide)."""
    global _registered
    if _registered:
        return
    from exchangelib import ExtendedProperty, Message

    class AutoSubmitted(ExtendedProperty):
        """The Auto-Submitted internet header, as Exchange stores internet headers it has no property for."""

        distinguished_property_set_id = "InternetHeaders"
        property_name = "Auto-Submitted"
        property_type = "String"

    class AutoResponseSuppress(ExtendedProperty):
        """PidTagAutoResponseSuppress: which automatic replies (out-of-office, receipts) Exchange must not send."""

        property_tag = 0x3FDF
        property_type = "Integer"

    for name, cls in (("auditmail_auto_submitted", AutoSubmitted),
                      ("auditmail_auto_response_suppress", AutoResponseSuppress)):
        try:
            Message.register(name, cls)
        except ValueError:
            pass  # already registered by an earlier import of this module
    _registered = True
