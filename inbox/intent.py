"""What an approver (or the QA team) meant by a reply: yes, no or unclear, plus their own words.

People answer from a phone in a few words, so the reading is cautious: only the first lines decide,
a question, a condition or two opposite answers decide nothing, and an UNCLEAR reading carries a
short reason the daemon can quote back to the sender. The QA team's slippage answers also carry the
agreed completion date, written the way people in England write dates.
"""
import re
from dataclasses import dataclass
from datetime import date

from inbox.dates import DATE_TEXT, find_dates
from inbox.signature import skip_greeting, strip_signature, unwrap
from workflows.answers import Intent




YES, NO = Intent.YES, Intent.NO
# Multi-word phrases first, so "no problem" is never read as "no".
TOKEN = re.compile(
    r"no\s+objections?|no\s+reason\s+not\s+to|no\s+(?:problems?|issues?|worries|concerns?)|no\s+capacity"
    r"|not\s+this\s+month|not\s+sure|not\s+certain|not\s+able\s+to|unable\s+to|can\s+not|go\s+ahead"
    r"|fine\s+by\s+me|can\s+do|as\s+long\s+as|subject\s+to|on\s+condition|not\s+at\s+all|not\s+this\s+time"
    r"|(?:absolutely|definitely|certainly|unfortunately|afraid|sadly)\s+not|[a-z]+(?:['’][a-z]+)*", re.I)
# Clauses end at punctuation or a spaced dash; hyphens inside words ("ill-health") do not count.
CLAUSE_END = re.compile(r"([.!?;:,]+(?=\s|$)\s*|\s+[-–—]+\s*|[-–—]+\s+|[–—]\s*)")
# Unambiguous verbs decide wherever they stand in the deciding lines.
STRONG = {**dict.fromkeys("approve approved approves approving approval grant granted".split(), YES),
          **dict.fromkeys("reject rejected rejects rejecting decline declined declines declining refuse "
                          "refused refuses refusing deny denied".split(), NO)}
# Everyday words decide only where an answer opens a clause: "Support", "I support this" decide;
# "she needs support" or "she has agreed to" do not.
# "happy" alone is not among them: "Happy Christmas!" and "Happy to discuss" are not approvals, and
# "Happy to support" still decides through "support".
WEAK = {**dict.fromkeys(["yes", "yep", "yeah", "yup", "aye", "ok", "okay", "fine", "fine by me",
                         "support", "supported", "supports", "supporting", "agree", "agreed", "agrees",
                         "accept", "accepted", "accepts", "go ahead", "no objection", "no objections"], YES),
        **dict.fromkeys(["nope", "nah", "disagree", "disagreed", "not at all", "not this time", "absolutely not",
                         "definitely not", "certainly not", "unfortunately not", "afraid not", "sadly not"], NO)}
CAPACITY_STRONG = {"accommodate": YES, "can do": YES, "no capacity": NO, "not this month": NO}
NEGATORS = frozenset({"not", "never", "cannot", "can not", "unable to", "not able to", "cant", "dont", "wont",
                      "wouldnt", "couldnt", "shouldnt", "isnt", "doesnt", "didnt", "arent"})
NEGATION_REACH = 4  # "I don't think I can support" still negates
NEUTRAL = frozenset({"no reason not to", *(f"no {w}" for w in "problem problems issue issues worries concerns".split())})
HEDGES = frozenset({"not sure", "not certain", "unsure", "maybe", "perhaps", "possibly", "probably"})
OPENERS = NEUTRAL | HEDGES | NEGATORS | frozenset(
    "i i'm im i've ive i'd id i'll we we're we've we'd we'll am are is be it it's its this that that's "
    "thats there here happy glad pleased content fully very more than also both will would could can do "
    "hereby actually then so and but well sorry oh ah please to able a from me my have has see think of "
    "course definitely absolutely really all good just still now in on reflection second wait confirm".split())
NO_FOLLOWERS = NEGATORS | frozenset("from thanks thank sorry i we to way that's it's".split())
TAIL = frozenset("this that it one request the exemption from me by please thanks thank you sorry too "
                 "also then here all pls thx".split())
