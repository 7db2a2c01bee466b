"""The lines mail clients write above the history they quote, in the languages people here use.

Three shapes, each seen from many clients:
- separator lines: "-----Original Message-----" (Outlook), "-----Reply Message-----",
  "-------- Original message --------" (Samsung, Android), "----- Forwarded message -----" (Gmail),
  "-----Ursprüngliche Nachricht-----", "-----Oorspronkelijk bericht-----", "-----Message d'origine-----";
- attributions: "On Mon, 7 Dec 2026 at 10:00, QA Audits <qa@…> wrote:" (Gmail, Apple Mail,
  Thunderbird), with or without the colon, wrapped over two or three lines, Zoho's
  "---- On … wrote ----", and the same in French ("Le … a écrit :"), German ("Am … schrieb …:"),
  Dutch ("Op … schreef …:"), Italian, Spanish, Portuguese, Scandinavian, Polish, Czech and Welsh
  ("Ar … ysgrifennodd …:"); and old Gmail's "2026-12-07 10:00 GMT+00:00 QA Audits <qa@…>:";
- header blocks: Outlook's "From: / Sent: / To: / Subject:" in the sender's language ("De :",
  "Van:", "Da:", "Von:", "Från:", "Fra:", "Od:", "Oddi wrth:"), whichever field comes first —
  some clients start with the date.
"""
import re

SEPARATOR_WORDS = (
    r"original\s+message|reply\s+message|replied\s+message|forwarded\s+message|original\s+e-?mail"
    r"|message\s+d['’]origine|message\s+original|message\s+transf[ée]r[ée]"
    r"|urspr[üu]ngliche\s+nachricht|originalnachricht|weitergeleitete\s+nachricht"
    r"|oorspronkelijk\s+bericht|origineel\s+bericht|doorgestuurd\s+bericht"
    r"|messaggio\s+originale|mensaje\s+original|mensagem\s+original"
    r"|ursprungligt\s+meddelande|originalmeddelande|oprindelig\s+meddelelse|opprinnelig\s+melding"
    r"|p[ůu]vodn[íi]\s+zpr[áa]va|wiadomo[śs][ćc]\s+oryginalna|oryginalna\s+wiadomo[śs][ćc]"
    r"|neges\s+wreiddiol")
SEPARATOR = re.compile(rf"^[-_=*\s]*[-_=*]{{2,}}\s*(?:{SEPARATOR_WORDS})\s*[-_=*]*\s*:?\s*$", re.I)
OTHER_MARKERS = re.compile(
    r"^(?:_{10,}\s*$|begin\s+forwarded\s+message\s*:|sent\s+from\s+(?:my\s|mail\s+for\s|yahoo\s+mail|outlook)"
    r"|get\s+outlook\s+for\s+(?:ios|android))", re.I)

# Attributions: how they open ("On", "Le", "Am", …, or a weekday and a date on phone clients) ...
OPENING = re.compile(
    r"^[-\s]*(?:(?:on|le|am|op|il(?:\s+giorno)?|el|em|den|ar|dnia|w\s+dniu|dne|p[åa])\s+\S"
    r"|\d|[^\W\d]{2,4}\.?,?\s+\d)", re.I)
# ... and the verb that ends them: then a name or an address and a colon, Zoho's dashes, or nothing.
VERB = (r"wrote|a\s+[ée]crit|schrieb|schreef|ha\s+scritto|escribi[óo]|escreveu|skrev|ysgrifennodd"
        r"|napisa[łl](?:\(a\)|a)?|napsal(?:\(a\)|a)?|pisze")
ATTRIBUTION_END = re.compile(rf"\b(?:{VERB})(?!\w)(?:.{{0,120}}?(?::|-{{2,}})|)\s*$", re.I)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
TIME_OR_DATE = re.compile(r"\d{1,2}[:.]\d{2}|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\b\d{1,2}\s+[a-zé]{3,}", re.I)
# "2026-12-07 10:00 GMT+00:00 QA Audits <qa@…>:" and "07/12/2026 10:00, QA Audits <qa@…>:"
DATE_FIRST = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*\S@\S.*:\s*$")
MAX_ATTRIBUTION_LINES = 3
MAX_ATTRIBUTION_CHARS = 300

