"""What a valid contact detail looks like: the strict e-mail and phone rules.

One module for the patterns that decide whether a visitor gave a usable e-mail
address or phone number. The consultation form (``actions/consultation.py``) accepts
a contact only when it passes these rules; ``records/redaction.py`` finds contact
details in free text with broader patterns (spelled-out, full-width, run together)
and can take the shared pieces (the local-part characters, the digit bounds) from
here. Plain ``re`` only: importable by the action server and by Rasa's process
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


def is_email(text: Optional[str]) -> bool:
    """Whether ``text`` as a whole is a usable e-mail address."""
    return bool(text) and EMAIL.match(text) is not None


def is_phone_digits(digits: Optional[str]) -> bool:
    """Whether ``digits`` (digits with an optional leading "+") are a usable phone number."""
    return bool(digits) and PHONE_DIGITS.match(digits) is not None
