"""MesoGuide's conversation checks ("probes"): scripted chats against a running assistant.

A probe file (``tests/probes/*.yml``, format in ``tests/probes/README.md``) is a list of
scenarios; each scenario is a conversation sent to Rasa's REST channel
(``POST {url}/webhooks/rest/webhook``) under its own fresh sender id (issued by the
server: ``POST {url}/webhooks/rest/session``, channels/client.py), with regexes the
bot's replies must (``expect``) or must not (``forbid``) match.  ``{clinic_name}``-style
placeholders are filled from ``data/content/clinic.yml``, so a clinic that edits its
details does not break the checks.

Command line::

    python -m tests.probe_runner tests/probes/*.yml --url http://localhost:5005 [-v]
        [--json OUT.json] [--timeout 30] [--only NAME_REGEX] [--area AREA_REGEX]
        [--clinic PATH/clinic.yml]

prints ``PASS <name>`` or ``FAIL <name>`` (with the reason) per scenario and, last,
``N passed, M failed``; exits 1 when a scenario failed or none ran, 2 on a malformed file.

From Python::

    from tests.probe_runner import load_scenarios, new_sender, run_file, run_scenario, send
    me = new_sender("http://localhost:5005")
    messages = send("http://localhost:5005", me, "hello")            # the bot's messages
    results = run_file("tests/probes/flows.yml", "http://localhost:5005")
    assert all(r.passed for r in results)

Only the standard library, PyYAML and channels/client.py are used.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python tests/probe_runner.py` as well as `-m tests.probe_runner`
    sys.path.insert(0, str(ROOT))

from channels import client as channel_client  # noqa: E402

DEFAULT_URL = "http://localhost:5005"
DEFAULT_TIMEOUT = 30.0
PATIENT_DEFAULT_ANSWER = "no"
PATIENT_DEFAULT_MAX = 10
FLAGS = re.IGNORECASE | re.DOTALL

SCENARIO_KEYS = {"name", "area", "turns"}
TURN_KINDS = ("user", "click", "patient")
CHECK_KEYS = {"expect", "forbid"}
PATIENT_KEYS = {"answers", "until", "max", "may_skip", "default"}

# {identifier}: a placeholder.  Regex quantifiers ({2}, {1,3}) never look like this.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProbeFormatError(ValueError):
    """A probe file does not follow the documented format."""


# ----------------------------------------------------------------------------- clinic details

def clinic_file() -> Path:
    """Where the assistant reads the clinic's details (same rule as ``actions.content``)."""
    content_dir = os.environ.get("MESOGUIDE_CONTENT_DIR")
    return (Path(content_dir) if content_dir else ROOT / "data" / "content") / "clinic.yml"


