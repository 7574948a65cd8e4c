"""Hair-loss triage: a few questions that separate pattern hair loss from causes
that need a doctor. The decision rules are in ``triage_outcome`` (medical logic,
kept in code with tests); the words visitors use are in data/content/triage.yml."""
from __future__ import annotations

import re

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from components import signals as sig
from actions.common import (
    LIKELY_AGA,
    RED_FLAG,
    RED_FLAG_EVENT,
    SEE_DOCTOR,
    STOPPED_EMERGENCY,
    STOPPED_FORGET,
    STOPPED_RED_FLAG,
    UNCLEAR,
    UNSURE,
    YES,
    answers_kept,
    fill_in,
    join_words,
    contains_phrase,
    is_button_payload,
    latest_entities,
    latest_intent,
    latest_text,
    positive_values,
    record,
    say,
    user_messages_since_session_start,
    yes_no_unsure,
    store,
)
from actions.forms import GuidedFormValidation, offer_not_keeping, reset_events
from actions.routing import condition_note

FORM = "triage_form"
SKIPPED = "skipped"
AGA_PATTERNS = {"temples_crown", "top_thinning", "aga_typical"}
YES_NO_SLOTS = ["tr_patches", "tr_scalp", "tr_trigger", "tr_deficiency", "tr_family"]
# Topics a visitor may already have named that answer a question of the triage
# ("after giving birth" -> a recent trigger; "low iron" -> a known deficiency).
TRIGGER_TOPICS = {"postpartum", "after_illness", "stress", "crash_diet"}
DEFICIENCY_TOPICS = {"iron_deficiency", "thyroid", "pcos"}


def _keyword(text: str, table: Dict[str, List[str]], order: List[str]) -> Optional[str]:
    for key in order:
        if contains_phrase(text, table.get(key, [])):
            return key
    return None


def negation_words() -> List[str]:
    """Words that keep the family, trigger and deficiency words of a message from
    counting ("nobody in my family"): the terminology's negation cues."""
    return content.negation_cues()


def _without_phrases(text: str, phrases: List[str]) -> str:
    """``text`` with every whole-word occurrence of ``phrases`` (any case) left out."""
    for phrase in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", text, flags=re.IGNORECASE)
    return text


def _from_text(text: str, entities: Optional[List[Dict[str, Any]]] = None) -> Dict[str, str]:
    """Answers that typed words give, whatever question was asked (``entities``: the
    message's, to pass over patches told as over long ago)."""
    words = content.triage_words()
    values: Dict[str, str] = {}
    negated = contains_phrase(text, negation_words())
    # "on HRT patches now": another thing's word, not where the hair goes
    pattern_text = _without_phrases(text, words.get("not_pattern") or [])
    pattern = _keyword(pattern_text, words["pattern"], ["patches", "temples_crown", "top_thinning", "diffuse"])
    # "no bald patches, it thins on top"; "a bald patch as a kid that grew back, 30 years ago"
    if pattern == "patches" and (negated or sig.resolved_long_ago(entities or [], "patchy_loss", text)):
        pattern = _keyword(pattern_text, words["pattern"], ["temples_crown", "top_thinning", "diffuse"])
    if pattern:
        values["tr_pattern"] = pattern
    onset = _keyword(text, words["onset"], ["sudden", "gradual"])
    if onset:
        values["tr_onset"] = onset
    # each clause on its own: "no, but my dad went bald at 30" denies the question asked
    # and tells a family history
    for clause in _CLAUSES.split(text):
        if contains_phrase(clause, negation_words()):
            continue
        family = words["family"]
        if contains_phrase(clause, family["yes"]) or (
                contains_phrase(clause, family["relatives"]) and contains_phrase(clause, family["with"])):
            values["tr_family"] = YES
        if contains_phrase(clause, words["trigger"]["yes"]):
            values["tr_trigger"] = YES
        if contains_phrase(clause, words["deficiency"]["yes"]):
            values["tr_deficiency"] = YES
    return values


