"""Prints the NLU evaluation figures and fails below the target macro F1.

Usage: check_nlu_report.py RESULTS_DIR [--min-macro-f1 0.95] [--target 0.95]
"""
import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--min-macro-f1", type=float, default=0.95, help="fail below this (regression floor)")
    ap.add_argument("--target", type=float, default=0.95, help="the quality target, reported")
    args = ap.parse_args()
    report = json.loads((Path(args.results) / "intent_report.json").read_text())
    macro = report["macro avg"]["f1-score"]
    weighted = report["weighted avg"]["f1-score"]
    accuracy = report.get("accuracy", 0.0)
    worst = sorted(
        ((k, v["f1-score"], v["support"]) for k, v in report.items() if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")),
        key=lambda x: x[1],
    )[:5]
    print(f"NLU held-out: macro F1 {macro:.3f}, weighted F1 {weighted:.3f}, accuracy {accuracy:.3f}")
    print("weakest intents: " + ", ".join(f"{k} {f:.2f} (n={n})" for k, f, n in worst))
    if macro < args.target:
        print(f"note: below the target macro F1 {args.target} (gate: {args.min_macro_f1})")
    if macro < args.min_macro_f1:
        print(f"FAIL: macro F1 {macro:.3f} is below the target {args.min_macro_f1}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
