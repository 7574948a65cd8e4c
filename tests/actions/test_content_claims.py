"""What visitors read says only what the evidence supports (issue 12 section 3), and
the entries for questions beyond the article (issue 11 section 1) are complete.

Visitor-facing texts: knowledge answers, variants and titles, claims, the notes on
the article's claims (sources.yml), messages, the screening advice and the
domain's responses.
"""
import re
from pathlib import Path

import pytest
import yaml

from actions import content
from scripts.reading_level import visitor_texts
from tests.actions.helpers import DOMAIN

ROOT = Path(__file__).resolve().parents[2]
TERMINOLOGY = yaml.safe_load((ROOT / "data" / "content" / "terminology.yml").read_text(encoding="utf-8"))

TOPICS = [
    "pain", "downtime", "aftercare", "session_length", "results_timeline", "men_women", "prp",
    "drug_mesotherapy", "minoxidil", "finasteride", "transplant_candidacy", "postpartum", "after_illness",
    "stress", "thyroid", "iron_deficiency", "pcos", "crash_diet", "alopecia_areata",
    "infection_signs", "who_to_see", "cancer_treatment", "supplements",
]
NEW_CLAIMS = ["nourishing", "split_ends", "itchy_scalp", "root_volume"]


def _texts():
    texts = list(visitor_texts())
    for claim_id, claim in content.claims().items():
        texts.append((f"claim:{claim_id}/summary", claim["summary"]))
    for entry_id, entry in content.knowledge_entries().items():
        if entry.get("title"):
            texts.append((f"knowledge:{entry_id}/title", entry["title"]))
    for item_id, item in content.screening_items().items():
        texts.append((f"screening:{item_id}", f"{item['label']}. {item['advice']}."))
    return texts


TEXTS = _texts()

# Always wrong, whatever the sentence around them.
BANNED = {
    "credits nutrients 'at best' / 'at most'": re.compile(r"\bat (?:best|most)\b", re.I),
    "a nutrient 'top-up'": re.compile(r"\btop[- ]?ups?\b", re.I),
    "'not a treatment that ... for everyone'": re.compile(r"\bnot a (?:treatment|cure|fix) that\b", re.I),
    "'works wonders'": re.compile(r"\bwork(?:s|ing)? wonders\b", re.I),
    "weak or thin evidence (there is none for nutrient mixes)": re.compile(
        r"\bevidence\b[^.\n]{0,60}\b(?:weak|weaker|thinner|flimsy)\b|\b(?:weak|weaker|thinner|flimsy)\b[^.\n]{0,30}\bevidence\b",
        re.I),
    "'follicles destroyed' stated as fact": re.compile(
        r"\bfollicles?\b[^.\n]{0,30}\b(?:destroyed|killed|dead|lost to)\b|\b(?:destroyed|killed)\b[^.\n]{0,20}\bfollicles?\b",
        re.I),
    "the assistant decides a contraindication": re.compile(
        r"\b(?:is|are) (?:a|the) reason not to have it\b|"
        r"\byou (?:can't|cannot|can not|must not|mustn't|should not|shouldn't) have (?:it|mesotherapy|this treatment)\b",
        re.I),
}

_SUBJECT = r"(?:mesotherapy|meso|it|nutrients?|nutrient (?:injections?|mix(?:es)?)|injections?|the mix|vitamins?|minerals?|supplements?)"
_VERB = r"(?:help|work|improve|benefit|boost|nourish|strengthen|stop|regrow|fix|top)"
# A benefit credited to the nutrient injections: "it may help when...", "nutrients
# can only help hair when...", "vitamins help hair only when...".
CREDIT = [
    re.compile(rf"\b{_SUBJECT}\s+(?:\w+\s+)?(?:may|might|can|could|will|would)\s+(?:only\s+|still\s+|also\s+|really\s+)?{_VERB}\w*\b", re.I),
    re.compile(rf"\b{_SUBJECT}\s+helps?\b[^.\n]{{0,40}}\bonly (?:when|if)\b", re.I),
    re.compile(r"\bonly help\w*\b[^.\n]{0,40}\b(?:when|if)\b[^.\n]{0,40}\b(?:lack|deficien)", re.I),
]
# A sentence that denies, or reports someone else's claim, does not credit.
NOT_CREDIT = re.compile(
    r"\b(?:no|not|nothing|never|none|cannot|can't|won't|without|unproven|advertis\w*|claims?|claimed|says?|said|"
    r"promot\w*|practitioners|adverts?|clinics)\b|n't\b",
    re.I,
)

