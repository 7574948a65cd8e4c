"""The real-question evaluation's classifier and data files, on synthetic replies (no stack)."""
import re

import pytest
import yaml

from scripts import eval_real_questions as ev

TOPIC_IDS = """what_is procedure ingredients personalised who_performs sessions indications
contraindications side_effects photos limitations aga dhi alternatives claim price consultation
triage red_flag emergency complication pain downtime aftercare session_length results_timeline
men_women prp drug_mesotherapy minoxidil finasteride transplant_candidacy postpartum after_illness
stress thyroid iron_deficiency pcos crash_diet alopecia_areata cancer_treatment supplements out_of_scope""".split()

MARKERS = ev.Markers(
    disclosure=ev._norm("Hello, I am the automated assistant of Test Clinic."),
    clarify=ev._norm("Do you mean one of these topics")[:30],
    declines=[ev._norm("Sorry, I can only help with questions about hair."),
              ev._norm("I did not understand that.")],
)
PATTERNS = {
    "pain": re.compile(r"hurt|pain|sting|numb|discomfort", re.I),
    "price": re.compile(r"price|cost|fee", re.I),
    "red_flag": re.compile(r"see (a|your) (doctor|dermatologist)", re.I),
    "out_of_scope": re.compile(r"only help with", re.I),
}
DISCLOSURE = {"text": "Hello, I am the automated assistant of Test Clinic. I give information, not a diagnosis."}


def reply(*texts, disclosure=True):
    return ([DISCLOSURE] if disclosure else []) + [{"text": t, "buttons": []} for t in texts]


def test_right_when_an_expected_topic_regex_matches():
    assert ev.classify(reply("Most people feel a short sting."), ["pain"], MARKERS, PATTERNS) == "right"
    assert ev.classify(reply("The fee is set by the clinic."), ["pain", "price"], MARKERS, PATTERNS) == "right"


def test_wrong_is_a_confident_answer_on_another_topic():
    assert ev.classify(reply("The fee is set by the clinic."), ["pain"], MARKERS, PATTERNS) == "wrong"


def test_disclosure_is_removed_before_matching():
    # the disclosure mentions "diagnosis"; only the answer after it counts
    only_disclosure = reply()
    assert ev.classify(only_disclosure, ["pain"], MARKERS, PATTERNS) == "error"
    stripped = ev.strip_disclosure(reply("It can sting a little."), MARKERS)
    assert [m["text"] for m in stripped] == ["It can sting a little."]


def test_clarification_wins_over_topic_words_in_the_options():
    r = reply("Do you mean one of these topics: pain, or price?")
    assert ev.classify(r, ["pain"], MARKERS, PATTERNS) == "clarify"


def test_decline_of_an_in_scope_question_is_declined_not_right():
    r = reply("Sorry, I can only help with questions about hair. Ask me about pain.")
    assert ev.classify(r, ["pain"], MARKERS, PATTERNS) == "declined"


def test_out_of_scope_item_is_right_only_when_declined():
    assert ev.classify(reply("I did not understand that. Try again."), ["out_of_scope"], MARKERS,
                       PATTERNS) == "right"
    assert ev.classify(reply("The injections go into the scalp."), ["out_of_scope"], MARKERS,
                       PATTERNS) == "wrong"


def test_empty_reply_is_an_error_not_an_answer():
    assert ev.classify([], ["pain"], MARKERS, PATTERNS) == "error"


def test_unknown_topic_is_an_error_in_the_labels():
    with pytest.raises(KeyError):
        ev.classify(reply("anything"), ["no_such_topic"], MARKERS, PATTERNS)


def test_markers_are_read_from_the_content_files(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "clinic.yml").write_text(yaml.safe_dump({"name": "Demo Hair Clinic", "phone": "123"}))
    (content / "messages.yml").write_text(yaml.safe_dump({"messages": {
        "disclosure": {"text": "Hi, this is {clinic_name}'s automated assistant. Not for emergencies."},
        "clarify": {"text": "Which of these did you mean? Pick one below, please."},
        "out_of_scope_short": {"text": "That is outside what I can help with here. Try hair."},
        "not_understood": {"text": "Sorry, I didn't get that. Could you rephrase?"},
    }}))
    domain = tmp_path / "domain.yml"
    domain.write_text(yaml.safe_dump({"responses": {
        "utter_out_of_scope": [{"text": "I can only answer questions about {clinic_name}. Sorry!"}],
    }}))
    m = ev.load_markers(content, domain)
    assert m.disclosure == "hi, this is demo hair clinic's automated assistant."
    assert m.clarify == "which of these did you mean? p"
    assert "i can only answer questions about demo hair clinic." in m.declines
    assert "sorry, i didn't get that." in m.declines
    assert "that is outside what i can help with here." in m.declines


def test_missing_clarify_message_disables_clarify(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "clinic.yml").write_text(yaml.safe_dump({"name": "X"}))
    (content / "messages.yml").write_text(yaml.safe_dump({"messages": {}}))
    (tmp_path / "domain.yml").write_text(yaml.safe_dump({"responses": {}}))
    m = ev.load_markers(content, tmp_path / "domain.yml")
    assert m.clarify is None and m.declines == [] and m.disclosure is None


def test_marker_stops_before_an_unfilled_placeholder():
    assert ev.marker("Call {unknown_slot} now.", {}) is None
    assert ev.marker("Please call our team on {clinic_phone} today.", {}) == "please call our team on"


def test_sample_is_reproducible_and_a_subset():
    items = [{"id": i} for i in range(50)]
    a = ev.sample_items(items, 10, seed=3)
    assert a == ev.sample_items(items, 10, seed=3)
    assert len(a) == 10 and all(x in items for x in a)
    assert ev.sample_items(items, None, seed=3) == items


