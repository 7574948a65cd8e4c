"""Which answer each message of a question set would get, without a running stack and
without retraining after a terminology edit: for tuning terminology and content on the
DEVELOPMENT set (tests/realworld/dev_questions.yml), never on the held-out set.

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
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from actions import content  # noqa: E402
from components import signals as sig  # noqa: E402
from components.routing_policy import choose_action  # noqa: E402
from components.terminology import Analyser  # noqa: E402

# Where the rules send each intent, as a topic label of tests/realworld/topics.yml.
INTENT_LABELS = {
    "ask_claim": "claim", "ask_price": "price", "book_consultation": "consultation",
    "check_eligibility": "contraindications", "describe_hair_loss": "triage", "emergency": "emergency",
    "report_complication": "complication", "out_of_scope": "out_of_scope", "nlu_fallback": "clarify",
}


def labels_for(action, intent, entities):
    if action == "action_answer_topic":
        found = content.entries_for_mentions([("topic", v) for v in sig.affirmed(entities, "topic")])
        return [entry_id for entry_id, _ in found] or ["?"]
    if action == "action_red_flag":
        return ["red_flag"]
    if action == "utter_complication":
        return ["complication"]
    if action == "utter_out_of_scope":
        return ["out_of_scope"]
    if action == "action_clarify":
        return ["clarify"]
    if action is not None:
        return [action]
    found = content.knowledge_entry_for_intent(intent)
    if found:
        return [found[0]]
    return [INTENT_LABELS.get(intent, intent)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default=str(ROOT / "models" / "mesoguide.tar.gz"))
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    if "questions.yml" == args.file.name:
        parser.error("questions.yml is the held-out set: measure it live, never tune on it")
    from rasa.core.agent import Agent

    agent = Agent.load(args.model)
    analyser = Analyser.from_terminology_file(ROOT / "data" / "content" / "terminology.yml")
    items = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    outcome = collections.Counter()
    by_confidence = []
    for item in items:
        text = item["text"]
        parse = await agent.parse_message(text)
        doc = analyser.nlp(text)
        entities = [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text, doc=doc)]
        signals = {"in_domain": analyser.in_domain(text, doc=doc), "injection_context": analyser.injection_context(text, doc=doc)}
        intent = parse["intent"]["name"]
        conf = float(parse["intent"].get("confidence") or 0.0)
        action = choose_action("action_listen", None, intent, conf, entities, signals, text, 0.8, 0.6)
        got = labels_for(action, intent, entities)
        expected = set(item["topics"])
        kind = "right" if expected & set(got) else "clarify" if got == ["clarify"] else "wrong"
        outcome[kind] += 1
        if action is None:  # the classifier's guess decided: how sure was it?
            by_confidence.append((conf, kind, intent))
        if args.show_wrong and kind != "right":
            print(f"{kind:8} {item['id']:8} expected {sorted(expected)} got {got} (intent {intent} {conf:.2f})\n         {text[:160]!r}")
    print("answers decided by the classifier alone, by confidence (right / not right):")
    for low, high in ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        band = [k for c, k, _ in by_confidence if low <= c < high]
        print(f"  {low:.1f}-{min(high, 1.0):.1f}: {band.count('right'):3d} / {len(band) - band.count('right'):3d}")
    total = sum(outcome.values())
    print(" ".join(f"{k} {v} ({v / total:.0%})" for k, v in sorted(outcome.items())), f"of {total}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
