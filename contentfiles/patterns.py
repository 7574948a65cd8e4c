"""What a valid contact detail looks like: the strict e-mail and phone rules.

One module for every contact-detail pattern: the strict rules that decide whether a
visitor gave a usable e-mail address or phone number (the consultation form,
``actions/consultation.py``, accepts a contact only when it passes them), and the
broader in-text patterns (spelled-out, run together, with an extension, card numbers)
with which ``records/redaction.py`` finds contact details in free text. The redaction
keeps the logic (splitting runs, dates, Luhn) and documents why each pattern is
linear-time; the shared pieces (local-part characters, digit bounds) are written once. Plain ``re`` only: importable by the action server and by Rasa's process
(the tracker store) without rasa_sdk or the actions package.
"""
from __future__ import annotations

import re
from typing import Optional

EMAIL_LOCAL_CHARS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]"
"""The characters of an e-mail address's local part (before the "@")."""

EMAIL = re.compile(
    rf"^{EMAIL_LOCAL_CHARS}+@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{{1,63}})*\.[A-Za-z]{{2,24}}$"
)
"""A whole string that is a usable e-mail address: a local part, "@", a domain whose
labels start and end with a letter or digit, and a top-level domain of letters."""

MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
"""A phone number has 7 to 15 digits (E.164 allows at most 15), a leading "+" aside."""

PHONE_DIGITS = re.compile(rf"^\+?[0-9]{{{MIN_PHONE_DIGITS},{MAX_PHONE_DIGITS}}}$")
"""A phone number written as digits only, with an optional leading "+"."""

CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19
"""A payment card number has 13 to 19 digits."""

# --- contact details inside free text (records/redaction.py) -----------------------------

_LOCAL = EMAIL_LOCAL_CHARS
EMAIL_IN_TEXT = re.compile(
    rf"(?<!{_LOCAL}){_LOCAL}+@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}})+"
)
"""A written e-mail address (not validated). Starts only where a run of local-part
characters starts, so text without "@" costs one pass."""

_AT = r"(?:[ \t]{0,3}@[ \t]{0,3}|[ \t]{0,3}[(\[{<][ \t]{0,2}at[ \t]{0,2}[)\]}>][ \t]{0,3}|[ \t]{1,3}at[ \t]{1,3})"
_DOT = r"(?:[ \t]{0,3}\.[ \t]{0,3}|[ \t]{0,3}[(\[{<][ \t]{0,2}dot[ \t]{0,2}[)\]}>][ \t]{0,3}|[ \t]{1,3}dot[ \t]{1,3})"
_WORD_DOT = r"(?:[ \t]{0,3}[(\[{<][ \t]{0,2}dot[ \t]{0,2}[)\]}>][ \t]{0,3}|[ \t]{1,3}dot[ \t]{1,3})"
SPELLED_EMAIL = re.compile(
    rf"(?<![\w.%+-])[\w.%+-]{{1,64}}(?:{_WORD_DOT}[\w.%+-]{{1,64}}){{0,3}}{_AT}"
    rf"[A-Za-z0-9-]{{1,63}}(?:{_DOT}[A-Za-z0-9-]{{1,63}}){{1,4}}",
    re.IGNORECASE | re.ASCII,
)
"""An e-mail address with "at"/"dot" in words or brackets, or with spaces around
"@" and "."; the local part may be spelled too ("jane dot doe at ..."): there a dot
must be a word or bracketed, so the local part splits into words only one way.
Which candidates count is decided in ``_spelled_email``."""

DIGIT_RUN = re.compile(r"(?<![\w+])[+(]?[0-9](?:[ \t\u00a0().\-/]{1,4}[0-9]|[0-9])*")
"""A maximal run of digit groups with phone separators between them. Always matches
once started, so the scan never goes back over the text."""

EXTENSION = re.compile(r"[ \t]{0,3},?[ \t]{0,3}(?:extension|ext\.?|x|#)[ \t]{0,3}[0-9]{1,6}", re.IGNORECASE)
DIGIT_GROUP = re.compile(r"[0-9]+")
DATE_SHAPE = re.compile(r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}")
BARE_AT = re.compile(r"^[\w.%+-]+[ \t]+at[ \t]", re.IGNORECASE | re.ASCII)
SPELLED_DOT = re.compile(r"[ \t]dot[ \t]|[(\[{<][ \t]*dot", re.IGNORECASE)
SPELLED_AT_SPLIT = re.compile(r"[ \t]*(?:@|[(\[{<][ \t]*at[ \t]*[)\]}>]|[ \t]at[ \t])[ \t]*", re.IGNORECASE)
SPELLED_DOT_SPLIT = re.compile(r"[ \t]*(?:\.|[(\[{<][ \t]*dot[ \t]*[)\]}>]|[ \t]dot[ \t])[ \t]*", re.IGNORECASE)


def is_email(text: Optional[str]) -> bool:
    """Whether ``text`` as a whole is a usable e-mail address."""
    return bool(text) and EMAIL.match(text) is not None


def is_phone_digits(digits: Optional[str]) -> bool:
    """Whether ``digits`` (digits with an optional leading "+") are a usable phone number."""
    return bool(digits) and PHONE_DIGITS.match(digits) is not None
