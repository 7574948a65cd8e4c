"""Redaction of e-mail addresses and phone numbers from conversation events.

Used by the tracker store before events are written, so that contact details live
only in ``consultation_request``. Phone numbers are runs of 7 to 15 digits with the
usual separators (the shapes the consultation form accepts); date shapes such as
2024-05-01 or 01/05/2024 are left alone. Over-redaction of a long number is accepted
on purpose.
"""
import re
from typing import Any

EMAIL_PLACEHOLDER = "[email redacted]"
PHONE_PLACEHOLDER = "[phone redacted]"

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\()?\d[\d\s().\-/]{5,}\d(?![\w@])")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_MIN_DIGITS, _MAX_DIGITS = 7, 15

UNREDACTED_KEYS = frozenset({"event", "timestamp", "message_id", "model_id"})
"""Event fields that are identifiers, never visitor text."""


def _phone(match: "re.Match[str]") -> str:
    candidate = match.group(0)
    if _DATE.fullmatch(candidate.strip("()")):
        return candidate
    digits = sum(ch.isdigit() for ch in candidate)
    return PHONE_PLACEHOLDER if _MIN_DIGITS <= digits <= _MAX_DIGITS else candidate


def redact_text(text: str) -> str:
    """Return ``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    return _PHONE_CANDIDATE.sub(_phone, _EMAIL.sub(EMAIL_PLACEHOLDER, text))


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with every string redacted.

    Dictionary keys and the identifier fields in ``UNREDACTED_KEYS`` are kept as is.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: item if key in UNREDACTED_KEYS else redact(item) for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value