FILLER = NEUTRAL | TAIL | frozenset("ta cheers course many sure of on by before".split())
CONDITIONS = frozenset({"as long as", "subject to", "on condition",
                        *"if unless provided providing assuming before until once".split()})
# "OK, I'll look at this tomorrow": an everyday yes-word beside words that put the decision off is
# an acknowledgement, not a decision. (A plain "Approved" is never put off by a later remark.)
DEFERRAL = re.compile(r"\b((i['’]?ll|i will|will|let me|i need to|i['’]?d like to|i want to)\s+(have a\s+)?"
                      r"(look|get back|come back|check|think|discuss|speak|talk|call|read)|call me|"
                      r"more (info|information|detail)|discuss (it|this) (first|with))", re.I)
# Words that leave any answer provisional, so it decides nothing: "Approved in principle", "Approve
# pending HR advice", "Hold off on approving", "It would be wrong to approve", "I haven't approved
# this yet", "Approved. Actually, let me check with HR first".
QUALIFIED = re.compile(r"\b(in principle|pending|provisional(ly)?|hold off|on hold|wrong to|not yet|yet|"
                       r"(check|speak|talk|confirm|discuss)\b[^.\n]*\bfirst)\b", re.I)
ASKING = frozenset("should shall can could would do does did is are may will what why how when".split())
ASKED_OF = frozenset("i we you this it she he they that there".split())
DECIDING_LINES = 3  # only the first few lines of the newest text can hold the decision
# A reply that points to an answer further down ("See below.") has not answered above the quote.
POINTS_BELOW = re.compile(r"\b(?:see|find|read)\s+(?:my\s+|our\s+)?(?:comments?|answers?|repl(?:y|ies)|notes?|"
                          r"responses?)?\s*(?:below|inline|in\s*line|underneath)\b", re.I)
# Contractions whose apostrophe was lost on the way ("can t", "don?t", "won\ufffdt"): a negation
# the reader cannot place, so whatever they say is no approval.
BROKEN_NEGATION = re.compile(r"\b(?:can|won|don|didn|doesn|isn|aren|wasn|weren|couldn|wouldn|shouldn|haven|hasn"
                             r"|hadn|mustn|ain)(?:\s+|[^\w\s']\s*)t\b", re.I)
# Typographic apostrophes and quotes, and the C1 controls windows-1252 text leaves when it is read
# as latin-1 (0x92 is its curly apostrophe).
PLAIN_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'",
                              "\u00b4": "'", "`": "'", "\x92": "'", "\x91": "'", "\u201c": '"', "\u201d": '"',
                              "\u201e": '"', "\u201f": '"', "\x93": '"', "\x94": '"', "\x96": "-", "\x97": "-"})
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NOTHING_FOUND = "no decision word was found"
POINTED_BELOW = "the reply points to an answer below the quoted text"
AMONG_QUOTES = "an answer was written among the quoted lines rather than at the top of the reply"
CHANGE_OF_MIND = re.compile(r"^\W*(actually|wait|sorry|scratch that|ignore|correction|on (second|reflection))", re.I)


@dataclass(frozen=True)
class Reading:
    """One reply's answer, the sender's own words besides it, and why it was unclear (if it was)."""

    intent: Intent
    comment: str
    reason: str = ""


@dataclass(frozen=True)
class _Line:
    hits: tuple[Intent, ...]
    flags: frozenset[str]
    comment: str


def read_decision(text: str) -> Reading:
    """Read an approver's reply (the newest text of it) as approve, decline or unclear."""
    return _read(text, STRONG)[0]


def read_capacity(text: str, today: date) -> tuple[Reading, date | None]:
    """Read the QA team's answer to a slippage request; a yes must carry the agreed completion date."""
    reading, zone_text, body = _read(text, {**STRONG, **CAPACITY_STRONG})
    if reading.intent is not YES:
        return reading, None
    found = find_dates(zone_text, today) or find_dates(body, today)
    reason = ("no date was given for the agreed completion" if not found
              else "more than one date was given" if len(set(found)) > 1
              else "the date given has already passed" if found[0] < today else "")
    return (Reading(Intent.UNCLEAR, body, reason), None) if reason else (reading, found[0])


