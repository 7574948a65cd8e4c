"""Which safety route a visitor's message needs, from its terminology mentions.

Shared by the dialogue policy (``components/routing_policy.py``, in the Rasa server)
and the actions (``actions/routing.py``, in the action server), so both decide the
same way. Plain Python: no Rasa, no spaCy.

Inputs are the message's entities (from ``DomainSpacyNLP``: ``red_flag`` and
``complication_sign`` mentions with their negated/uncertain role), its signals
(``injection_context``) and its text. The result is one of

- ``COMPLICATION``: signs of an infection or a bad reaction after an injection, told
  as something happening (not "can it cause pus?"): urgent care today;
- ``RED_FLAG`` with the reasons: hair loss that needs a doctor or dermatologist;
- ``None``: nothing here needs a doctor's attention first.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

RED_FLAG = "red_flag"
COMPLICATION = "complication"
RED_FLAG_ENTITY = "red_flag"
COMPLICATION_ENTITY = "complication_sign"
EMERGENCY_SIGN_ENTITY = "emergency_sign"
# The emergency sign of thoughts of suicide or self-harm (terminology emergency_sign).
SELF_HARM = "self_harm"
SIGNALS = "meso_signals"  # the parse-data key DomainSpacyNLP writes
# The intent the topic recogniser (components/topic_classifier.py) reads in a message,
# when it is sure enough of it: a second opinion on the intent classifier's guess.
SECOND_OPINION = "second_opinion"
PROCEDURE_ENTITY = "procedure"
TOPIC_ENTITY = "topic"
CRASH_DIET = "crash_diet"
MESOTHERAPY = "mesotherapy"  # the procedure the content is about
DHI = "dhi"  # the transplant technique the content has an entry on (knowledge.yml dhi)
# Topics that ask who can have a treatment (terminology `topic` values).
WHO_CAN_HAVE_TOPICS = {"contraindications", "transplant_candidacy"}

# Red flags that are about hair loss only when the message is about losing hair
# ("my son has bald patches" is; "my son wants to know" is not; a fever alone is a
# question about having the treatment, not a red flag for hair loss).
NEEDS_LOSS_CONTEXT = {"child", "body_hair_loss", "systemic"}
# A reason added when infection signs appear without an injection: a scalp
# infection is for a doctor.
SCALP_INFECTION = "scalp_infection"
# A temperature during chemotherapy or other cancer treatment (the visitor's or a
# relative's): the cancer team's 24-hour line at once (NICE CG151), whether or not hair
# loss is named.
CANCER_FEVER = "cancer_fever"
# An itchy scalp is a question about the treatment's claims on its own; with hair loss
# it is a reason to see a doctor (NHS: hair loss with a scalp that burns or itches).
ITCHY_SCALP = "itchy_scalp"
SCALP_SYMPTOMS = "scalp_symptoms"
HAIR_LOSS_PROBLEMS = {"hair_loss", "androgenetic_alopecia", "telogen_effluvium", "autoimmune_hair_loss"}

_LOSS = re.compile(
    r"\b(fall\w*|fell|los[ei]\w*|lost|thin\w*|bald\w*|gone|missing|shed\w*|patch\w*|"
    r"disappear\w*|coming out|came out|come out|hair loss|alopecia|bare|reced\w*|(hair|hairline) is going|"
    r"(eyebrows?|eyelash(es)?|lashes|beard|body hair) loss|loss of (my )?(eyebrows?|eyelash(es)?|lashes|beard))\b",
    re.IGNORECASE,
)
_HAIR = re.compile(r"\bhairs?\b", re.IGNORECASE)
# "since my son was born" or "since having kids" talks about a birth, not about a
# child's hair.
_BIRTH = re.compile(
    r"\b(born|birth|deliver\w*|post-?partum|partum|pregnan\w*|c-section|labou?r|breastfe\w*|nursing|newborn|"
    r"(having|had|have had|gave birth to|giving birth to) (a |my |our )?(first |second |third |last |youngest |little )?"
    r"(children|kids?|baby|son|daughter|boy|girl|child|twins)(?!'s|\u2019s| (checked|seen|tested|examined|looked|see|to|at)\b))\b",
    re.IGNORECASE,
)
# Asking whether something could happen, not telling that it did.
_CONDITIONAL = re.compile(r"\b(if|in case|what happens if|what if)\s+(i|you|it|there|one|someone|my)\b", re.IGNORECASE)
_HYPOTHETICAL = re.compile(
    r"\b(can|could|does|do|will|would|might|may|is it possible)\s+"
    r"(it|mesotherapy|meso|this|that|the|injections?|treatments?|sessions?|you|i|one|people|someone)\b"
    r"[^.?!]{0,40}\b(cause|causes|get|give|lead|result|develop|happen|have)\b"
    r"|\b(risks?|chances?|possib\w*|likely|how common|how often|side effects?)\b"
    # "are transplant infections common?", "what are the signs of an infection after it?"
    r"|\b(are|is)\s+(\w+\s+){0,4}(common|rare|frequent|usual)(\s*[?.!]|\s*$|\s+(after|with|among|in|for)\b)|\b(what are the|the) (signs?|symptoms?) of\b",
    re.IGNORECASE,
)
_REPORT = re.compile(
    r"\b(i have|i've|ive|i got|i had|i'm getting|im getting|i am getting|i developed|i noticed|i can see|"
    r"i see|there is|there's|theres|there are|my scalp (is|has|looks)|it is|it's|its|has pus|have pus|"
    r"now|today|tonight|yesterday|this morning|last night|since|still|getting worse|is spreading|are spreading)\b",
    re.IGNORECASE,
)


# Asking whether the treatment can bring a sign about ("can mesotherapy cause bald
# patches?", "is shedding a side effect of the injections?"): patchy hair loss where the
# needles went in is a listed side effect, so the side-effects answer answers it; "see
# a doctor" would answer another question. (Not widened to other treatments: "my son
# has bald patches, can minoxidil cause that?" must keep its red flag.) Anything that reads as a report of the sign
# (``_REPORT``, "my hair is ...") keeps the red flag.
_TREATMENT_CAUSE = re.compile(
    r"\b(can|could|does|do|will|would|might|may)\s+"
    r"(it|mesotherapy|meso|this|the (injections?|treatments?|sessions?|procedure|mesotherapy|needles?)|injections?|"
    r"treatments?|needles?)\b"
    r"[^.?!]{0,40}\b(cause|causes|give|gives|lead to|leads to|result in|make|leave|leaves|scar|damage|burn|thin)\b"
    r"|\b(a|the)?\s*side[ -]effects? of (the )?(mesotherapy|meso|injections?|treatments?|sessions?|it|this)\b"
    # "is it true meso can cause allergic reactions?"
    r"|\b(mesotherapy|meso|the injections?|injections|the treatment)\s+(can|could|might|may)\s+(cause|give|lead to|result in)\b",
    re.IGNORECASE,
)
_OWN_HAIR_NOW = re.compile(r"\bmy (hair|scalp|head|eyebrows|eyelashes)\s+(is|are|has|have|was|were|keeps|started)\b", re.IGNORECASE)


def asks_if_treatment_causes(text: str) -> bool:
    """A question whether the treatment can cause a sign, not a report of one."""
    text = text or ""
    return bool(_TREATMENT_CAUSE.search(text)) and not _REPORT.search(text) and not _OWN_HAIR_NOW.search(text)


def _values(entities: Iterable[Dict[str, Any]], entity: str, keep) -> List[str]:
    """Canonical values of the mentions of ``entity`` whose role ``keep`` accepts, each once."""
    values: List[str] = []
    for e in entities or []:
        if e.get("entity") == entity and keep(e.get("role")) and e.get("value") not in values:
            values.append(e.get("value"))
    return values


def affirmed(entities: Iterable[Dict[str, Any]], entity: str) -> List[str]:
    """Canonical values of the mentions of ``entity`` that are not negated or uncertain."""
    return _values(entities, entity, lambda role: not role)


def other_treatment(entities: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The treatment a message asks about when it is not mesotherapy: the first
    procedure named (a hair transplant, DHI, FUE, microneedling) when mesotherapy
    itself is not named, else None. ("What are the risks of a hair transplant?" is
    not a question about mesotherapy's side effects.)"""
    named = affirmed(entities, PROCEDURE_ENTITY)
    if not named and set(mentioned(entities, "topic")) & WHO_CAN_HAVE_TOPICS:
        # "who is not suitable for a transplant?": the "not" is the question's, not a
        # denial of the treatment
        named = mentioned(entities, PROCEDURE_ENTITY)
    if not named or MESOTHERAPY in named:
        return None
    return named[0]


# Treatments done elsewhere than the scalp (terminology `procedure` values): signs of an
# infection or a bad reaction after one ("lumps after lip filler", "a knot where I had my
# flu shot") are that treatment's question, not a scalp infection. Narrowly: any word
# of the head, the hair or the clinic's treatments keeps the scalp's answers ("I had
# fillers last year; now there is pus on my scalp").
OFF_SCALP_TREATMENTS = {"cosmetic_injections", "other_medical"}
_ON_THE_HEAD = re.compile(
    r"\b(scalp|head|hair\w*|crown|temples?|forehead|injection sites?|sessions?|meso\w*|prp|clinic|here)\b",
    re.IGNORECASE,
)


# A treatment site that is not the head ("PRP on my face", "my eye area", "a knee
# injection"): with no word of the scalp, the hair or mesotherapy, the message is about
# a treatment elsewhere on the body, which this assistant does not cover.
# Mesotherapy's other uses (fat, cellulite, the face): not this clinic's hair treatment.
_BODY_USE = re.compile(
    r"\b(cellulite|fat loss|lose fat|fat reduction|double chin|belly fat|stomach fat|thighs?|love handles|"
    r"wrinkles?|skin rejuvenation|face lift|facelift|anti-?ageing|anti-?aging|fat[- ]dissolving|under (my|the) chin|"
    r"acne scars?|tennis elbow|golfer'?s elbow|brazilian wax\w*|bikini (line|wax\w*)|lip fillers?|dermal fillers?|"
    r"arthritis|tendon\w*|nose job|rhinoplasty|tummy tuck|liposuction|lipo|breast (augmentation|implants?|lift)|"
    r"boob job|blepharoplasty|eyelid surgery)\b",
    re.IGNORECASE,
)
_SCALP_OR_HAIR_WORDS = r"scalp|head|hair\w*|crown|temples?|bald\w*|beard|eyebrows?|eyelash\w*"
_SCALP_OR_HAIR = re.compile(rf"\b({_SCALP_OR_HAIR_WORDS})\b", re.IGNORECASE)
_SITE_ELSEWHERE = re.compile(
    r"\b(eye area|under[- ]?eyes?|tear troughs?|facial|(on|to|in|for|around|into) (my|the|your|her|his|a) "
    r"(face|lips?|knees?|joints?|shoulders?|elbows?|neck|arms?|legs?|hands?|tendons?|cheeks?|chin))\b|"
    r"\bmy (arms?|legs?|knees?|shoulders?|elbows?|wrists?|ankles?|hips?|thighs?|buttocks?|stomach|tummy|belly)\b",
    re.IGNORECASE,
)
_HEAD_OR_HAIR = re.compile(rf"\b({_SCALP_OR_HAIR_WORDS}|meso\w*)\b", re.IGNORECASE)  # or mesotherapy
# Mesotherapy asked for the face ("meso for my face", "mesotherapy under eyes", "can I get
# meso under my eyes for dark circles", "facial mesotherapy"): a use elsewhere than the
# scalp. (A sign on the face after a scalp session is no use: it names no site after meso.)
_FACE_SITE = r"(my |the |your |her |his )?(face|eyes?|eye area|eye bags|dark circles|tear troughs?|cheeks?|lips?|chin|forehead|neck|body)"
_MESO_ELSEWHERE = re.compile(
    rf"\b(meso\w*|injections?)\s+((to|for|on|under|in|around|into|of)\s+)+{_FACE_SITE}\b"
    r"|\b(facial|face|under[- ]?eye|eye|lip|neck|body|anti-?ageing|anti-?aging)\s+meso\w*",
    re.IGNORECASE,
)
# Words for a treatment session: the base list, and the same with the needle words (a
# sign told beside them is a side effect of the injections: ``topics``).
_SESSION_WORDS = r"treatments?|injections?|sessions?|procedures?|jabs?|meso\w*"
_TREATMENT_WORD = re.compile(rf"\b({_SESSION_WORDS}|therapy)\b", re.IGNORECASE)
_INJECTION_WORD = re.compile(rf"\b({_SESSION_WORDS}|injected|needles?|needling|shots?|prp|microneedling)\b",
                             re.IGNORECASE)