def load_clinic(path: Optional[os.PathLike] = None) -> Dict[str, str]:
    """The clinic's details from ``clinic.yml`` as strings (``name``, ``phone``, ``email``, ...)."""
    with open(path or clinic_file(), encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ProbeFormatError(f"{path or clinic_file()}: expected a mapping of clinic details")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def placeholders(clinic: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Placeholder name -> value.

    The names the assistant's own messages use (``clinic_name``, ``clinic_phone``,
    ``clinic_email``, ``clinic_hours``, ``emergency_number``, ``urgent_care``), plus
    ``clinic_<key>`` for every key of ``clinic.yml`` (e.g. ``clinic_retention``).
    """
    clinic = load_clinic() if clinic is None else clinic
    values = {f"clinic_{key}": value for key, value in clinic.items()}
    for key in ("emergency_number", "urgent_care"):
        if key in clinic:
            values[key] = clinic[key]
    return values


def fill(template: str, values: Mapping[str, str], *, escape: bool) -> str:
    """Replaces ``{name}`` placeholders; ``escape=True`` for regexes (values match literally)."""

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join("{%s}" % k for k in sorted(values))
            raise ProbeFormatError(f"unknown placeholder {{{name}}} in {template!r}; known: {known}")
        return re.escape(values[name]) if escape else values[name]

    return PLACEHOLDER.sub(replace, template)


# ----------------------------------------------------------------------------- talking to Rasa

def send(url: str, sender: str, text: str, timeout: float = DEFAULT_TIMEOUT) -> List[Dict[str, Any]]:
    """Sends one message to Rasa's REST channel; returns the bot's messages (dicts)."""
    return channel_client.send(url, sender, text, timeout)


def new_sender(url: str = DEFAULT_URL, timeout: float = DEFAULT_TIMEOUT) -> str:
    """A fresh sender id, issued by the server (the channel accepts no other)."""
    return channel_client.new_sender(url, timeout)


def render(messages: Iterable[Mapping[str, Any]]) -> str:
    """The reply as the checks see it: texts, buttons as ``[Title]``, images, custom JSON."""
    lines: List[str] = []
    for message in messages:
        if message.get("text"):
            lines.append(str(message["text"]))
        for button in message.get("buttons") or []:
            lines.append(f"[{button.get('title', '')}]")
        if message.get("image"):
            lines.append(f"(image: {message['image']})")
        for key in ("custom", "attachment"):
            if message.get(key) is not None:
                lines.append(json.dumps(message[key], ensure_ascii=False, sort_keys=True))
    return "\n".join(lines)


def buttons(messages: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    return [b for m in messages for b in (m.get("buttons") or [])]


# ----------------------------------------------------------------------------- the file format

@dataclass
class Scenario:
    name: str
    turns: List[Dict[str, Any]]
    area: str = ""
    file: str = ""

    @property
    def id(self) -> str:
        """``<file stem>: <name>``: unique across the probe files (names are unique per file)."""
        return f"{Path(self.file).stem}: {self.name}" if self.file else self.name


def _strings(value: Any, where: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ProbeFormatError(f"{where}: expected a regex or a list of regexes, got {value!r}")


def _regex(pattern: str, where: str) -> None:
    try:
        re.compile(PLACEHOLDER.sub("x", pattern), FLAGS)
    except re.error as exc:
        raise ProbeFormatError(f"{where}: bad regex {pattern!r}: {exc}") from None


def _check_turn(turn: Any, where: str) -> Dict[str, Any]:
    if not isinstance(turn, dict):
        raise ProbeFormatError(f"{where}: a turn is a mapping, got {turn!r}")
    kinds = [k for k in TURN_KINDS if k in turn]
    if len(kinds) != 1:
        raise ProbeFormatError(f"{where}: a turn has exactly one of user / click / patient, got {sorted(turn)}")
    kind = kinds[0]
    unknown = set(turn) - CHECK_KEYS - {kind}
    if unknown:
        raise ProbeFormatError(f"{where}: unknown keys {sorted(unknown)}")
    checked = dict(turn)
    for key in CHECK_KEYS:
        checked[key] = _strings(turn.get(key), f"{where} {key}")
        for pattern in checked[key]:
            _regex(pattern, f"{where} {key}")
    if kind == "user":
        value = turn["user"]
        if isinstance(value, (dict, list, bool)):
            raise ProbeFormatError(f"{where}: user: takes the text to type, got {value!r} (quote \"yes\"/\"no\")")
        checked["user"] = "" if value is None else str(value)
    elif kind == "click":
        if not isinstance(turn["click"], str):
            raise ProbeFormatError(f"{where}: click: takes a regex for a button title (quote \"Yes\"/\"No\")")
        _regex(turn["click"], f"{where} click")
    else:
        spec = turn["patient"]
        if not isinstance(spec, dict) or "until" not in spec:
            raise ProbeFormatError(f"{where}: patient: needs a mapping with at least `until`")
        unknown = set(spec) - PATIENT_KEYS
        if unknown:
            raise ProbeFormatError(f"{where} patient: unknown keys {sorted(unknown)}")
        _regex(str(spec["until"]), f"{where} patient until")
        rules = spec.get("answers") or []
        if not isinstance(rules, list):
            raise ProbeFormatError(f"{where} patient answers: expected a list of [regex, answer] pairs")
        pairs = []
        for rule in rules:
            if not (isinstance(rule, list) and len(rule) == 2 and isinstance(rule[0], str)
                    and not isinstance(rule[1], (bool, dict, list))):
                raise ProbeFormatError(f"{where} patient answers: expected [regex, answer] (quote \"yes\"/\"no\"), "
                                       f"got {rule!r}")
            _regex(rule[0], f"{where} patient answers")
            pairs.append((rule[0], "" if rule[1] is None else str(rule[1])))
        try:
            limit = int(spec.get("max", PATIENT_DEFAULT_MAX))
        except (TypeError, ValueError):
            raise ProbeFormatError(f"{where} patient max: expected a number, got {spec.get('max')!r}") from None
        if not isinstance(spec["until"], str) or isinstance(spec.get("default", ""), (bool, dict, list)):
            raise ProbeFormatError(f"{where} patient: `until` is a regex and `default` a text (quote \"yes\"/\"no\")")
        checked["patient"] = {
            "until": str(spec["until"]),
            "answers": pairs,
            "max": limit,
            "may_skip": bool(spec.get("may_skip", False)),
            "default": str(spec.get("default", PATIENT_DEFAULT_ANSWER)),
        }
    return checked


def parse_scenarios(data: Any, source: str = "<probes>") -> List[Scenario]:
    """Validates parsed YAML (a list of scenarios) and returns the scenarios."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise ProbeFormatError(f"{source}: a probe file is a list of scenarios")
    scenarios, seen = [], set()
    for number, item in enumerate(data, 1):
        where = f"{source} scenario {number}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ProbeFormatError(f"{where}: a scenario is a mapping with a `name`")
        where = f"{source} scenario {item['name']!r}"
        unknown = set(item) - SCENARIO_KEYS
        if unknown:
            raise ProbeFormatError(f"{where}: unknown keys {sorted(unknown)}")
        if item["name"] in seen:
            raise ProbeFormatError(f"{where}: the name is used twice in the file")
        seen.add(item["name"])
        turns = item.get("turns")
        if not isinstance(turns, list) or not turns:
            raise ProbeFormatError(f"{where}: `turns` must be a non-empty list")
        checked = [_check_turn(turn, f"{where} turn {i}") for i, turn in enumerate(turns, 1)]
        if "click" in checked[0]:
            raise ProbeFormatError(f"{where}: the first turn cannot click (there is no reply yet)")
        scenarios.append(Scenario(item["name"], checked, str(item.get("area") or ""), source))
    return scenarios


def load_scenarios(path: os.PathLike) -> List[Scenario]:
    with open(path, encoding="utf-8") as fh:
        return parse_scenarios(yaml.safe_load(fh), str(path))


# ----------------------------------------------------------------------------- running

@dataclass
class Result:
    name: str
    passed: bool
    reason: str = ""
    area: str = ""
    file: str = ""
    sender: str = ""
    transcript: List[str] = field(default_factory=list)
    latencies: List[float] = field(default_factory=list)

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}" + (f"\n     {self.reason}" if self.reason else "")