def with_remarks(reading: Reading, remark_text: str, *, capacity: bool = False) -> Reading:
    """The reading once the remarks typed among the quoted lines are weighed (see reply.remarks).

    A remark that agrees with the answer at the top changes nothing; one that gives an answer the
    top did not, or a different one, makes the reply unclear, so the sender is asked again.
    """
    strong = {**STRONG, **CAPACITY_STRONG} if capacity else STRONG
    lines = normalise(remark_text).split("\n")
    answers = {hit for line in lines if line.strip() for hit in _read_line(line, strong).hits}
    if not answers or (reading.intent is not Intent.UNCLEAR and answers == {reading.intent}):
        return reading
    if reading.intent is Intent.UNCLEAR and reading.reason not in (NOTHING_FOUND, POINTED_BELOW):
        return reading
    return Reading(Intent.UNCLEAR, reading.comment, AMONG_QUOTES)


def normalise(text: str) -> str:
    """Text with straight apostrophes and quotes, and stray control characters made spaces."""
    return CONTROL.sub(" ", text.translate(PLAIN_QUOTES).replace("\r\n", "\n"))


def _read(text: str, strong: dict[str, Intent]) -> tuple[Reading, str, str]:
    """The reading, the text of the deciding lines, and the whole answer without greeting or signature."""
    body = unwrap(skip_greeting(strip_signature(normalise(text))))
    lines = body.split("\n")
    zone = _deciding_lines(lines, strong)
    hits = [hit for line in zone.values() for hit in line.hits]
    flags = {flag for line in zone.values() for flag in line.flags}
    zone_text = "\n".join(lines[i] for i in zone)
    strong_word = any(_word(m.group()) in strong for m in TOKEN.finditer(zone_text))
    if hits and not strong_word and DEFERRAL.search(zone_text):
        flags.add("deferred")
    if YES in hits and BROKEN_NEGATION.search(zone_text):
        flags.add("negation")
    if hits and QUALIFIED.search(zone_text):
        flags.add("qualified")
    reason = ("the decision was asked as a question" if "question" in flags
              else "the decision depended on a condition" if "condition" in flags
              else "the reply put the decision off rather than making it" if "deferred" in flags
              else "the answer was only provisional (in principle, pending, not yet)" if "qualified" in flags
              else "the decision was not definite" if "hedge" in flags
              else "a 'not' was found that could not be placed with confidence" if "negation" in flags
              else "both an approval and a refusal were found" if len(set(hits)) > 1
              else POINTED_BELOW if not hits and POINTS_BELOW.search(body)
              else NOTHING_FOUND if not hits else "")
    if reason:
        return Reading(Intent.UNCLEAR, body, reason), zone_text, body
    comment = "\n".join(zone[i].comment if i in zone else line.strip() for i, line in enumerate(lines))
    return Reading(hits[0], re.sub(r"\n{3,}", "\n\n", comment).strip()), zone_text, body


def _deciding_lines(lines: list[str], strong: dict[str, Intent]) -> dict[int, _Line]:
    """The first paragraph's lines, read; later lines among the first few join only while nothing is
    decided, or when they change the answer ("Actually no, reject"), so a later comment never decides."""
    content = [i for i, line in enumerate(lines) if line.strip()][:DECIDING_LINES]
    zone: dict[int, _Line] = {}
    for n, index in enumerate(content):
        same_paragraph = n == 0 or (index == content[n - 1] + 1 and content[n - 1] in zone)
        decided = any(line.hits for line in zone.values())
        if same_paragraph or not decided or CHANGE_OF_MIND.match(lines[index]):
            zone[index] = _read_line(lines[index], strong)
    return zone


