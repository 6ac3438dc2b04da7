"""What a reply by email says itself: quoted text and signatures trimmed for display.

Mail clients append the message they answer (Gmail and Apple: "On <date>, <name> wrote:" and
"> " lines; Outlook: an "-----Original Message-----" or "From: ... Sent: ..." header block and
the original unquoted) and a signature (RFC 3676 §4.3 "-- " delimiter, "Sent from my iPhone").
The comment shows the reply's own words; the raw message stays in the InboundEmail row.

Conservative by rule: quotes that the reply answers inline (own text after them) stay, since the
answer needs its question; and when trimming would leave nothing, the text is kept whole.
"""

import re

# "On Tue, 1 Dec 2026 at 10:00, Alice <alice@example.org> wrote:" (Gmail, Apple, Thunderbird),
# and the German and French forms of it. Gmail wraps long ones over two lines.
ATTRIBUTION = re.compile(
    r"^(On\s.+\swrote|Am\s.+\sschrieb\s.+|Le\s.+\sa\s+écrit\s*)\s*:\s*$", re.IGNORECASE | re.DOTALL
)
# Outlook and others quote the original below a separator, without "> ".
ORIGINAL_MESSAGE = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}"
    r"|_{20,})\s*$",
    re.IGNORECASE,
)
HEADER_FROM = re.compile(r"^\s*\*?(From|Von|De)\s*:\*?\s+\S", re.IGNORECASE)
# "Sent:" is Outlook's own: raw RFC 5322 headers pasted as evidence (From, Date, To) never have it.
HEADER_SENT = re.compile(r"^\s*\*?(Sent|Gesendet|Envoyé)\s*:", re.IGNORECASE)
# Mobile clients' automatic signatures, alone on their line.
DEVICE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \S.{0,40}|Sent from (Mail|Outlook) for \S.{0,30}|Get Outlook for \S.{0,30})"
    r"\s*$",
    re.IGNORECASE,
)


def is_quoted(line):
    return line.lstrip().startswith(">")


def _attribution_at(lines, index):
    """The number of lines (1 or 2) of an attribution starting at `index`, else 0."""
    line = lines[index].strip()
    if not line or is_quoted(line):
        return 0
    if ATTRIBUTION.match(line):
        return 1
    if index + 1 < len(lines) and ATTRIBUTION.match(f"{line} {lines[index + 1].strip()}"):
        return 2
    return 0


def _original_header_at(lines, index):
    """Whether an Outlook-style header block of the original message starts at `index`."""
    if ORIGINAL_MESSAGE.match(lines[index]):
        return True
    if not HEADER_FROM.match(lines[index]):
        return False
    return any(HEADER_SENT.match(line) for line in lines[index + 1 : index + 3])


def _without_original(lines):
    """Cut at the signature delimiter or the original message's header block: what follows is
    the signature and the message answered."""
    for index, line in enumerate(lines):
        if line.rstrip("\r") in {"-- ", "--"} or _original_header_at(lines, index):
            return lines[:index]
    return lines


def _without_attributions(lines):
    """Drop attributions that introduce a quote (a line that only says who wrote what)."""
    kept, index = [], 0
    while index < len(lines):
        size = _attribution_at(lines, index)
        after = [line for line in lines[index + size :] if line.strip()][:1]
        if size and (not after or is_quoted(after[0])):
            index += size
            continue
        kept.append(lines[index])
        index += 1
    return kept


def _without_trailing_quotes(lines):
    """Quoted lines, blank lines and device signatures at the end: nothing answers them."""
    end = len(lines)
    while end and (
        not lines[end - 1].strip()
        or is_quoted(lines[end - 1])
        or DEVICE_SIGNATURE.match(lines[end - 1])
    ):
        end -= 1
    return lines[:end]


def trim(text):
    """The reply's own text: without the quoted message it answers and without a signature.

    Never empty when the message had text of its own: if trimming would leave nothing (a reply
    that is only a quote, or an unusual layout), the original text is returned.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    lines = _without_trailing_quotes(_without_attributions(_without_original(lines)))
    # Leading blank lines are no part of the reply either.
    while lines and not lines[0].strip():
        lines.pop(0)
    trimmed = "\n".join(line.rstrip() for line in lines)
    return trimmed if trimmed.strip() else text
