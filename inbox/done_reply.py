"""An action owner's reply to a remedial action: "Done", with a note of what was done."""
import re
from datetime import date

from inbox.intent import AMONG_QUOTES, NOTHING_FOUND, Reading, normalise
from inbox.read_answer import ReadAnswer
from inbox.signature import skip_greeting, strip_signature, unwrap
from workflows.answers import Intent

# -- "Done", with a note (a remedial action) ----------------------------------------------------
DONE_WORD = re.compile(r"\b(done|complete|completed|actioned|finished|resolved|sorted|carried out|"
                       r"dealt with|in place)\b", re.I)
# Any of these in the sentence that says "done" leaves it open: "not done yet", "will be completed
# on Friday", "once the visit is done", "partly actioned", "nearly finished", "should be sorted".
NOT_YET = re.compile(r"\b(not|never|no|nothing|none|nobody|neither|nor|without|yet|cannot|can't|won't|will|shall|going to|to be|being|once|when|if|"
                     r"unless|pending|partly|partially|almost|nearly|soon|tomorrow|next|still|hope|hopefully|"
                     r"should|would|could|might|may|needs?|in progress|underway|started|planned)\b|n't\b", re.I)
CLAUSE = re.compile(r"[,;:()]|\s[-\u2013\u2014]+\s|\s+but\s+", re.I)
# Anywhere in the sentence that says "done": taken back ("Done - no, sorry, wrong email") or someone
# else's word ("Ben said it was done, I have not checked"): the owner is asked, never assumed to have closed it.
DOUBTFUL = re.compile(r"\b(sorry|wrong|mistake|ignore|disregard|said|says|told|tells|apparently|believe|think|"
                      r"assume|assumed|understand|presume|heard)\b", re.I)
BUT = re.compile(r"\b(but|although|though|however|except|apart from)\b", re.I)
SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")
ASKING = re.compile(r"^\s*(is|has|have|was|were|are|do|does|did|can|could|should|shall|will|would)\b", re.I)
LEADING = re.compile(r"^[\s,.;:!?\-\u2013\u2014]+")
DONE_LINES = 3  # only the first few lines say whether it is done; a later "done" is part of the note
NO_NOTE = "no note of what was done was given"


def read_done(text: str) -> Reading:
    """Read the owner's reply to a remedial action: YES for a plain "Done" with a note, else UNCLEAR."""
    body = unwrap(skip_greeting(strip_signature(normalise(text)))).strip()
    zone = "\n".join([line for line in body.split("\n") if line.strip()][:DONE_LINES])
    found = DONE_WORD.search(zone)
    if not found:
        return Reading(Intent.UNCLEAR, body, NOTHING_FOUND)
    sentence = next(m.group() for m in SENTENCE.finditer(zone) if m.start() <= found.start() < max(m.end(), 1))
    if "?" in sentence or ASKING.match(sentence):
        return Reading(Intent.UNCLEAR, body, "the reply asked whether it was done rather than saying so")
    # What leads up to the word and the rest of its clause: "Done, no concerns" is done, "not done" is not.
    at = found.start() - zone.index(sentence) if sentence in zone else 0
    clause = sentence[:at] + CLAUSE.split(sentence[at:], maxsplit=1)[0]
    if BUT.search(sentence[at:]):
        clause = sentence  # "done, but the plan is not updated yet": only partly done
    if NOT_YET.search(clause) or DOUBTFUL.search(sentence):
        return Reading(Intent.UNCLEAR, body, "the reply did not say plainly that the action is done")
    # "Done - home visit made on 3 December" leaves the note; "Completed the visit today" is all note.
    opening = body[:found.start()].strip().lower() in ("", "this is", "this has been", "all", "now", "it is", "it's")
    alone = re.match(r"\s*([,.;:!?\-\u2013\u2014\n]|$)", body[found.end():]) is not None
    note = LEADING.sub("", body[found.end():]).strip() if opening and alone else body
    if not note:
        return Reading(Intent.UNCLEAR, body, NO_NOTE)
    return Reading(Intent.YES, note)


def read_done_answer(text: str, remark_text: str, today: date) -> ReadAnswer:
    reading = read_done(text)
    # A "done" typed among the quoted lines, with nothing at the top, is asked about, never assumed.
    if reading.reason == NOTHING_FOUND and DONE_WORD.search(remark_text or ""):
        reading = Reading(Intent.UNCLEAR, reading.comment, AMONG_QUOTES)
    return ReadAnswer(reading)
