"""Text from bytes whose declared charset may lie, decoded the way browsers and mail clients do."""
import codecs

# As the WHATWG encoding standard (and every browser) does: clients that say "iso-8859-1" or
# "us-ascii" mostly write windows-1252, whose curly apostrophe (0x92) would otherwise become an
# invisible control character and turn "I can’t approve" into "I can t approve".
WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819",
                       "iso-ir-100", "csisolatin1", "iso_8859-1:1987", "us-ascii", "ascii", "ansi_x3.4-1968",
                       "windows-1252", "cp1252", "x-cp1252"}


def decode_bytes(data: bytes, charset: str) -> str:
    """Decode with the declared charset; if it is unknown or lies, try UTF-8, then windows-1252."""
    # UTF-8 goes before windows-1252 because strict UTF-8 almost never succeeds on other text,
    # while windows-1252 accepts nearly anything and would turn real UTF-8 into mojibake.
    label = charset.strip().lower()
    if label in WINDOWS_1252_LABELS:
        if data.isascii():
            return data.decode("ascii")
        # "us-ascii" with 8-bit bytes is a lie about anything; UTF-8 is the likelier truth.
        if label.endswith("ascii") or label == "ansi_x3.4-1968":
            try:
                return data.decode("utf-8")
            except ValueError:
                pass
        return _windows_1252(data)
    for candidate in (charset, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown name, bytes that do not fit, or a NUL in the name
            continue
    return _windows_1252(data)


def _windows_1252(data: bytes) -> str:
    """windows-1252 as WHATWG defines it: its five unassigned bytes become the C1 controls."""
    return data.decode("cp1252", errors="windows_1252_gaps")


def _c1_for_gaps(error: UnicodeDecodeError) -> tuple[str, int]:
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("windows_1252_gaps", _c1_for_gaps)
