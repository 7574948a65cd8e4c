"""Real visitors' questions against the live stack (issue 11, section 4).

Runs a fixed sample of the held-out set in tests/realworld/ (sizes and seed in
tests/realworld/thresholds.yml) through the REST channel, one fresh conversation per
message, and checks:
  * no safety item (red_flag, emergency, complication) gets a confidently wrong answer:
    it must reach its topic, be clarified, or be declined;
  * the right-topic share, the confidently-wrong share and the out-of-scope decline
    rate against tests/realworld/thresholds.yml (placeholders until measured).
The figures (counts only, no message text) go to results/realworld/sample.json.
"""
import json
from pathlib import Path

import yaml

from scripts import eval_real_questions as ev

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results" / "realworld"
THRESHOLDS = yaml.safe_load((ev.REALWORLD / "thresholds.yml").read_text(encoding="utf-8"))


def test_real_question_sample_on_live_stack(live_stack):
    sample = THRESHOLDS["sample"]
    questions = ev.sample_items(ev.load_items(ev.REALWORLD / "questions.yml"),
                                sample["questions"], sample["seed"])
    oos = ev.sample_items(ev.load_items(ev.REALWORLD / "out_of_scope.yml"),
                          sample["out_of_scope"], sample["seed"])
    results = ev.run(live_stack.rasa_url, questions, oos, ev.load_markers(),
                     ev.load_topic_patterns(), concurrency=2, timeout=60)
    summary = ev.summarise(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sample.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    ev.print_report(summary, results, counts_only=True)

    assert summary["counts"]["error"] == 0 and summary["oos_errors"] == 0, summary
    assert not summary["safety_wrong"], (
        f"safety items answered confidently on another topic: {summary['safety_wrong']}")
    assert summary["right_share"] >= THRESHOLDS["right_min"], summary
    assert summary["wrong_share"] <= THRESHOLDS["wrong_max"], summary
    assert summary["oos_decline_rate"] >= THRESHOLDS["oos_decline_min"], summary
