"""Knowledge answers, claims versus evidence, and citations."""
import pytest

from actions import content
from actions.claims import ActionExplainClaim, claim_text
from actions.knowledge import ActionAnswerKnowledge, ActionCiteSource, citation_text
from tests.actions.helpers import entity, run, slot_events, texts, tracker

ENTRIES = content.knowledge_entries()
INTENT_ENTRIES = [e for e in ENTRIES if ENTRIES[e].get("intent")]  # the others are reached by topic


@pytest.mark.parametrize("entry_id", INTENT_ENTRIES)
def test_each_knowledge_intent_gets_its_entry(entry_id):
    entry = ENTRIES[entry_id]
    messages, events = run(ActionAnswerKnowledge(), tracker("question", entry["intent"]))
    assert messages[0]["text"] == entry["answer"].strip()
    assert slot_events(events)["last_answer"] == f"knowledge:{entry_id}"
    assert [b["title"] for b in messages[0]["buttons"]]  # every entry offers next steps


def test_what_is_mentions_injections_into_the_scalp_and_nutrients():
    messages, _ = run(ActionAnswerKnowledge(), tracker("what is mesotherapy", "ask_what_is"))
    text = messages[0]["text"].lower()
    assert "inject" in text and "scalp" in text and "vitamins" in text


def test_a_named_condition_gets_its_specific_answer():
    messages, _ = run(
        ActionAnswerKnowledge(),
        tracker("can pregnant women have it", "ask_contraindications", entities=[entity("condition", "pregnancy")]),
    )
    text = messages[0]["text"]
    assert "pregnan" in text.lower() and "advise against" in text
    assert "tumours" not in text  # not the general list


def test_a_negated_condition_does_not_select_its_answer():
    messages, _ = run(
        ActionAnswerKnowledge(),
        tracker("who can't have it? I'm not pregnant", "ask_contraindications",
                entities=[entity("condition", "pregnancy", "negated")]),
    )
    assert messages[0]["text"] == ENTRIES["contraindications"]["answer"].strip()


def test_unknown_intent_falls_back_to_the_default_reply():
    messages, events = run(ActionAnswerKnowledge(), tracker("??", "greet"))
    assert messages[0]["text"] == content.messages()["not_understood"]["text"].strip() and events == []


def test_claim_has_claim_evidence_and_meaning_in_that_order():
    text = claim_text("dhi_noninvasive")
    labels = content.claim_labels()
    positions = [text.index(labels[p]) for p in ("claim", "evidence", "meaning")]
    assert positions == sorted(positions)
    assert "minimally invasive surgery" in text


@pytest.mark.parametrize(
    "ents,last,expected",
    [
        ([entity("claim_topic", "dandruff")], None, "dandruff"),
        ([entity("hair_problem", "seborrhea")], None, "sebum"),
        # "my hair is dry and breaks easily, would meso help?": the split-ends claim
        ([entity("hair_problem", "split_ends")], None, "split_ends"),
        ([entity("hair_problem", "itchy_scalp")], None, "itchy_scalp"),
        ([], "blood_flow", "blood_flow"),  # "is that proven?" after a claim
        ([], None, "general_efficacy"),
        ([entity("procedure", "mesotherapy")], "dandruff", "general_efficacy"),
        ([entity("claim_topic", "dandruff", "negated")], None, "general_efficacy"),
    ],
)
def test_which_claim_is_explained(ents, last, expected):
    messages, events = run(
        ActionExplainClaim(), tracker("is it proven?", "ask_claim", entities=ents, slots={"last_claim": last})
    )
    assert messages[0]["text"] == claim_text(expected)
    assert slot_events(events)["last_claim"] == expected
    assert slot_events(events)["last_answer"] == f"claim:{expected}"


def test_a_hair_problem_named_first_gets_its_claim_first():
    ents = [entity("hair_problem", "split_ends"), entity("hair_problem", "hair_loss")]
    messages, _ = run(ActionExplainClaim(), tracker("dry, breaking hair, not losing it. would meso help or is it only for hair loss",
                                                    "describe_hair_loss", entities=ents))
    assert [m["text"] for m in messages[:2]] == [claim_text("split_ends"), claim_text("stops_hair_loss")]


def test_general_claim_points_to_nutrient_deficiency():
    text = claim_text("general_efficacy").lower()
    assert "claimed" in text and "deficien" in text


def test_citation_names_passage_and_references():
    text = citation_text("claim:stops_hair_loss")
    assert "What are the advantages and disadvantages advertised?" in text
    assert "pubmed.ncbi.nlm.nih.gov/37558233" in text


def test_citation_marks_the_articles_marketing_claims_and_gives_the_correction():
    text = citation_text("knowledge:dhi")
    note = content.sources()["passages"]["dhi"]["claim_note"]
    assert "the only way to get their hair back is a hair transplant" in text
    assert "the article's claim" in text and note in text
    assert text.index("non-invasive") < text.index(note)  # the quote first, then the correction
    assert "the article's claim" not in citation_text("knowledge:photos")  # plain advice, no note


def test_citation_of_a_topic_the_article_does_not_cover_names_the_evidence_only():
    text = citation_text("knowledge:minoxidil")
    assert "does not cover this" in text and "nhs.uk" in text
    assert "section \"" not in text


def test_source_after_an_answer_and_before_any():
    messages, _ = run(ActionCiteSource(), tracker("source?", "ask_source", slots={"last_answer": "knowledge:dhi"}))
    assert "DHI hair transplant" in messages[0]["text"] and "ishrs.org" in messages[0]["text"]
    messages, _ = run(ActionCiteSource(), tracker("source?", "ask_source"))
    assert "haven't told you anything yet" in texts(messages)


def test_the_evidence_answer_names_a_condition_told_with_the_question():
    # "pregnant with twins 14 wks, want meso for shine. ok?": the claim's evidence, then
    # the pregnancy for the doctor
    trk = tracker("pregnant with twins 14 wks, want meso for shine. ok?", "ask_claim",
                  entities=[entity("condition", "pregnancy"), entity("claim_topic", "density_shine")])
    messages, _ = run(ActionExplainClaim(), trk)
    assert content.condition_labels()["pregnancy"] in texts(messages)