# The sentences issue 12 quotes or found; each rule above must catch at least one,
# and each of these must be caught.
OLD_SENTENCES = [
    "At best it may help when hair problems come from a lack of nutrients, and even that should be confirmed by a doctor with tests first.",
    "Mesotherapy and a transplant answer different problems: a transplant is for established pattern hair loss in suitable patients; mesotherapy is at most a nutrient top-up.",
    "It is not a treatment that makes hair grow back for everyone.",
    "Nutrients can only help hair when you actually lack them, and a doctor should confirm a deficiency with tests first.",
    'That is what is advertised; the evidence is much thinner (ask me "is it proven?").',
    "Keep in mind that the evidence that mesotherapy helps hair is weak.",
    "Mesotherapy may only help if a nutrient deficiency is confirmed, and then the deficiency itself should be treated.",
    "No. Mesotherapy does not help androgenetic (pattern) hair loss: the follicles it has destroyed cannot be revived with nutrients.",
    "Mesotherapy cannot stop hereditary (pattern) hair loss: the follicles it has destroyed can't be revived with nutrients.",
    "Do not expect regrowth. Follicles lost to pattern hair loss cannot be revived with nutrients; that is what a transplant consultation is for.",
    "An allergy to any component of the mix is a reason not to have it.",
    "an allergy to any component is a reason not to have it",
    "Vitamins help hair only when you actually lack them; a doctor can check that with blood tests.",
    "It will work wonders if your hair loss is due to a lack of nutrients.",
]


def _sentences(text):
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if s.strip()]


def problems(text):
    found = [name for name, rule in BANNED.items() if rule.search(text)]
    for sentence in _sentences(text):
        if any(rule.search(sentence) for rule in CREDIT) and not NOT_CREDIT.search(sentence):
            found.append(f"credits a benefit: {sentence!r}")
    return found


@pytest.mark.parametrize("sentence", OLD_SENTENCES)
def test_the_rules_catch_every_old_sentence(sentence):
    assert problems(sentence), sentence


def test_every_rule_catches_an_old_sentence():
    for name, rule in BANNED.items():
        assert any(rule.search(s) for s in OLD_SENTENCES), name
    for rule in CREDIT:
        assert any(rule.search(s) for s in OLD_SENTENCES), rule.pattern


@pytest.mark.parametrize(
    "sentence",
    [
        "There is no evidence that nutrient injections help pattern hair loss.",
        "Extra vitamins do not help hair if you are not lacking them.",
        "Practitioners say these nutrients help with hair loss.",
        "If a blood test shows you lack a nutrient, a doctor treats that directly.",
        "Minoxidil has good evidence, but it does not work for everyone.",
    ],
)
def test_the_rules_let_honest_sentences_through(sentence):
    assert not problems(sentence)


@pytest.mark.parametrize("where,text", TEXTS, ids=[w for w, _ in TEXTS])
def test_no_visitor_text_credits_nutrient_injections(where, text):
    assert not problems(text), where


def test_pattern_hair_loss_answer_names_treatments_with_evidence_and_the_consultation():
    aga = content.knowledge_entries()["aga"]
    text = aga["answer"].lower()
    assert "no evidence that nutrient injections help" in text
    assert "dutasteride" in text and "tablets did better" in text
    assert "minoxidil" in text and "finasteride, for men" in text
    assert "hair-restoration specialist" in text and "medicines first" in text
    assert {"alternatives", "consultation"} <= set(aga["follow_ups"])
    likely = content.messages()["triage_likely_aga"]
    assert "minoxidil" in likely["text"].lower()
    assert {"/book_consultation", "/ask_alternatives"} <= {b["payload"] for b in likely["buttons"]}


def test_the_allergy_answer_names_the_whole_mix_and_leaves_the_decision_to_the_doctor():
    entry = content.knowledge_entries()["contraindications"]["variants"]["condition"]["allergy"]
    question = content.messages()["ask_sc_allergy"]["text"]
    for text in (entry, question):
        lower = text.lower()
        for word in ["keratin", "surface expander", "anything else", "reaction to an injection", "zinc", "vitamins"]:
            assert word in lower, word
    assert "tell the doctor" in entry.lower() and "doctor decides" in entry.lower()