_INFECTION_RISK = re.compile(r"\b(risks?|chances?|likely|possib\w*|prevent\w*|avoid)\b[^.?!]{0,25}\binfect", re.IGNORECASE)


def asks_about_infection_risk(text: str) -> bool:
    """"Is there any risk of infection?": a question about a risk, not a current infection."""
    return bool(_INFECTION_RISK.search(text or ""))


def names_a_treatment(text: str) -> bool:
    """A word of mesotherapy or of a treatment in general ("my session", "the injections")."""
    return bool(_TREATMENT_WORD.search(text or ""))


def names_hair_or_treatment(text: str) -> bool:
    """A word of the head, the hair, mesotherapy or a treatment in general."""
    return bool(_HEAD_OR_HAIR.search(text or "") or _TREATMENT_WORD.search(text or ""))


def treated_elsewhere(text: str) -> bool:
    """A treatment site other than the head is named and nothing of the scalp, the hair
    or mesotherapy is ("swelling after a PRP injection on my face")."""
    text = text or ""
    if (_BODY_USE.search(text) or _MESO_ELSEWHERE.search(text)) and not _SCALP_OR_HAIR.search(text):
        return True  # "can mesotherapy be used for cellulite on my thighs?", "meso for my face"
    return bool(_SITE_ELSEWHERE.search(text)) and not _HEAD_OR_HAIR.search(text)


def signs_elsewhere(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Signs of an infection or a bad reaction (``complication_sign``: not a fever
    alone), no red flag, no word of the head or hair, and a treatment done elsewhere
    named (not mesotherapy): the doctor who did it, and the signs that need a doctor the
    same day (messages.yml ``cannot_answer_recovery``)."""
    entities = list(entities or [])
    return (
        other_treatment(entities) in OFF_SCALP_TREATMENTS
        and bool(not_negated(entities, COMPLICATION_ENTITY))
        and not not_negated(entities, RED_FLAG_ENTITY)
        and not _ON_THE_HEAD.search(text or "")
    )


def signs_after_treatment_elsewhere(entities: Iterable[Dict[str, Any]], route: Optional[str],
                                    reasons: Iterable[str], text: str) -> bool:
    """``signs_elsewhere`` on a message the safety route took for a scalp infection or
    a reaction to an injection: ``action_other_treatment`` takes it instead."""
    if not signs_elsewhere(entities, text):
        return False
    return route == COMPLICATION or (route == RED_FLAG and set(reasons) == {SCALP_INFECTION})


# Topics that are a question only in a story about one's own hair loss: "what can I
# do?" after "my hair has thinned on top" asks for the options; after "the session" it
# asks about aftercare, and next to a named topic ("after giving birth ... what should
# I do?") that topic's answer is the one.
STORY_TOPICS = {"treatment_options"}


# Topics whose entries state mesotherapy's own facts (its pain, results, uses, who must
# not have it). Beside another treatment named without mesotherapy ("does PRP hurt?",
# "who should not have PRP?", "side effects of minoxidil") they would state mesotherapy's facts as that treatment's:
# the treatment's own entry answers instead. (Aftercare, downtime and preparation stay:
# their entries say "no study; ask the clinic", true whatever the treatment.)
SESSION_TOPICS = {"pain", "results_timeline", "indications", "contraindications", "side_effects", "session_length"}
# Topics that are other treatments with an entry of their own.
OTHER_TREATMENT_TOPICS = {"prp", "minoxidil", "finasteride"}
# Hair-loss medicines whose effects may be felt anywhere in the body (swollen ankles,
# breast changes): a body part named with them is no treatment done elsewhere.
MEDICINE_TOPICS = {"minoxidil", "finasteride"}
# "What causes hair loss?", "does metformin cause hair loss?": the general answer on
# causes (it names medicines, operations, illness, stress, diets). A cause or a
# treatment named beside it is the question ("does stress cause hair loss?": the
# stress answer; "can PRP cause hair loss?": PRP's), and so is mesotherapy ("can the
# injections cause hair loss?": its side effects).
GENERAL_CAUSE = "hair_loss_causes"
# Topics that name a treatment ("minoxidil", "PRP", "a transplant at 21").
TREATMENT_NAMED_TOPICS = OTHER_TREATMENT_TOPICS | {"drug_mesotherapy", "transplant_candidacy"}
# Topics whose answers are about mesotherapy's own sessions (its pain, time off, aftercare,
# session length, results, who may have it): no answer to the same question of PRP or
# minoxidil ("what's the downtime after PRP?")
MESO_ASPECT_TOPICS = {"pain", "side_effects", "downtime", "aftercare", "session_length", "results_timeline", "men_women",
                      "contraindications", "preparation", "indications"}
NAMED_CAUSE_TOPICS = {"postpartum", "after_illness", "stress", "thyroid", "iron_deficiency", "pcos", "crash_diet",
                      "alopecia_areata", "cancer_treatment"}
SPECIFIC_CAUSE_TOPICS = NAMED_CAUSE_TOPICS | TREATMENT_NAMED_TOPICS
# "after the session", "before my injections": a mesotherapy session, unless a
# treatment is named ("my PRP session" does not match)
_OWN_SESSION = re.compile(
    r"\b(the|my|a|each|every|next|last|first|your)\s+(session|sessions|treatment|treatments|injections?|appointment)\b",
    re.IGNORECASE,
)


# A session already had, told in the message: "had mesotherapy last week", "got my first
# injections", "since my last session", "my injections 5 days ago". (Not a session to
# come: "can I have my next session?")
_SESSION_HAD = re.compile(
    r"\b((had|got|did|done|finished|received)\s+(my |a |the |some |one |two |three |\d+ )?(first |last |second |third |"
    r"latest |recent )?(round of |course of )?(meso\w*|sessions?|injections?|treatments?|jabs?|scalp injections?)\b"
    r"(?! (is|are|safe|ok|okay|possible|allowed)\b)|"
    r"since (my|the) (last |first |latest |recent )?(meso\w*|sessions?|injections?|treatments?|jabs?)\b|"
    r"after my (last |first |latest |recent )(meso\w*|sessions?|injections?|treatments?|jabs?)\b|"
    r"(meso\w*|sessions?|injections?|treatments?|jabs?) (\d+|a|one|two|three|few|couple of) (days?|weeks?|months?) ago|"
    r"(had|got) my (scalp|head|hair) (injected|done|treated))",
    re.IGNORECASE,
)


# Someone else as the one who had it ("my sister had the scalp injections").
_OTHER_SUBJECT = re.compile(r"\b(she|he|they|her|his|their|sister|brother|friend|mum|mom|mother|dad|father|wife|husband|"
                            r"partner|daughter|son|cousin|aunt|uncle|colleague|boss|neighbou?r|girlfriend|boyfriend|"
                            r"someone|people|patients?)\b", re.IGNORECASE)


# "ok what should i do", "what now?", "who do I see?", "should i go to a&e?": the next
# step, asked alone (each part of the message one of these).
_NEXT_STEP = re.compile(r"^\W*((ok(ay)?|so|and|right|alright|hmm+|um+)\W+)*(so\W+)?(what (should|do|can|must) i do( now| next|"
                        r" then| about it)?|what (should|do|can|must) we do( now| next| then| about it)?|what now|what next|now what|"
                        r"what('s| is) the next step|next steps?|"
                        r"where do (i|we) go( from here)?|who (should|do|can) (i|we|he|she) see|who do (i|we) go to|"
                        r"who (should|do|can) (i|we) (take|bring) (him|her|them) to|then what|"
                        r"(should|do|can|must) i (go|call|ring) (to )?(the )?(clinic|a ?& ?e|a and e|hospital|er|emergency|gp|"
                        r"doctors?|urgent care|111|999)( or (to )?(the )?(clinic|a ?& ?e|a and e|hospital|er|emergency|gp|doctors?|"
                        r"urgent care|111|999))?( now)?)\W*$", re.IGNORECASE)


def asks_next_step(text: str) -> bool:
    """The message asks only what to do next ("ok what should i do", "what now? should i
    go to the clinic or a&e")."""
    parts = [p for p in re.split(r"[?.!;]+", text or "") if p.strip()]
    return 0 < len(parts) <= 3 and all(_NEXT_STEP.match(p) for p in parts)


def told_after_session(text: str) -> bool:
    """The message tells of the visitor's own session already had (its answer speaks of
    what to do now), not someone else's ("my sister had the injections")."""
    text = text or ""
    for m in _SESSION_HAD.finditer(text):
        clause = _clause_at(text, m.start())
        before = clause[:max(0, clause.lower().find(m.group(0).lower()))]
        if not _OTHER_SUBJECT.search(before):
            return True
    return False


# A message is shaped as a question when it has a "?" or starts with one of these.
QUESTION_START = ("how ", "what", "is ", "are ", "can ", "could ", "would ", "will ", "should ", "where", "why ", "when ", "which", "who ", "do ",
                  "does ")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# A question after a comma ("I'm on sertraline, will that interfere"): the words that
# open one there (not "when" or "where", which open a time or a place in a story).
CLAUSE_QUESTION_START = ("will ", "would ", "should ", "can ", "could ", "is ", "are ", "do ", "does ", "any ",
                         "how ", "what ", "why ", "ok for ", "okay for ")
_CLAUSE_BREAK = re.compile(r"[,;:]|\s[-\u2013\u2014]\s")
# "im 70 can i still have it": a verb before "I" asks, wherever the sentence starts.
_ASKING_PAIR = re.compile(r"\b(can|could|should|shall|may|must|do|am) i\b", re.IGNORECASE)


def asked(text: str) -> bool:
    """Shaped as a question: a question mark, or a sentence with a question word first
    ("I had 3 sessions. is that normal")."""
    text = text or ""
    return "?" in text or bool(_ASKING_PAIR.search(text)) or any(
        m.group(0).strip().lower().startswith(QUESTION_START) for m in _SENTENCE.finditer(text)) or (
        any(clause.strip().lower().startswith(CLAUSE_QUESTION_START) for clause in _CLAUSE_BREAK.split(text)[1:]))


def question_spans(text: str) -> List[Tuple[int, int]]:
    """(start, end) of each sentence of ``text`` that ends with a question mark (a
    question word first is not enough inside a story: "What my GP said is ...")."""
    spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text or "") if m.group(0).strip().endswith("?")]
    if not spans and "?" not in (text or ""):
        # no question mark anywhere ("... my head is a bit tender. what should i avoid
        # doing in the first days after"): a last sentence with a question word first
        last = [(m.start(), m.end(), m.group(0)) for m in _SENTENCE.finditer(text or "") if m.group(0).strip()][-1:]
        spans = [(start, end) for start, end, sentence in last if sentence.strip().lower().startswith(QUESTION_START)]
    return spans


def _inside(entity: Dict[str, Any], spans: List[Tuple[int, int]]) -> bool:
    """The mention starts inside one of ``spans``."""
    return isinstance(entity.get("start"), int) and any(start <= entity["start"] < end for start, end in spans)


# Oils, shampoos and home remedies (terminology `procedure`): what people have tried,
# often told in the story around another question.
HOME_REMEDIES = "home_remedies"


