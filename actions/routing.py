"""Answers that come before the classifier's guess (chosen by
``components/routing_policy.py``): red flags, named topics, "did you mean ...?" and
the confirmation before deleting the visitor's data.

The decisions are shared with the policy through ``components/signals.py``; the
wording is in ``data/content/messages.yml`` and ``data/content/routing.yml``.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from contentfiles import has_lead_for, treatment_entries
from actions.common import (
    RED_FLAG_EVENT,
    join_words,
    latest_confidence,
    latest_entities,
    latest_intent,
    latest_text,
    positive_values,
    record,
    say,
    store,
    text_of,
)
from components import signals as sig

TOPIC = "topic"
MAX_TOPICS_ANSWERED = 2  # more topics than this in one message: ask which one first
SURE_INTENT = 0.8  # a classified question this sure is answered beside a named topic
# Entries that state mesotherapy's own facts: a guess at one of them is not added beside
# another treatment or a cause named without mesotherapy (signals.SESSION_TOPICS)
MESOTHERAPY_FACTS = sig.SESSION_TOPICS | {"sessions", "procedure", "ingredients", "what_is", "personalised", "who_performs"}


def latest_signals(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get(sig.SIGNALS) or {}


def red_flag_reasons(tracker: Tracker) -> List[str]:
    route, reasons = sig.safety_route(latest_entities(tracker), latest_signals(tracker), latest_text(tracker))
    return reasons if route == sig.RED_FLAG else []


# Red flags that cannot wait for a routine appointment (signals.py reasons), with the
# message said first for them, before and instead of "make an appointment": a
# temperature during cancer treatment (the cancer team now), signs of an infection on
# the scalp (a doctor today).
URGENT_FIRST = {sig.CANCER_FEVER: "cancer_fever", sig.SCALP_INFECTION: "red_flag_same_day"}


def send_red_flag(dispatcher: CollectingDispatcher, reasons: List[str]) -> None:
    """The "see a doctor" answer naming ``reasons`` (red_flag concept ids)."""
    words = content.routing().get("red_flag_reasons") or {}
    for reason, key in URGENT_FIRST.items():
        if reason in reasons:
            say(dispatcher, key, custom={"kind": "urgent_care"})
    reasons = [r for r in reasons if r not in URGENT_FIRST]
    if not reasons:
        return  # (only the other reasons get the routine answer)
    named = [words[r] for r in reasons if r in words] or [words.get("scalp_symptoms", "")]
    say(dispatcher, "red_flag", reasons=join_words(named))


# A past illness the answer is about ("I had covid in January, now my hair falls out":
# shedding after an illness) is not "a current infection" to tell the doctor about;
# nor is the pregnancy of a story of shedding after the birth (the answer on it says
# what to tell the doctor while breastfeeding).
# Entries whose answer already speaks of the condition named with them (the cause's
# own answer, or its "practitioners warn against it ... tell the doctor" line): no
# second note repeating it.
CAUSE_NOT_CONDITION = {"after_illness": {"infection"}, "postpartum": {"pregnancy", "breastfeeding"},
                       "thyroid": {"endocrine_disorder"}, "pcos": {"endocrine_disorder"},
                       "cancer_treatment": {"tumour"}}


def condition_note(dispatcher: CollectingDispatcher, tracker: Tracker, key: str = "condition_note",
                   answered: Iterable[str] = (), listed: bool = True) -> bool:
    """Acknowledges contraindications the visitor mentioned (pregnancy, an infection...):
    practitioners advise against it, tell the doctor; and conditions outside that list
    ("a pacemaker"): the sources do not say, tell the doctor. Returns whether it said so.
    ``answered``: the entries just given (CAUSE_NOT_CONDITION); ``listed``: False when
    the answer just given lists the screened conditions itself."""
    labels = content.condition_labels()
    skip = set().union(*(CAUSE_NOT_CONDITION.get(i, set()) for i in answered))
    entities, text = latest_entities(tracker), latest_text(tracker)
    if sig.asks_about_infection_risk(text):
        skip.add("infection")  # "is there any risk of infection?" names no infection of theirs
    if sig.asks_in_general(text):
        skip.update(labels)  # "what happens if someone is allergic? just asking in general"
    # a condition told as over ("I had cancer three years ago"): the doctor must hear of
    # it, but "practitioners advise against it" does not fit (condition_note_past)
    past = {e.get("value") for e in entities if e.get("entity") == "condition" and not e.get("role")
            and sig.told_as_past(e, text)} if key == "condition_note" else set()
    # a condition named only inside "can mesotherapy cause ...?" or "what if I get an
    # infection?" is a risk asked about, not the visitor's
    told = [e for e in entities if e.get("entity") == "condition" and not e.get("role")]
    as_effect = {e.get("value") for e in told if sig.asked_as_an_effect(e, text)}
    own = {e.get("value") for e in told if not sig.asked_as_an_effect(e, text)}
    skip |= as_effect - own
    listed_here = [c for c in positive_values(entities, "condition") if c in labels and c not in skip]
    named = [labels[c] for c in listed_here if c not in past] if listed else []
    # (an answer that lists the conditions speaks of them as now: one told as over is still noted)
    past_labels = content.condition_labels(past=True) if past else {}
    earlier = [past_labels[c] for c in listed_here if c in past]
    # conditions the sources give no advice on ("a pacemaker", "high blood pressure"):
    # named in the visitor's words, for the doctor to hear of
    others = unlisted_conditions(entities, text)
    if others and key == "other_treatment_condition_note":
        named, others = named + others, []
    if named:
        say(dispatcher, key, conditions=join_words(named))
    if earlier:
        say(dispatcher, "condition_note_past", conditions=join_words(earlier))
    if others:
        say(dispatcher, "unlisted_condition_note", conditions=join_words(others))
    return bool(named or earlier or others)


UNLISTED_CONDITION = sig.UNLISTED_CONDITION


def unlisted_conditions(entities: List[Dict[str, Any]], text: str) -> List[str]:
    """The visitor's own words for each health condition outside the screening list."""
    found: List[str] = []
    for e in entities:
        if e.get("entity") == "condition" and e.get("value") == UNLISTED_CONDITION and not e.get("role"):
            words = sig.span_text(e, text).lower() or UNLISTED_CONDITION.replace("_", " ")
            if words not in found:
                found.append(words)
    return found


