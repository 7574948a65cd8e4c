"""The content files are consistent with each other and with the domain."""
import re

import pytest

from actions import content
from contentfiles import CLINIC_PLACEHOLDERS, clinic_placeholders
from tests.actions.helpers import DOMAIN

SOURCES = content.sources()


def _refs(item):
    return item.get("passages", []), item.get("references", [])


@pytest.mark.parametrize("kind,items", [("knowledge", content.knowledge_entries()), ("claim", content.claims())])
def test_every_answer_names_existing_sources(kind, items):
    for item_id, item in items.items():
        passages, refs = _refs(item)
        assert passages or refs, f"{kind} {item_id} names no source passage and no reference"
        assert set(passages) <= set(SOURCES["passages"]), item_id
        assert set(refs) <= set(SOURCES["references"]), item_id


def test_entries_the_article_does_not_cover_name_published_evidence():
    for entry_id, entry in content.knowledge_entries().items():
        if entry.get("when") and not entry.get("intent"):
            assert entry.get("references"), f"topic entry {entry_id} needs a reference from EVIDENCE.md"


def test_every_claim_has_references_to_published_evidence():
    for claim_id, claim in content.claims().items():
        assert claim.get("references"), claim_id
        assert all(claim[p].strip() for p in ("claim", "evidence", "meaning", "summary")), claim_id


def test_knowledge_intents_exist_in_domain_and_follow_ups_resolve():
    data = content.load("knowledge")
    entries, flows, claims = data["entries"], data.get("actions", {}), content.claims()
    for entry_id, entry in entries.items():
        assert entry.get("intent") or entry.get("when"), f"{entry_id}: no intent and no trigger leads here"
        if entry.get("intent"):
            assert entry["intent"] in DOMAIN["intents"], entry_id
        for item in entry.get("follow_ups", []):
            if item.startswith("claim:"):
                assert item.split(":", 1)[1] in claims, (entry_id, item)
            else:
                assert item in entries or item in flows, (entry_id, item)
        if entry.get("claim"):
            assert entry["claim"] in claims


def test_every_form_question_and_flow_message_exists():
    messages = content.messages()
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            assert f"ask_{slot}" in messages, slot
            assert f"action_ask_{slot}" not in DOMAIN["actions"], slot  # the validation asks (actions/forms.py)
    assert set(content.screening_items()) == set(DOMAIN["forms"]["screening_form"]["required_slots"])


def test_message_placeholders_are_known():
    allowed = set(CLINIC_PLACEHOLDERS) | {
               "items", "advice", "signs", "causes", "family", "kind", "contact", "time", "questions",
               "reasons", "conditions", "options", "max_chars", "treatment",
               "trial", "sides", "names", "name", "in_short"}  # (comparison, actions/comparison.py)
    for key, message in content.messages().items():
        assert set(re.findall(r"{(\w+)}", message["text"])) <= allowed, key


def test_every_clinic_detail_a_message_uses_is_filled_in():
    """A clinic that empties one (the crisis line, the emergency number) would send a
    broken sentence in a safety answer: clinic.yml must fill every one the texts use."""
    filled = {name for name, value in clinic_placeholders(content.clinic()).items() if value.strip()}
    for key, message in content.messages().items():
        used = set(re.findall(r"{(\w+)}", message["text"])) & set(CLINIC_PLACEHOLDERS)
        assert used <= filled, (key, used - filled)


def test_the_six_indications_and_six_contraindications_are_covered():
    indications = content.knowledge_entries()["indications"]["answer"].lower()
    for word in ["hair loss", "oily scalp", "dandruff", "itchy", "split ends", "volume"]:
        assert word in indications
    contraindications = content.knowledge_entries()["contraindications"]["answer"].lower()
    for word in ["pregnancy", "breastfeeding", "allergy", "period", "hormone", "tumour", "infection"]:
        assert word in contraindications
