"""The domain spaCy pipeline: canonical values, negation, uncertainty, Rasa wiring."""
from pathlib import Path

import pytest
import spacy
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.domain_nlp import DomainSpacyNLP
from components.terminology import CUE_KEYS, OVERLAY_TYPES, Analyser

ROOT = Path(__file__).resolve().parents[2]
TERMS = ROOT / "data" / "content" / "terminology.yml"


@pytest.fixture(scope="module")
def analyser():
    return Analyser.from_terminology_file(TERMS)


def found(analyser, text):
    """Mentions of the ruled types (topics overlay them and are tested on their own)."""
    return [(m.entity, m.value, m.role) for m in analyser.mentions(text) if m.entity not in OVERLAY_TYPES]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("I'm expecting", [("condition", "pregnancy", None)]),
        ("I'm nursing my baby", [("condition", "breastfeeding", None)]),
        # "=nursing" in the terminology: that form only, not the lemma "nurse"
        ("who does the injections, a doctor or a nurse?", []),
        ("is the injection done by nurses", []),
        ("how do i inject insulin properly", [("procedure", "other_medical", None)]),
        ("do laser caps work for hair loss", [("procedure", "light_therapy", None), ("hair_problem", "hair_loss", None)]),
        ("i have PCOS and a thyroid problem", [("condition", "endocrine_disorder", None), ("condition", "endocrine_disorder", None)]),
        ("they found cancer last year", [("condition", "tumour", None)]),
        ("it's my period next week", [("condition", "menstruation", None)]),
        ("I had two tumours removed", [("condition", "tumour", None)]),
        ("does it contain selenium", [("ingredient", "selenium", None)]),
        ("dhi or fue?", [("procedure", "dhi", None), ("procedure", "fue", None)]),
        ("male pattern baldness", [("hair_problem", "androgenetic_alopecia", None)]),
    ],
)
def test_lay_words_map_to_canonical_values(analyser, text, expected):
    assert found(analyser, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("I'm not pregnant", [("condition", "pregnancy", "negated")]),
        ("no allergies", [("condition", "allergy", "negated")]),
        ("allergies: none", [("condition", "allergy", "negated")]),
        ("I don't have any tumours or infections", [("condition", "tumour", "negated"), ("condition", "infection", "negated")]),
        ("I'm not pregnant but I am breastfeeding", [("condition", "pregnancy", "negated"), ("condition", "breastfeeding", None)]),
        ("not sure if I'm pregnant", [("condition", "pregnancy", "uncertain")]),
        ("I might have a thyroid issue", [("condition", "endocrine_disorder", "uncertain")]),
        ("yes I'm 3 months pregnant", [("condition", "pregnancy", None)]),
    ],
)
def test_negation_and_uncertainty(analyser, text, expected):
    assert found(analyser, text) == expected