def asked_topics(tracker: Tracker) -> List[str]:
    """The topics the latest message asks about (``signals.topics``, as the policy decides)."""
    return sig.topics(latest_entities(tracker), latest_text(tracker))


def topic_entries(entities: List[Dict[str, Any]], text: str, named: List[str]) -> List[Tuple[str, Dict[str, Any]]]:
    """The knowledge entries for the named topics. More than ``MAX_TOPICS_ANSWERED`` of
    them ("which one?") unless the sentence that asks names fewer: a story that names
    an illness, a diet and stress and asks "can stress make you lose your hair?" gets
    the stress answer. Asked of PRP, minoxidil or finasteride and not of mesotherapy,
    mesotherapy's own aspects (its time off, its pain...) are left out: that treatment's
    entry answers, with its line on the aspect where it has one (knowledge.yml leads)."""
    if set(named) & sig.OTHER_TREATMENT_TOPICS and sig.MESOTHERAPY not in sig.mentioned(entities, sig.PROCEDURE_ENTITY):
        named = [t for t in named if t not in sig.MESO_ASPECT_TOPICS]
    entries = content.entries_for_mentions([(TOPIC, v) for v in named])
    if len(entries) > MAX_TOPICS_ANSWERED:
        asked = sig.in_question(entities, text, named)
        focused = content.entries_for_mentions([(TOPIC, v) for v in asked])
        if focused and len(focused) <= MAX_TOPICS_ANSWERED:
            return focused
    return entries


def send_entries(dispatcher: CollectingDispatcher, entries: List[Tuple[str, Dict[str, Any]]],
                 lead: int = -1, entities: Iterable[Dict[str, Any]] = (), message: str = "") -> List[Dict[Text, Any]]:
    """Sends knowledge entries (each in its variant for what ``entities`` name: "I'm
    pregnant, is that a problem?" gets the pregnancy line of who should not have it),
    with the follow-up buttons of ``entries[lead]`` (the last one unless told) under the
    last message; the slot names that entry."""
    _, leading = entries[lead]
    for i, (_, entry) in enumerate(entries):
        buttons = content.buttons_for(leading.get("follow_ups", [])) if i == len(entries) - 1 else []
        dispatcher.utter_message(text=content.entry_text(entry, list(entities), message), buttons=buttons)
    return [SlotSet("last_answer", f"knowledge:{entries[lead][0]}")]


