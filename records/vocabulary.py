"""The closed vocabularies of the clinic records (docs/contracts.md, "Clinic records").

Other parts (actions, console) import these instead of repeating the strings.
"""
from typing import Iterable, Optional

# Each word named once; the tuples below are made of the names.
YES, NO, UNSURE = "yes", "no", "unsure"
NONE_REPORTED, CONTRAINDICATION_REPORTED, DOCTOR_CHECK = "none_reported", "contraindication_reported", "doctor_check"
LIKELY_AGA, RED_FLAG, SEE_DOCTOR, UNCLEAR = "likely_aga", "red_flag", "see_doctor", "unclear"
TRANSPLANT, MESOTHERAPY, GENERAL = "transplant", "mesotherapy", "general"
EMERGENCY_EVENT, COMPLICATION_EVENT, RED_FLAG_EVENT = "emergency", "complication", "red_flag"
ADVICE_DECLINED_EVENT, HANDOFF_EVENT = "medical_advice_declined", "human_handoff"

KEEP_ANSWERS_SLOT = "keep_answers"
"""The slot that is False once a visitor chose not to keep questionnaire answers
(records/private_answers.py)."""

EARLIER_MESSAGES_SLOT = "earlier_messages"
"""The slot in which a conversation loaded as a window (records/tracker_window.py) carries
the visitor's messages before the window: a list of ``{"text", "entities"}`` (each
entity only ``entity``, ``value`` and ``role``), oldest first. The actions read it where
the messages were (actions/common.py ``user_messages_since_session_start``). Never
stored: the tracker store builds it on every read."""

SCREENING_ANSWERS = (YES, NO, UNSURE)
SCREENING_OUTCOMES = (NONE_REPORTED, CONTRAINDICATION_REPORTED, DOCTOR_CHECK)
TRIAGE_OUTCOMES = (LIKELY_AGA, RED_FLAG, SEE_DOCTOR, UNCLEAR)
CONSULTATION_KINDS = (TRANSPLANT, MESOTHERAPY, GENERAL)
CONSULTATION_STATUSES = ("new", "contacted", "booked", "closed")
SAFETY_KINDS = (EMERGENCY_EVENT, COMPLICATION_EVENT, RED_FLAG_EVENT, ADVICE_DECLINED_EVENT, HANDOFF_EVENT)
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
