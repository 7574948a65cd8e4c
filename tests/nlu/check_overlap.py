#!/usr/bin/env python3
"""Check that the held-out NLU test set is really held out.

Fails (exit code 1) when
  * a test example equals a training example after normalisation
    (lowercase, punctuation removed, whitespace collapsed),
  * a training example, or a topic example of the topic recogniser (data/topics/),
    equals (normalised the same way) a held-out real visitor
    question (tests/realworld/questions.yml) or out-of-scope line
    (tests/realworld/out_of_scope.yml): that set measures the assistant on what real
    people ask and must never be used to write training data,
  * an intent in the test set has fewer than MIN_TEST_EXAMPLES examples
    (MIN_LARGE_TEST_EXAMPLES for ask_claim and out_of_scope),
  * an intent in the test set does not exist in the training data,
  * a file cannot be read or is not Rasa 3.x NLU YAML.

Warns (exit code 0) when a training intent has no test examples.

Usage:
  python tests/nlu/check_overlap.py [--train DIR] [--topics DIR] [--test DIR] [--realworld DIR] [--near 0.9]

--near R additionally lists (without failing) test/training pairs whose
difflib similarity ratio is >= R, to help a human spot trivial variants.

Standard library + PyYAML only.
"""
import argparse
import difflib
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_overlap: PyYAML is required (pip install pyyaml)\n")
    sys.exit(2)

REPO = Path(__file__).resolve().parents[2]
MIN_TEST_EXAMPLES = 12
LARGE_INTENTS = {"ask_claim": 30, "out_of_scope": 30}
REALWORLD_FILES = ("questions.yml", "out_of_scope.yml")

_ANNOTATION = re.compile(r"\[([^\]]*)\]\s*(\([^)]*\)|\{[^}]*\})")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalise(text: str) -> str:
    text = _ANNOTATION.sub(r"\1", text)  # [word](entity) -> word
    text = text.lower().replace("_", " ")
    text = _PUNCT.sub("", text)
    return " ".join(text.split())


