"""Finding and redacting e-mail addresses, phone numbers and card numbers.

The one place that knows what a contact detail looks like in free text: the
consultation form reads contacts with ``find_emails`` / ``find_phones`` and the
tracker store redacts them from conversation events with ``redact``, so contact
details live only in ``consultation_request``.

What is found:

- e-mail addresses, also spelled out ("jane at example dot com", "jane (at) example
  (dot) com", "jane.doe at example.com") and in full-width or other compatibility
  characters (the text is NFKC-normalised before matching);
- phone numbers: runs of 7 to 15 digits with the usual separators, with an
  extension ("ext. 12", "x12"); numbers run together ("07700 900123 07700 900456")
  are split into numbers of at most 15 digits, and every digit of such a run is
  redacted; date shapes such as 2024-05-01 or 01/05/2024 are left alone;
- card numbers: 13 to 19 digits, with or without spaces or dashes, that pass the
  Luhn check.

Over-redaction of a long number is accepted on purpose. The clinic's own published
phone and e-mail (``keep``) stay readable in the log.

Every pattern runs in time linear in the text's length, whatever the text: each
starts with a negative look-behind so that a scan starts only at the beginning of
a run of the characters it consumes, no unbounded repeat sits inside another one,
and everything else (splitting runs, dates, Luhn, extensions) is plain Python over
the match. ``tests/records/test_redaction.py`` checks these rules on the compiled
patterns; ``bench/run.py`` reports the speed on adversarial input.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Collection, Dict, Iterator, List, Optional, Set, Tuple

from contentfiles.patterns import (
    BARE_AT,
    CARD_MAX_DIGITS,
    CARD_MIN_DIGITS,
    DATE_SHAPE,
    DIGIT_GROUP,
    DIGIT_RUN,
    EMAIL_IN_TEXT,
    EXTENSION,
    MAX_PHONE_DIGITS,
    MIN_PHONE_DIGITS,
    SPELLED_AT_SPLIT,
    SPELLED_DOT,
    SPELLED_DOT_SPLIT,
    SPELLED_EMAIL,
)

EMAIL_PLACEHOLDER = "[email redacted]"
PHONE_PLACEHOLDER = "[phone redacted]"
CARD_PLACEHOLDER = "[card number redacted]"
CONTACT_ANSWER_PLACEHOLDER = "[contact details redacted]"
"""Replaces a whole visitor message typed at the contact question, whatever its shape
(e.g. "anna at example dot com" or a number with too few digits)."""

# The patterns themselves are in contentfiles/patterns.py, with the strict rules of a
# usable contact detail (one module of contact patterns).
MIN_DIGITS, MAX_DIGITS = MIN_PHONE_DIGITS, MAX_PHONE_DIGITS

MAIL_PROVIDERS = frozenset({
    "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "icloud", "me", "mac", "aol",
    "protonmail", "proton", "gmx", "web", "mail", "btinternet", "sky", "virginmedia", "talktalk", "zoho",
    "yandex", "orange", "free", "laposte", "wanadoo", "libero", "t-online",
})
"""Domains for which "jane at gmail.com" (a bare "at" with real dots) counts as an
address; for other domains a bare "at" needs a spelled "dot" or a local part that
does not look like a word ("jane.doe at example.com"), so that "I read it at
example.com" stays readable."""

UNREDACTED_KEYS = frozenset({"event", "timestamp", "message_id", "model_id"})
"""Event fields that are identifiers, never visitor text."""

_ANY_DIGIT = re.compile(r"\d")


def _ascii_digit(match: "re.Match[str]") -> str:
    return str(unicodedata.decimal(match.group(0), 0))


