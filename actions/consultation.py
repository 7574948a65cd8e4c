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
    NO,
    YES,
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
from actions.forms import GuidedFormValidation, question_actions, reset_events
from actions.routing import condition_note
from records.redaction import find_emails, find_phones

FORM = "consultation_form"
SLOTS = ["cs_kind", "cs_consent", "cs_name", "cs_time", "cs_contact"]
MAX_RETRIES = 2  # a malformed contact is asked again at most twice, then a way out

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}$")
NAME_PREFIX = re.compile(r"^(my name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me)\s+", re.I)
NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
TIME_WORDS = {
    "mornings": ["morning", "mornings", "am", "before noon", "early"],
    "afternoons": ["afternoon", "afternoons", "lunchtime", "midday", "pm"],
    "evenings": ["evening", "evenings", "after work", "tonight", "after 6", "after six"],
    "any time": ["any time", "anytime", "whenever", "any", "doesn't matter", "dont mind", "don't mind", "flexible"],
}
KIND_WORDS = {
    "transplant": ["transplant", "dhi", "fue", "fut", "hair transplant", "implant", "hair restoration", "surgery"],
    "mesotherapy": ["mesotherapy", "meso", "injections"],
    "general": ["general", "not sure", "don't know", "dont know", "either", "other", "both", "no idea", "unsure"],
}


def parse_contact(text: str) -> Dict[str, Optional[str]]:
    """{"email": ..., "phone": ...} found in ``text`` (validated), each possibly None."""
    email = next((m for m in find_emails(text) if EMAIL.match(m)), None)
    phone = next((digits for _, digits in find_phones(text)), None)
    return {"email": email, "phone": phone}


def parse_name(text: str) -> Optional[str]:
    candidate = clean_free_text(NAME_PREFIX.sub("", (text or "").strip()), 200).strip(" .")
    if not candidate or len(candidate) > 80 or len(candidate.split()) > 6:
        return None
    if plain_answer(candidate) or not NAME.match(candidate):
        return None
    return candidate


def parse_time(text: str) -> Optional[str]:
    for label, words in TIME_WORDS.items():
        if contains_phrase(text, words):
            return label
    cleaned = clean_free_text(text, 100)
    return cleaned if re.search(r"[^\W\d_]{2,}", cleaned) else None


def kind_from(text: str, entities: List[Dict[str, Any]]) -> Optional[str]:
    procedures = set(positive_values(entities, "procedure"))
    if procedures & {"hair_transplant", "dhi", "fue", "fut"}:
        return "transplant"
    if "mesotherapy" in procedures:
        return "mesotherapy"
    for kind, words in KIND_WORDS.items():
        if contains_phrase(text, words):
            return kind
    return None


class ValidateConsultationForm(GuidedFormValidation):
    form_name = FORM
    free_text_slots = {"cs_name", "cs_time", "cs_contact"}

    def wants_to_stop(self, tracker: Tracker) -> bool:
        # "no, I'd rather not give my details" at the consent question declines consent:
        # that is the answer to the question, not a request to stop.
        if tracker.get_slot("requested_slot") == "cs_consent" and plain_answer(latest_text(tracker)) == NO:
            return False
        return super().wants_to_stop(tracker)

    def unclear_value(self, requested):
        # Consent is never assumed: unclear twice means no (nothing is stored).
        return {"cs_kind": "general", "cs_consent": NO}.get(requested)

    def unclear_message(self, requested):
        return "consent_taken_as_no" if requested == "cs_consent" else super().unclear_message(requested)

    async def on_start(self, dispatcher, tracker):
        """A contraindication mentioned with the booking request is acknowledged first."""
        condition_note(dispatcher, tracker, key="booking_condition_note")

    def prefill(self, tracker, domain):
        text = "" if is_button_payload(latest_text(tracker)) else latest_text(tracker)
        kind = kind_from(text, latest_entities(tracker))
        if not kind and tracker.get_slot("triage_outcome") == "likely_aga":
            kind = "transplant"
        elif not kind and tracker.get_slot("screening_outcome"):
            kind = "mesotherapy"
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
            kind = "general" if latest_intent(tracker) == "dont_know" else kind_from(text, latest_entities(tracker))
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

    async def run(self, dispatcher, tracker, domain):
        events = await super().run(dispatcher, tracker, domain)
        if any(e.get("name") == "cs_consent" and e.get("value") == NO for e in events):
            return self.stop("no_consent")
        return events


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
            if stopped != "emergency":
                say(dispatcher, response)
            return reset_events(domain, FORM)
        contact = parse_contact(tracker.get_slot("cs_contact") or "")
        kind = tracker.get_slot("cs_kind") or "general"
        reason = tracker.get_slot("triage_outcome") or tracker.get_slot("screening_outcome")
        saved = await record(
            store().save_consultation,
            tracker.sender_id,
            kind,
            tracker.get_slot("cs_name"),
            contact["email"],
            contact["phone"],
            tracker.get_slot("cs_time") or "any time",
            reason,
        )
        kind_words = {"transplant": "hair-transplant", "mesotherapy": "mesotherapy", "general": "hair"}[kind]
        response = "consult_confirm" if saved is not None else "consult_queued"
        say(
            dispatcher,
            response,
            kind=kind_words,
            contact=contact["email"] or contact["phone"],
            time=tracker.get_slot("cs_time") or "any time",
            **clinic,
        )
        return reset_events(domain, FORM)


QUESTIONS = question_actions(SLOTS)