@pytest.mark.parametrize("text,topic", [
    ("Do I need to stop taking ibuprofen before mesotherapy?", "preparation"),
    ("How should I prepare for my first session?", "preparation"),
    ("Can I take a painkiller before the session?", "preparation"),
    ("Does microneedling for hair hurt?", "pain"),
    ("Do I need someone to drive me home afterwards?", "downtime"),
    ("I had meso this morning, is it ok to shower tonight?", "aftercare"),
    ("Is it normal to lose 100 hairs a day?", "normal_shedding"),
    ("What is mesotherapy used for?", "indications"),
    ("Who is the ideal candidate for mesotherapy?", "indications"),
    ("Which types of hair loss can be treated with mesotherapy?", "indications"),
    ("Who is not a good candidate for mesotherapy?", "contraindications"),
    ("What can you not do after mesotherapy?", "aftercare"),
    ("Can grieving make your hair fall out?", "stress"),
    ("Is there a limit to the amount of hair that can be harvested?", "transplant_candidacy"),
    ("Who can undergo this treatment?", "indications"),
    ("My hair has thinned on top, what can I do?", "treatment_options"),
    ("Can people with diabetes get a hair transplant?", "transplant_candidacy"),
    ("Is 19 too young to get a hair transplant?", "transplant_candidacy"),
    ("Could my thinning be because of breastfeeding?", "postpartum"),
    ("I eat 1000 calories a day, could that thin my hair?", "crash_diet"),
    ("Is alopecia barbae treatable?", "alopecia_areata"),
    ("When can I go out in the sun after the session?", "aftercare"),
    ("Which painkillers should I avoid taking after the injections?", "aftercare"),
    ("How long does mesotherapy take?", "session_length"),
    ("Can diabetics have mesotherapy?", "contraindications"),
    ("Does metformin cause hair loss?", "hair_loss_causes"),
    ("Does anesthesia cause hair loss?", "after_illness"),
    ("How do I stop my hair from thinning when I lose weight?", "crash_diet"),
    ("my serum ferrtin is 7", "iron_deficiency"),
    ("I began shedding two months after going off a medication I took for years", "hair_loss_causes"),
    ("How much hair falling out is normal?", "normal_shedding"),
    ("Can low-carb diets result in hair loss?", "crash_diet"),
    ("my hair started thinning a few months after a sleeve gastrectomy", "crash_diet"),
    ("is shedding common since a hysterectomy?", "after_illness"),
    ("I caught a virus in the spring and now my hair is coming out", "after_illness"),
    ("Who is a hair transplant for, and who should not have one?", "transplant_candidacy"),
    ("Does hair grow back after chemotherapy?", "cancer_treatment"),
    ("I start chemo next week, when will my hair fall out?", "cancer_treatment"),
    ("is the cold cap worth it", "cancer_treatment"),
    ("will radiotherapy to my head make me bald?", "cancer_treatment"),
    ("does biotin help hair grow?", "supplements"),
    ("How soon do people see new hair with these injections?", "results_timeline"),
    ("how many months till it shows", "results_timeline"),
    ("How far in advance should I start treatments before the wedding?", "results_timeline"),
    ("how long do the injections take", "session_length"),
    ("does each session take an hour?", "session_length"),
    ("What's the length of each session?", "session_length"),
    ("I'm 32 with a four-month-old baby and my hair is falling out", "postpartum"),
    ("should I take hair vitamins or supplements for thinning?", "supplements"),
    ("Are hair gummies like Nutrafol worth it?", "supplements"),
])
def test_practical_questions_name_their_topic(analyser, text, topic):
    assert topic in [m.value for m in analyser.mentions(text) if m.entity == "topic"], text


@pytest.mark.parametrize("text", [
    "my baby is four months old and my hair is falling out",  # a mother's own shedding
    "since having my baby I lose a lot of hair",
])
def test_a_mothers_own_shedding_is_not_a_childs_hair_loss(analyser, text):
    assert "child" not in [m.value for m in analyser.mentions(text) if m.entity == "red_flag"], text


def test_common_misspellings_of_bald_still_name_a_patch(analyser):
    values = [m.value for m in analyser.mentions("my toddler has a bold patch on the back of his head")]
    assert "patchy_loss" in values and "child" in values


def test_cosmetic_injections_are_another_treatment(analyser):
    """Botox and fillers are not mesotherapy: the question about them gets "I can't answer
    that one reliably" (routing.yml other_treatments), not mesotherapy's facts."""
    for text in ("how long does botox last?", "are lip fillers safe?"):
        assert ("procedure", "cosmetic_injections") in [(m.entity, m.value) for m in analyser.mentions(text)], text
    # and so are other medical or cosmetic treatments asked about with the treatment's words
    for text in ("what is in a flu shot?", "do braces hurt?", "can I use retinol every night?",
                 "I am breastfeeding my baby. Is it safe to get vaccinated?", "Does it hurt to put on gel nails?",
                 "How long after a B12 shot will I feel better?", "Is it normal to have pain after a tooth filling?"):
        assert ("procedure", "other_medical") in [(m.entity, m.value) for m in analyser.mentions(text)], text