def normalise(text: str) -> str:
    """``text`` in NFKC with every decimal digit as an ASCII digit (ASCII text as is):
    full-width "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ" and "０７７００" become plain."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return text if text.isascii() else _ANY_DIGIT.sub(_ascii_digit, text)


# --- phones and cards -------------------------------------------------------------------

def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_date(candidate: str) -> bool:
    return DATE_SHAPE.fullmatch(candidate.strip("()")) is not None


def phone_digits(candidate: str) -> str:
    """The number in ``candidate`` as digits (with a leading + if written), or "" when
    it is not a phone number (a date, too few or too many digits)."""
    if _is_date(candidate):
        return ""
    digits = re.sub(r"[^0-9]", "", normalise(candidate))
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return ""
    return ("+" if candidate.lstrip().startswith("+") else "") + digits


def is_card_number(candidate: str) -> bool:
    """13 to 19 digits (spaces and dashes allowed), not written like a phone number
    (+, a bracket, a leading 0), that pass the Luhn check."""
    stripped = candidate.strip()
    if not stripped or stripped[0] in "+(0":
        return False
    if re.search(r"[^0-9 \-]", stripped):
        return False
    digits = stripped.replace(" ", "").replace("-", "")
    return CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and _luhn(digits)


def _split_run(run: str) -> List[Tuple[int, int]]:
    """(start, end) in ``run`` of the numbers it holds: consecutive digit groups up to
    MAX_DIGITS digits each; a remainder too short to be a number joins the one before."""
    chunks: List[List[int]] = []  # [start, end, digits]
    for group in DIGIT_GROUP.finditer(run):
        size = group.end() - group.start()
        if chunks and chunks[-1][2] + size <= MAX_DIGITS:
            chunks[-1][1] = group.end()
            chunks[-1][2] += size
        else:
            chunks.append([group.start(), group.end(), size])
    merged: List[List[int]] = []
    for chunk in chunks:
        if merged and chunk[2] < MIN_DIGITS:
            merged[-1][1] = chunk[1]
            merged[-1][2] += chunk[2]
        else:
            merged.append(chunk)
    if len(merged) > 1 and merged[0][2] < MIN_DIGITS:  # a short head joins the next
        merged[1][0] = merged[0][0]
        merged[1][2] += merged[0][2]
        del merged[0]
    if merged and run[0] in "+(":
        merged[0][0] = 0
    return [(start, end) for start, end, _ in merged]


class _Number:
    """One number found in text: where it is, what it is."""

    __slots__ = ("start", "end", "kind", "digits")

    def __init__(self, start: int, end: int, kind: str, digits: str) -> None:
        self.start, self.end, self.kind, self.digits = start, end, kind, digits


def _numbers(text: str) -> Iterator[_Number]:
    """Phone and card numbers in (normalised) ``text``, in order, not overlapping."""
    for match in DIGIT_RUN.finditer(text):
        start, end = match.span()
        run = match.group(0)
        extension = EXTENSION.match(text, end)
        if extension:
            end = extension.end()
        following = text[end:end + 1]
        if following and (following == "@" or following.isalnum() or following == "_"):
            continue  # part of an identifier or an address, not a number on its own
        digit_count = sum(1 for char in run if char.isdigit())
        if digit_count < MIN_DIGITS or _is_date(run):
            continue
        if is_card_number(run):
            yield _Number(start, end, "card", re.sub(r"[^0-9]", "", run))
            continue
        pieces = _split_run(run)
        for index, (piece_start, piece_end) in enumerate(pieces):
            piece = run[piece_start:piece_end]
            digits = re.sub(r"[^0-9]", "", piece)
            last = index == len(pieces) - 1
            yield _Number(
                start + piece_start,
                end if last else start + piece_end,
                "phone",
                ("+" if piece.startswith("+") else "") + digits,
            )


# --- e-mail addresses --------------------------------------------------------------------

def _spelled_email(candidate: str) -> Optional[str]:
    """The address ``candidate`` spells ("jane@example.com"), or None when it is not one."""
    parts = SPELLED_AT_SPLIT.split(candidate, maxsplit=1)
    if len(parts) != 2:
        return None
    local, domain = parts
    local = ".".join(SPELLED_DOT_SPLIT.split(local))
    labels = SPELLED_DOT_SPLIT.split(domain)
    if len(labels) < 2 or not all(labels) or not labels[-1].isalpha() or not 2 <= len(labels[-1]) <= 24:
        return None
    if BARE_AT.match(candidate) and not SPELLED_DOT.search(candidate):
        looks_like_word = local.isalpha()
        if looks_like_word and labels[0].lower() not in MAIL_PROVIDERS:
            return None
    address = f"{local}@{'.'.join(labels)}".lower()
    return address


# --- public functions -------------------------------------------------------------------------

def find_emails(text: str) -> List[str]:
    """E-mail-shaped strings in ``text`` (after normalisation), in order (not validated)."""
    return EMAIL_IN_TEXT.findall(normalise(text or ""))


def find_phones(text: str) -> List[Tuple[str, str]]:
    """(as written, digits) for each phone number in ``text``, in order. As written is
    the normalised text; the digits carry a leading + when the number had one."""
    text = normalise(text or "")
    found = []
    for number in _numbers(text):
        if number.kind == "phone" and MIN_DIGITS <= len(number.digits.lstrip("+")) <= MAX_DIGITS:
            found.append((text[number.start:number.end].strip(), number.digits))
    return found


def _comparable(value: str) -> str:
    value = normalise(value)
    return value.lower() if "@" in value else re.sub(r"[^0-9]", "", value)


def _replace(text: str, spans: List[Tuple[int, int, str]]) -> str:
    pieces, position = [], 0
    for start, end, replacement in spans:
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _redact_normalised(text: str, kept: Set[str]) -> str:
    def email(match: "re.Match[str]") -> str:
        return match.group(0) if match.group(0).lower() in kept else EMAIL_PLACEHOLDER

    def spelled(match: "re.Match[str]") -> str:
        candidate = match.group(0)
        if "@" in candidate and " " not in candidate and "\t" not in candidate:
            return candidate  # an ordinary address: EMAIL_IN_TEXT has had its say
        address = _spelled_email(candidate)
        if address is None or address in kept:
            return candidate
        return EMAIL_PLACEHOLDER

    text = EMAIL_IN_TEXT.sub(email, text)
    if "at" in text.lower() or "@" in text:
        text = SPELLED_EMAIL.sub(spelled, text)
    spans = []
    for number in _numbers(text):
        if number.kind == "phone" and number.digits.lstrip("+") in kept:
            continue
        spans.append((number.start, number.end, CARD_PLACEHOLDER if number.kind == "card" else PHONE_PLACEHOLDER))
    return _replace(text, spans) if spans else text


def redact_text(text: str, keep: Collection[str] = ()) -> str:
    """Return ``text`` with e-mail addresses, phone and card numbers replaced by
    placeholders; values in ``keep`` (the clinic's own published contacts) are left as
    they are. Text with nothing to redact comes back unchanged (not normalised)."""
    kept = {_comparable(k) for k in keep if k}
    normalised = normalise(text)
    redacted = _redact_normalised(normalised, kept)
    return text if redacted == normalised else redacted


def redact(value: Any, keep: Collection[str] = ()) -> Any:
    """Return a copy of a JSON-like value with every string redacted.

    Dictionary keys and the identifier fields in ``UNREDACTED_KEYS`` are kept as is.
    """
    if isinstance(value, str):
        return redact_text(value, keep)
    if isinstance(value, dict):
        return {
            key: item if key in UNREDACTED_KEYS else redact(item, keep)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item, keep) for item in value]
    return value


PATTERNS: Dict[str, "re.Pattern[str]"] = {
    "EMAIL_IN_TEXT": EMAIL_IN_TEXT,
    "SPELLED_EMAIL": SPELLED_EMAIL,
    "DIGIT_RUN": DIGIT_RUN,
}
"""The patterns that scan whole texts (the linear-time rules are tested on these)."""