def say_not_understood(dispatcher: CollectingDispatcher, domain: Dict[Text, Any]) -> None:
    """"Please put it another way", with the topic menu (the buttons of the domain's
    ``utter_capabilities``)."""
    variants = (domain.get("responses") or {}).get("utter_capabilities") or [{}]
    say(dispatcher, "not_understood", buttons=variants[0].get("buttons") or [])


def ask_which(dispatcher: CollectingDispatcher, options: List[Tuple[str, str]]) -> None:
    """"Did you mean one of these?" with a button per (title, payload) and "something else"."""
    buttons = [{"title": title, "payload": payload} for title, payload in options]
    buttons.append({"title": text_of("clarify_none_fit"), "payload": "/ask_capabilities"})
    say(dispatcher, "clarify", buttons=buttons)


# Topic answers that would mislead after a given red flag (topic -> red flag reasons).
NOT_AFTER_RED_FLAG = {"stress": {"hair_pulling"}}
# Weight lost without meaning to, or with night sweats: the diet's "it usually settles"
# would play down "see a doctor" ("lost 8 kilos without trying and have night sweats");
# asked of weight loss in general ("can rapid weight loss cause hair loss?") it answers.
_UNINTENDED_LOSS = re.compile(r"\b(without (even )?trying|not (even )?trying|unexplained|for no reason|no idea why|"
                              r"unintentional\w*|don'?t know why|night sweats?)\b", re.IGNORECASE)


def red_flag_entries(reasons: List[str], entities: List[Dict[str, Any]], text: str = "") -> List[Tuple[str, Dict[str, Any]]]:
    """What follows "see a doctor" (at most ``MAX_TOPICS_ANSWERED`` entries): the topic
    the visitor named first ("after giving birth", "my thyroid": their own question),
    then general information on that kind of hair loss (entries with
    ``when: ["red_flag:<reason>"]``), then any other topic named."""
    # "see a doctor" is the answer to "what can I do?" here: no treatment options after it
    named = sig.question_first(entities, text, [v for v in positive_values(entities, TOPIC) if v not in sig.STORY_TOPICS])
    # pulling one's hair out "when I'm anxious": not the shedding after stress, whose
    # answer ("usually settles by itself") would reassure wrongly
    named = [v for v in named if not set(reasons) & NOT_AFTER_RED_FLAG.get(v, set())]
    if "systemic" in reasons and _UNINTENDED_LOSS.search(text or ""):
        named = [v for v in named if v != "crash_diet"]
    topics = content.entries_for_mentions([(TOPIC, v) for v in named])
    kinds = content.entries_for_mentions([(sig.RED_FLAG_ENTITY, r) for r in reasons])
    chosen: List[Tuple[str, Dict[str, Any]]] = []
    for entry in topics[:1] + kinds + topics[1:]:
        if entry[0] not in [i for i, _ in chosen]:
            chosen.append(entry)
    return chosen[:MAX_TOPICS_ANSWERED]