def parse_examples(block) -> list:
    if isinstance(block, list):  # examples given as a YAML list of dicts/strings
        out = []
        for item in block:
            if isinstance(item, dict):
                item = item.get("text", "")
            out.append(str(item))
        return out
    out = []
    for line in str(block or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("- "):
            line = line[2:]
        elif line == "-":
            line = ""
        out.append(line.strip())
    return [e for e in out if e]


def load_dir(directory: Path, errors: list) -> dict:
    """Return {intent: [(file, example), ...]} for every *.yml/*.yaml under directory."""
    intents = {}
    files = sorted(list(directory.rglob("*.yml")) + list(directory.rglob("*.yaml")))
    if not files:
        errors.append(f"no YAML files found in {directory}")
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            errors.append(f"{path}: cannot parse YAML: {exc}")
            continue
        if not isinstance(data, dict) or "nlu" not in data:
            continue  # not an NLU file (e.g. a config); ignore
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue  # synonyms, regexes, lookups
            examples = parse_examples(item.get("examples"))
            intents.setdefault(str(item["intent"]), []).extend(
                (path, ex) for ex in examples
            )
    return intents


def load_topics(directory: Path, errors: list) -> dict:
    """{"topic:<id>": [(file, example), ...]} from the topic recogniser's examples
    (``topic_examples`` blocks of every *.yml under directory; none if it is absent)."""
    topics = {}
    if not directory.exists():
        return topics
    for path in sorted(directory.rglob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            errors.append(f"{path}: cannot parse YAML: {exc}")
            continue
        for item in (data or {}).get("topic_examples") or []:
            if isinstance(item, dict) and "topic" in item:
                topics.setdefault(f"topic:{item['topic']}", []).extend(
                    (path, ex) for ex in parse_examples(item.get("examples")))
    return topics


def load_realworld(directory: Path, errors: list) -> list:
    """[(file name, item id, text), ...] of the held-out real-world set (none if absent)."""
    out = []
    for name in REALWORLD_FILES:
        path = directory / name
        if not path.exists():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError) as exc:
            errors.append(f"{path}: cannot parse YAML: {exc}")
            continue
        if not isinstance(data, list):
            errors.append(f"{path}: expected a YAML list of {{id, text}} items")
            continue
        for item in data:
            if isinstance(item, dict) and item.get("text"):
                out.append((name, str(item.get("id", "?")), str(item["text"])))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=REPO / "data" / "nlu")
    parser.add_argument("--topics", type=Path, default=REPO / "data" / "topics",
                        help="the topic recogniser's examples (components/topic_classifier.py)")
    parser.add_argument("--test", type=Path, default=REPO / "tests" / "nlu")
    parser.add_argument("--realworld", type=Path, default=REPO / "tests" / "realworld",
                        help="held-out real visitor questions that training must not contain")
    parser.add_argument("--near", type=float, default=None,
                        help="also list near-duplicates with similarity >= this ratio")
    args = parser.parse_args(argv)

    errors = []
    train = load_dir(args.train, errors)
    test = load_dir(args.test, errors)

    topics = load_topics(args.topics, errors)
    train_index = {}
    for intent, rows in list(train.items()) + list(topics.items()):
        for path, ex in rows:
            train_index.setdefault(normalise(ex), []).append((intent, path, ex))

    for intent, rows in sorted(test.items()):
        if intent not in train:
            errors.append(f"intent '{intent}' is in the test set but not in the training data")
        minimum = LARGE_INTENTS.get(intent, MIN_TEST_EXAMPLES)
        if len(rows) < minimum:
            errors.append(
                f"intent '{intent}' has {len(rows)} test examples (minimum {minimum})"
            )
        for path, ex in rows:
            key = normalise(ex)
            for t_intent, t_path, t_ex in train_index.get(key, []):
                errors.append(
                    f"test example {ex!r} ({path.name}, {intent}) equals training "
                    f"example {t_ex!r} ({t_path.name}, {t_intent})"
                )

    realworld = load_realworld(args.realworld, errors)
    for name, item_id, text in realworld:
        for t_intent, t_path, t_ex in train_index.get(normalise(text), []):
            errors.append(
                f"training example {t_ex!r} ({t_path.name}, {t_intent}) equals held-out "
                f"real-world item {item_id} ({name}); remove it from the training data"
            )

    seen_test = {}
    for intent, rows in test.items():
        for path, ex in rows:
            key = normalise(ex)
            if key in seen_test and seen_test[key] != intent:
                errors.append(
                    f"test example {ex!r} is labelled both '{seen_test[key]}' and '{intent}'"
                )
            seen_test[key] = intent

    for intent in sorted(set(train) - set(test)):
        print(f"warning: training intent '{intent}' has no test examples", file=sys.stderr)

    if args.near is not None:
        train_keys = list(train_index)
        for intent, rows in sorted(test.items()):
            for _, ex in rows:
                key = normalise(ex)
                for cand in difflib.get_close_matches(key, train_keys, n=3, cutoff=args.near):
                    if cand != key:
                        t_intent = train_index[cand][0][0]
                        print(f"near: [{intent}] {ex!r} ~ [{t_intent}] {train_index[cand][0][2]!r}")

    n_train = sum(len(v) for v in train.values()) + sum(len(v) for v in topics.values())
    n_test = sum(len(v) for v in test.values())
    if errors:
        print(f"check_overlap: FAILED ({len(errors)} problem(s)):", file=sys.stderr)
        for err in errors:
            print(f"  - {err}", file=sys.stderr)
        return 1
    print(
        f"check_overlap: OK ({len(train)} training intents / {n_train} examples, "
        f"{len(test)} test intents / {n_test} examples, {len(realworld)} real-world items, no overlap)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