def test_scalp_micropigmentation_is_a_hair_system_not_mesotherapy(analyser):
    assert ("procedure", "hair_systems") in [(m.entity, m.value) for m in analyser.mentions("is scalp micropigmentation worth it?")]
    assert not [m for m in analyser.mentions("I'm filling in my hairline with powder") if m.entity == "procedure"]


def test_before_and_after_photos_are_not_preparation(analyser):
    assert "preparation" not in [m.value for m in analyser.mentions("can I see before and after photos?")]


@pytest.mark.parametrize(
    "text,expected",
    [
        # a negation word that denies something else: the term is what is asked about
        # (results that do not show are asked about: when results would show)
        ("Why am I not seeing results from my PRP treatments?",
         [("topic", "results_timeline", None), ("topic", "prp", None)]),
        ("minoxidil didn't help so what about PRP?", [("topic", "minoxidil", None), ("topic", "prp", None)]),
        ("no PRP for me thanks", [("topic", "prp", "negated")]),
        ("I don't want PRP", [("topic", "prp", "negated")]),
    ],
)
def test_a_negation_of_something_else_leaves_the_topic_affirmed(analyser, text, expected):
    assert [(m.entity, m.value, m.role) for m in analyser.mentions(text) if m.entity == "topic"] == expected


@pytest.mark.parametrize(
    "text,role",
    [
        # a gap phrase ("does ... hurt") around nothing but a negation is a statement
        ("The bump on my scalp doesn't hurt. What is causing it?", "negated"),
        ("It isn't painful, it just itches", "negated"),
        # a subject in the gap keeps it a question
        ("doesn't it hurt?", None),
        ("will it not hurt much?", None),
        ("does it hurt?", None),
    ],
)
def test_a_topic_phrase_that_denies_itself_is_negated(analyser, text, role):
    pains = [m.role for m in analyser.mentions(text) if m.entity == "topic" and m.value == "pain"]
    assert pains == [role]


@pytest.mark.parametrize(
    "text,expected",
    [
        # a topic named inside another topic's gap is named too
        ("when to stop minoxidil before pregnancy", {"preparation", "minoxidil"}),
        ("should I stop finasteride before the injections?", {"preparation", "finasteride"}),
        ("do prp injections hurt?", {"pain", "prp"}),
    ],
)
def test_a_topic_inside_another_topics_gap_is_named(analyser, text, expected):
    assert {m.value for m in analyser.mentions(text) if m.entity == "topic"} == expected


@pytest.mark.parametrize(
    "text,topic",
    [
        ("How quickly does mesotherapy work?", "results_timeline"),
        ("How long until it works?", "results_timeline"),
        ("How do I look after my hair following treatment?", "aftercare"),
        ("What post-care is needed?", "aftercare"),
        ("What conditions prevent you from having mesotherapy?", "contraindications"),
        ("Who is eligible for mesotherapy?", "contraindications"),
        ("can men have it or just women", "men_women"),
        ("how should i sleep after mesotherapy, on my back?", "aftercare"),
        ("Duration of the procedure", "session_length"),
        ("Is hair mesotherapy a permanent solution?", "results_timeline"),
        ("how long between sessions", "session_length"),
        ("Hair mesotherapy recovery", "downtime"),
    ],
)
def test_more_ways_of_asking_name_their_topic(analyser, text, topic):
    assert topic in [m.value for m in analyser.mentions(text) if m.entity == "topic"], text


def test_hair_loss_after_a_medical_treatment_is_not_aftercare(analyser):
    text = "I started losing hair following treatment for cancer"
    assert "aftercare" not in [m.value for m in analyser.mentions(text) if m.entity == "topic"]


