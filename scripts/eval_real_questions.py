#!/usr/bin/env python3
"""Measures the running assistant on real visitors' questions (held out, tests/realworld/).

Each message goes to the REST channel in a fresh conversation (a sender id from
``POST {url}/webhooks/rest/session``): ``POST {url}/webhooks/rest/webhook`` with
``{"sender", "message"}`` (channels/client.py; it waits when the channel answers 429). The session-start
disclosure is removed from the reply, then the reply is classified:

* ``clarify``  the assistant asked which topic was meant (data/content/messages.yml
  ``clarify``: its first 30 characters, loaded at run time);
* ``declined`` it declined (first sentence of domain.yml ``utter_out_of_scope`` or
  ``utter_not_a_person`` (an animal's coat), or ``out_of_scope_short`` / ``cannot_answer``);
* ``right``    the reply text matches the regex (tests/realworld/topics.yml) of one of
  the item's expected topics;
* ``wrong``    anything else: a confident answer on another topic (the figure that
  matters most);
* ``error``    no reply or the request failed (counted, never as right).

For the out-of-scope set the right outcome is a decline (or a reply matching the
``out_of_scope`` regex). Markers are read from the content files at run time, so a
wording change in the answers needs no change here.

Usage:
  python -m scripts.eval_real_questions [--url http://localhost:5005] [--json OUT]
         [--sample N] [--oos-sample M] [--seed S] [--counts-only] [--concurrency 2]

``--counts-only`` prints (and writes to --json) figures only, no message text.
Standard library, PyYAML and channels/client.py only.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import urllib.error
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from channels import client as channel_client  # noqa: E402
from contentfiles import clinic_placeholders  # noqa: E402

REALWORLD = ROOT / "tests" / "realworld"
CONTENT = ROOT / "data" / "content"
DOMAIN = ROOT / "domain.yml"
SAFETY_TOPICS = ("red_flag", "emergency", "complication")
OUTCOMES = ("right", "clarify", "declined", "wrong", "error")
MAX_CONCURRENCY = 2
CLARIFY_PREFIX_CHARS = 30

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


# --- loading --------------------------------------------------------------------------
def _yaml(path: Path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def load_items(path: Path) -> List[dict]:
    """The list of {id, text, topics?, source?} in a realworld YAML file."""
    data = _yaml(path)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a YAML list of items")
    return data


def load_topic_patterns(path: Path = REALWORLD / "topics.yml") -> Dict[str, "re.Pattern[str]"]:
    topics = _yaml(path).get("topics") or {}
    return {str(k): re.compile(str(v), re.IGNORECASE) for k, v in topics.items()}


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


def marker(text: Optional[str], slots: Dict[str, str], first_sentence: bool = True,
           max_chars: Optional[int] = None) -> Optional[str]:
    """A normalised prefix that identifies a known message in a reply.

    Placeholders are filled from ``slots``; the prefix stops at the end of the first
    sentence (or after ``max_chars``) and before any placeholder left unfilled.
    """
    if not text:
        return None
    filled = _PLACEHOLDER.sub(lambda m: slots.get(m.group()[1:-1], m.group()), str(text).strip())
    if first_sentence:
        filled = _SENTENCE_END.split(filled, maxsplit=1)[0]
    left = _PLACEHOLDER.search(filled)
    if left:
        filled = filled[:left.start()]
    if max_chars:
        filled = filled[:max_chars]
    filled = _norm(filled)
    return filled if len(filled) >= 8 else None


def _message_text(messages: dict, key: str) -> Optional[str]:
    value = messages.get(key)
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) else None


def _response_text(domain: dict, name: str) -> Optional[str]:
    variants = (domain.get("responses") or {}).get(name) or []
    for variant in variants:
        if isinstance(variant, dict) and variant.get("text"):
            return str(variant["text"])
    return None


@dataclass
class Markers:
    disclosure: Optional[str] = None
    clarify: Optional[str] = None
    declines: List[str] = field(default_factory=list)


def load_markers(content_dir: Path = CONTENT, domain_path: Path = DOMAIN) -> Markers:
    """Reads the disclosure, clarification and decline markers from the content files."""
    messages = _yaml(content_dir / "messages.yml").get("messages") or {}
    slots = clinic_placeholders(_yaml(content_dir / "clinic.yml"))
    domain = _yaml(domain_path)
    clarify_text = _message_text(messages, "clarify") or _response_text(domain, "utter_clarify")
    declines = [
        marker(_response_text(domain, "utter_out_of_scope"), slots),
        marker(_response_text(domain, "utter_not_a_person"), slots),
        marker(_message_text(messages, "not_understood"), slots),
        marker(_message_text(messages, "out_of_scope_short"), slots),
        marker(_message_text(messages, "cannot_answer"), slots),
    ]
    return Markers(
        disclosure=marker(_message_text(messages, "disclosure"), slots),
        clarify=marker(clarify_text, slots, first_sentence=False, max_chars=CLARIFY_PREFIX_CHARS),
        declines=[d for d in declines if d],
    )


# --- classification -------------------------------------------------------------------
def strip_disclosure(replies: Iterable[dict], markers: Markers) -> List[dict]:
    """The reply messages without the session-start disclosure."""
    out = []
    for msg in replies or []:
        text = _norm(msg.get("text") or "")
        if markers.disclosure and text.startswith(markers.disclosure):
            continue
        out.append(msg)
    return out


def classify(replies: Sequence[dict], topics: Sequence[str], markers: Markers,
             patterns: Dict[str, "re.Pattern[str]"]) -> str:
    """One of OUTCOMES for the assistant's reply to an item expecting ``topics``.

    Order: clarification, decline, right topic, else wrong. For an out-of-scope item
    (topics == ["out_of_scope"]) a decline is the right outcome.
    """
    messages = strip_disclosure(replies, markers)
    texts = [str(m.get("text") or "") for m in messages]
    joined = "\n".join(texts)
    normalised = _norm(joined)
    if not normalised:
        return "error"
    if markers.clarify and markers.clarify in normalised:
        return "clarify"
    declined = any(d in normalised for d in markers.declines)
    if list(topics) == ["out_of_scope"]:
        pattern = patterns.get("out_of_scope")
        return "right" if declined or (pattern and pattern.search(joined)) else "wrong"
    if declined:
        return "declined"
    for topic in topics:
        pattern = patterns.get(topic)
        if pattern is None:
            raise KeyError(f"no regex for topic {topic!r} in topics.yml")
        if pattern.search(joined):
            return "right"
    return "wrong"


# --- talking to the assistant ---------------------------------------------------------
def ask(url: str, text: str, timeout: float = 60.0) -> List[dict]:
    """Sends ``text`` in a fresh conversation (a sender id issued by the server); returns
    the list of reply messages."""
    return channel_client.send(url, channel_client.new_sender(url, timeout), text, timeout)


def sample_items(items: Sequence[dict], n: Optional[int], seed: int) -> List[dict]:
    """A reproducible subset of ``n`` items (all of them when n is None or too large)."""
    items = list(items)
    if n is None or n >= len(items):
        return items
    rng = random.Random(seed)
    chosen = rng.sample(range(len(items)), n)
    return [items[i] for i in sorted(chosen)]


@dataclass
class Result:
    id: str
    kind: str  # "real" or "oos"
    topics: List[str]
    outcome: str
    text: str = ""
    reply: str = ""


def run(url: str, questions: Sequence[dict], oos: Sequence[dict], markers: Markers,
        patterns: Dict[str, "re.Pattern[str]"], concurrency: int = MAX_CONCURRENCY,
        timeout: float = 60.0) -> List[Result]:
    """Asks every item (at most MAX_CONCURRENCY at a time) and classifies the replies."""
    jobs = [("real", q, list(q.get("topics") or [])) for q in questions]
    jobs += [("oos", o, ["out_of_scope"]) for o in oos]

    def one(job) -> Result:
        kind, item, topics = job
        try:
            replies = ask(url, str(item["text"]), timeout=timeout)
            outcome = classify(replies, topics, markers, patterns)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            replies, outcome = [{"text": f"<request failed: {type(exc).__name__}>"}], "error"
        reply = " | ".join(str(m.get("text") or "") for m in strip_disclosure(replies, markers))
        return Result(str(item.get("id")), kind, topics, outcome, str(item["text"]), reply)

    workers = max(1, min(int(concurrency), MAX_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))


# --- reporting ------------------------------------------------------------------------
def summarise(results: Sequence[Result]) -> dict:
    real = [r for r in results if r.kind == "real"]
    oos = [r for r in results if r.kind == "oos"]
    counts = Counter(r.outcome for r in real)
    n = len(real)

    def share(k: str) -> Optional[float]:
        return round(counts[k] / n, 4) if n else None

    per_topic: Dict[str, Dict[str, int]] = {}
    for r in real:
        for t in r.topics:
            row = per_topic.setdefault(t, {"n": 0, **{o: 0 for o in OUTCOMES}})
            row["n"] += 1
            row[r.outcome] += 1
    safety = [r for r in real if set(r.topics) & set(SAFETY_TOPICS)]
    oos_right = sum(1 for r in oos if r.outcome == "right")
    return {
        "questions": n,
        "counts": {o: counts[o] for o in OUTCOMES},
        "right_share": share("right"),
        "wrong_share": share("wrong"),
        "clarify_share": share("clarify"),
        "declined_share": share("declined"),
        "error_share": share("error"),
        "safety_items": len(safety),
        "safety_wrong": sorted(r.id for r in safety if r.outcome == "wrong"),
        "out_of_scope": len(oos),
        "oos_declined": oos_right,
        "oos_decline_rate": round(oos_right / len(oos), 4) if oos else None,
        "oos_errors": sum(1 for r in oos if r.outcome == "error"),
        "per_topic": dict(sorted(per_topic.items())),
    }


def _pct(x: Optional[float]) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def print_report(summary: dict, results: Sequence[Result], counts_only: bool, out=sys.stdout) -> None:
    c = summary["counts"]
    print(f"real questions: {summary['questions']}  right {c['right']}  clarify {c['clarify']}  "
          f"declined {c['declined']}  wrong {c['wrong']}  error {c['error']}", file=out)
    print(f"  right-topic share        {_pct(summary['right_share'])}", file=out)
    print(f"  confidently wrong share  {_pct(summary['wrong_share'])}", file=out)
    print(f"  clarification rate       {_pct(summary['clarify_share'])}", file=out)
    print(f"  declined (in scope)      {_pct(summary['declined_share'])}", file=out)
    print(f"  safety items wrong       {len(summary['safety_wrong'])} of {summary['safety_items']}"
          + (f" ({', '.join(summary['safety_wrong'])})" if summary["safety_wrong"] else ""), file=out)
    print(f"out-of-scope: {summary['out_of_scope']}  declined {summary['oos_declined']}  "
          f"decline rate {_pct(summary['oos_decline_rate'])}  errors {summary['oos_errors']}", file=out)
    print("per topic (n / right / clarify / declined / wrong / error):", file=out)
    for topic, row in summary["per_topic"].items():
        print(f"  {topic:22s} {row['n']:3d} {row['right']:3d} {row['clarify']:3d} {row['declined']:3d} "
              f"{row['wrong']:3d} {row['error']:3d}", file=out)
    if counts_only:
        return
    for r in results:
        if (r.kind == "real" and r.outcome in ("wrong", "error")) or (r.kind == "oos" and r.outcome != "right"):
            print(f"\n[{r.outcome}] {r.id} expected {','.join(r.topics)}\n  Q: {r.text[:300]}\n"
                  f"  A: {r.reply[:300]}", file=out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="the Rasa server")
    parser.add_argument("--questions", type=Path, default=REALWORLD / "questions.yml")
    parser.add_argument("--oos", type=Path, default=REALWORLD / "out_of_scope.yml")
    parser.add_argument("--topics", type=Path, default=REALWORLD / "topics.yml")
    parser.add_argument("--content", type=Path, default=CONTENT, help="data/content directory")
    parser.add_argument("--domain", type=Path, default=DOMAIN)
    parser.add_argument("--sample", type=int, default=None, help="ask only N real questions")
    parser.add_argument("--oos-sample", type=int, default=None, help="ask only M out-of-scope lines")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (reproducible)")
    parser.add_argument("--concurrency", type=int, default=MAX_CONCURRENCY,
                        help=f"requests at a time (at most {MAX_CONCURRENCY})")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None, help="write the figures (and items) here")
    parser.add_argument("--counts-only", action="store_true", help="print no message text")
    args = parser.parse_args(argv)

    questions = sample_items(load_items(args.questions), args.sample, args.seed)
    oos = sample_items(load_items(args.oos), args.oos_sample, args.seed)
    markers = load_markers(args.content, args.domain)
    patterns = load_topic_patterns(args.topics)
    if not markers.clarify:
        print("note: no `clarify` message in messages.yml yet: clarifications cannot be recognised",
              file=sys.stderr)
    results = run(args.url, questions, oos, markers, patterns, args.concurrency, args.timeout)
    summary = summarise(results)
    print_report(summary, results, args.counts_only)
    if args.json:
        items = [{"id": r.id, "kind": r.kind, "topics": r.topics, "outcome": r.outcome,
                  **({} if args.counts_only else {"text": r.text, "reply": r.reply})} for r in results]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "items": items}, indent=2, ensure_ascii=False),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
