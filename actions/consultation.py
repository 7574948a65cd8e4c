"""Consultation request: consent first, then name, preferred time and a contact.

Contact details are stored only in the clinic's ``consultation_request`` table,
and only after explicit consent; the conversation log keeps them redacted
(records/tracker_store.py). The contact is the last question, so the request is
stored in the same turn the visitor gives it.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.common import (
    GENERAL,
    LIKELY_AGA,
    MESOTHERAPY,
    NO,
    STOPPED_EMERGENCY,
    STOPPED_FORGET,
    TRANSPLANT,
    YES,
    fill_in,
    clean_free_text,
    contains_phrase,
    is_button_payload,
    latest_entities,
    latest_intent,
    latest_text,
    plain_answer,
    positive_values,
    record,
    say,
    yes_no_unsure,
    store,
)
from actions.forms import GuidedFormValidation, reset_events
from actions.routing import condition_note
from contentfiles.patterns import is_email, is_phone_digits
from records.redaction import find_emails, find_phones

FORM = "consultation_form"
MAX_RETRIES = 2  # a malformed contact is asked again at most twice, then a way out

NAME_PREFIX = re.compile(r"^(my name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me)\s+", re.I)
NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
# Procedures (terminology.yml) that make a request a transplant or a mesotherapy one.
KIND_OF_PROCEDURE = {"hair_transplant": TRANSPLANT, "dhi": TRANSPLANT, "fue": TRANSPLANT, "fut": TRANSPLANT,
                     "mesotherapy": MESOTHERAPY}


def parse_contact(text: str) -> Dict[str, Optional[str]]:
    """{"email": ..., "phone": ...} found in ``text`` (validated by
    ``contentfiles.patterns``), each possibly None."""
    email = next((m for m in find_emails(text) if is_email(m)), None)
    phone = next((digits for _, digits in find_phones(text) if is_phone_digits(digits)), None)
    return {"email": email, "phone": phone}


def parse_name(text: str) -> Optional[str]:
    candidate = clean_free_text(NAME_PREFIX.sub("", (text or "").strip()), 200).strip(" .")
    if not candidate or len(candidate) > 80 or len(candidate.split()) > 6:
        return None
    if plain_answer(candidate) or not NAME.match(candidate):
        return None
    return candidate


def parse_time(text: str) -> Optional[str]:
    """A time window from the words of ``ask_cs_time``'s answers, else the typed text."""
    for label, words in content.typed_answers("cs_time").items():
        if contains_phrase(text, words):
            return label
    cleaned = clean_free_text(text, 100)
    return cleaned if re.search(r"[^\W\d_]{2,}", cleaned) else None


def kind_words() -> Dict[str, List[str]]:
    """Typed words for each consultation kind: the procedure words of terminology.yml
    and the words of ``ask_cs_kind``'s answers in messages.yml (not every "not sure"
    answer: "maybe" in a booking request is not a choice of kind)."""
    words: Dict[str, List[str]] = {TRANSPLANT: [], MESOTHERAPY: [], GENERAL: []}
    for procedure, terms in content.procedure_terms().items():
        if procedure in KIND_OF_PROCEDURE:
            words[KIND_OF_PROCEDURE[procedure]] += terms
    for kind, extra in content.typed_answers("cs_kind").items():
        words[kind] = words.get(kind, []) + extra
    return words


def kind_from(text: str, entities: List[Dict[str, Any]]) -> Optional[str]:
    named = {KIND_OF_PROCEDURE[p] for p in positive_values(entities, "procedure") if p in KIND_OF_PROCEDURE}
    for kind in (TRANSPLANT, MESOTHERAPY):  # "DHI or mesotherapy?": the transplant
        if kind in named:
            return kind
    for kind, words in kind_words().items():
        if contains_phrase(text, words):
            return kind
    return None