def _trained(tmp_path):
    """(component, a function that loads it back from model storage), trained on TERMS."""
    storage = LocalModelStorage(tmp_path)
    resource = Resource("domain_nlp")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**DomainSpacyNLP.get_default_config(), "terminology": str(TERMS)}
    component = DomainSpacyNLP.create(config, storage, resource, context)
    component.train(TrainingData())
    return component, lambda: DomainSpacyNLP.load(config, storage, resource, context)


def test_rasa_component_trains_persists_and_loads(tmp_path):
    _, load = _trained(tmp_path)
    loaded = load()
    message = Message(data={"text": "I'm not pregnant, but I'm nursing"})
    loaded.process([message])
    tokens = [t.text for t in message.get("text_tokens")]
    assert tokens[:3] == ["I", "'m", "not"]
    entities = {(e["value"], e.get("role")) for e in message.get("entities")}
    assert entities == {("pregnancy", "negated"), ("breastfeeding", None)}
    assert all(e["extractor"] == "DomainSpacyNLP" for e in message.get("entities"))


def test_the_loaded_component_gives_the_same_signals_as_the_terminology_file(tmp_path):
    """Every cue list of terminology.yml is saved with the model (CUE_KEYS): a list left
    out would work in the tests and offline, and silently not in the running assistant."""
    top = set(yaml.safe_load(TERMS.read_text(encoding="utf-8")))
    # (the lists the action server reads from the file itself: typed answers)
    by_actions = {"entities", "answers"}
    assert top - by_actions <= set(CUE_KEYS), top - by_actions - set(CUE_KEYS)
    _, load = _trained(tmp_path)
    loaded, fresh = load(), Analyser.from_terminology_file(TERMS)
    for text in ("our dog is losing fur in patches on his back", "I had my session yesterday and see pus",
                 "how do I open a bank account", "my hair is thinning since we got a puppy"):
        message = Message(data={"text": text})
        loaded.process([message])
        assert message.get("meso_signals") == fresh.signals(text), text
    assert fresh.signals("our dog is losing fur in patches on his back")["about_animal"] is True


def test_the_spacy_pipeline_runs_once_per_message(tmp_path):
    component, _ = _trained(tmp_path)
    nlp, calls = component.analyser.nlp, []

    def counting(text):
        calls.append(text)
        return nlp(text)

    component.analyser.nlp = counting
    first, second = Message(data={"text": "I have PCOS"}), Message(data={"text": "no allergies"})
    component.process([first, second])
    assert calls == ["I have PCOS", "no allergies"]
    assert [e["value"] for e in first.get("entities")] == ["endocrine_disorder", "pcos"]  # condition + topic
    assert [(e["value"], e.get("role")) for e in second.get("entities")] == [("allergy", "negated")]


def test_fingerprint_follows_the_terminology_file(tmp_path):
    copy = tmp_path / "terms.yml"
    copy.write_text(TERMS.read_text())
    first = DomainSpacyNLP.fingerprint_addon({"terminology": str(copy)})
    data = yaml.safe_load(copy.read_text())
    data["entities"]["condition"]["pregnancy"].append("preggers")
    copy.write_text(yaml.safe_dump(data))
    assert DomainSpacyNLP.fingerprint_addon({"terminology": str(copy)}) != first


def test_emoji_html_and_empty_texts_do_not_break_it(analyser):
    assert found(analyser, "") == []
    assert found(analyser, "😀😀") == []
    assert found(analyser, "<b>pregnant</b> <script>alert(1)</script>") == [("condition", "pregnancy", None)]