_CLAUSES = re.compile(r"[,;.!?]|\bbut\b|\bthough\b|\bhowever\b", re.IGNORECASE)


def _current(entities: List[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
    """``entities`` without the red-flag signs told as over long ago ("a bald patch as a kid
    that grew back"): they are no answer about the hair loss now."""
    return [e for e in entities if not (e.get("entity") == sig.RED_FLAG_ENTITY
                                        and sig.resolved_long_ago(entities, e.get("value"), text))]


def typed_answers(text: str) -> Dict[str, str]:
    """The answers to the hair-loss questions that typed words give ("all over",
    "suddenly", "my dad too")."""
    return _from_text(text)


def _from_entities(entities: List[Dict[str, Any]]) -> Dict[str, str]:
    problems = positive_values(entities, "hair_problem")
    flags = set(positive_values(entities, "red_flag"))
    values: Dict[str, str] = {}
    if "patchy_loss" in flags:
        values.update(tr_pattern="patches", tr_patches=YES)
    elif "androgenetic_alopecia" in problems:
        values["tr_pattern"] = "aga_typical"
    if "sudden_loss" in flags:
        values["tr_onset"] = "sudden"
    if {"itchy_scalp", "dandruff", "seborrhea"} & set(problems) or {"scalp_symptoms", "scarring"} & flags:
        values["tr_scalp"] = YES
    topics = set(positive_values(entities, "topic"))
    if "telogen_effluvium" in problems or TRIGGER_TOPICS & topics:
        values["tr_trigger"] = YES
    if "endocrine_disorder" in positive_values(entities, "condition") or DEFICIENCY_TOPICS & topics:
        values["tr_deficiency"] = YES
    return values


class ValidateTriageForm(GuidedFormValidation):
    form_name = FORM

    def name(self) -> Text:
        return "validate_triage_form"

    def prefill(self, tracker, domain):
        messages = user_messages_since_session_start(tracker)
        values = _from_entities([entity for text, entities in messages for entity in _current(entities, text)])
        for text, entities in messages:  # typed words are more specific than a recognised term
            if not is_button_payload(text):
                values.update(_from_text(text, entities))
        return values

    def extract(self, tracker, requested, domain):
        text = latest_text(tracker)
        values = {} if is_button_payload(text) else {**_from_entities(_current(latest_entities(tracker), text)), **_from_text(text, latest_entities(tracker))}
        if requested in YES_NO_SLOTS and requested not in values:
            answer = yes_no_unsure(tracker)
            if answer == YES and values:
                # "yeah my dad is bald too" to the patches question, "yes my mum died in the
                # spring" to the iron question: the other question's answer, kept, and this
                # question asked again (a yes here would record a sign not told)
                answer = None
            elif requested == "tr_family" and not answer and contains_phrase(text, content.triage_words()["family"]["relatives"]):
                answer = YES  # "my dad" typed to the family question
            if answer:
                values[requested] = answer
        elif requested in ("tr_pattern", "tr_onset") and requested not in values:
            if latest_intent(tracker) == "dont_know" or yes_no_unsure(tracker) == UNSURE:
                values[requested] = UNSURE
        return values

    def unclear_value(self, requested):
        return UNSURE

    async def on_red_flag(self, dispatcher, tracker, reasons):
        """A red flag typed during the hair-loss questions ends them: the answer is
        "see a doctor" whatever the other answers would be."""
        await super().on_red_flag(dispatcher, tracker, reasons)
        return self.stop(STOPPED_RED_FLAG)

    def complete(self, values, tracker, domain):
        """After a red flag, the remaining questions are skipped (stop asking, escalate)."""
        implied = {"tr_patches": YES} if values.get("tr_pattern") == "patches" else {}
        if red_flags({**values, **implied}):
            implied.update({s: SKIPPED for s in self.form_slots(domain, FORM) if values.get(s) is None and s not in implied})
        return implied


def red_flags(answers: Dict[str, Optional[str]]) -> List[str]:
    signs = []
    if answers.get("tr_onset") == "sudden":
        signs.append("sudden_onset")
    if answers.get("tr_pattern") == "patches" or answers.get("tr_patches") == YES:
        signs.append("patches_or_clumps")
    if answers.get("tr_scalp") == YES:
        signs.append("scalp_symptoms")
    return signs


def triage_outcome(answers: Dict[str, Optional[str]]) -> Tuple[str, List[str]]:
    """(outcome, reasons). Red flags first, then triggers/deficiency, then the pattern."""
    signs = red_flags(answers)
    if signs:
        return RED_FLAG, signs
    causes = [c for c, s in (("recent_trigger", "tr_trigger"), ("deficiency_or_thyroid", "tr_deficiency")) if answers.get(s) == YES]
    if causes:
        return SEE_DOCTOR, causes
    pattern, onset, family = answers.get("tr_pattern"), answers.get("tr_onset"), answers.get("tr_family")
    if pattern in AGA_PATTERNS and (onset == "gradual" or (onset == UNSURE and family == YES)):
        return LIKELY_AGA, ["family_history"] if family == YES else []
    return UNCLEAR, []


def _words(reasons: List[str]) -> str:
    """The reasons in plain words (messages.yml ``fill_ins: triage_reasons``)."""
    words = fill_in("triage_reasons")
    return join_words([words[r] for r in reasons])


class ActionTriageOutcome(Action):
    def name(self) -> Text:
        return "action_triage_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        slots = GuidedFormValidation.form_slots(domain, FORM)
        answers = {s: tracker.get_slot(s) for s in slots}
        stopped = tracker.get_slot("flow_stopped")
        if stopped == STOPPED_FORGET:
            return reset_events(domain, FORM, keep=True)  # not saved (as the screening's)
        if stopped == STOPPED_RED_FLAG:  # "see a doctor" was said when the red flag was typed
            given = {s: answers[s] for s in slots if answers[s]}
            if answers_kept(tracker):
                await record(store().save_triage, tracker.sender_id, given, RED_FLAG)
            return reset_events(domain, FORM) + [SlotSet("triage_outcome", RED_FLAG)]
        if stopped:
            if stopped != STOPPED_EMERGENCY:
                say(dispatcher, "triage_stopped")
            return reset_events(domain, FORM, keep=True)
        outcome, reasons = triage_outcome(answers)
        if answers_kept(tracker):
            await record(store().save_triage, tracker.sender_id, {s: answers[s] for s in slots if answers[s]}, outcome)
        if outcome == RED_FLAG:
            say(dispatcher, "triage_red_flag", signs=_words(reasons))
            await record(store().log_safety_event, tracker.sender_id, RED_FLAG_EVENT, ",".join(reasons))
        elif outcome == SEE_DOCTOR:
            say(dispatcher, "triage_see_doctor", causes=_words(reasons))
        elif outcome == LIKELY_AGA:
            family = fill_in("family_history") if reasons else ""
            say(dispatcher, "triage_likely_aga", family=family)
        else:
            say(dispatcher, "triage_unclear")
        return reset_events(domain, FORM) + [SlotSet("triage_outcome", outcome)]


class ActionTriageIntro(Action):
    """Opens the triage; a visitor who names pattern baldness hears at once that
    mesotherapy won't help it and that a transplant consultation is the route."""

    def name(self) -> Text:
        return "action_triage_intro"

    async def run(self, dispatcher, tracker, domain):
        if "androgenetic_alopecia" in positive_values(latest_entities(tracker), "hair_problem"):
            say(dispatcher, "triage_intro_aga")
        else:
            say(dispatcher, "triage_intro")
        # "finished chemo last year, my hair came back thin, can I start meso?": the
        # condition is named for the doctor before the questions
        condition_note(dispatcher, tracker)
        offer_not_keeping(dispatcher, tracker)
        return [FollowupAction(FORM)]