def test_side_effects_list_what_the_evidence_lists():
    text = content.knowledge_entries()["side_effects"]["answer"].lower()
    for word in ["pain", "headache", "abscess", "scar", "patchy hair loss", "infection", "allergic reaction",
                 "emergency", "swelling of the face", "trouble breathing"]:
        assert word in text, word


def test_endocrine_topics_say_tell_the_doctor():
    entries = content.knowledge_entries()
    for entry_id in ["thyroid", "pcos"]:
        text = entries[entry_id]["answer"].lower()
        assert "tell the doctor" in text and "doctor decides" in text, entry_id


def test_results_timeline_is_honest_about_nutrient_mixes():
    text = content.knowledge_entries()["results_timeline"]["answer"].lower()
    assert "no trial has tested the vitamin and nutrient mixes" in text
    assert "no evidence on how long" in text
    assert "permanent" not in text


def test_medicine_answers_never_give_a_dose():
    entries = content.knowledge_entries()
    for entry_id in ["minoxidil", "finasteride", "drug_mesotherapy"]:
        text = entries[entry_id]["answer"]
        assert not re.search(r"\d\s*(?:mg|ml|%|milligram)", text, re.I), entry_id
        assert "prescri" in text.lower(), entry_id
    assert "if you stop" in entries["minoxidil"]["answer"].lower()
    assert "if you stop" in entries["finasteride"]["answer"].lower()


def test_hair_loss_causes_point_to_a_doctor_and_never_diagnose():
    entries = content.knowledge_entries()
    for entry_id in ["postpartum", "after_illness", "stress", "thyroid", "iron_deficiency", "pcos", "crash_diet",
                     "alopecia_areata", "normal_shedding", "cancer_treatment", "supplements"]:
        text = entries[entry_id]["answer"]
        assert re.search(r"\b(?:doctor|GP|dermatologist)\b", text), entry_id
        assert not re.search(r"\b(?:you (?:probably |likely |clearly )?have|this is|it is) (?:alopecia|telogen|pcos|"
                             r"an? (?:thyroid|iron|hormone))", text, re.I), entry_id
    for entry_id in ["postpartum", "after_illness", "stress", "crash_diet"]:
        assert re.search(r"settles?|back to normal", entries[entry_id]["answer"]), entry_id
    assert "dermatologist" in entries["alopecia_areata"]["answer"]
    # getting ready: the doctor decides about medicines, never the visitor alone
    prep = entries["preparation"]["answer"]
    assert "tell the doctor about every medicine" in prep and "Don't stop a medicine" in prep
    # "is it normal to lose 100 hairs a day?": what is normal, never "yours is normal"
    # hair loss from cancer treatment: the cancer team decides, no study of mesotherapy, and
    # the tumour contraindication ("practitioners advise against"), never "safe after chemo"
    cancer = entries["cancer_treatment"]["answer"]
    assert "cancer team" in cancer and "No study has tested mesotherapy" in cancer
    assert "advise against it for people with a tumour" in cancer
    assert not re.search(r"\b(safe|fine|ok)\b[^.]{0,40}\b(after|during) (chemo|cancer)", cancer, re.I)
    # supplements: no benefit without a proven lack, too much harms, and nothing credits
    # the injections with what no trial showed
    supplements = entries["supplements"]["answer"]
    assert "not been shown to help hair unless" in supplements and "too much selenium" in supplements
    assert "No controlled trial of nutrient injections was found" in supplements
    normal = entries["normal_shedding"]["answer"]
    assert "50 to 100 hairs a day" in normal and "can't tell whether your hair loss is normal" in normal


# --- the topic entries and their triggers ---------------------------------------

def test_every_topic_entry_exists_with_its_trigger_title_and_reference():
    entries = content.knowledge_entries()
    for topic in TOPICS:
        # (an entry may answer several topics: "sessions" answers session_length too)
        entry = entries.get(topic) or next((e for e in entries.values() if f"topic:{topic}" in e.get("when", [])), None)
        assert entry, topic
        assert f"topic:{topic}" in entry["when"], topic
        assert entry.get("title") and entry.get("answer", "").strip(), topic
        assert entry.get("references"), topic
        assert "passages" in entry, topic
    assert "topic:contraindications" in entries["contraindications"]["when"]
    assert entries["contraindications"]["intent"] == "ask_contraindications"


