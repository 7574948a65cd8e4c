"""docs/contracts.md, "Adding a knowledge topic": the documented steps, followed on a
throwaway copy of data/content, give a topic that is recognised, routed and answered.

No retraining: the terminology pipeline is built from the copied file exactly as
DomainSpacyNLP builds it during training, and the actions read the copied content
through MESOGUIDE_CONTENT_DIR.
"""
import importlib
import shutil
from pathlib import Path

import yaml

from components.routing_policy import choose_action
from components.terminology import Analyser

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "Wait until the injection points have healed before you wear a wig; ask the doctor when."


def _add_topic(content_dir: Path) -> None:
    knowledge_file = content_dir / "knowledge.yml"
    knowledge = yaml.safe_load(knowledge_file.read_text(encoding="utf-8"))
    a_reference = next(iter(yaml.safe_load((content_dir / "sources.yml").read_text())["references"]))
    knowledge["entries"]["wigs"] = {
        "when": ["topic:wigs"],
        "title": "Wearing a wig",
        "answer": ANSWER + "\n",
        "references": [a_reference],
        "follow_ups": ["aftercare"],
    }
    knowledge_file.write_text(yaml.safe_dump(knowledge, sort_keys=False), encoding="utf-8")
    terms_file = content_dir / "terminology.yml"
    terms = yaml.safe_load(terms_file.read_text(encoding="utf-8"))
    terms["entities"]["topic"]["wigs"] = ["wear a wig", "wearing a wig", "hairpiece"]
    terms_file.write_text(yaml.safe_dump(terms, sort_keys=False), encoding="utf-8")


def test_a_topic_added_as_documented_is_answered(tmp_path, monkeypatch):
    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", content_dir)
    _add_topic(content_dir)

    text = "can I wear a wig a week after mesotherapy?"
    analyser = Analyser.from_terminology_file(content_dir / "terminology.yml")
    doc = analyser.nlp(text)
    entities = [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text, doc=doc)]
    assert ("topic", "wigs") in [(e["entity"], e["value"]) for e in entities]
    signals = {"in_domain": analyser.in_domain(text, doc=doc), "injection_context": analyser.injection_context(text, doc=doc)}
    # whatever the classifier guessed, the topic answers
    assert choose_action("action_listen", None, "ask_side_effects", 0.9, entities, signals, text, 0.8, 0.6) == (
        "action_answer_topic"
    )

    monkeypatch.setenv("MESOGUIDE_CONTENT_DIR", str(content_dir))
    from actions import content

    importlib.reload(content)
    try:
        from actions.routing import ActionAnswerTopic
        from tests.actions.helpers import run, tracker

        messages, events = run(ActionAnswerTopic(), tracker(text, "ask_side_effects", confidence=0.5, entities=entities))
        assert messages[0]["text"] == ANSWER
        assert {"event": "slot", "name": "last_answer", "value": "knowledge:wigs"} in [
            {k: e.get(k) for k in ("event", "name", "value")} for e in events
        ]
        assert [b["title"] for b in messages[0]["buttons"]] == [content.entry_title("aftercare")]
    finally:
        monkeypatch.delenv("MESOGUIDE_CONTENT_DIR")
        importlib.reload(content)
