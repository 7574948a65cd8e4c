"""Compares two `rasa test nlu` runs on the same test set: what a change fixed and broke.

A data or pipeline change moves the macro F1 a little, but it also flips individual
predictions both ways; the average hides that. This prints the macro F1 of both
runs, the intents whose F1 moved, and the messages that became wrong or right.

Usage: compare_nlu_runs.py BEFORE_RESULTS AFTER_RESULTS [--counts-only] [--min-change 0.01]

Each argument is a results directory of `rasa test nlu --out DIR` (intent_report.json
and intent_errors.json). On the blind held-out set use --counts-only: its messages
must stay unseen by whoever writes training data (docs/quality.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def load(results: Path) -> Tuple[Dict[str, dict], Dict[Tuple[str, str], str]]:
    """The per-intent report and the errors, keyed by (message, true intent) -> predicted."""
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    errors_file = results / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    wrong = {(e["text"], e["intent"]): (e.get("intent_prediction") or {}).get("name", "?") for e in errors}
    return report, wrong


def compare(before: Path, after: Path, min_change: float = 0.01) -> dict:
    rep_a, wrong_a = load(before)
    rep_b, wrong_b = load(after)
    intents = sorted(k for k in set(rep_a) | set(rep_b) if k not in SUMMARY_ROWS)
    moved = []
    for intent in intents:
        fa = rep_a.get(intent, {}).get("f1-score", 0.0)
        fb = rep_b.get(intent, {}).get("f1-score", 0.0)
        if abs(fb - fa) >= min_change:
            moved.append((intent, fa, fb))
    moved.sort(key=lambda row: row[2] - row[1])
    return {
        "macro": (rep_a["macro avg"]["f1-score"], rep_b["macro avg"]["f1-score"]),
        "moved": moved,
        "broken": sorted((text, intent, wrong_b[(text, intent)]) for text, intent in set(wrong_b) - set(wrong_a)),
        "fixed": sorted((text, intent, wrong_a[(text, intent)]) for text, intent in set(wrong_a) - set(wrong_b)),
    }


def render(result: dict, counts_only: bool) -> List[str]:
    a, b = result["macro"]
    lines = [f"macro F1 {a:.3f} -> {b:.3f} ({b - a:+.3f})",
             f"{len(result['fixed'])} messages now right, {len(result['broken'])} now wrong"]
    if result["moved"]:
        lines.append("intent F1 changes:")
        lines += [f"  {intent:28} {fa:.2f} -> {fb:.2f} ({fb - fa:+.2f})" for intent, fa, fb in result["moved"]]
    if not counts_only:
        for title, rows, verb in (("now wrong", result["broken"], "->"), ("now right", result["fixed"], "was")):
            if rows:
                lines.append(f"{title}:")
                lines += [f"  [{intent}] {text!r} {verb} {other}" for text, intent, other in rows]
    return lines


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--counts-only", action="store_true", help="no message texts (for the blind set)")
    ap.add_argument("--min-change", type=float, default=0.01, help="smallest intent F1 change listed")
    args = ap.parse_args(argv)
    print("\n".join(render(compare(args.before, args.after, args.min_change), args.counts_only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
