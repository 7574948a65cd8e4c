"""Finding and redacting e-mail addresses and phone numbers.

The one place that knows what a contact detail looks like in free text: the
consultation form reads contacts with ``find_emails`` / ``find_phones`` and the
tracker store redacts them from conversation events with ``redact``, so contact
details live only in ``consultation_request``.

Phone numbers are runs of 7 to 15 digits with the usual separators; date shapes
such as 2024-05-01 or 01/05/2024 are left alone. Over-redaction of a long number is
accepted on purpose. The clinic's own published phone and e-mail (``keep``) stay
readable in the log.
"""
import re
from typing import Any, Collection, List, Tuple

EMAIL_PLACEHOLDER = "[email redacted]"
PHONE_PLACEHOLDER = "[phone redacted]"
CONTACT_ANSWER_PLACEHOLDER = "[contact details redacted]"
"""Replaces a whole visitor message typed at the contact question, whatever its shape
(e.g. "anna at example dot com" or a number with too few digits)."""

EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d\s().\-/]{5,}\d(?![\w@])")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
MIN_DIGITS, MAX_DIGITS = 7, 15

UNREDACTED_KEYS = frozenset({"event", "timestamp", "message_id", "model_id"})
"""Event fields that are identifiers, never visitor text."""


def phone_digits(candidate: str) -> str:
    """The number in ``candidate`` as digits (with a leading + if written), or "" when
    it is not a phone number (a date, too few or too many digits)."""
    if _DATE.fullmatch(candidate.strip("()")):
        return ""
    digits = re.sub(r"\D", "", candidate)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return ""
    return ("+" if candidate.lstrip().startswith("+") else "") + digits


def find_emails(text: str) -> List[str]:
    """E-mail-shaped strings in ``text``, in order (not validated)."""
    return EMAIL_IN_TEXT.findall(text or "")


def find_phones(text: str) -> List[Tuple[str, str]]:
    """(as written, digits) for each phone number in ``text``, in order."""
    found = []
    for match in PHONE_IN_TEXT.finditer(text or ""):
        digits = phone_digits(match.group(0))
        if digits:
            found.append((match.group(0), digits))
    return found


def _comparable(value: str) -> str:
    return value.lower() if "@" in value else re.sub(r"\D", "", value)


def redact_text(text: str, keep: Collection[str] = ()) -> str:
    """Return ``text`` with e-mail addresses and phone numbers replaced by placeholders;
    values in ``keep`` (the clinic's own published contacts) are left as they are."""
    kept = {_comparable(k) for k in keep if k}

    def email(match: "re.Match[str]") -> str:
        return match.group(0) if _comparable(match.group(0)) in kept else EMAIL_PLACEHOLDER

    def phone(match: "re.Match[str]") -> str:
        digits = phone_digits(match.group(0))
        if not digits or _comparable(digits) in kept:
            return match.group(0)
        return PHONE_PLACEHOLDER

    return PHONE_IN_TEXT.sub(phone, EMAIL_IN_TEXT.sub(email, text))


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
