"""The Director's reply to the draft letter to all staff: Send, or Don't send."""
import re
from datetime import date

from inbox.intent import AMONG_QUOTES, Reading, normalise
from inbox.read_answer import ReadAnswer
from inbox.signature import skip_greeting, strip_signature
from workflows.answers import Intent

# -- Send / Don't send: the Director's word on the draft letter to all staff ----------------------------
# Strict on purpose: a letter to every member of staff goes out on this answer, so only a plain
# "Send" (or "Don't send") on the first line of the reply decides; anything else asks again.
_SEND = re.compile(r"(?:yes|ok|okay)?[\s,.!-]*(?:please\s+)?(?:send it out|send the letter|send it|send|"
                   r"go ahead and send(?: it)?|happy (?:for you )?to send(?: it)?)(?:\s+please)?", re.I)
_DONT_SEND = re.compile(r"(?:no)?[\s,.!-]*(?:please\s+)?(?:don't|do not|dont)\s+send(?:\s+it)?(?:\s+please)?"
                        r"|not to be sent", re.I)
# What may follow the answer on its line: the end, or a full stop, dash or colon before a remark.
_SENTENCE_END = re.compile(r"\s*(?:[.!]+|\s[-–—]|:|$)\s*")
# Words that make a Send conditional, postponed, or taken back ("Send - but not until Monday",
# "Send. Actually don't", "Send: once the figures are corrected"): the letter cannot be recalled from
# a hundred inboxes, so any of them in what comes with a Send asks again rather than sends.
_NOT_PLAIN = re.compile(r"\b(?:but|not|don't|dont|until|unless|once|when|if|wait|hold|before|after|first|"
                        r"instead|actually|tomorrow|monday|tuesday|wednesday|thursday|friday|change|amend|edit|"
                        r"correct|corrected|fix|rewrite|reword|remove|delete|add|check|only|just|except|excluding|no|sorry|"
                        r"wrong|mistake|ignore|disregard|kidding|joking)\b|n't\b", re.I)
CONDITIONAL = "the Send came with a condition or a change to make first, and the letter cannot be recalled once sent"


def read_send(text: str, remark_text: str, today: date) -> ReadAnswer:
    body = skip_greeting(strip_signature(normalise(text)))
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    intent, rest = Intent.UNCLEAR, ""
    for pattern, found in ((_DONT_SEND, Intent.NO), (_SEND, Intent.YES)):
        match = pattern.match(first)
        end = match and _SENTENCE_END.match(first, match.end())
        if match and end and (end.end() == len(first) or end.group().strip()):
            intent, rest = found, first[end.end():]
            break
    comment = "\n".join([rest, *lines[1:]]).strip()
    if intent is Intent.UNCLEAR:
        reason = "the first line of the reply was not Send or Don't send" if first else "the reply was empty"
        return ReadAnswer(Reading(Intent.UNCLEAR, body, reason))
    if intent is Intent.YES and _NOT_PLAIN.search(comment):
        return ReadAnswer(Reading(Intent.UNCLEAR, body, CONDITIONAL))
    if remark_text.strip() and read_send(remark_text, "", today).reading.intent not in (Intent.UNCLEAR, intent):
        return ReadAnswer(Reading(Intent.UNCLEAR, body, AMONG_QUOTES))
    return ReadAnswer(Reading(intent, comment))
