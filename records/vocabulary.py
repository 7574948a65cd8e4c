"""The closed vocabularies of the clinic records (docs/contracts.md, "Clinic records").

Other parts (actions, console) import these instead of repeating the strings.
"""
from typing import Iterable, Optional

SCREENING_ANSWERS = ("yes", "no", "unsure")
SCREENING_OUTCOMES = ("none_reported", "contraindication_reported", "doctor_check")
TRIAGE_OUTCOMES = ("likely_aga", "red_flag", "see_doctor", "unclear")
CONSULTATION_KINDS = ("transplant", "mesotherapy", "general")
CONSULTATION_STATUSES = ("new", "contacted", "booked", "closed")
SAFETY_KINDS = (
    "emergency",
    "complication",
    "red_flag",
    "medical_advice_declined",
    "human_handoff",
)
STAFF_ROLES = ("reviewer", "admin")


def check_choice(field: str, value: Optional[str], allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``.

    The message names the field and the allowed values, never the rejected value's
    surrounding record (which may hold personal data).
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(allowed)}; got {value!r}")
    return value