class ValidateConsultationForm(GuidedFormValidation):
    answers_have_hint = False
    form_name = FORM

    def name(self) -> Text:
        return "validate_consultation_form"
    free_text_slots = {"cs_name", "cs_time", "cs_contact"}

    def wants_to_stop(self, tracker: Tracker) -> bool:
        # "no, I'd rather not give my details" at the consent question declines consent:
        # that is the answer to the question, not a request to stop.
        if tracker.get_slot("requested_slot") == "cs_consent" and plain_answer(latest_text(tracker)) == NO:
            return False
        return super().wants_to_stop(tracker)

    def unclear_value(self, requested):
        # Consent is never assumed: unclear twice means no (nothing is stored).
        return {"cs_kind": GENERAL, "cs_consent": NO}.get(requested)

    def unclear_message(self, requested):
        return "consent_taken_as_no" if requested == "cs_consent" else super().unclear_message(requested)

    async def on_start(self, dispatcher, tracker):
        """A contraindication mentioned with the booking request is acknowledged first."""
        condition_note(dispatcher, tracker, key="booking_condition_note")

    def prefill(self, tracker, domain):
        text = "" if is_button_payload(latest_text(tracker)) else latest_text(tracker)
        kind = kind_from(text, latest_entities(tracker))
        if not kind and tracker.get_slot("triage_outcome") == LIKELY_AGA:
            kind = TRANSPLANT
        elif not kind and tracker.get_slot("screening_outcome"):
            kind = MESOTHERAPY
        return {"cs_kind": kind} if kind else {}

    async def reject(self, dispatcher, tracker, requested):
        text = latest_text(tracker)
        if requested == "cs_name" and not parse_name(text):
            return await self._retry(dispatcher, tracker, "invalid_name")
        if requested == "cs_contact":
            found = parse_contact(text)
            if not (found["email"] or found["phone"]):
                return await self._retry(dispatcher, tracker, "invalid_contact")
        return None

    async def _retry(self, dispatcher, tracker, response) -> List[Dict[Text, Any]]:
        attempts = int(tracker.get_slot("contact_attempts") or 0) + 1
        if attempts > MAX_RETRIES:
            return self.stop("contact_failed")
        say(dispatcher, response)
        return [SlotSet("contact_attempts", float(attempts))]

    def extract(self, tracker, requested, domain):
        text = latest_text(tracker)
        if requested == "cs_kind":
            kind = GENERAL if latest_intent(tracker) == "dont_know" else kind_from(text, latest_entities(tracker))
            return {"cs_kind": kind} if kind else {}
        if requested == "cs_consent":
            answer = yes_no_unsure(tracker)
            return {"cs_consent": answer} if answer in (YES, NO) else {}
        if requested == "cs_name":
            return {"cs_name": parse_name(text), "contact_attempts": None}
        if requested == "cs_time":
            return {"cs_time": parse_time(text)}
        if requested == "cs_contact":
            found = parse_contact(text)
            return {"cs_contact": found["email"] or found["phone"]}
        return {}

    def _empty(self, tracker, domain, values):
        kept = super()._empty(tracker, domain, values)
        if "contact_attempts" in values:
            kept["contact_attempts"] = None
        return kept

    async def validate_turn(self, dispatcher, tracker, domain):
        if tracker.get_slot("requested_slot") in ("cs_name", "cs_time", "cs_contact") and _WITHDRAWN.search(
                latest_text(tracker)):
            # "actually i changed my mind, i dont want to give my details" after agreeing:
            # the consent is withdrawn; nothing is stored and the clinic's own contacts given
            return self.stop("no_consent")
        events = await super().validate_turn(dispatcher, tracker, domain)
        if any(e.get("name") == "cs_consent" and e.get("value") == NO for e in events):
            return self.stop("no_consent")
        return events


# Consent withdrawn after it was given, in the visitor's words.
_WITHDRAWN = re.compile(r"\b(changed my mind|change of mind|don'?t want to (give|share|leave)|do not want to (give|share|leave)|"
                        r"(would|i'?d) rather not (give|share|leave)|not comfortable (giving|sharing)|"
                        r"withdraw (my )?consent|no longer (agree|consent)|i don'?t agree (any ?more|after all)|"
                        r"don'?t want (you|u) (storing|to store|keeping|to keep)|do not want (you|u) (storing|to store)|"
                        r"don'?t (store|keep|save) my)\b", re.IGNORECASE)


class ActionConsultationSubmit(Action):
    """Stores the consented request (one per conversation) and says what happens next."""

    def name(self) -> Text:
        return "action_consultation_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        clinic = content.clinic_slots()
        stopped = tracker.get_slot("flow_stopped")
        if stopped:
            response = {
                "no_consent": "consult_no_consent",
                "contact_failed": "contact_way_out",
            }.get(stopped, "consult_stopped")
            if stopped not in (STOPPED_EMERGENCY, STOPPED_FORGET):
                say(dispatcher, response)
            return reset_events(domain, FORM)
        contact = parse_contact(tracker.get_slot("cs_contact") or "")
        kind = tracker.get_slot("cs_kind") or GENERAL
        time_window = tracker.get_slot("cs_time") or content.messages()["ask_cs_time"]["default"]
        reason = tracker.get_slot("triage_outcome") or tracker.get_slot("screening_outcome")
        saved = await record(
            store().save_consultation,
            tracker.sender_id,
            kind,
            tracker.get_slot("cs_name"),
            contact["email"],
            contact["phone"],
            time_window,
            reason,
        )
        response = "consult_confirm" if saved is not None else "consult_queued"
        say(
            dispatcher,
            response,
            kind=fill_in("consultation_kinds")[kind],
            contact=contact["email"] or contact["phone"],
            time=time_window,
            **clinic,
        )
        return reset_events(domain, FORM)