def last_bot_turn(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events between the visitor's two latest messages (the bot's turn before the
    latest one), latest first; none when the latest message is the first."""
    turn: List[Dict[str, Any]] = []
    seen_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_message:
                return turn
            seen_message = True
        elif seen_message:
            turn.append(event)
    return turn


def previous_bot_action(tracker: Tracker) -> Optional[str]:
    """The bot's last action before the visitor's latest message (not listening)."""
    return next((e.get("name") for e in last_bot_turn(tracker)
                 if e.get("event") == "action" and e.get("name") != "action_listen"), None)


class ActionRedFlag(Action):
    """A red flag typed outside the question flows: "see a doctor" with the reason
    first, then the topic the visitor named and general information on that kind of
    hair loss (``red_flag_entries``), then the offers."""

    def name(self) -> Text:
        return "action_red_flag"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        reasons = red_flag_reasons(tracker)
        if not reasons and sig.asks_next_step(latest_text(tracker)):
            # "ok what should i do" right after "see a doctor" or urgent care (routing
            # policy): the next step of that answer
            previous = previous_bot_action(tracker)
            urgent = previous == "action_report_complication" or tracker.get_slot("flow_stopped") == "emergency"
            say(dispatcher, "emergency_next_step" if previous == "action_emergency"
                else "complication_next_step" if urgent else "red_flag_next_step")
            return []
        reasons = reasons or ["scalp_symptoms"]
        send_red_flag(dispatcher, reasons)
        extra = red_flag_entries(reasons, latest_entities(tracker), latest_text(tracker))
        events: List[Dict[Text, Any]] = []
        if extra:
            events = send_entries(dispatcher, extra)
        if sig.names_a_treatment(latest_text(tracker)):
            # "pimples on my scalp, can I still come for my session?": the infection is
            # also a reason practitioners give not to have it now; the doctor decides
            condition_note(dispatcher, tracker, answered=[i for i, _ in extra])
        await record(store().log_safety_event, tracker.sender_id, RED_FLAG_EVENT, ",".join(reasons))
        return events


def sure_guess_beside(entries: List[Tuple[str, Dict[str, Any]]], named: List[str], entities: List[Dict[str, Any]],
                      intent: Optional[str], confidence: float) -> Optional[Tuple[str, Dict[str, Any]]]:
    """The entry of the question the classifier is sure of, answered too, after the
    topics the visitor named ("is it painful, are there side effects?"; the named word is
    the better evidence: "can I wash my hair after?" gets aftercare first, not the side
    effects); a named topic is never pushed out for it. None beside another treatment or
    a cause named without mesotherapy when it states mesotherapy's own facts ("how many
    PRP sessions?": PRP's answer, not mesotherapy's course after it)."""
    sure = content.knowledge_entry_for_intent(intent)
    if not sure or confidence < SURE_INTENT or sure[0] in [i for i, _ in entries] or len(entries) >= MAX_TOPICS_ANSWERED:
        return None
    if sure[0] in MESOTHERAPY_FACTS and set(named) & sig.SPECIFIC_CAUSE_TOPICS and (
            sig.MESOTHERAPY not in positive_values(entities, sig.PROCEDURE_ENTITY)):
        return None
    return sure


def lead_follow_up(tracker: Tracker) -> List[Tuple[str, Dict[str, Any]]]:
    """"and the gym?" right after the aftercare answer (the routing policy decides): that
    entry again, which leads with its line on the words asked; else nothing."""
    kind, _, entry_id = str(tracker.get_slot("last_answer") or "").partition(":")
    entry = content.knowledge_entries().get(entry_id) if kind == "knowledge" else None
    return [(entry_id, entry)] if entry and has_lead_for(entry_id, latest_text(tracker)) else []