class _Failed(Exception):
    pass


def _short(text: str, limit: int = 300) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class _Conversation:
    def __init__(self, url: str, timeout: float, values: Mapping[str, str], sender: str):
        self.url, self.timeout, self.values, self.sender = url, timeout, values, sender
        self.last: List[Dict[str, Any]] = []
        self.transcript: List[str] = []
        self.latencies: List[float] = []

    def regex(self, pattern: str) -> "re.Pattern[str]":
        return re.compile(fill(pattern, self.values, escape=True), FLAGS)

    def say(self, text: str, label: str) -> str:
        self.transcript.append(f"> {text}")
        started = time.perf_counter()
        try:
            self.last = send(self.url, self.sender, text, self.timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise _Failed(f"{label}: request failed: {exc}") from None
        self.latencies.append(time.perf_counter() - started)
        reply = render(self.last)
        self.transcript.append("< " + reply.replace("\n", "\n< "))
        return reply

    def check(self, turn: Mapping[str, Any], reply: str, label: str) -> None:
        for pattern in turn["expect"]:
            if not self.regex(pattern).search(reply):
                raise _Failed(f"{label}: missing /{pattern}/ in reply: {_short(reply)}")
        for pattern in turn["forbid"]:
            if self.regex(pattern).search(reply):
                raise _Failed(f"{label}: forbidden /{pattern}/ in reply: {_short(reply)}")

    def patient(self, spec: Mapping[str, Any], label: str) -> str:
        until = self.regex(spec["until"])
        rules = [(self.regex(pattern), answer) for pattern, answer in spec["answers"]]
        reply = render(self.last)
        if spec["may_skip"] and until.search(reply):
            return reply
        answered = []
        for _ in range(spec["max"]):
            answer = next((a for rx, a in rules if rx.search(reply)), spec["default"])
            answer = fill(answer, self.values, escape=False)
            answered.append(answer)
            reply = self.say(answer, label)
            if until.search(reply):
                return reply
        raise _Failed(f"{label}: no reply matched /{spec['until']}/ after {len(answered)} answers "
                      f"{answered}; last reply: {_short(reply)}")

    def turn(self, number: int, turn: Mapping[str, Any]) -> None:
        if "patient" in turn:
            label = f"turn {number} (patient)"
            reply = self.patient(turn["patient"], label)
        elif "click" in turn:
            label = f"turn {number} (click {turn['click']!r})"
            pattern = self.regex(turn["click"])
            offered = buttons(self.last)
            hit = next((b for b in offered if pattern.search(str(b.get("title", "")))), None)
            if hit is None:
                titles = [b.get("title") for b in offered]
                raise _Failed(f"{label}: no button matching /{turn['click']}/ among {titles}")
            reply = self.say(str(hit.get("payload") or hit.get("title")), label)
        else:
            text = fill(turn["user"], self.values, escape=False)
            label = f"turn {number} ({text[:60]!r})"
            reply = self.say(text, label)
        self.check(turn, reply, label)


def run_scenario(scenario: Scenario, url: str = DEFAULT_URL, timeout: float = DEFAULT_TIMEOUT,
                 clinic: Optional[Mapping[str, str]] = None) -> Result:
    """Plays one scenario under a fresh sender id; stops at the first failed turn."""
    values = placeholders(clinic)
    result = Result(scenario.name, True, area=scenario.area, file=scenario.file)
    try:
        sender = new_sender(url, timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        result.passed, result.reason = False, f"request failed: no sender id from {url}: {exc}"
        return result
    chat = _Conversation(url, timeout, values, sender)
    result.sender = sender
    try:
        for number, turn in enumerate(scenario.turns, 1):
            chat.turn(number, turn)
    except (_Failed, ProbeFormatError) as exc:
        result.passed, result.reason = False, str(exc)
    result.transcript, result.latencies = chat.transcript, chat.latencies
    return result


def select(scenarios: Sequence[Scenario], only: Optional[str] = None, area: Optional[str] = None) -> List[Scenario]:
    """Scenarios whose name matches ``only`` (search) and whose area matches ``area`` (full match)."""
    return [s for s in scenarios
            if (not only or re.search(only, s.name, re.I)) and (not area or re.fullmatch(area, s.area, re.I))]


def run_file(path: os.PathLike, url: str = DEFAULT_URL, timeout: float = DEFAULT_TIMEOUT,
             clinic: Optional[Mapping[str, str]] = None, only: Optional[str] = None,
             area: Optional[str] = None, report: Optional[Callable[[Result], None]] = None) -> List[Result]:
    """Runs every (selected) scenario of one probe file; ``report`` is called after each."""
    clinic = load_clinic() if clinic is None else clinic
    results = []
    for scenario in select(load_scenarios(path), only, area):
        result = run_scenario(scenario, url, timeout, clinic)
        results.append(result)
        if report:
            report(result)
    return results


def summary(results: Sequence[Result]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed} passed, {len(results) - passed} failed"


def write_json(results: Sequence[Result], path: os.PathLike) -> None:
    latencies = [s for r in results for s in r.latencies]
    payload = {"summary": summary(results), "results": [asdict(r) for r in results], "latencies": latencies}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.probe_runner",
                                     description="Run MesoGuide conversation probes against a running assistant.")
    parser.add_argument("files", nargs="+", help="probe files (YAML)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"Rasa server (default {DEFAULT_URL})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per message")
    parser.add_argument("--json", dest="json_out", help="write the results and latencies here")
    parser.add_argument("--only", help="regex: run only scenarios whose name matches")
    parser.add_argument("--area", help="regex: run only scenarios whose area matches in full")
    parser.add_argument("--clinic", help="clinic.yml to fill placeholders from (default: the assistant's)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each scenario's transcript")
    args = parser.parse_args(argv)

    try:
        clinic = load_clinic(args.clinic)
        scenarios = [s for f in args.files for s in select(load_scenarios(f), args.only, args.area)]
    except (OSError, yaml.YAMLError, ProbeFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    results = []
    for scenario in scenarios:
        result = run_scenario(scenario, args.url, args.timeout, clinic)
        results.append(result)
        print(result.line(), flush=True)
        if args.verbose or not result.passed:
            lines = result.transcript if args.verbose else result.transcript[-6:]
            for line in lines:
                print("       " + line.replace("\n", "\n       "))
    latencies = sorted(s for r in results for s in r.latencies)
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"messages: {len(latencies)}, latency median {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms")
    if args.json_out:
        write_json(results, args.json_out)
    print(summary(results))
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