def _read_line(line: str, strong: dict[str, Intent]) -> _Line:
    """The answers in one line, what makes them unsafe (question, condition, hedge), and the words left."""
    hits: list[Intent] = []
    flags: set[str] = set()
    kept: list[str] = []
    whole: list[str] = []
    sentence_text, sentence_kept = "", False
    sentence: list[str] = []
    sentence_answers: list[Intent] = []
    sentence_hits = asked = modal_first = False
    for text, end in _clauses(line):
        tokens = [(_word(m.group()), m.start(), m.end()) for m in TOKEN.finditer(text)]
        words = [word for word, _, _ in tokens]
        found = _clause_hits(words, strong)
        hits += [intent for intent, _ in found]
        sentence_answers += [intent for intent, _ in found]
        sentence += words
        sentence_hits = sentence_hits or bool(found)
        asked = asked or bool(found) or any(w in WEAK and p in ("i", "we") for p, w in zip(words, words[1:]))
        modal_first = modal_first or bool(found and {"would", "could", "might"}.intersection(words[:found[0][1]]))
        kept.append(_left_over(text, tokens, found, end))
        sentence_kept = sentence_kept or bool(kept[-1])
        sentence_text += text + end
        if not end or set(end) & set(".!?"):
            # The comment is whole sentences or nothing: "Support - the hearing is listed for three
            # weeks." is passed on as written, never as the fragment left once "Support" is taken out.
            whole.append(sentence_text if sentence_kept else "")
            sentence_text, sentence_kept = "", False
        if not end or set(end) & set(".!?;-–—"):  # commas and colons do not end a sentence
            if asked and ("?" in end or (sentence[:1] and sentence[0] in ASKING and sentence[1:2]
                                         and sentence[1] in ASKED_OF)):
                flags.add("question")
            if sentence_hits and (CONDITIONS.intersection(sentence) or (
                    modal_first and {"but", "however", "although", "though"}.intersection(sentence))):
                flags.add("condition")
            if sentence_hits and HEDGES.intersection(sentence):
                flags.add("hedge")
            if YES in sentence_answers and any(w in NEGATORS or w.endswith("n't") for w in sentence):
                # "Not a problem, approved", "I approve, though not happily": a 'not' beside a yes
                # that the reading did not apply to it. Asking again costs a minute; a wrong yes more.
                flags.add("negation")
            sentence, sentence_hits, asked, modal_first = [], False, False, False
            sentence_answers = []
    comment = re.sub(r"^[\s,.;:!?–—-]+|[\s,;:–—-]+$", "", "".join(whole).strip())
    return _Line(tuple(hits), frozenset(flags), comment)


def _clauses(line: str) -> list[tuple[str, str]]:
    """(clause, the punctuation or dash that ends it) pairs; the last clause ends with ""."""
    parts = CLAUSE_END.split(line)
    return list(zip(parts[::2], parts[1::2] + [""]))


def _word(token: str) -> str:
    """A token as the vocabulary spells it: lower case, one space, straight apostrophes."""
    return " ".join(token.lower().replace("’", "'").split())


def _clause_hits(words: list[str], strong: dict[str, Intent]) -> list[tuple[Intent, int]]:
    """(answer, word index) for each answer in a clause, with negation applied."""
    found: list[tuple[Intent, int]] = []
    opening, negated_until = True, -1
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        if word in NEGATORS or word.endswith("n't"):
            negated_until = index + NEGATION_REACH
            continue
        if word in ("and", "so", "but"):  # "I have spoken to her and I am happy to support" opens anew
            opening, negated_until = True, -1
            continue
        intent = strong.get(word) or (WEAK.get(word) if opening else None)
        # "No." / "No - not supported" / "Actually no, reject" refuse; "no audits outstanding" does not.
        if word == "no" and opening and (following is None or following in NO_FOLLOWERS or strong.get(following) is NO):
            intent = NO
        if intent and index <= negated_until:
            # "can't support" refuses; "wouldn't refuse" is no answer either way.
            intent = NO if intent is YES else None
        if intent:
            found.append((intent, index))
        elif word not in OPENERS:
            opening = False
    return found


def _left_over(text: str, tokens: list[tuple[str, int, int]], found: list, end: str) -> str:
    """The clause without its answer words (and "this", "please" around them), or "" if nothing is left."""
    rest = text
    if found:
        first, last = found[0][1], found[-1][1]
        while first > 0 and (tokens[first - 1][0] in OPENERS or tokens[first - 1][0].endswith("n't")):
            first -= 1
        while last + 1 < len(tokens) and tokens[last + 1][0] in TAIL:
            last += 1
        rest = text[:tokens[first][1]] + text[tokens[last][2]:]
    left = [_word(m.group()) for m in TOKEN.finditer(DATE_TEXT.sub(" ", rest))]
    return "" if all(word in FILLER for word in left) else rest.strip() + end