def treatment_asked(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A treatment other than mesotherapy is named in the sentence that asks ("castor oil
    on my scalp - any good?"), not only in the story around it ("I was thinking of a hair
    piece ... Could this be the reason?")."""
    spans = question_spans(text) or [(0, len(text or ""))]
    return any(e.get("entity") == PROCEDURE_ENTITY and e.get("value") != MESOTHERAPY and e.get("role") != "negated"
               and _inside(e, spans) for e in entities or [])


def remedy_told_in_story(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A home remedy is named only in the story around the question ("I apply coconut
    oil twice a week but it hasn't made a difference. What should I do?"): the message
    has a sentence that asks, and the remedy is not named inside it."""
    spans = question_spans(text)
    named = [e for e in entities or [] if e.get("entity") == PROCEDURE_ENTITY and e.get("value") == HOME_REMEDIES
             and e.get("role") != "negated"]
    return bool(spans and named) and len(spans) < len(_SENTENCE.findall(text or "")) and not any(
        _inside(e, spans) for e in named)


def in_question(entities: Iterable[Dict[str, Any]], text: str, values: List[str]) -> List[str]:
    """Those of ``values`` (topics) named inside a sentence that asks something, in order.
    "We had Covid and I lost weight. Can stress make you lose your hair?" asks about
    stress; the illness and the weight loss are the story around the question."""
    spans = question_spans(text)
    asked = {e.get("value") for e in entities or [] if e.get("entity") == TOPIC_ENTITY and _inside(e, spans)}
    return [v for v in values if v in asked]


def question_first(entities: Iterable[Dict[str, Any]], text: str, values: List[str]) -> List[str]:
    """``values`` (topics) with those named in the sentence that asks first."""
    asked = in_question(entities, text, values)
    return asked + [v for v in values if v not in asked]


def topics(entities: Iterable[Dict[str, Any]], text: str) -> List[str]:
    """The topics a message asks about: its affirmed ``topic`` mentions, without the
    story topics unless they are the only topic of a message about losing hair that
    names no treatment, and without the session topics when another treatment is named
    and mesotherapy is not. Topics named in the sentence that asks come first (a story
    with a question inside gets the question answered first)."""
    entities = list(entities or [])
    found = affirmed(entities, TOPIC_ENTITY)
    if set(mentioned(entities, TOPIC_ENTITY)) & WHO_CAN_HAVE_TOPICS:
        # "who should not have PRP?": the "not" is the question's, not a denial of PRP
        asking = WHO_CAN_HAVE_TOPICS | OTHER_TREATMENT_TOPICS
        found = [t for t in mentioned(entities, TOPIC_ENTITY) if t in found or t in asking]
    if set(found) & STORY_TOPICS and (
        len(found) > 1 or affirmed(entities, PROCEDURE_ENTITY) or not about_losing_hair(entities, text)
    ):
        found = [t for t in found if t not in STORY_TOPICS]
    if (
        set(found) & OTHER_TREATMENT_TOPICS and set(found) & SESSION_TOPICS
        and MESOTHERAPY not in mentioned(entities, PROCEDURE_ENTITY) and not _OWN_SESSION.search(text or "")
    ):
        found = [t for t in found if t not in SESSION_TOPICS]
    illness = [_span(e, text) for e in entities if e.get("entity") == TOPIC_ENTITY and e.get("value") == "after_illness"]
    if illness and all(WEIGHT_LOSS_TREATMENT.search(span) for span in illness):
        # "after gastric bypass surgery": an operation to lose weight is the diet topic
        # (the longer "after ... surgery" of the illness topic covered its words)
        found = [CRASH_DIET if t == "after_illness" else t for t in found if t != CRASH_DIET]
    if GENERAL_CAUSE in found and (
        set(found) & SPECIFIC_CAUSE_TOPICS or affirmed(entities, PROCEDURE_ENTITY) or asks_if_treatment_causes(text)
    ):
        found = [t for t in found if t != GENERAL_CAUSE]
    if TRANSPLANT_CANDIDACY in found and MESOTHERAPY in affirmed(entities, PROCEDURE_ENTITY) and not (
            set(affirmed(entities, PROCEDURE_ENTITY)) & TRANSPLANTS):
        # "age limit for mesotherapy", "can a 16 year old get meso?": an age asked of
        # mesotherapy, not of a transplant: who should not have it (its answer says what
        # is known of age)
        found = [CONTRAINDICATIONS if t == TRANSPLANT_CANDIDACY else t for t in found if t != CONTRAINDICATIONS]
    if TRANSPLANT_CANDIDACY in found and not set(mentioned(entities, PROCEDURE_ENTITY)) & TRANSPLANTS and not (
            _TRANSPLANT_WORD.search(text or "")):
        # "is there an age limit?" on a mesotherapy clinic's assistant, no transplant named:
        # who should not have mesotherapy (its answer says what is known of age)
        found = [CONTRAINDICATIONS if t == TRANSPLANT_CANDIDACY else t for t in found if t != CONTRAINDICATIONS]
    timelines = [_span(e, text) for e in entities if e.get("entity") == TOPIC_ENTITY and e.get("value") == RESULTS_TIMELINE]
    if timelines and all(_SIDE_EFFECT_WORDS.search(span) for span in timelines):
        # "how long do the side effects last?" asks about the side effects, not the results
        found = [t for t in found if t != RESULTS_TIMELINE]
    if set(found) & SPECIFIC_CAUSE_TOPICS and not affirmed(entities, PROCEDURE_ENTITY) and not _INJECTION_WORD.search(text or ""):
        # "postpartum hair loss how long does it last", "what vitamins are good for that"
        # after a birth: the cause's (or the named treatment's) time and uses, not
        # mesotherapy's results or uses
        found = [t for t in found if t not in (RESULTS_TIMELINE, "indications")]
    signs = [_span(e, text) for e in entities if e.get("entity") == TOPIC_ENTITY and e.get("value") == SIDE_EFFECTS]
    if signs and not _INJECTION_WORD.search(text or "") and (
            not any(_NAMES_SIDE_EFFECTS.search(span) for span in signs) or len(found) > 1
            or losing_hair(entities, text)):
        # "itchy after washing", "is hair loss a side effect of levothyroxine?": a sign
        # after something else, or another thing's side effects, not the injections'
        found = [t for t in found if t != SIDE_EFFECTS]
    if PREPARATION in found and losing_hair(entities, text) and not _INJECTION_WORD.search(text or ""):
        # "hair falling out since I started an antidepressant": a medicine told as the
        # cause of the loss, not one to tell the doctor of before a session
        found = [t for t in found if t != PREPARATION]
    preps = [_span(e, text) for e in entities if e.get("entity") == TOPIC_ENTITY and e.get("value") == PREPARATION]
    if preps and (all(re.search(r"\bafter\b", span, re.IGNORECASE) for span in preps) or _HAIR_COLOUR.search(text or "")
                  or told_after_session(text)):  # ("had meso yesterday ... wait before working out?")
        # "how long should I wait after mesotherapy before colouring?", "should I dye it
        # before or after?": the time after a session (the aftercare answer speaks of dye)
        found = ["aftercare" if t == PREPARATION else t for t in found if t != "aftercare"]
    if not found and not_negated(entities, COMPLICATION_ENTITY) and is_hypothetical(text) and (
            not asks_if_treatment_causes(text)):
        # "what should I do if I get a bump that is hot and has pus?": the signs that
        # need care the same day, asked before they happen (told as now, the safety
        # route answers first)
        found = [INFECTION_SIGNS]
    if not found and more_loss_since_sessions(entities, text):
        # "I had three sessions and now my hair is shedding more than before": hair loss
        # where the needles went in is a reported harm (the side effects answer says so)
        found = [SIDE_EFFECTS]
    if not found and told_after_session(text) and _ACTIVITY.search(text or "") and asked(text):
        # "want to dye my hair for a wedding, i had mesotherapy yesterday. too soon?": an
        # activity asked of the days after a session (the aftercare answer's lines)
        found = ["aftercare"]
    if not found and men_or_women_alone(text):
        found = [MEN_WOMEN]  # "women?", "and for men?": men or women, asked alone
    if not found and (asks_if_condition_matters(entities, text) or asks_with_an_age(entities, text)):
        found = [CONTRAINDICATIONS]
    elif CONTRAINDICATIONS not in found and condition_asked_in_question(entities, text):
        # "... My hair is thin at the temples. I'm still breastfeeding. Can I have the
        # injections while breastfeeding?": the question is whether the condition matters,
        # not the story's topic (its first one follows it: two answers, not "which one?")
        found = [CONTRAINDICATIONS] + found[:1]
    return question_first(entities, text, found)


MEN_WOMEN = "men_women"
_WHO_ALONE = re.compile(r"^\W*(and\s+|but\s+|so\s+)?((is it |is that |it'?s |does it work )?(for|with|in)\s+|"
                        r"(what|how) about\s+)?(women|men|ladies|females?|males?|guys|girls)(\s+(too|also|as well))?\W*$",
                        re.IGNORECASE)


def men_or_women_alone(text: str) -> bool:
    """The whole message asks about men or women ("women?", "and for men?")."""
    return bool(_WHO_ALONE.match(text or ""))


# A short message that leans on what was just said: "and for women?", "what about
# aspirin", "how far apart", "so should I do it or not", "which is cheaper".
_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|so|ok|okay|then|also|plus|what (about|if|else|then|now)|what (should|can|could|do) (i|we)|"
    r"how about|why|which|when|"
    r"how (often|far|long|many|much|soon|come)|is (it|that|this|there)|are (they|there|those)|"
    r"does (it|that|this)|do (i|you|they)|can (i|you|they)|should (i|we)|will (it|that|i)|would (it|that|i))\b",
    re.IGNORECASE)
FOLLOW_UP_MAX_WORDS = 8


def names_no_treatment(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A short message (at most ``FOLLOW_UP_MAX_WORDS`` words) that names no treatment,
    mesotherapy included ("does it hurt?", "what about for women?"): right after an
    answer on another treatment, it may ask about either."""
    entities = list(entities or [])
    return (0 < len((text or "").split()) <= FOLLOW_UP_MAX_WORDS and not mentioned(entities, PROCEDURE_ENTITY)
            and not set(mentioned(entities, TOPIC_ENTITY)) & TREATMENT_NAMED_TOPICS)


# Words that ask for a deletion ("delete everything i told you", "erase my answers"), not
# a question about what happens to one's data ("what will you do with my data?").
_DELETE_ASKED = re.compile(r"\b(delet\w*|eras\w*|remov\w*|wip(e|ing)|forget (me|it all|everything|all|what)|"
                           r"get rid of)\b", re.IGNORECASE)


LOW_MOOD = "low_mood"
# components/safety_override.py's kinds of emergency told: thoughts of suicide (the
# visitor's or someone else's); "other" marks any emergency guess
SELF_HARM_KINDS = {"self_harm", "self_harm_someone_else"}


def low_mood_only(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Low mood is the only topic told ("lately i feel really down"), with no sign of an
    emergency and no thoughts of suicide: its answer (the GP, the crisis line), not the
    emergency answer a classifier may guess for it."""
    entities = list(entities or [])
    return topics(entities, text) == [LOW_MOOD] and not emergency_signs(entities, text) and not (
        set(mentioned(entities, "emergency_kind")) & SELF_HARM_KINDS) and not self_harm(entities, text)


def asks_to_delete(text: str) -> bool:
    """The message asks for something to be deleted."""
    return bool(_DELETE_ASKED.search(text or ""))


def follow_up_shape(text: str) -> bool:
    """A message of at most ``FOLLOW_UP_MAX_WORDS`` words that opens as a follow-up
    question does ("and ...", "what about ...", "how often ...")."""
    text = (text or "").strip()
    return 0 < len(text.split()) <= FOLLOW_UP_MAX_WORDS and bool(_FOLLOW_UP_START.match(text))


# "im 17", "I am 68", "a 16 year old", "aged 70": the visitor's (or someone's) age
_AGE_TOLD = re.compile(r"\b((i'?m|i am|im|aged|age)\s+\d{1,2}|\d{1,2}\s*-?\s*(years?|yrs?|yo|y/o)(\s*-?\s*old)?)\b"
                       r"(?!\s*(weeks|months|days|kg|kilos|lbs|pounds|%|ago|sessions?))", re.IGNORECASE)


def asks_with_an_age(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """An age told with a question whether one may have the treatment ("im 17 can i get
    it", "I'm 70, can I still have it?"), no other treatment named, and not a story of
    hair loss (whose question is the loss): who should not have it (its answer says what
    is known of age)."""
    entities = list(entities or [])
    return (bool(_AGE_TOLD.search(text or "")) and bool(_ELIGIBILITY_ASK.search(text or ""))
            and not other_treatment(entities)
            and (MESOTHERAPY in affirmed(entities, PROCEDURE_ENTITY) or not losing_hair(entities, text)))


def condition_asked_in_question(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A sentence with a question mark names a health condition of the visitor's and the
    treatment, and asks whether the condition matters for it ("can I have the injections
    while breastfeeding?"), in a message that names no other treatment."""
    entities = list(entities or [])
    if other_treatment(entities):
        return False
    for start, end in question_spans(text or ""):
        inside = [e for e in entities if _inside(e, [(start, end)])]
        question = (text or "")[start:end]
        # (the treatment named in that sentence: "I'm pregnant and my hair is falling
        # out, is that a problem?" asks about the loss)
        if affirmed(inside, "condition") and _ELIGIBILITY_ASK.search(question) and names_a_treatment(question):
            return True
    return False


# "I'm worried that I may have bald spots ... in the future": a worry about later
_WORRY_BEFORE = re.compile(r"\b(worried|worry|worrying|afraid|scared|fear|terrified|concerned|panicking)\b[^.?!]{0,30}"
                           r"\b(may|might|will|could|'ll|going to|gonna|end up)\b[^.?!]{0,20}$", re.IGNORECASE)
_LATER_AFTER = re.compile(r"^[^.?!]{0,60}\b(in the future|one day|some day|someday|eventually|later on|later in life|"
                          r"when i'?m older|in a few years|by the time i'?m)\b", re.IGNORECASE)


def _feared_later(text: str, mention: Dict[str, Any]) -> bool:
    start, end = mention["start"], mention.get("end") or mention["start"]
    return bool(_WORRY_BEFORE.search(text[max(0, start - 60):start]) and _LATER_AFTER.match(text[end:]))


# "thinning rather than bald spots", "all over instead of in patches": a sign named to
# say it is not the one seen
_CONTRASTED = re.compile(r"\b(rather than|instead of|as opposed to)\s+(\w+\s+){0,2}$", re.IGNORECASE)


# "shedding more than before", "it got worse", "started falling out": more loss than
# before, not the same loss that did not stop ("still falling out after 4 sessions" asks
# whether it works)
_MORE_LOSS = re.compile(
    r"\b(more than (before|usual|ever|it used to)|worse|more (hair|shedding|hairs)|"
    r"(shed\w*|fall\w* out|falls? out|los\w*|thinn\w*) (\w+ )?more\b|increase\w*|"
    r"(started|starting|began|begun) (to )?(shed|fall|thin|lose|come out)|"
    r"(started|starting|began|begun) (shedding|falling|thinning|losing|coming out))",
    re.IGNORECASE)


def more_loss_since_sessions(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Hair loss told as having grown since mesotherapy sessions ("since my second meso
    session my hair falls out more"), with no other treatment named."""
    entities = list(entities or [])
    text = text or ""
    treated = MESOTHERAPY in affirmed(entities, PROCEDURE_ENTITY) or bool(_OWN_SESSION.search(text))
    return (treated and not other_treatment(entities) and losing_hair(entities, text)
            and not is_hypothetical(text) and bool(_MORE_LOSS.search(text)))


SIDE_EFFECTS = "side_effects"
INFECTION_SIGNS = "infection_signs"
PREPARATION = "preparation"
# Everyday activities asked about after a session (aftercare).
_ACTIVITY = re.compile(r"\b(dye\w*|colou?r(ing|ed)?|bleach\w*|highlights|gym|exercis\w*|work(ing)? out|swim\w*|sauna|"
                       r"sunbed\w*|sunbath\w*|tann\w*|beach|alcohol|drink(ing)?|wash(ing)?|shower(ing)?|hats?|caps?|"
                       r"helmets?|wigs?)\b", re.IGNORECASE)
_HAIR_COLOUR = re.compile(r"\b(dye\w*|colou?r(ing|ed)?|bleach\w*|highlights|tint\w*|perm|keratin)\b", re.IGNORECASE)
_NAMES_SIDE_EFFECTS = re.compile(r"\b(side|adverse|risks?|risky|danger\w*)\b", re.IGNORECASE)
TRANSPLANT_CANDIDACY = "transplant_candidacy"
TRANSPLANTS = {"hair_transplant", "dhi", "fue", "fut"}
_TRANSPLANT_WORD = re.compile(r"\b(transplant\w*|grafts?|surgery|surgeon|restoration|donor|harvest\w*|fue|fut|dhi|implant\w*)\b",
                              re.IGNORECASE)
RESULTS_TIMELINE = "results_timeline"
CONTRAINDICATIONS = "contraindications"
UNLISTED_CONDITION = "other_condition"  # terminology: conditions outside the screening questions
_SIDE_EFFECT_WORDS = re.compile(
    r"\b(side[- ]?effects?|redness|red|swelling|swollen|soreness|sore|bruis\w*|bumps?|lumps?|itch\w*|headaches?|"
    r"pain|tender\w*|marks?|dots?|scabs?)\b", re.IGNORECASE)
# "is that a problem?", "can I still have it?", "should I cancel?": whether something
# the visitor has rules the treatment out.
_ELIGIBILITY_ASK = re.compile(
    r"\b((is|would|will|could) (it|that|this|they|the \w+|\w+ injections) (be )?(a |an )?(problem|issue|concern)|"
    r"be (a |an )?(problem|issue|concern)|any (issues?|problems?)|does (that|it|this) matter|"
    r"am (i|l) (still )?(ok|okay|fine|allowed|suitable)( for (it|this|mesotherapy|meso|the \w+)| to (have|get) (it|this|them))?\s*[?.!]*$|"
    r"(am|are) (i|l|we) (still )?(allowed|able|eligible|suitable) to (have|get|do|undergo|try|start)|"
    r"is it (ok|okay|safe|fine|possible) (for me )?to (have|get|do|undergo|try|start)|"
    r"ok for (it|this|me|meso\w*|the \w+|injections|treatment)|(will|would|could|does|can) (that|it|this|they|\w+) "
    r"(interfere|interact|clash|affect (it|the \w+|meso\w*))|"
    r"suitable for me|rules? (me )?out|should (i|l) (cancel|postpone|reschedule)|"
    r"(is it|is that) ((totally|really|completely|still|definitely) )?(ok|okay|fine|safe|alright|all right) to (still )?"
    r"(go ahead|go|keep|come)|go ahead with|(fine|ok|okay|safe|alright) for me|keep my appointment|"
    r"(can|could|should) (i|l) (still )?(start|begin|go ahead)|"
    r"(can|could|may) (i|l) (still )?(have|get|do|book) (it|this|that|them|mesotherapy|meso|the \w+|scalp \w+|injections|treatment)|"
    # "can someone who had cancer have mesotherapy?", "can a woman on the pill get it?"
    r"(can|could|may|should) (someone|somebody|anyone|people|a person|a woman|a man|women|men)( [\w']+){0,5} "
    r"(have|get|do|undergo|try) (it|this|that|them|mesotherapy|meso|the \w+|scalp \w+|injections|treatment))\b",
    re.IGNORECASE,
)


def asks_if_condition_matters(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A health condition named ("I have a pacemaker", "a cold", "high blood pressure")
    with a question whether it matters for the treatment, in a message that names no
    other treatment and is not a story of hair loss (whose question is the loss)."""
    entities = list(entities or [])
    return (bool(affirmed(entities, "condition")) and bool(_ELIGIBILITY_ASK.search(text or ""))
            and not other_treatment(entities)
            and (MESOTHERAPY in affirmed(entities, PROCEDURE_ENTITY) or not losing_hair(entities, text)))


# Combining mesotherapy with another treatment, or having it after one.
_COMBINE = re.compile(
    r"\b(combin\w*|together|alongside|at the same time|same (day|evening|night|week)|in addition to|as well as|"
    r"on top of|(meso\w*|injections?|sessions?) with|with (my |the |your )?(meso\w*|injections?|sessions?)|"
    r"(after|before|since|following) (my |the |a |having |each )?(meso\w*|injections?|sessions?|treatments?)|"
    r"while (i'?m |i am )?(doing|having|getting|on) (the |my )?(meso\w*|injections?|sessions?)|"
    # "can I do mesotherapy while on finasteride?"
    r"(meso\w*|injections?|sessions?) while (i'?m |i am |still |he'?s |she'?s )?(on|taking|using)|"
    r"during (my |the |a )?(meso\w*|course of (meso\w*|injections?))|"
    # "I'm on minoxidil, can I do meso too?", "im on minoxidil already, can i add meso"
    r"(meso\w*|injections?|sessions?) (too|as well)|also (do|have|get|try) (meso\w*|the injections?)|"
    r"add (in |on )?(meso\w*|the injections?|injections)|(meso\w*|injections?) on top|"
    # "I had a transplant 3 weeks ago, can I start meso?", "meso to help the grafts"
    r"(transplant\w*|surgery|fue|fut|dhi|prp)( was| done)? (\w+ ){1,3}ago|(help|support|boost) (the |my )?(grafts?|transplant))\b",
    re.IGNORECASE,
)
COMBINABLE_TOPICS = OTHER_TREATMENT_TOPICS | {"drug_mesotherapy"}


def combined_with(entities: Iterable[Dict[str, Any]], text: str) -> Optional[Dict[str, Any]]:
    """The mention of another treatment a question asks to combine with mesotherapy
    ("can I use minoxidil with mesotherapy?", "PRP and meso together", "can I have
    mesotherapy after my hair transplant?"), or None. Mesotherapy must be named: a
    comparison ("is PRP better than mesotherapy?") has no combining word and is the
    other treatment's question."""
    entities = list(entities or [])
    text = text or ""
    if MESOTHERAPY not in affirmed(entities, PROCEDURE_ENTITY):
        return None
    others = [e for e in entities if not e.get("role") and (
        (e.get("entity") == PROCEDURE_ENTITY and e.get("value") != MESOTHERAPY)
        or (e.get("entity") == TOPIC_ENTITY and e.get("value") in COMBINABLE_TOPICS))]
    if not others or not (_COMBINE.search(text) or AFTER_PROCEDURE.search(text)):
        return None
    if PREPARATION in affirmed(entities, TOPIC_ENTITY):
        return None  # "should I stop finasteride before my session?": getting ready for one
    spans = question_spans(text)
    asked_part = " ".join(text[start:end] for start, end in spans) or text
    if _COMPARE.search(asked_part):
        return None  # "what's the difference between minoxidil and mesotherapy?": a comparison
    if spans and not any(_inside(e, spans) for e in others) and any(
            e.get("entity") == TOPIC_ENTITY and not e.get("role") and _inside(e, spans) for e in entities):
        # "I've been on finasteride a year. I booked meso. Can I wash my hair the same day
        # after the injections?": the story's medicine; the question asks its own topic
        return None
    return others[0]


# Comparing two treatments, not combining them.
_COMPARE = re.compile(r"\b(difference|differences|differ\w*|vs\.?|versus|better|worse|compared?|comparison|"
                      r"instead of|rather than|same as|alternative to|which (one|is|should)|"
                      r"as (good|effective|strong|useful|powerful|successful) as)\b", re.IGNORECASE)


# "... How much would a full course of scalp mesotherapy typically cost, roughly?": a
# sentence that asks the price of a treatment, whatever story surrounds it.
_PRICE_ASK = re.compile(r"\b(how much (does|do|would|will|is|are|for|to)\b|costs?\b|price[sd]?\b|pricing|fees?\b|"
                        r"afford|pay for|charge[sd]?\b|payment plans?|finance|free of charge|"
                        r"\b(is|are) (it|this|that|there a|the (first |initial )?(\w+ )?\w+) free\b(?! of)|"
                        r"\bcheaper\b|\bcheapest\b|package deals?|discounts?)", re.IGNORECASE)


# "how much does the injection actually hurt?": how much pain, not what it costs
_HOW_MUCH_HURT = re.compile(r"\bhow much\b(?![^.?!]*\b(costs?|price|pay|fees?|charge)\b)[^.?!]*\b(hurt\w*|pain\w*|sting\w*|ache\w*|sore)\b",
                            re.IGNORECASE)


_PRICE_WEIGHED = re.compile(r"\b(cheaper|cheapest|more expensive|less expensive|most expensive|costs? (more|less))\b",
                            re.IGNORECASE)
# "do you have any offers or packages?": the clinic's prices, no treatment word needed
_CLINIC_OFFERS = re.compile(r"\b(do|does|can|could|will) (you|the clinic|your clinic|they) (have|do|offer|run|give)\s+"
                            r"(any |a |special )*(offers?|packages?|package deals?|deals?|discounts?|promotions?|"
                            r"payment plans?)\b", re.IGNORECASE)


def asks_price(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A sentence that asks (a "?" or a question word first) names a price word and a
    treatment or session word, and no topic of the terminology is named in it; or asks
    about the clinic's offers or packages."""
    text = text or ""
    if asked(text) and _CLINIC_OFFERS.search(text) and not affirmed(entities, TOPIC_ENTITY):
        return True
    spans = question_spans(text) or [(m.start(), m.end()) for m in _SENTENCE.finditer(text)
                                     if m.group(0).strip().lower().startswith(QUESTION_START)]
    for start, end in spans:
        sentence = text[start:end]
        # ("does the consultation cost anything?": the clinic's answer on prices, which the
        # answer about a consultation does not give)
        # ("which one is cheaper, meso or PRP?": the treatments weighed by price are no topic asked)
        weighed = TREATMENT_NAMED_TOPICS if _PRICE_WEIGHED.search(sentence) else set()
        if _PRICE_ASK.search(sentence) and not _HOW_MUCH_HURT.search(sentence) and (_TREATMENT_WORD.search(sentence) or re.search(
                r"\b(course|prp|transplant|consultations?)\b", sentence, re.IGNORECASE)) and not any(
                e.get("entity") == TOPIC_ENTITY and e.get("value") != "consultation_info" and e.get("value") not in weighed
                and _inside(e, [(start, end)]) for e in entities or []):
            return True
    return False


# Topics a comparison may name beside its sides without asking something else: the
# kind of loss it is for ("for a receding hairline", "for women"), treatments in
# general, who can have a transplant. Another topic ("which hurts less?", "is PRP or meso safe in pregnancy?") is
# that topic's question.
COMPARISON_TOPICS = {"aga", "treatment_options", "men_women", "transplant_candidacy"}
# Words that weigh one thing against another beyond _COMPARE ("more proven than", "works
# faster than", "can meso replace finasteride?", "switch from minoxidil to meso").
_WEIGHS = re.compile(r"\b((more|less) \w+ than|(?!other\b)\w+er than|replac\w*|substitut\w*|switch\w* (from|to)|"
                     r"best|either|prefer\w*|choose|choice)\b", re.IGNORECASE)
# An aspect the comparison answer does not weigh (what it costs, whether it hurts, who
# may have it): that aspect's own answer.
_OTHER_ASPECT = re.compile(r"\b(cheap\w*|expensive|costs?|costly|pric\w*|afford\w*|hurt\w*|pain\w*|safe\w*|"
                           r"risk\w*|side effects?|pregnan\w*|breastfeed\w*)\b", re.IGNORECASE)
# "meso or minoxidil?", "PRP and/or mesotherapy": two sides with "or" between them.
_OR_BETWEEN = re.compile(r"(?![^/]*\b(before|after|then|first)\b)[\s,/]*(\w+\s+){0,2}(or|and/or)(\s+\w+){0,2}\s*",
                         re.IGNORECASE)  # (not "minoxidil before or after a derma roller": an order)
_SHORT_HEADING = 12  # "Mesotherapy vs PRP" without a question mark: a heading that asks


def compared(entities: Iterable[Dict[str, Any]], text: str, sides: Dict[str, Iterable[str]]) -> List[str]:
    """The sides a question weighs against each other, in the order named ("is
    mesotherapy better than PRP?" -> [mesotherapy, prp]), or [] when it is no
    comparison of two or more of ``sides`` (side -> its "entity:value" mentions, as
    knowledge.yml ``comparisons`` lists them). A comparison word in the sentence that
    asks ("better", "vs", "difference", "instead of"...), or "X or Y" between two
    sides; no condition and no other topic asked ("which hurts less, PRP or meso?" is
    about pain; "is PRP or meso safe in pregnancy?" about who can have it)."""
    text = text or ""
    entities = list(entities or [])
    side_of = {m: side for side, mentions in sides.items() for m in mentions}
    named = sorted((e for e in entities if not e.get("role") and isinstance(e.get("start"), int)
                    and f"{e.get('entity')}:{e.get('value')}" in side_of), key=lambda e: e["start"])
    order: List[str] = []
    for e in named:
        side = side_of[f"{e.get('entity')}:{e.get('value')}"]
        if side not in order:
            order.append(side)
    if len(order) < 2 or affirmed(entities, "condition") or AFTER_PROCEDURE.search(text):
        return []  # (the weeks after a transplant are that treatment's question)
    side_topics = {m.split(":", 1)[1] for m in side_of if m.startswith(TOPIC_ENTITY + ":")}
    spans = question_spans(text) or ([(0, len(text))] if asked(text) or len(text.split()) <= _SHORT_HEADING else [])
    # a topic of the story ("it's a pain to apply every day. Is meso better than
    # minoxidil?") does not make the question about it; one in the question does
    asked_entities = [e for e in entities if not isinstance(e.get("start"), int) or _inside(e, spans)] if spans else entities
    if set(topics(asked_entities, text)) - side_topics - COMPARISON_TOPICS:
        return []
    asking = " ".join(text[start:end] for start, end in spans)
    if _OTHER_ASPECT.search(asking):
        return []
    if _COMPARE.search(asking) or _WEIGHS.search(asking):
        return order
    for first, second in zip(named, named[1:]):
        if side_of[f"{first['entity']}:{first['value']}"] != side_of[f"{second['entity']}:{second['value']}"] and (
                _inside(second, spans) and _OR_BETWEEN.fullmatch(text[first["end"]:second["start"]])):
            return order
    return []


# The time after another treatment ("scabs after my transplant", "gym after FUE", "2
# months out from surgery", "post-op"): that treatment's recovery.
AFTER_PROCEDURE = re.compile(
    r"\b(after|post|since|following|months? out from|weeks? out from|recover\w* from)\s+"
    r"((my|a|the|your|his|her|having|having had|getting|i had|i got|i've had)\s+)?"
    r"(\w+\s+){0,2}(transplant\w*|surgery|operation|procedure|fue|fut|dhi|implant\w*|grafts?|grafting|"
    r"microneedl\w*|micro-needl\w*|derma ?roll\w*)\b"
    r"|\bpost-?(op|operative|transplant|surgery|surgical)\b",
    re.IGNORECASE,
)


# Words that ask about the signs of a problem ("what are the signs of infection after
# FUE?", "is bleeding normal?"): the routing policy reads them as an aspect DHI's entry
# does not answer, and the other-treatment reply then adds the same-day signs.
CARE_SIGN_WORDS = r"infect\w*|bleed\w*|swell\w*|swollen|complications?|pus|fever|redness|inflam\w*"
CARE_SIGNS = re.compile(rf"\b({CARE_SIGN_WORDS})\b", re.IGNORECASE)


# Whether another treatment suits someone: an age, or "is it possible / would it rule
# out / am I eligible" ("what is the best age to get a hair transplant?", "is a
# transplant with psoriasis possible?").
_CANDIDACY = re.compile(
    r"\b(age|ages|aged|how old|years? old|year-old|too old|too young|young|younger|teens?|teenager\w*|possible|"
    r"impossible|rules? (it |me |you |them )?out|ruled out|eligib\w*|suitable|suit me|candidates?|qualify|allowed|"
    r"should i wait|when should (i|l|we|you|one) (have|get|do|start|consider)|twice|more than once|"
    r"(second|another) (hair )?(one|time|transplant\w*|procedure|surgery)|first (hair )?(transplant\w*|procedure|surgery)|"
    r"(transplant\w*|surgery|procedure|one|it) again|safe for (\w+ )?(patients|people|diabetics|smokers|someone|anyone)|"
    r"at \d{1,2}|i'?m \d{1,2}|i am \d{1,2}|\d{1,2} ?(years?|yrs?|y/?o)(?!\s+ago))\b",
    re.IGNORECASE,
)


def asks_candidacy(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A question whether another treatment suits someone: an age or eligibility word, or
    a health condition named ("would being a diabetic rule out a transplant?"). Not the
    time after it, nor signs of a problem (those are its recovery)."""
    text = text or ""
    if AFTER_PROCEDURE.search(text) or CARE_SIGNS.search(text):
        return False
    return bool(_CANDIDACY.search(text)) or bool(affirmed(entities, "condition"))


def asks_candidacy_in_question(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A sentence with a question mark names another treatment and asks whether it suits
    ("I just started to thin, when should I have my first hair transplant?"); a story
    told around an unrelated question ("My dad had a transplant at 50. I'm 25, what are
    my options?") does not."""
    text = text or ""
    named = [e for e in entities or [] if e.get("entity") == PROCEDURE_ENTITY and e.get("value") != MESOTHERAPY
             and e.get("role") not in ("negated",)]
    return any(
        any(_inside(e, [(start, end)]) for e in named) and asks_candidacy(entities, text[start:end])
        for start, end in question_spans(text)
    )


# "would this help?", "can mesotherapy stop it?", "is meso worth it for me?": whether
# the treatment would help, asked at the end of a story of hair loss.
_WOULD_IT_HELP = re.compile(
    r"\b(would|will|could|can|does|do|might|is|are)\s+(it|this|that|they|these|mesotherapy|meso|the (injections?|"
    r"treatments?|mesotherapy)|injections?|treatments?|mesotherapy|meso)\s+(\w+\s+)?"
    r"(help|work|benefit|be worth|worth it|make a difference|do anything|be (any )?good|be (an )?option)\b"
    r"|\b(would|will|could|can|does|might)\s+(mesotherapy|meso|the (injections?|treatment|mesotherapy)|injections)\s+"
    r"(\w+\s+)?(stop|fix|improve|slow|reverse|regrow|cure|counter\w*|thicken)\b",
    re.IGNORECASE)


def asks_if_treatment_helps(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A story of hair loss whose question asks whether the treatment would help ("My
    hairline is going. Would mesotherapy stop it?"): that question is answered (the
    evidence) before the hair-loss questions are offered. Another treatment named is
    that treatment's question."""
    text = text or ""
    if other_treatment(entities) or set(affirmed(entities, TOPIC_ENTITY)) & OTHER_TREATMENT_TOPICS:
        return False
    spans = question_spans(text) or [(m.start(), m.end()) for m in _SENTENCE.finditer(text)
                                     if m.group(0).strip().lower().startswith(QUESTION_START)]
    return any(_WOULD_IT_HELP.search(text[start:end]) for start, end in spans)


def after_other_procedure(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """The message is about the time after a treatment other than mesotherapy."""
    return bool(other_treatment(entities)) and bool(AFTER_PROCEDURE.search(text or ""))


def mentioned(entities: Iterable[Dict[str, Any]], entity: str) -> List[str]:
    """Values of every mention of ``entity``, whatever its role."""
    return _values(entities, entity, lambda role: True)


# "I want to die my hair red": "dye" misspelt, not a wish to die.
_DYE_MISSPELT = re.compile(r"^\s+(my|your|her|his|their|the|it|them)\b", re.IGNORECASE)


# A fever with a stiff neck, told in one sentence (signs of meningitis): an emergency,
# whatever words lie between them ("a fever of 40 and a really stiff neck").
_STIFF_NECK = re.compile(r"\b(stiff neck|neck (is|feels|was|got) (so |really |very |super )?stiff|can'?t (bend|move) my neck)\b",
                         re.IGNORECASE)


def _fever_with_stiff_neck(text: str) -> List[Dict[str, Any]]:
    """An emergency-sign mention for each sentence that tells a fever and a stiff neck
    now (not "years ago with meningitis")."""
    found = []
    for m in _SENTENCE.finditer(text or ""):
        sentence = m.group(0)
        neck = _STIFF_NECK.search(sentence)
        if neck and _FEVER.search(sentence) and not _TEMPERATURE_FINE.search(sentence) and not (
                _PAST_MARK.search(sentence) and not _NOW.search(sentence)):
            found.append({"entity": EMERGENCY_SIGN_ENTITY, "value": "emergency", "start": m.start() + neck.start(),
                          "end": m.start() + neck.end()})
    return found


def emergency_signs(entities: Iterable[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
    """The emergency-sign mentions that make a message an emergency: affirmed ones, and
    thoughts of suicide or self-harm even when told with doubt ("I might end my life"),
    unless negated or a misspelt "dye" ("want to die my hair"); and a fever told with a
    stiff neck."""
    signs = _fever_with_stiff_neck(text)
    for entity in entities or []:
        if entity.get("entity") != EMERGENCY_SIGN_ENTITY:
            continue
        if entity.get("value") == SELF_HARM:
            end = entity.get("end")
            if entity.get("role") == "negated" or (isinstance(end, int) and _span(entity, text or "").lower().endswith("die")
                                                   and _DYE_MISSPELT.match((text or "")[end:])):
                continue
        elif entity.get("role") or _habitual(entity, text or "") or _IDIOM_AFTER.match((text or "")[entity.get("end") or 0:]) or (
                _IDIOM_BEFORE.search((text or "")[:entity.get("start") or 0])):
            continue
        signs.append(entity)
    return signs


# "I can't breathe without my morning coffee": a figure of speech, not a sign.
_IDIOM_AFTER = re.compile(r"^\s+without\b", re.IGNORECASE)
# "the price nearly gave me a heart attack": the same figure of speech, said before.
_IDIOM_BEFORE = re.compile(r"\b(gave|give|giving|gives) (me|him|her|us) (a )?$|"
                           r"\b(he|she|they|he's|she's|they're|boss|mum|mom|dad|wife|husband|partner) (is |'s |are )?"
                           r"(going to|gonna) have (a )?$", re.IGNORECASE)
# "I faint at blood tests", "I tend to pass out with needles", "will I faint?": fainting
# that happens to the visitor at times or might happen, told as a worry about the
# treatment, not happening now. Only fainting: fear told beside chest pain or breathing
# ("I'm scared, I can't breathe") is an emergency.
_FAINTING = re.compile(r"\b(faint\w*|pass\w* out|black\w* out|collaps\w*)\b", re.IGNORECASE)
_HABIT_BEFORE = re.compile(r"\b(tend to|usually|always|often|sometimes|near|nearly|almost|would i|will i|could i|(the )?last time|"
                           r"(the )?one time|once when)\b"
                           r"[^.?!]{0,20}$", re.IGNORECASE)
_HABIT_AFTER = re.compile(r"^\s*(once\s+)?((at|when|whenever|with|during|from|if i see|at the sight of)\s+"
                          r"((a|an|the|my|his|her)\s+)?((last|first|previous|recent|latest|old)\s+)?(the sight|the sight of|blood|needles?|injections?|jabs?|shots?|vaccines?|"
                          r"vaccinations?|the dentist|dentist|seeing|(the )?gp|(the )?doctors?|a blood test|blood tests?|"
                          r"(the )?hospital)|after (giving|donating|having) blood|"
                          # "fainted once at the GP", "passed out twice as a teen": a few times, over
                          r"(once|twice|a few times|a couple of times)(?! (again|more))\b)\b",
                          re.IGNORECASE)
# "I fainted at a blood test in 2019", "I fainted once, years ago": fainting long over.
_LONG_AGO = re.compile(r"^[^.?!]{0,60}?\b(in (19|20)\d\d|(\w+ )?years ago|(a|one|two|few|couple of) (years?|decades?) ago|"
                       r"last year|as a (kid|child|teen\w*|student)|when i was (a |younger|little|\d+)|in the past|"
                       r"years back|long ago|ages ago|after eating|when i eat|from eating|from a bee sting|"
                       r"last (summer|winter|spring|autumn|fall|month))\b", re.IGNORECASE)


def _habitual(entity: Dict[str, Any], text: str) -> bool:
    """Fainting told as a habit, a worry or long over ("I faint at blood tests", "fainted
    at a blood test in 2019"), or another sign told as had long ago or from another cause
    ("I've had a swollen lip after eating nuts", "I had chest pain years ago"). Never when
    the sentence also tells of now ("I just fainted, I fainted last year too")."""
    start, end = entity.get("start"), entity.get("end")
    if not (isinstance(start, int) and isinstance(end, int)) or _NOW.search(_clause_at(text, start)):
        return False
    if not _FAINTING.search(text[start:end]):
        return bool(_TOLD_AS_HAD.search(text[:start]) and _LONG_AGO.match(text[end:]))
    return bool(_HABIT_BEFORE.search(text[:start]) or _HABIT_AFTER.match(text[end:]) or _LONG_AGO.match(text[end:]))


# "I've had a swollen lip ...", "I once had chest pain ...": a sign told as had, not as now.
_TOLD_AS_HAD = re.compile(r"(\b((i|he|she|they)('ve|'s| have| has)? had|i once had|i've once had|i used to get|i got|"
                          r"my \w+ had|my \w+'s|his|her|their)|^\s*had|[.!?]\s*had)\s+(a |an |some )?$",
                          re.IGNORECASE)


def _clause_at(text: str, index: int) -> str:
    """The clause of ``text`` (between commas, semicolons, "and", "but") holding ``index``."""
    start, end = _sentence_span(text, index)
    sentence, offset = (text or "")[start:end], index - start
    position = 0
    for part in re.split(r"(,|;|\band\b|\bbut\b)", sentence):
        if position <= offset < position + len(part):
            return part
        position += len(part)
    return sentence
# Words of now: a sign told with them is happening, whatever else the sentence says.
_NOW = re.compile(r"\b(just|(?<!over )(?<!fine )(?<!gone )(?<!better )(?<!cleared )now|right now|today|tonight|"
                  r"this (morning|afternoon|evening)|minutes? ago|an hour ago|hours ago|currently|still|keep|keeps)\b",
                  re.IGNORECASE)


# "I once had a bad reaction to a B12 shot", "chest pain last year, turned out to be
# heartburn": a story of the past
_PAST_STORY = re.compile(r"\b(i once|once had|(\w+ )?years ago|last (year|summer|winter|spring|autumn|month)|"
                         r"when i was (a |younger|little|\d+)|as a (kid|child|teen\w*)|in (19|20)\d\d|used to|"
                         r"turned out|all checked out|checked out fine)\b", re.IGNORECASE)


def alarm_told_as_past(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """No emergency sign of now: the signs named are told as history, a habit or a figure
    of speech (``emergency_signs`` keeps none of them), or none is named and the message
    tells of the past with no word of now ("I once had a really bad reaction to a B12
    shot, my whole arm swelled up"). For an emergency the classifier guessed alone."""
    entities = list(entities or [])
    text = text or ""
    if emergency_signs(entities, text):
        return False
    if any(e.get("entity") == EMERGENCY_SIGN_ENTITY for e in entities):
        return True
    return bool(_PAST_STORY.search(text)) and not _NOW.search(text)


def self_harm(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """The message tells of thoughts of suicide or self-harm (``emergency_signs``)."""
    return any(e.get("value") == SELF_HARM for e in emergency_signs(entities, text))


# "he's been thinking about killing himself", "she wants to end her life": another
# person's thoughts (the words of the mention say whose)
_SOMEONE_ELSES_HARM = re.compile(r"\b(himself|herself|themselves|themself|(his|her|their) (own )?life)\b", re.IGNORECASE)


def self_harm_of_someone_else(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Every mention of thoughts of suicide or self-harm is about another person ("my
    partner has been thinking about killing himself"): the crisis answer speaks to the
    one who worries for them."""
    mentions = [e for e in emergency_signs(entities, text) if e.get("value") == SELF_HARM]
    return bool(mentions) and all(_SOMEONE_ELSES_HARM.search(_span(e, text or "")) for e in mentions)


# "I had breast cancer three years ago", "a history of thyroid problems": a condition of
# the past, which the doctor must hear of but which "practitioners advise against it"
# does not fit. Only a tumour: an infection "I had yesterday" or a thyroid problem "I have
# had for years" is not over, and a birth is the postpartum topic's.
PAST_CONDITIONS = {"tumour", "infection"}
# An infection is over only when told so in strong words ("two years ago", "fully cleared"):
# "an infection I had last week" may not be.
_PAST_INFECTION = re.compile(r"\b((\w+ )?(years|months) ago|cleared( up)?|fully healed|healed|cured|resolved|"
                             r"treated and|all gone|went away|last (year|summer|winter|spring|autumn|fall)|sorted( it| out)?|"
                             r"got rid of it|long ago|in (19|20)\d\d|as a (kid|child|teenager))\b", re.IGNORECASE)
_PAST = re.compile(r"\b(had|have had|history of|used to have|recovered from|survived|survivor|was treated|"
                   r"was diagnosed|finished (my )?(chemo\w*|treatment|radiotherapy)|in remission|all clear|"
                   r"(years|months) ago|cured)\b", re.IGNORECASE)


def told_as_past(entity: Dict[str, Any], text: str) -> bool:
    """A condition named in a sentence that tells it as over ("I had cancer 3 years ago")."""
    if entity.get("value") not in PAST_CONDITIONS or not isinstance(entity.get("start"), int):
        return False
    past = _PAST_INFECTION if entity.get("value") == "infection" else _PAST
    return any(m.start() <= entity["start"] < m.end() and past.search(m.group(0)) for m in _SENTENCE.finditer(text or ""))


def without_past_conditions(entities: Iterable[Dict[str, Any]], text: str) -> str:
    """``text`` without the sentences that tell a condition as over ("Two years ago I had a
    scalp infection that was fully cleared."): what is left is what is happening."""
    text = text or ""
    past = [e["start"] for e in entities or [] if e.get("entity") == "condition" and not e.get("role")
            and told_as_past(e, text)]
    return "".join(m.group(0) for m in _SENTENCE.finditer(text) if not any(m.start() <= i < m.end() for i in past))


def not_negated(entities: Iterable[Dict[str, Any]], entity: str) -> List[str]:
    """Values of the mentions of ``entity`` that are not negated. For safety signs an
    uncertain mention ("I might have alopecia areata") counts: a doctor should see it."""
    return _values(entities, entity, lambda role: role != "negated")


# "what happens if someone is allergic?", "just asking in general": a question about
# people in general, not the visitor's own condition.
_IN_GENERAL = re.compile(r"\b((if|when|for) (someone|somebody|anyone|anybody|a person|people|patients?|a patient)\b|"
                         r"in general\b|just asking|just curious|out of curiosity)", re.IGNORECASE)


def asks_in_general(text: str) -> bool:
    return bool(_IN_GENERAL.search(text or ""))


# "I had a bald patch as a teenager, it grew back 20 years ago", "my son had alopecia as a
# kid but grew out of it": a sign over long ago, not one to see a doctor about now.
_RESOLVED = re.compile(r"\b(grew back|grown back|grew out of it|grown out of it|went away|cleared up|resolved|"
                       r"got better|recovered|in remission|sorted now|fully over)\b", re.IGNORECASE)
_PAST_MARK = re.compile(r"\b(years ago|\d+ years? ago|last year|as a (kid|child|teen\w*|boy|girl|student)|when (i|he|she) was "
                        r"(a |younger|little|\d+)|in (19|20)\d\d|grew out of it|grown out of it|years back|long ago)\b",
                        re.IGNORECASE)
RESOLVABLE_FLAGS = {"patchy_loss", "child", "sudden_loss", "total_loss"}
# "the results are patchy", "patchy regrowth", "the grafts came in patchy": how a
# treatment's growth looks, not patches of hair loss.
_PATCHY_RESULT_BEFORE = re.compile(r"\b(results?|growth|regrowth|grafts?|coverage|density)\s+(are|is|were|was|look|looks|"
                                   r"looking|came in|grew in|grew back|grown in|have been|seem|seems)\s+"
                                   r"(a bit |a little |quite |very |really |kind of |still )?$", re.IGNORECASE)
# "completely bald on top", "completely bald area", "no hair left at the crown": one
# part of the head (pattern hair loss, whose answer says what can be done), not all hair.
_PART_OF_HEAD = re.compile(r"^\s*(areas?|spots?|patch(es)?|parts?|bits?|on (the )?top|at the (top|crown|front|back|temples?)|"
                           r"on the (crown|front|sides?|temples?)|in (the )?(front|middle)|at my (crown|temples?)|"
                           r"on my (crown|temples?))\b", re.IGNORECASE)
_PATCHY_RESULT_AFTER = re.compile(r"^\s+(results?|growth|regrowth|coverage|density|grafts?)\b", re.IGNORECASE)
# "psoriasis on my elbows": a skin sign named for another part of the body.
_ELSEWHERE_AFTER = re.compile(r"^\s*(on|of|in) (my|his|her|the) (elbows?|knees?|legs?|arms?|back|hands?|feet|skin|body|"
                              r"face|chest|stomach|nails?)\b", re.IGNORECASE)


def _sentence_span(text: str, index: int) -> Tuple[int, int]:
    """(start, end) of the sentence of ``text`` that holds character ``index`` ((0, 0): none)."""
    for m in _SENTENCE.finditer(text or ""):
        if m.start() <= index < m.end():
            return m.start(), m.end()
    return 0, 0


def _sentence_at(text: str, index: int) -> str:
    """The sentence of ``text`` that holds character ``index``."""
    start, end = _sentence_span(text, index)
    return (text or "")[start:end]


def resolved_long_ago(entities: Iterable[Dict[str, Any]], flag: str, text: str) -> bool:
    """Every mention of ``flag`` is told as over long ago: a resolution and a past time
    within the next sentence or so after it ("a bald patch as a kid that grew back, 30
    years ago"). Only RESOLVABLE_FLAGS can be; the others are never passed over."""
    if flag not in RESOLVABLE_FLAGS or not text:
        return False
    return _every_mention(entities, flag, lambda e: bool(
        _RESOLVED.search(text[e["start"]:e["start"] + 120]) and _PAST_MARK.search(text[max(0, e["start"] - 40):e["start"] + 120])))


EFFECT_CONDITIONS = {"allergy", "infection"}  # conditions a treatment can also cause


def asked_as_an_effect(entity: Dict[str, Any], text: str) -> bool:
    """An allergy or an infection named in a sentence that asks whether the treatment
    causes it, or what if it happened ("is it true meso can cause allergic reactions?",
    "what if I get an infection after the treatment?"): a risk asked about."""
    start = entity.get("start")
    if entity.get("value") not in EFFECT_CONDITIONS or not isinstance(start, int):
        return False
    sentence = _sentence_at(text or "", start)
    return bool(_TREATMENT_CAUSE.search(sentence)) or is_hypothetical(sentence)


def is_hypothetical(text: str) -> bool:
    """A question about what could happen ("can it cause pus?", "if I get a fever"),
    not a report of what is happening ("I have pus since yesterday")."""
    text = text or ""
    if _CONDITIONAL.search(text):
        return True
    return bool(_HYPOTHETICAL.search(text)) and not _REPORT.search(text)


# Words that point at the treatment (or a treatment) a question is about.
TREATMENT_POINTER = re.compile(r"\b(it|this|that|mesotherapy|meso|treatments?|injections?|sessions?)\b", re.IGNORECASE)
# "will it grow back?", "when will it stop?": an "it" that is the hair, not the treatment.
_HAIR_IT = re.compile(r"\b((will|does|did|would|can|could|should) it (ever |all |just )?(grow|come) back|it (grows?|grew|comes?|came) back|"
                      r"when (will|does|would) it (stop|settle( down)?|get better|calm down|slow down))\b", re.IGNORECASE)


def points_at_treatment(text: str) -> bool:
    """A word that points at a treatment ("it", "this", "the injections"), not an "it"
    that is the hair ("will it grow back?")."""
    return bool(TREATMENT_POINTER.search(_HAIR_IT.sub(" ", text or "")))
# "is it normal to ...", "is it common for ...": an "it" that points at nothing.
_EMPTY_IT = re.compile(
    r"\b(is|was|isn't|isnt|would|will)\s+it\s+(\w+\s+)?(normal|common|usual|unusual|typical|possible|true|bad|ok|okay|"
    r"serious|natural|safe)\s+(to|for|that|if|when)\b",
    re.IGNORECASE,
)


def about_own_hair_only(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A question about one's hair loss that names no treatment and points at none ("how
    much hair falling out is normal?", "is it normal to have a small bald spot?"): a guess at mesotherapy's own facts (its sessions,
    side effects, photos) alone would answer another question. (Beside a topic the
    visitor named, a sure guess is still answered too: dropping it lost a right answer
    on the held-out counts, 2026-12-03.)"""
    entities = list(entities or [])
    return (losing_hair(entities, text) and not TREATMENT_POINTER.search(_EMPTY_IT.sub(" ", text or ""))
            and not mentioned(entities, PROCEDURE_ENTITY)
            and not set(mentioned(entities, TOPIC_ENTITY)) & TREATMENT_NAMED_TOPICS)


def losing_hair(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Hair loss itself named (not only an itchy or flaky scalp; "lost my job" is not)."""
    text = text or ""
    return bool(set(affirmed(entities, "hair_problem")) & HAIR_LOSS_PROBLEMS) or bool(
        _HAIR.search(text) and _LOSS.search(text)) or bool(_GOING_BALD.search(text))


# "Can fasting make you go bald?": hair loss named without the word hair.
_GOING_BALD = re.compile(r"\b((go|goes|going|gone|went|turn\w*) bald|balding|baldness)\b", re.IGNORECASE)


_WEIGHT = re.compile(r"\b(weight|kilos?|kg|pounds|lbs|stone)\b", re.IGNORECASE)


# "I'm 12 stone", "I'm 16 weeks postpartum": a number that is not an age.
_UNIT_AFTER = re.compile(r"^\s*(st|stone|kg|kgs|kilos?|lbs?|pounds|weeks?|wks?|months?|days?|hours?|cm|%|percent|"
                         r"times|sessions?|grafts?)\b", re.IGNORECASE)


def _ages_are_units(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """Every child mention ends in a number followed by a unit ("I'm 12 stone")."""
    ages = [e for e in entities if e.get("entity") == RED_FLAG_ENTITY and e.get("value") == "child"]
    return bool(ages) and all(
        isinstance(e.get("end"), int) and _span(e, text)[-1:].isdigit() and _UNIT_AFTER.match(text[e["end"]:])
        for e in ages)


def span_text(entity: Dict[str, Any], text: str) -> str:
    """The words of ``text`` a mention covers ("" without a span)."""
    return _span(entity, text)


def _span(entity: Dict[str, Any], text: str) -> str:
    start, end = entity.get("start"), entity.get("end")
    return text[start:end] if isinstance(start, int) and isinstance(end, int) else ""


# An operation or a medicine for losing weight ("after my gastric sleeve", "weight loss
# surgery", "since starting Ozempic"): losing weight on purpose.
WEIGHT_LOSS_TREATMENT = re.compile(
    r"\b((weight[- ]loss|bariatric|gastric|sleeve|lap[- ]band|bypass)\s+(surgery|operation|op)|"
    r"gastric (bypass|sleeve|band)|bariatric|sleeve gastrectomy|ozempic|wegovy|mounjaro|semaglutide|tirzepatide)\b",
    re.IGNORECASE,
)


def _weight_loss_with_a_diet(entities: List[Dict[str, Any]], text: str) -> bool:
    """Weight loss is the only systemic sign named, and a diet, a weight-loss medicine or
    an operation for it is named as its cause ("I lost weight on keto"): losing weight on
    purpose is not the unexplained weight loss that needs a doctor first. Fever,
    tiredness or night sweats keep the red flag."""
    systemic = [e for e in entities if e.get("entity") == RED_FLAG_ENTITY and e.get("value") == "systemic"
                and e.get("role") != "negated"]
    causes = [e for e in entities if e.get("entity") == TOPIC_ENTITY and e.get("value") == CRASH_DIET
              and not e.get("role") and not _WEIGHT.search(_span(e, text))]
    on_purpose = bool(causes) or bool(WEIGHT_LOSS_TREATMENT.search(text or ""))
    return bool(systemic) and on_purpose and all(_WEIGHT.search(_span(e, text)) for e in systemic)


# Sudden heavy shedding, or a fever, told with the birth or the illness that explains
# them (telogen effluvium): the answer on that cause, which says when to see a doctor,
# not the red flag.
TRIGGER_FLAGS = {"sudden_loss", "systemic"}
TRIGGER_TOPICS = {"postpartum", "after_illness"}
# Hair coming out in clumps weeks into chemotherapy is what the cancer answer explains
# (ask the cancer team); a fever with it is not, and stays a red flag.
SHEDDING_TRIGGER_TOPICS = TRIGGER_TOPICS | {"cancer_treatment"}
_FEVER = re.compile(r"\b(fever\w*|temperature)\b", re.IGNORECASE)
# "glandular fever last year", "hay fever": an illness's name, not a fever now.
_ILLNESS_NAMED_FEVER = re.compile(r"\b(glandular|scarlet|hay|yellow|dengue|typhoid|rheumatic|lassa|spotted)\s+$", re.IGNORECASE)
# A son or a daughter named in a story of one's own hair loss ("my daughter suggested I
# look into treatments", "before my son's graduation") is no child losing hair.
_CHILD_WORD = re.compile(r"\b(sons?|daughters?|child|children|kids?|boys?|girls?|teens?|teenagers?|toddlers?|"
                         r"grandsons?|granddaughters?|stepsons?|stepdaughters?|infants?)\b", re.IGNORECASE)
_OWN_LOSS = re.compile(r"\b(my (hair|hairline|temples?|crown|scalp|parting|part|thinning|own)|"
                       r"i('m| am|'ve been| have been| was)? (losing|shedding|thinning|going bald)|i('ve| have)? lost)\b",
                       re.IGNORECASE)
_THIRD_PERSON = re.compile(r"\b(his|her|their|he|she|they|he's|she's)\b", re.IGNORECASE)
# "my daughter (she's 27)", "my son, 24,", "my 30 year old son": a grown-up son or daughter.
_GROWN_UP = re.compile(r"\b(sons?|daughters?|kids?|boys?|girls?|child)\b[^.?!\d]{0,16}\b(1[89]|[2-9]\d)\b(?!\s*(months?|weeks?|mo)\b)"
                       r"|\b(1[89]|[2-9]\d)[\s-]*(years?|yrs?)?[\s-]*(old|yo|y/o)?[\s-]+(sons?|daughters?)\b", re.IGNORECASE)
# "I'm a teenager and losing my hair": the visitor is the child.
_FIRST_PERSON_CHILD = re.compile(r"\b(i'?m|i am|im|as)\s+(a |an )?(\w+ )?(teen\w*|child|kid|minor)\b", re.IGNORECASE)
_SCAR_WORD = re.compile(r"(scar\w*|keloids?|scar-like)", re.IGNORECASE)  # a scar, not a scarring alopecia named


def _trigger_named(entities: Iterable[Dict[str, Any]], text: str, topics=TRIGGER_TOPICS) -> bool:
    """A birth or an illness (one of ``topics``) is named as the cause, in words other
    than a fever ("after covid", "since my baby"; not "I have a fever")."""
    return any(e.get("entity") == TOPIC_ENTITY and e.get("value") in topics and not e.get("role")
               and not _FEVER.search(_span(e, text)) for e in entities or [])


def _flag_spans(entities: Iterable[Dict[str, Any]], flag: str, text: str) -> List[str]:
    return [_span(e, text) for e in _flag_mentions(entities, flag)]


def _flag_mentions(entities: Iterable[Dict[str, Any]], flag: str) -> List[Dict[str, Any]]:
    """The mentions of red flag ``flag`` that are not negated."""
    return [e for e in entities or []
            if e.get("entity") == RED_FLAG_ENTITY and e.get("value") == flag and e.get("role") != "negated"]


def _every_mention(entities: Iterable[Dict[str, Any]], flag: str, test) -> bool:
    """Every placed mention of red flag ``flag`` passes ``test`` (and there is one)."""
    mentions = [e for e in _flag_mentions(entities, flag) if isinstance(e.get("start"), int)]
    return bool(mentions) and all(test(e) for e in mentions)


# Body hair told as growing, or wished thicker: PCOS's extra facial hair, a beard one
# wants fuller. A word of losing it beside the mention keeps the red flag ("my beard is
# falling out in patches, how do I get it fuller?").
_BODY_HAIR_GROWTH = re.compile(r"\b(full(er)?|thick(er)?|grow(s|ing|n)?|grew|more of it|excess\w*|out of control|"
                               r"unwanted|too much|so much|extra|hirsut\w*|coarse|dark(er)?)\b", re.IGNORECASE)
_BODY_HAIR_LOST = re.compile(r"\b(fall\w*|fell|los[ei]\w*|lost|bald\w*|gone|missing|shed\w*|coming out|came out|"
                             r"come out|disappear\w*|bare|alopecia|(won'?t|not|doesn'?t|never|stopped) grow\w*)\b",
                             re.IGNORECASE)
# The meaning of a word asked, right before it ("what do you mean by clumps", "what counts
# as scaly"): the word is no sign told.
_MEANING_ASKED = re.compile(r"\b(mean(t)? by|counts? as|counted as|define|definition of|meaning of)\s+(a |an |the )?$",
                            re.IGNORECASE)
_LASHES_OR_BROWS = re.compile(r"eyebrow|eyelash|lash", re.IGNORECASE)
_BEARD_WORD = re.compile(r"\b(beard|facial hair|stubble|moustache|mustache)\b", re.IGNORECASE)
_BEARD_AFTER = re.compile(r"\s*(beard|facial hair|stubble|moustache|mustache)\b", re.IGNORECASE)


def _body_hair_grows(entities: List[Dict[str, Any]], text: str, mention: Dict[str, Any]) -> bool:
    """A body-hair mention that speaks of growth, not loss: no word of losing hair in
    its clause, and a word of growth in the message or PCOS named (whose extra facial
    hair is a sign of it)."""
    if _BODY_HAIR_LOST.search(_clause_at(text, mention["start"])) or _LASHES_OR_BROWS.search(_span(mention, text)):
        return False  # (eyebrows and eyelashes do not grow in excess: always the red flag)
    return bool(_BODY_HAIR_GROWTH.search(text)) or "pcos" in affirmed(entities, TOPIC_ENTITY)


def _a_child_loses_hair(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    """A child mention is about a child losing hair: an age ("I'm 15", "my 8 year old"),
    or a sentence with hair loss in it that names the child or speaks of him or her and
    not of the visitor's own hair."""
    spans = _flag_spans(entities, "child", text)
    if any(not _CHILD_WORD.search(span) for span in spans) or _FIRST_PERSON_CHILD.search(text or ""):
        return True  # an age, a "little boy", "I'm a teenager": the loss is theirs
    if _GROWN_UP.search(text or ""):
        return False  # "my daughter (she's 27)": a grown-up, whose loss is no child's
    for sentence in _SENTENCE.finditer(text or ""):
        words = sentence.group(0)
        if _LOSS.search(words) and (_CHILD_WORD.search(words) or _THIRD_PERSON.search(words)) and (
                not _OWN_LOSS.search(words) or _THIRD_PERSON.search(words)):
            return True
    return False


# Red flags that are themselves hair loss ("it comes out in clumps", "a bald patch").
LOSS_FLAGS = {"sudden_loss", "patchy_loss", "total_loss"}


def about_losing_hair(entities: Iterable[Dict[str, Any]], text: str) -> bool:
    entities = list(entities or [])
    return (bool(affirmed(entities, "hair_problem")) or bool(_LOSS.search(text or ""))
            or bool(LOSS_FLAGS & set(not_negated(entities, RED_FLAG_ENTITY))))


# Cancer treatment now, and a temperature told now ("on chemo and my temp is 38.4",
# "my partner is having chemotherapy and has a fever tonight").
_CANCER_TREATMENT = re.compile(r"\b(chemo\w*|radiotherapy|radiation (therapy|treatment)|immunotherapy|"
                               r"cancer (treatment|drugs?|medicines?)|oncolog\w*)\b", re.IGNORECASE)
_TEMPERATURE = re.compile(r"\b(fever\w*|temperature|temp|shiver\w*|chills|rigou?rs|hot and cold)\b|"
                          r"\b(3[89](\.\d)?|10[0-4](\.\d)?)\s*(°|º|degrees\b|c\b|f\b)", re.IGNORECASE)
_TEMPERATURE_FINE = re.compile(r"\b(temp|temperature)\s+(is|was|has been)\s+(normal|fine|ok|okay|good)\b|\bno (fever|temperature)\b",
                               re.IGNORECASE)


def cancer_fever(text: str) -> bool:
    """A temperature told with a cancer treatment that is not long over, and not asked
    as a what-if ("what if I get a fever during chemo?")."""
    text = text or ""
    if not any(not (_PAST_MARK.search(clause) and not _NOW.search(clause))  # "chemo 10 years ago and ..., now"
               for clause in (_clause_at(text, m.start()) for m in _CANCER_TREATMENT.finditer(text))):
        return False
    for m in _TEMPERATURE.finditer(text):
        sentence = _sentence_at(text, m.start())  # (an "if" in another sentence changes nothing)
        if not is_hypothetical(sentence) and not _TEMPERATURE_FINE.search(sentence):
            return True
    return False


def safety_route(
    entities: Iterable[Dict[str, Any]], signals: Optional[Dict[str, Any]], text: str
) -> Tuple[Optional[str], List[str]]:
    """(route, reasons) for a message: ``(COMPLICATION, signs)``, ``(RED_FLAG, reasons)``
    or ``(None, [])``. Reasons are ``red_flag`` concept ids (and ``scalp_infection``)."""
    entities = list(entities or [])
    text = text or ""
    injection = bool((signals or {}).get("injection_context"))
    hypothetical = is_hypothetical(text)
    signs = not_negated(entities, COMPLICATION_ENTITY)
    flags = not_negated(entities, RED_FLAG_ENTITY)

    if injection and not hypothetical:
        if signs:
            return COMPLICATION, signs
        if "systemic" in flags:  # a fever after an injection
            return COMPLICATION, ["systemic"]

    reasons: List[str] = []
    if cancer_fever(text):
        reasons.append(CANCER_FEVER)
        flags = [f for f in flags if f != "systemic"]  # the fever is said there, more urgently
    if asks_if_treatment_causes(text):
        flags = []  # "can mesotherapy cause bald patches?": the side effects answer it
    for flag in flags:
        if flag in NEEDS_LOSS_CONTEXT and not about_losing_hair(entities, text):
            continue
        if flag == "scarring" and not about_losing_hair(entities, text) and not _SCALP_OR_HAIR.search(text) and all(
                _SCAR_WORD.fullmatch(span.strip()) for span in _flag_spans(entities, flag, text)):
            continue  # "I get keloids on my chest": scars elsewhere, no scarring hair loss
        if flag == SCALP_SYMPTOMS and _every_mention(
                entities, flag, lambda e: isinstance(e.get("end"), int) and bool(_ELSEWHERE_AFTER.match(text[e["end"]:]))):
            continue  # "mild psoriasis on my elbows, no scalp involvement": not the scalp
        if flag == "systemic" and _every_mention(entities, flag, lambda e: bool(
                _PAST_MARK.search(_sentence_at(text, e["start"])) and not _NOW.search(_sentence_at(text, e["start"])))):
            continue  # "glandular fever with a high temperature, twenty years ago": long over
        if flag == "systemic" and _weight_loss_with_a_diet(entities, text):
            continue  # the diet's answer says when weight loss needs a doctor
        if flag == "systemic" and _every_mention(entities, flag, lambda e: bool(_ILLNESS_NAMED_FEVER.search(text[:e["start"]]))):
            continue  # "since I had glandular fever": the illness's name, no fever now
        if flag == "patchy_loss" and _every_mention(entities, flag, lambda e: bool(
                _PATCHY_RESULT_BEFORE.search(text[max(0, e["start"] - 40):e["start"]])
                or _PATCHY_RESULT_AFTER.match(text[e["end"]:]))):
            continue  # "the results of my transplant are patchy": uneven growth, no bald patch
        if flag == "total_loss" and _every_mention(entities, flag, lambda e: bool(_PART_OF_HEAD.match(text[e["end"]:]))):
            continue  # "completely bald on top", "a completely bald area": one part of the head, not all hair
        if flag in ("patchy_loss", "total_loss") and _every_mention(entities, flag, lambda e: _feared_later(text, e)):
            continue  # "worried that I may have bald spots in the future": a fear of later, none now
        if _every_mention(entities, flag, lambda e: bool(_CONTRASTED.search(text[max(0, e["start"] - 40):e["start"]]))):
            continue  # "gaps of thinning rather than bald spots": named to say it is not that
        if resolved_long_ago(entities, flag, text):
            continue  # "a bald patch as a teenager, it grew back 20 years ago"
        if _every_mention(entities, flag, lambda e: bool(_MEANING_ASKED.search(text[max(0, e["start"] - 40):e["start"]]))):
            continue  # "not sure what you mean by clumps?", "whats counted as scaly?": a word asked about
        if flag == "body_hair_loss" and _every_mention(entities, flag, lambda e: _body_hair_grows(entities, text, e)):
            continue  # "pcos, thinning on top, facial hair too": growth, not loss
        if flag == "patchy_loss" and _every_mention(entities, flag, lambda e: bool(
                _BEARD_AFTER.match(text[e["end"]:]) or _BEARD_WORD.search(_clause_at(text, e["start"])))
                and _body_hair_grows(entities, text, e)):
            continue  # "my patchy beard, I want it fuller": a sparse beard wished thicker
        if flag == "child" and (_BIRTH.search(text) or _ages_are_units(entities, text)
                                or not _a_child_loses_hair(entities, text)):
            continue
        if flag in TRIGGER_FLAGS and _trigger_named(
                entities, text, SHEDDING_TRIGGER_TOPICS if flag == "sudden_loss" else TRIGGER_TOPICS) and (
                flag != "systemic" or all(_FEVER.search(s) for s in _flag_spans(entities, flag, text))):
            continue  # shedding in clumps months after a birth or a fever: that cause's answer says when to see a doctor
        if flag in ("scalp_symptoms", "systemic") and injection:
            continue  # soreness after a session is aftercare; a fever question is answered as one
        if flag == SCALP_SYMPTOMS and after_other_procedure(entities, text):
            continue  # scabs or redness after a transplant: its recovery, for the doctor who did it
        reasons.append(flag)
    if (
        ITCHY_SCALP in affirmed(entities, "hair_problem") and losing_hair(entities, text)
        and not injection and not asks_if_treatment_causes(text) and SCALP_SYMPTOMS not in reasons
    ):
        reasons.append(SCALP_SYMPTOMS)  # an itchy scalp with hair loss: a doctor should look
    if CHANGING_MOLE not in reasons and not hypothetical and _changing_spot(text):
        reasons.append(CHANGING_MOLE)  # "a mole on my scalp that's been bleeding"
    if signs and not injection and not hypothetical:
        reasons.append(SCALP_INFECTION)
    return (RED_FLAG, reasons) if reasons else (None, [])


CHANGING_MOLE = "changing_mole"
# A mole, sore or lump told with bleeding, growth, change or no healing soon after it
# ("a mole on my scalp that's been bleeding", "a sore that won't heal"), not denied.
_CHANGING_SPOT = re.compile(r"\b(moles?|a sore|the sore|sores|lumps?(?! of hair)|growths?)\b[^.?!]{0,40}?\b(bleed\w*|bled|"
                            r"changed|changing|growing(?! back)|grown(?! back)|getting bigger|got bigger|"
                            r"(won'?t|doesn'?t|does not|never|not) heal\w*|not healing)\b", re.IGNORECASE)
_SPOT_DENIED = re.compile(r"\b(no|not|never|hasn'?t|hasnt|isn'?t|isnt|doesn'?t|doesnt)\s+(\w+\s+)?(bleed\w*|chang\w*|grow\w*)\b",
                          re.IGNORECASE)


def _changing_spot(text: str) -> bool:
    return any(not _SPOT_DENIED.search(m.group(0)) for m in _CHANGING_SPOT.finditer(text or ""))
