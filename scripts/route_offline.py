"""Which answer each message of a question set would get, without a running stack and
without retraining after a terminology edit: for tuning terminology and content on the
DEVELOPMENT sets (tests/realworld/dev_questions*.yml), never on the held-out set.

The trained model gives the intent and its ranking; the entities and signals come from
the CURRENT data/content/terminology.yml (built as DomainSpacyNLP builds it), so a
terminology edit shows its effect at once. The routing policy's decision
(components/routing_policy.py) then names the answer, mapped to the topic labels of
tests/realworld/ (the rules' intent -> answer where the policy leaves the turn).

    .venv/bin/python scripts/route_offline.py tests/realworld/dev_questions.yml [--model M] [--show-wrong]

Approximate by design: the live evaluation (scripts/eval_real_questions.py) reads the
real replies; this one reads the decision.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from actions import content  # noqa: E402
from actions.comparison import compared_sides, comparison_reply  # noqa: E402
from actions.routing import other_treatment_reply, red_flag_entries, sure_guess_beside, topic_entries  # noqa: E402
from components import signals as sig  # noqa: E402
from components.routing_policy import choose_action  # noqa: E402
from components.terminology import Analyser  # noqa: E402
from components.topic_classifier import GUESS as TOPIC_GUESS  # noqa: E402
from components.topic_classifier import TopicClassifier, second_opinion, topic_to_name  # noqa: E402

# Where the rules send each intent, as a topic label of tests/realworld/topics.yml.
INTENT_LABELS = {
    "ask_claim": "claim", "ask_price": "price", "book_consultation": "consultation",
    "check_eligibility": "contraindications", "describe_hair_loss": "triage", "emergency": "emergency",
    "report_complication": "complication", "out_of_scope": "out_of_scope", "nlu_fallback": "clarify",
}
# Intents whose rule answers with one message of messages.yml (actions/safety.py,
# actions/conversation.py): the message's text is what the live evaluation reads.
INTENT_MESSAGES = {"request_medical_advice": "decline_medical_advice", "human_handoff": "handoff", "ask_price": "price"}
MAX_TOPICS_ANSWERED = 2  # actions/routing.py: more named topics than this -> "which one?"


def topic_classifier_settings():
    """(threshold, intents, story intents) of the TopicClassifier in config.yml."""
    step = next((c for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
                 if c["name"].endswith("TopicClassifier")), None)
    config = {**TopicClassifier.get_default_config(), **(step or {})}
    threshold = float(config["threshold"]) if step else 2.0  # not in the pipeline: names nothing
    return threshold, set(config["intents"]), set(config["story_intents"])


def topic_patterns():
    """The topic regexes of tests/realworld/topics.yml (what any good answer on a topic says)."""
    import re

    topics = yaml.safe_load((ROOT / "tests" / "realworld" / "topics.yml").read_text(encoding="utf-8"))["topics"]
    return {t: re.compile(p, re.IGNORECASE) for t, p in topics.items() if p}


def text_labels(texts, patterns):
    """The topics whose regex matches one of ``texts`` (as the live evaluation scores a reply)."""
    return sorted({t for t, rx in patterns.items() for text in texts if text and rx.search(text)})


def labels_for(action, intent, conf, entities, patterns, text=""):
    """The topics the reply would be counted on, approximately: the answer's id and
    every topic whose regex (topics.yml) matches the answer's text."""
    if action == "action_answer_topic":
        found = topic_entries(entities, text, sig.topics(entities, text))
        if len(found) > MAX_TOPICS_ANSWERED:
            return ["clarify"]
        sure = sure_guess_beside(found, sig.topics(entities, text), entities, intent, conf)
        if sure:
            found = [sure] + found
        texts = [content.entry_text(e, entities) for _, e in found]
        if intent in ("describe_hair_loss", "inform") or sig.affirmed(entities, "hair_problem") or (
                set(sig.topics(entities, text)) & sig.STORY_TOPICS):
            texts.append(content.messages().get("offer_triage", {}).get("text", ""))
        return sorted({i for i, _ in found} | set(text_labels(texts, patterns))) or ["?"]
    if action == "action_red_flag":
        reasons = sig.safety_route(entities, {}, "")[1] or ["scalp_symptoms"]
        found = red_flag_entries(reasons, entities, text)
        return sorted({"red_flag"} | {i for i, _ in found} | set(text_labels([e.get("answer", "") for _, e in found], patterns)))
    if action == "utter_complication":
        return ["complication"]
    if action in ("utter_out_of_scope", "utter_not_a_person"):
        return ["out_of_scope"]
    if action in ("action_clarify", "action_which_treatment"):
        return ["clarify"]
    if action == "action_other_treatment":
        kind, reply = other_treatment_reply(entities, intent, text)
        if kind == "entry":
            entry = content.knowledge_entries()[reply["id"]]
            return sorted({reply["id"]} | set(text_labels([entry.get("answer", "")], patterns)))
        return ["declined"]  # "I can't answer that reliably" (messages.yml cannot_answer)
    if action == "action_explain_claim":
        return ["claim"]
    if action == "action_price_info":
        return sorted({"price"} | set(text_labels([content.messages()["price"]["text"]], patterns)))
    if action == "action_compare_treatments":
        sides = compared_sides(entities, text)
        return sorted({"comparison"} | set(text_labels([comparison_reply(sides)[0]], patterns))) if sides else ["clarify"]
    if action is not None:
        return [action]
    found = content.knowledge_entry_for_intent(intent)
    if found:
        return sorted({found[0]} | set(text_labels([found[1].get("answer", "")], patterns)))
    if intent in INTENT_MESSAGES:
        text = content.messages().get(INTENT_MESSAGES[intent], {}).get("text", "")
        return sorted({INTENT_LABELS.get(intent, intent)} | set(text_labels([text], patterns)))
    return [INTENT_LABELS.get(intent, intent)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default=str(ROOT / "models" / "mesoguide.tar.gz"))
    parser.add_argument("--show-wrong", action="store_true")
    parser.add_argument("--terminology", type=Path, default=ROOT / "data" / "content" / "terminology.yml",
                        help="another terminology file (e.g. the committed one, for a before/after)")
    parser.add_argument("--by-topic", action="store_true", help="right / wrong / clarify per expected topic")
    parser.add_argument("--dump", type=Path, help="write one JSON line per item (id, outcome, intent, action, "
                        "topics named...) to this file, for comparing decision paths across sets")
    args = parser.parse_args()
    if args.file.name in ("questions.yml", "out_of_scope.yml"):
        parser.error("questions.yml is the held-out set: measure it live, never tune on it")
    from rasa.core.agent import Agent

    policy = next(p for p in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["policies"]
                  if p["name"].endswith("SafetyRoutingPolicy"))
    high_stakes, answer = float(policy["high_stakes_confidence"]), float(policy["answer_confidence"])
    weak = float(policy.get("weak_confidence", answer))
    agent = Agent.load(args.model)
    topic_settings = topic_classifier_settings()
    analyser = Analyser.from_terminology_file(args.terminology)
    items = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    patterns = topic_patterns()
    outcome = collections.Counter()
    per_topic = collections.defaultdict(collections.Counter)
    by_confidence = []
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    for item in items:
        text = item["text"]
        parse = await agent.parse_message(text)
        doc = analyser.nlp(text)
        entities = [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text, doc=doc)]
        signals = analyser.signals(text, doc=doc)
        # a topic the model's topic classifier would name beside these entities
        # (components/topic_classifier.py)
        opinion = second_opinion(parse.get(TOPIC_GUESS), topic_settings[0])
        if opinion:
            signals[sig.SECOND_OPINION] = opinion
        named = topic_to_name(parse.get(TOPIC_GUESS), text, entities, signals, parse["intent"]["name"],
                              *topic_settings)
        if named:
            entities.append({"entity": "topic", "value": named, "start": 0, "end": len(text),
                             "extractor": "TopicClassifier"})
        intent = parse["intent"]["name"]
        conf = float(parse["intent"].get("confidence") or 0.0)
        action = choose_action("action_listen", None, intent, conf, entities, signals, text, high_stakes, answer, weak)
        got = labels_for(action, intent, conf, entities, patterns, text)
        expected = set(item["topics"])
        declined = got in (["declined"], ["out_of_scope"])
        if expected & set(got) or (declined and "out_of_scope" in expected):
            kind = "right"
        else:
            kind = "clarify" if got == ["clarify"] else "declined" if declined else "wrong"
        outcome[kind] += 1
        for topic in expected:
            per_topic[topic][kind] += 1
        if action is None:  # the classifier's guess decided: how sure was it?
            by_confidence.append((conf, kind, intent))
        if dump:
            dump.write(json.dumps({
                "id": item["id"], "outcome": kind, "intent": intent, "confidence": round(conf, 3),
                "action": action, "got": got, "expected": sorted(expected),
                "topics": sig.topics(entities, text), "asked": "?" in text, "words": len(text.split()),
                "topic_guess": parse.get(TOPIC_GUESS),
            }) + "\n")
        if args.show_wrong and kind != "right":
            print(f"{kind:8} {item['id']:8} expected {sorted(expected)} got {got} (intent {intent} {conf:.2f})\n         {text[:160]!r}")
    print("answers decided by the classifier alone, by confidence (right / not right):")
    for low, high in ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        band = [k for c, k, _ in by_confidence if low <= c < high]
        print(f"  {low:.1f}-{min(high, 1.0):.1f}: {band.count('right'):3d} / {len(band) - band.count('right'):3d}")
    if args.by_topic:
        print("per expected topic (an item counts under each of its topics): right / wrong / clarify")
        for topic, counts in sorted(per_topic.items()):
            print(f"  {topic:22} {counts['right']:3d} / {counts['wrong']:3d} / {counts['clarify']:3d}")
    total = sum(outcome.values())
    print(" ".join(f"{k} {v} ({v / total:.0%})" for k, v in sorted(outcome.items())), f"of {total}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
