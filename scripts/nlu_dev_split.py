"""Writes the NLU development split that classifier choices are made on.

The first held-out set (commit d9913e8, tests/nlu/) was folded into the training data
when the blind held-out set replaced it (docs/quality.md). This script takes those
sentences back out of a copy of data/nlu: OUT/train/ is the training data without
them, OUT/dev.yml is them, labelled as data/nlu labels them now. The blind held-out
set in tests/nlu/ is not touched: pipelines are compared here, not there.

Usage: python scripts/nlu_dev_split.py OUT_DIR [--rev d9913e8]
Then:  rasa train nlu --config CANDIDATE.yml --nlu OUT_DIR/train --out OUT_DIR/models
       rasa test nlu --nlu OUT_DIR/dev.yml --model OUT_DIR/models/<model>.tar.gz
"""
from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIRST_HELD_OUT = "d9913e8"


def examples(text: str) -> List[Tuple[str, str]]:
    """(intent, sentence) pairs of a Rasa NLU YAML file."""
    pairs = []
    for block in (yaml.safe_load(text) or {}).get("nlu", []):
        if "intent" in block:
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((block["intent"], line[2:].strip()))
    return pairs


def key(sentence: str) -> str:
    return re.sub(r"\s+", " ", sentence.strip().lower())


def write(pairs: Iterable[Tuple[str, str]], path: Path) -> None:
    by_intent: Dict[str, List[str]] = {}
    for intent, sentence in pairs:
        by_intent.setdefault(intent, []).append(sentence)
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {s}" for s in by_intent[intent]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rev", default=FIRST_HELD_OUT, help="commit holding the first held-out set")
    args = ap.parse_args()
    git = ["git", "-C", str(ROOT)]
    names = subprocess.run(git + ["ls-tree", "--name-only", args.rev, "tests/nlu/"],
                           check=True, capture_output=True, text=True).stdout.split()
    first = set()
    for name in names:
        if name.endswith(".yml"):
            shown = subprocess.run(git + ["show", f"{args.rev}:{name}"], check=True, capture_output=True, text=True)
            first |= {key(s) for _, s in examples(shown.stdout)}
    training = [p for f in sorted((ROOT / "data" / "nlu").glob("*.yml")) for p in examples(f.read_text(encoding="utf-8"))]
    dev = [p for p in training if key(p[1]) in first]
    rest = [p for p in training if key(p[1]) not in first]
    write(rest, args.out / "train" / "nlu.yml")
    write(dev, args.out / "dev.yml")
    print(f"{len(training)} training examples: {len(rest)} to train on, {len(dev)} held out for development")


if __name__ == "__main__":
    main()