@pytest.mark.parametrize(
    "text,emergency",
    [
        ("my tongue is getting big", True),
        ("help my face is swelling up after the injection", True),
        ("I passed out after the session", True),
        ("I have chest pain and my left arm feels numb", True),
        ("no chest pain, just a headache", False),
        ("what is mesotherapy", False),
        # thoughts of suicide or self-harm, even told with doubt; not a misspelt "dye",
        # not a question about a medicine's reported effects, not a denial
        ("I am so depressed about my hair loss I dont want to live anymore", True),
        ("my hair loss makes me want to kill myself", True),
        ("i feel hopeless and suicidal about my bald head", True),
        ("sometimes I think I might end my life over this", True),
        ("I want to die my hair red after the session", False),
        ("I've stockpiled my sleeping tablets in case it doesn't get better", True),  # "my" after: no dye
        ("can finasteride cause suicidal thoughts?", False),
        ("I'm not suicidal, just sad about my hair", False),
    ],
)
def test_emergency_signs_override_the_intent(analyser, text, emergency):
    from components.safety_override import EmergencyOverride

    message = Message(data={"text": text, "intent": {"name": "ask_what_is", "confidence": 0.9}})
    message.set("entities", [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text)])
    EmergencyOverride().process([message])
    assert (message.get("intent")["name"] == "emergency") is emergency
    if emergency:
        assert message.get("intent_ranking")[0] == {"name": "emergency", "confidence": 1.0}
    # the kind of emergency, for the fixed answer's variant (domain.yml utter_emergency)
    kinds = [e["value"] for e in message.get("entities") if e["entity"] == "emergency_kind"]
    suicidal = any(w in text for w in ("live", "kill myself", "suicidal", "end my life", "stockpiled"))
    assert kinds == ([("self_harm" if suicidal else "other")] if emergency else [])


@pytest.mark.parametrize("text, kind", [
    # the review of 2026-12-06 (third session): indirect words in a follow-up, and another person's thoughts
    ("tbh i feel like ending it all lol, hairs gone anyway", "self_harm"),
    ("then whats the point of anything really. i'm done with all of it", "self_harm"),
    ("my partner told me last night he's been thinking about killing himself because of his hair loss",
     "self_harm_someone_else"),
    ("my sister says she wants to end her life", "self_harm_someone_else"),
    # the visitor's own beside someone else's: the visitor's
    ("my brother tried to kill himself last year and now I want to kill myself too", "self_harm"),
])
def test_thoughts_of_suicide_get_the_kind_of_whom_they_are_told(analyser, text, kind):
    from components.safety_override import EmergencyOverride

    message = Message(data={"text": text, "intent": {"name": "ask_claim", "confidence": 0.9}})
    message.set("entities", [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text)])
    EmergencyOverride().process([message])
    assert message.get("intent")["name"] == "emergency", text
    assert [e["value"] for e in message.get("entities") if e["entity"] == "emergency_kind"] == [kind], text


def test_the_classifiers_own_emergency_gets_a_kind_too(analyser):
    from components.safety_override import EmergencyOverride

    message = Message(data={"text": "help please it's bad", "intent": {"name": "emergency", "confidence": 0.97}})
    message.set("entities", [])
    EmergencyOverride().process([message])
    assert [e["value"] for e in message.get("entities")] == ["other"]


@pytest.mark.parametrize(
    "text,foreign",
    [
        ("¿Cuántas sesiones necesito para la caída del cabello?", True),
        ("Wie viele Sitzungen brauche ich wirklich?", True),
        ("how many sessions do I need", False),
        ("mesotherapy per capelli quanto costa", False),  # a known term: not guessed as foreign
        ("mesoterapia per capelli quanto costa", True),
        ("hola", False),  # too short to judge
        ("no, maybe another time", False),  # "no" is an English word, not YAML's false
        ("yes on the crown mostly", False),
    ],
)
def test_other_languages_are_recognised(analyser, text, foreign):
    from components.safety_override import LanguageGuard

    assert analyser.looks_non_english(text) is foreign
    message = Message(data={"text": text, "intent": {"name": "ask_sessions", "confidence": 0.9}})
    if analyser.looks_non_english(text):
        message.set("non_english", True)
    LanguageGuard().process([message])
    assert (message.get("intent")["name"] == "nlu_fallback") is foreign