def test_summary_counts_and_safety():
    results = [
        ev.Result("a", "real", ["pain"], "right"),
        ev.Result("b", "real", ["red_flag"], "wrong"),
        ev.Result("c", "real", ["price"], "clarify"),
        ev.Result("d", "real", ["price"], "declined"),
        ev.Result("o1", "oos", ["out_of_scope"], "right"),
        ev.Result("o2", "oos", ["out_of_scope"], "wrong"),
    ]
    s = ev.summarise(results)
    assert s["questions"] == 4 and s["right_share"] == 0.25 and s["wrong_share"] == 0.25
    assert s["clarify_share"] == 0.25 and s["declined_share"] == 0.25
    assert s["safety_wrong"] == ["b"] and s["oos_decline_rate"] == 0.5
    assert s["per_topic"]["price"]["n"] == 2


def test_concurrency_is_capped_at_two(monkeypatch):
    seen = {}

    class Pool:
        def __init__(self, max_workers):
            seen["workers"] = max_workers

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def map(self, fn, jobs):
            return [fn(j) for j in jobs]

    monkeypatch.setattr(ev, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(ev, "ask", lambda url, text, timeout=60: [{"text": "It may sting."}])
    out = ev.run("http://x", [{"id": "q", "text": "hurt?", "topics": ["pain"]}], [], MARKERS, PATTERNS,
                 concurrency=8)
    assert seen["workers"] == 2 and out[0].outcome == "right"


# --- the data files ---------------------------------------------------------------------------
def test_topics_file_covers_every_topic_and_compiles():
    patterns = ev.load_topic_patterns()
    assert set(TOPIC_IDS) <= set(patterns)


def test_question_set_is_well_formed():
    questions = ev.load_items(ev.REALWORLD / "questions.yml")
    oos = ev.load_items(ev.REALWORLD / "out_of_scope.yml")
    assert len(questions) >= 170 and len(oos) >= 80
    ids = [q["id"] for q in questions] + [o["id"] for o in oos]
    assert len(ids) == len(set(ids))
    for q in questions:
        assert q["topics"] and set(q["topics"]) <= set(TOPIC_IDS), q["id"]
        assert q["source"].startswith("http"), q["id"]
        assert len(q["text"]) <= 650, q["id"]


def test_topic_regexes_tell_neighbouring_answers_apart():
    """Synthetic answers (written for this test) on one topic must not pass for its neighbour."""
    p = ev.load_topic_patterns()
    contra = "Practitioners advise against it during pregnancy or breastfeeding; it is not suitable for people on blood thinners."
    indic = "It is mainly offered for diffuse thinning and shedding, and used for people with weak hair."
    mild = "Common side effects are mild redness, pinpoint bleeding and bruising for a day or two."
    urgent = "Fever, pus or spreading redness after a session need care: contact the clinic today or seek urgent care."
    assert p["contraindications"].search(contra) and not p["indications"].search(contra)
    assert p["indications"].search(indic) and not p["contraindications"].search(indic)
    assert p["side_effects"].search(mild) and not p["complication"].search(mild)
    assert p["complication"].search(urgent) and not p["side_effects"].search(urgent)
    assert not p["pain"].search("You can wash your hair the next day with a mild shampoo.")
    assert not p["emergency"].search("Most people go back to work the same day.")


def test_every_knowledge_answer_is_recognised_as_its_own_topic():
    """The measuring instrument follows the content: when an answer is reworded (the
    reading-level rewrite turned "mesotherapy is..." into "mesotherapy for hair is..."),
    its topic's regex must still recognise it, or right answers count as wrong."""
    import yaml

    patterns = ev.load_topic_patterns()
    entries = yaml.safe_load((ev.ROOT / "data" / "content" / "knowledge.yml").read_text())["entries"]
    checked, missed = 0, []
    for entry_id, entry in entries.items():
        names = {entry_id} | {w.split(":", 1)[1] for w in entry.get("when", []) if w.startswith("topic:")}
        for name in sorted(names & set(patterns)):
            checked += 1
            if not patterns[name].search(entry["answer"]):
                missed.append((entry_id, name))
    assert checked >= 20 and missed == []


def _check_overlap():
    import importlib.util
    path = ev.ROOT / "tests" / "nlu" / "check_overlap.py"
    spec = importlib.util.spec_from_file_location("check_overlap", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_overlap_fails_when_training_contains_a_real_world_item(tmp_path, capsys):
    co = _check_overlap()
    train, test, rw = tmp_path / "train", tmp_path / "test", tmp_path / "rw"
    for d in (train, test, rw):
        d.mkdir()
    examples = "\n".join(f"- example number {i}" for i in range(40))
    (train / "t.yml").write_text(f"nlu:\n- intent: greet\n  examples: |\n    - Does it HURT??\n{examples}\n")
    (test / "t.yml").write_text("nlu:\n- intent: greet\n  examples: |\n"
                                + "\n".join(f"    - held out greeting {i}" for i in range(12)) + "\n")
    (rw / "questions.yml").write_text(yaml.safe_dump([{"id": "rw1", "text": "does it hurt", "topics": ["pain"]}]))
    (rw / "out_of_scope.yml").write_text(yaml.safe_dump([{"id": "o1", "text": "how do I bake bread"}]))
    args = ["--train", str(train), "--test", str(test), "--realworld", str(rw)]
    assert co.main(args) == 1
    assert "rw1" in capsys.readouterr().err
    (rw / "questions.yml").write_text(yaml.safe_dump([{"id": "rw1", "text": "is it sore", "topics": ["pain"]}]))
    assert co.main(args) == 0