# Outlook's header fields, by meaning, in English, French, German, Dutch, Italian, Spanish,
# Portuguese, Swedish, Danish/Norwegian, Polish, Czech and Welsh.
FROM_FIELDS = r"from|de|von|van|da|från|fra|od|oddi\s+wrth|sender"
DATE_FIELDS = (r"sent|date|envoy[ée]|gesendet|datum|verzonden|verstuurd|inviato|data|enviado|enviada\s+em"
               r"|skickat|sendt|wys[łl]ano|odesl[áa]no|anfonwyd|dyddiad")
TO_FIELDS = r"to|[àa]|an|aan|a|para|till|til|do|komu|at"
SUBJECT_FIELDS = r"subject|objet|betreff|onderwerp|oggetto|asunto|assunto|[äa]mne|emne|temat|p[řr]edm[ěe]t|pwnc"
CC_FIELDS = r"cc|kopie|kopia"
FIELDS = {kind: re.compile(rf"^\*?(?:{words})\*?\s*[:：]\*?(?:\s|$)", re.I) for kind, words in (
    ("from", FROM_FIELDS), ("date", DATE_FIELDS), ("to", TO_FIELDS), ("subject", SUBJECT_FIELDS),
    ("cc", CC_FIELDS))}
# An English "From:" with a value is Outlook's block even when the rest was lost on the way.
FROM_LINE = re.compile(r"^\*?from\*?:\*?\s.+", re.I)
HEADER_WINDOW = 5


def is_marker_line(line: str) -> bool:
    """Whether one stripped line on its own marks the start of quoted history."""
    return bool(SEPARATOR.match(line) or OTHER_MARKERS.match(line) or FROM_LINE.match(line)
                or DATE_FIRST.match(line) or _foreign_from_with_address(line))


def attribution_at(lines: list[str], index: int) -> bool:
    """Whether an "On … wrote" attribution starts at lines[index] (perhaps wrapped over more lines)."""
    first = lines[index].strip()
    # The first line must look like the start of an attribution, not a sentence: an opening word
    # and a date, a time or an address ("On reflection, approved." has none).
    if not OPENING.match(first) or not (TIME_OR_DATE.search(first) or ADDRESS.search(first)):
        return False
    joined = ""
    for line in lines[index:index + MAX_ATTRIBUTION_LINES]:
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            return False
        joined = f"{joined} {stripped}".strip()
        if len(joined) > MAX_ATTRIBUTION_CHARS:
            return False
        if ATTRIBUTION_END.search(joined):
            return True
    return False


def header_block_at(lines: list[str], index: int) -> bool:
    """Whether a header block (From/Sent/To/Subject in any order and language) starts at lines[index]."""
    kind = _field(lines[index])
    if kind not in ("from", "date"):
        return False
    seen = {kind}
    for line in lines[index + 1:index + HEADER_WINDOW]:
        if not line.strip():
            continue
        field = _field(line)
        if field is None:
            break
        seen.add(field)
    # Two different fields, one of them who or when: "Date: … / From: …", "Von: … / Gesendet: …".
    return len(seen) >= 2 and bool(seen & {"from", "date"}) and bool(seen - {kind})


def _field(line: str) -> str | None:
    stripped = line.strip().replace("\xa0", " ")
    return next((kind for kind, pattern in FIELDS.items() if pattern.match(stripped)), None)


def _foreign_from_with_address(line: str) -> bool:
    # "Van: QA Audits <qa-audits@…>" alone: a sender field with an address is a quote header in any
    # language; without an address "Da: lunedì" could be a sentence, so the block rule decides.
    return _field(line) == "from" and bool(ADDRESS.search(line))