@pytest.mark.parametrize(
    "text,guessed",
    [("", False), ("   \t\n ", False), ("💇‍♀️😢🙏", False), ("?!...", False),
     ("ok", True), ("2", True), ("😢 hair loss", True), ("/affirm", True)],
)
def test_a_message_without_words_is_not_guessed_at(text, guessed):
    from components.safety_override import NoWordsGuard

    ranking = [{"name": "greet", "confidence": 0.6}, {"name": "affirm", "confidence": 0.4}]
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})
    NoWordsGuard().process([message])
    assert (message.get("intent")["name"] == "greet") is guessed
    if not guessed:
        assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
        assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback"]


def test_every_word_in_the_terminology_is_text():
    """Unquoted yes / no / on in YAML are booleans; every list entry must stay a word."""
    def leaves(value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)
        else:
            yield value

    data = yaml.safe_load(TERMS.read_text(encoding="utf-8"))
    assert isinstance(data["negation"].pop("window"), int)  # the three numbers in the file
    assert isinstance(data.pop("domain_pointer_max_words"), int)
    assert isinstance(data.pop("first_person_window"), int)
    assert [v for v in leaves(data) if not isinstance(v, str)] == []


SAFETY_TYPES = {"emergency_sign", "red_flag", "complication_sign", "condition"}


def test_no_safety_phrase_is_listed_under_another_concept():
    """A span gets one label: a red flag, emergency sign or contraindication listed
    under another concept too could be hidden behind it (e.g. behind a topic)."""
    data = yaml.safe_load(TERMS.read_text(encoding="utf-8"))
    nlp = spacy.blank("en")
    owner, clashes = {}, []
    ruled = {label: cs for label, cs in data["entities"].items() if label not in OVERLAY_TYPES}
    for label, concepts in ruled.items():
        for canonical, synonyms in concepts.items():
            for phrase in map(str, synonyms):
                key = " ".join(t.lower_ for t in nlp.make_doc(phrase))
                here = (label, canonical)
                there = owner.setdefault(key, here)
                if there != here and {label, there[0]} & SAFETY_TYPES:
                    clashes.append((key, there, here))
    assert clashes == []


def test_a_concept_id_never_hides_a_phrase_listed_elsewhere(tmp_path):
    """"alopecia areata" is a red flag; a topic whose id reads the same stays a topic
    only through its own listed phrases."""
    analyser = Analyser.from_terminology_file(TERMS)
    found = [(m.entity, m.value) for m in analyser.mentions("I think I have alopecia areata")]
    assert found[0] == ("red_flag", "patchy_loss")


def test_topics_overlay_other_labels_and_match_loosely():
    """A topic is what a question is about; it may share words with a condition or a
    red flag and both are found. Its phrases match inflections and "..." gaps."""
    analyser = Analyser.from_terminology_file(TERMS)
    pcos = [(m.entity, m.value) for m in analyser.mentions("I suffer with PCOS and thin hair")]
    assert ("condition", "endocrine_disorder") in pcos and ("topic", "pcos") in pcos
    lasting = [(m.entity, m.value) for m in analyser.mentions("How long will the results of mesotherapy last?")]
    assert ("topic", "results_timeline") in lasting
    negated = [(m.value, m.role) for m in analyser.mentions("I don't have PCOS") if m.entity == "topic"]
    assert negated == [("pcos", "negated")]