class ActionAnswerTopic(Action):
    """A question that names a topic ("does it hurt?", "PRP", "after giving birth"):
    that topic's entry answers it, whatever intent the classifier guessed. A story
    about one's own hair loss gets the answer first, then the offer of the questions."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        named = asked_topics(tracker)
        entries = topic_entries(latest_entities(tracker), latest_text(tracker), named)
        follow = lead_follow_up(tracker)
        if follow and (not entries or (follow[0][0] in treatment_entries() and sig.names_no_treatment(
                latest_entities(tracker), latest_text(tracker)))):
            # "and the gym?" after aftercare; "does it hurt?" after PRP: PRP's line on pain
            entries = follow
        if not entries:
            say_not_understood(dispatcher, domain)
            return []
        if len(entries) > MAX_TOPICS_ANSWERED:
            ask_which(dispatcher, [(content.entry_title(i, e), content.entry_payload(i, e)) for i, e in entries])
            return []
        if latest_intent(tracker) == "request_medical_advice":
            say(dispatcher, "topic_general_info")
        sure = sure_guess_beside(entries, named, latest_entities(tracker), latest_intent(tracker),
                                 latest_confidence(tracker))
        if sure:
            entries = entries + [sure]
        # the offers that follow are the named topic's ("what happens at the first
        # consultation?": request one), not those of the guess added after it
        events = send_entries(dispatcher, entries, lead=0, entities=latest_entities(tracker), message=latest_text(tracker))
        # (the contraindications answer lists the screened conditions itself; one
        # outside its list is still named for the doctor)
        condition_note(dispatcher, tracker, answered=[i for i, _ in entries],
                       listed=not any(i == "contraindications" for i, _ in entries))
        own_story = latest_intent(tracker) in ("describe_hair_loss", "inform") or positive_values(
            latest_entities(tracker), "hair_problem"
        ) or bool(set(named) & sig.STORY_TOPICS)
        if own_story:
            say(dispatcher, "offer_triage")
        return events


def other_treatment_reply(entities: List[Dict[str, Any]], intent: str, text: str = "") -> Tuple[str, Dict[str, Any]]:
    """What a question about another treatment gets (routing.yml ``other_treatments``):
    ``("entry", {"id": ...})`` when it asks who can have it and the content answers
    that, else (a messages.yml key, ``{"name": ..., "follow_ups": [...]}``): "I can't
    answer that one reliably", or its variant for a treatment the sources do not cover."""
    settings = content.routing()
    combined = sig.combined_with(entities, text)
    if combined:
        # the sources say nothing on combining mesotherapy with it: who can say, and
        # what the content says about that treatment
        entries = content.entries_for_mentions([(combined["entity"], combined["value"])]) if (
            combined["entity"] == TOPIC) else []
        name = sig.span_text(combined, text).lower() or str(combined["value"]).replace("_", " ")
        return "cannot_answer_combined", {"name": name, "follow_ups": [i for i, _ in entries[:1]] + ["consultation"]}
    treatment = sig.other_treatment(entities) or ""
    group = next(
        (g for g in (settings.get("other_treatments") or {}).values() if treatment in (g.get("procedures") or [])),
        {},
    )
    asked = {f"intent:{intent}"} | {f"topic:{t}" for t in sig.mentioned(entities, TOPIC)}
    entries = content.knowledge_entries()
    candidacy = group.get("candidacy_entry")
    if candidacy in entries and (
        asked & set(settings.get("candidacy_questions") or []) or sig.asks_candidacy(entities, text)
    ):
        return "entry", {"id": candidacy}
    follow_ups = [e for e in group.get("entries") or [] if e in entries] + ["consultation"]
    message = "cannot_answer" if group.get("covered", True) else "cannot_answer_not_covered"
    if sig.after_other_procedure(entities, text) or sig.signs_elsewhere(entities, text):
        # the doctor who did it, and when to get care today ("lumps after lip filler")
        message = "cannot_answer_recovery"
    return message, {"name": group.get("name") or treatment.replace("_", " "), "follow_ups": follow_ups}


class ActionOtherTreatment(Action):
    """A question about another treatment (a transplant, DHI, FUE, microneedling) that
    the classifier took for a question about mesotherapy: the content's answer when it
    asks who can have that treatment, else "I can't answer that reliably", who can, and
    buttons to what the content does say about it and to a consultation."""

    def name(self) -> Text:
        return "action_other_treatment"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        kind, reply = other_treatment_reply(latest_entities(tracker), latest_intent(tracker), latest_text(tracker))
        if kind == "entry":
            entry_id = reply["id"]
            events = send_entries(dispatcher, [(entry_id, content.knowledge_entries()[entry_id])])
            # "I'm on warfarin, is a hair transplant possible?": the condition is the surgeon's to weigh
            condition_note(dispatcher, tracker, key="other_treatment_condition_note")
            return events
        care = kind != "cannot_answer_recovery" and sig.CARE_SIGNS.search(latest_text(tracker))
        say(dispatcher, kind, treatment=reply["name"],
            buttons=[] if care else content.buttons_for(reply["follow_ups"]))
        if care:
            say(dispatcher, "same_day_signs", buttons=content.buttons_for(reply["follow_ups"]))
        return []


def candidates(tracker: Tracker) -> List[Tuple[str, str]]:
    """(title, payload) of the likeliest intents worth offering, best first."""
    settings = content.routing()
    skip = set(settings.get("not_offered") or [])
    floor = float(settings.get("min_candidate_confidence") or 0.0)
    titles = content.intent_titles()
    found: List[Tuple[str, str]] = []
    for item in tracker.latest_message.get("intent_ranking") or []:
        name, conf = item.get("name"), float(item.get("confidence") or 0.0)
        if name in skip or name not in titles or conf < floor:
            continue
        found.append((titles[name], f"/{name}"))
        if len(found) >= int(settings.get("max_candidates") or 3):
            break
    return found