def test_every_trigger_names_a_terminology_value():
    known = {f"{label}:{value}" for label, concepts in TERMINOLOGY["entities"].items() for value in concepts}
    for entry_id, entry in content.knowledge_entries().items():
        for trigger in entry.get("when") or []:
            assert trigger in known, (entry_id, trigger)


def test_the_topic_block_covers_every_topic_listed_here():
    # That the topic block and knowledge.yml agree (both ways) is checked in
    # tests/test_contracts_topic.py, so a new topic needs no edit here.
    topic = TERMINOLOGY["entities"]["topic"]
    assert set(TOPICS) | {"contraindications", "aga"} <= set(topic)  # two entries with intents too
    assert all(topic[t] for t in topic)


def test_topic_phrases_never_replace_another_label(analyser):
    """Topics are matched apart from the other labels (components/terminology.py,
    OVERLAY_TYPES): a phrase that is also a condition, red flag or emergency sign
    keeps that label, and the topic is found beside it."""
    for value, phrases in TERMINOLOGY["entities"]["topic"].items():
        for phrase in phrases:
            if "..." in str(phrase):
                continue
            found = analyser.mentions(str(phrase))
            assert any(m.entity == "topic" for m in found), (value, phrase)


@pytest.fixture(scope="module")
def analyser():
    from components.terminology import Analyser

    return Analyser.from_terminology_file(ROOT / "data" / "content" / "terminology.yml")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("does it hurt?", ("topic", "pain")),
        ("how long does a session take", ("topic", "session_length")),
        ("can I go back to work the next day", ("topic", "downtime")),
        ("when can I wash my hair", ("topic", "aftercare")),
        ("how long do results last", ("topic", "results_timeline")),
        ("is it for women too", ("topic", "men_women")),
        ("what about platelet rich plasma", ("topic", "prp")),
        ("my hair fell out after giving birth", ("topic", "postpartum")),
        ("hair loss after covid", ("topic", "after_illness")),
        ("I have low iron", ("topic", "iron_deficiency")),
        ("who can't have it?", ("topic", "contraindications")),
        ("does thyroid cause hair loss", ("topic", "thyroid")),
        ("pcos hair loss", ("topic", "pcos")),
        ("does mesotherapy nourish the follicles", ("claim_topic", "nourishing")),
        ("will it help my itchy scalp", ("claim_topic", "itchy_scalp")),
        ("does it give volume at the roots", ("claim_topic", "root_volume")),
        ("is it good for split ends", ("claim_topic", "split_ends")),
        # a topic id never hides a condition, a red flag or an urgent sign
        ("i have PCOS", ("condition", "endocrine_disorder")),
        ("my thyroid is underactive", ("condition", "endocrine_disorder")),
        ("I have alopecia areata", ("red_flag", "patchy_loss")),
        ("alopecia areata?", ("red_flag", "patchy_loss")),
        ("chest pain after the injection", ("emergency_sign", "emergency")),
        ("my scalp hurts after the session", ("red_flag", "scalp_symptoms")),
        ("I got infected after the session", ("complication_sign", "infection_sign")),
        ("lumps after the injections", ("complication_sign", "infection_sign")),
    ],
)
def test_visitors_words_lead_to_the_topic(analyser, text, expected):
    assert expected in [(m.entity, m.value) for m in analyser.mentions(text) if m.role is None]


def test_procedure_no_longer_lists_the_medicines():
    procedure = TERMINOLOGY["entities"]["procedure"]
    assert not {"prp", "minoxidil", "finasteride"} & set(procedure)


def test_new_claims_exist_with_their_terms():
    claims = content.claims()
    claim_topic = TERMINOLOGY["entities"]["claim_topic"]
    for claim_id in NEW_CLAIMS:
        assert claim_id in claims and claim_topic.get(claim_id), claim_id
    assert "doctor" in claims["itchy_scalp"]["meaning"] and "red, scaly" in claims["itchy_scalp"]["meaning"]


def test_claim_topic_terms_name_existing_claims():
    assert set(TERMINOLOGY["entities"]["claim_topic"]) <= set(content.claims())


def test_domain_lists_the_topic_entity():
    names = [e if isinstance(e, str) else next(iter(e)) for e in DOMAIN["entities"]]
    assert "topic" in names