def test_a_misspelt_domain_word_keeps_a_question_in_the_domain_but_a_real_word_never_does(analyser):
    """Real visitors misspell ("wat is mesoterapy", "how mny sesions"): one letter off a
    long domain word, and no English word, is still the domain; "thinking" is a word,
    not a typo of "thinning", so an everyday question stays outside."""
    for text in ("wat is mesoterapy", "how mny sesions", "my dermatoligist said no", "injectoins hurt?"):
        assert analyser.in_domain(text), text
    for text in ("what are you thinking about", "how do I cancel my subscripton", "recomend a good restaurant"):
        assert not analyser.in_domain(text), text
    assert not analyser.is_domain_typo("thinking") and analyser.is_domain_typo("mesoterapy")
    assert not analyser.is_domain_typo("hurtt")  # shorter than TYPO_MIN_LETTERS: too many near misses
    assert analyser.in_domain("I'm a 30 year old woman and my parting is getting wider")
    # a word of another language is no typo: "sesiones" in a Spanish question
    assert not analyser.in_domain("¿Cuántas sesiones necesito para la caída del cabello?")


def test_should_i_worry_is_the_infection_signs_topic_only_after_a_treatment(analyser):
    """Review: "My GP said it's my thyroid; I had a baby in May. Should I worry?" got the
    signs of a scalp infection."""
    def topics(text):
        return [m.value for m in analyser.mentions(text) if m.entity == "topic"]
    assert "infection_signs" not in topics("My GP said it's my thyroid. I had a baby in May and I'm stressed. Should I worry?")
    assert "infection_signs" in topics("should I worry after the injections if it is red?")


def test_a_short_question_about_the_cost_the_visits_or_afterwards_is_in_the_domain(analyser):
    """Review: "whats the cost", "how long is each visit" were declined as outside the
    topic. Short messages only: in a longer one these words say nothing."""
    for text in ("whats the cost", "what should I avoid afterwards", "whats involved", "how long is each visit"):
        assert analyser.in_domain(text), text
    assert not analyser.in_domain("how much does a visit to the zoo cost for a family of four")
    # and the two that reached the classifier got the wrong answer (review): their topics
    topics = {t: [m.value for m in analyser.mentions(t) if m.entity == "topic"]
              for t in ("how long is each visit", "what should I avoid afterwards")}
    assert topics == {"how long is each visit": ["session_length"], "what should I avoid afterwards": ["aftercare"]}


@pytest.mark.parametrize("text", ["I take warfarin, can I have scalp injections", "im on aspirin daily for my heart, is that ok for meso",
                                  "i take blood thinners can i have meso", "I take apixaban, is mesotherapy ok",
                                  "i'm on antidepressants, sertraline. is that a problem",
                                  "i am on roaccutane right now for acne. can i do meso at the same time?",
                                  "im on blood pressure medicine, ok?", "I'm diabetic on insulin, can I have it?"])
def test_a_blood_thinner_is_the_before_a_session_topic_tell_the_doctor(analyser, text):
    """Not on the practitioners' list of reasons not to have it, but the answer before a
    session says to tell the doctor about blood thinners and not to stop them alone."""
    from components import signals as sig

    entities = [m.as_rasa_entity("test") for m in analyser.mentions(text)]
    assert "preparation" in sig.topics(entities, text)


def test_a_condition_asked_about_as_a_possible_effect_is_not_the_visitors_own(analyser):
    roles = {m.value: m.role for m in analyser.mentions("Could I have an allergic reaction?") if m.entity == "condition"}
    assert roles == {"allergy": "uncertain"}
    roles = {m.value: m.role for m in analyser.mentions("can I have it with an allergy to lidocaine?")
             if m.entity == "condition"}
    assert roles == {"allergy": None}


@pytest.mark.parametrize("text,period", [
    ("I'm on my period next week, can I still have my session?", True),
    ("can I have mesotherapy during my period?", True),
    ("I've been losing hair over a period of six months", False),
    ("I have irregular periods and my hair is thinning", False),  # a sign of PCOS, not the timing of a session
    ("heavy periods and hair loss, could it be iron?", False),
])
def test_a_period_is_the_visitors_own_at_the_time_of_a_session(analyser, text, period):
    found = [m.value for m in analyser.mentions(text) if m.entity == "condition"]
    assert ("menstruation" in found) is period, (text, found)