MAX_FOLLOW_UP_OPTIONS = 4


def previous_follow_ups(tracker: Tracker) -> List[Tuple[str, str]]:
    """(title, payload) of the follow-up buttons of the knowledge entry answered last
    (slot ``last_answer`` "knowledge:<id>"), or none."""
    kind, _, entry_id = str(tracker.get_slot("last_answer") or "").partition(":")
    entry = content.knowledge_entries().get(entry_id) if kind == "knowledge" else None
    if not entry:
        return []
    return [(b["title"], b["payload"]) for b in content.buttons_for(entry.get("follow_ups") or [])]


class ActionWhichTreatment(Action):
    """"Do you mean PRP, or mesotherapy?" to a short follow-up that names no treatment
    right after the answer on another one (the routing policy decides: slot
    ``last_answer``, routing.yml ``treatment_entries``), with a button to each: that
    treatment's answer, and mesotherapy's answer on what was asked."""

    def name(self) -> Text:
        return "action_which_treatment"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        _, _, entry_id = str(tracker.get_slot("last_answer") or "").partition(":")
        names = treatment_entries()
        entities, text = latest_entities(tracker), latest_text(tracker)
        asked = [e for e in topic_entries(entities, text, sig.topics(entities, text)) if e[0] not in names]
        if not asked:
            found = content.knowledge_entry_for_intent(latest_intent(tracker))
            asked = [found] if found else []
        prefix = content.fill_ins()["which_treatment_meso"]
        buttons = (content.buttons_for([entry_id]) if entry_id in names else []) + [
            {"title": prefix + b["title"], "payload": b["payload"]} for b in content.buttons_for([i for i, _ in asked[:1]])]
        say(dispatcher, "which_treatment", treatment=names.get(entry_id, "it"), buttons=buttons)
        return []


class ActionClarify(Action):
    """"Did you mean X or Y?" instead of acting on a weak guess. For a weak guess at an
    emergency or a complication, the safety line comes first."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker)
        if intent == "emergency":
            say(dispatcher, "clarify_emergency_line")
        elif intent == "report_complication":
            say(dispatcher, "clarify_complication_line")
        condition_note(dispatcher, tracker)
        options = candidates(tracker)
        entities = latest_entities(tracker)
        if sig.about_own_hair_only(entities, latest_text(tracker)):
            # a question about one's own hair: what causes hair loss and the hair-loss
            # questions are likelier than a second guess at the treatment's facts
            extra = [(b["title"], b["payload"]) for b in content.buttons_for(content.routing().get("hair_loss_options") or [])]
            options = options[:1] + [o for o in extra if o[1] not in [p for _, p in options[:1]]]
        if intent in ("emergency", "report_complication"):
            payload = f"/{intent}"
            if payload not in [p for _, p in options]:
                options = [(content.intent_titles()[intent], payload)] + options[:2]
        elif latest_signals(tracker).get("follow_up"):
            # "what about aspirin" right after an answer: what that answer leads on to is
            # likelier than a second guess at the short message alone
            options = options[:1] + [o for o in previous_follow_ups(tracker) if o[1] not in [p for _, p in options[:1]]]
            options = options[:MAX_FOLLOW_UP_OPTIONS]
        if not options:
            say_not_understood(dispatcher, domain)
        else:
            ask_which(dispatcher, options)
        return []


def asked_to_delete(tracker: Tracker) -> bool:
    """The bot's last message before the visitor's latest one asked whether to delete the
    conversation (its button deletes: ``/forget_me``). (The routing policy reads the same
    from Rasa's tracker: components/routing_policy.py asked_to_delete.)"""
    said = next((e for e in last_bot_turn(tracker) if e.get("event") == "bot"), None)
    buttons = ((said or {}).get("data") or {}).get("buttons") or []
    return any(str(b.get("payload", "")).startswith("/forget_me") for b in buttons)


class ActionConfirmForgetMe(Action):
    """A typed "delete my data" is confirmed first; the button deletes."""

    def name(self) -> Text:
        return "action_confirm_forget_me"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        if asked_to_delete(tracker):
            say(dispatcher, "forget_me_not_yet")  # "are you sure it's deleted?"
        say(dispatcher, "forget_me_confirm")
        return []
