"""Messages the assistant did not understand, and turning them into NLU training data.

Examples are written to `<data dir>/nlu_inbox/<intent>.yml` in Rasa's NLU YAML
format, for a person to review and merge into `data/nlu/`; nothing is written
into `data/` directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
import yaml

from console import db
from console import events as ev
from console.summary import first_actions, not_understood_reason

INTENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
NLU_VERSION = "3.1"
MAX_MESSAGES = 500
SAMPLE_SIZE = 50
PAGE_SIZE = 50  # distinct messages per page
TRUNCATE_AT = 280  # characters shown before "Show the full message"
IGNORED_FILE = "improve_ignored.json"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SEEN_TTL = 60.0
_write_lock = threading.Lock()
_seen_cache: Dict[str, Tuple[float, List[str]]] = {}
_domain_cache: Dict[str, Tuple[tuple, List[str]]] = {}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Message:
    event_id: int
    sender_id: str
    timestamp: float
    text: str
    intent: str
    confidence: Optional[float]
    predicted: str
    added: bool = False
    reason: str = ""  # why it is not understood (summary.not_understood_reason), "" when answered


def text_key(text: str) -> str:
    """What identical messages share: a digest of the cleaned, case-folded text (the
    ignore list stores only this, never the visitor's words)."""
    return hashlib.sha256(clean_example(text).casefold().encode("utf-8")).hexdigest()


@dataclass
class Row:
    """Identical messages (same cleaned text, any case), newest first."""

    key: str
    messages: List[Message] = field(default_factory=list)

    @property
    def first(self) -> Message:
        return self.messages[0]

    @property
    def count(self) -> int:
        return len(self.messages)


@dataclass
class Group:
    predicted: str
    messages: List[Message] = field(default_factory=list)

    @property
    def rows(self) -> List[Row]:
        """The group's messages with identical ones together, most frequent first."""
        rows: Dict[str, Row] = {}
        for message in self.messages:
            key = text_key(message.text)
            rows.setdefault(key, Row(key)).messages.append(message)
        return sorted(rows.values(), key=lambda r: (-r.count, -r.first.timestamp))


def paginate(groups: Sequence[Group], page: int, size: Optional[int] = None):
    """([(group, its rows on this page)], page, pages): pages of `size` distinct messages."""
    size = size or PAGE_SIZE
    flat = [(group, row) for group in groups for row in group.rows]
    pages = max(1, -(-len(flat) // size))
    page = min(max(1, page), pages)
    shown: "OrderedDict[str, Tuple[Group, List[Row]]]" = OrderedDict()
    for group, row in flat[(page - 1) * size : page * size]:
        shown.setdefault(group.predicted, (group, []))[1].append(row)
    return list(shown.values()), page, pages


def _ignored_path(directory: Path) -> Path:
    return directory.parent / IGNORED_FILE


def ignored_keys(directory: Path) -> Dict[str, dict]:
    """Hidden message texts (by `text_key`), each with who hid it and when."""
    try:
        with open(_ignored_path(directory), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def set_ignored(directory: Path, key: str, username: str, ignored: bool) -> bool:
    """Hide (or show again) the messages with this key; returns whether anything changed."""
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise ValueError("invalid key")
    path = _ignored_path(directory)
    with _write_lock:
        keys = ignored_keys(directory)
        if ignored == (key in keys):
            return False
        if ignored:
            keys[key] = {"by": username, "at": time.time()}
        else:
            keys.pop(key, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
        os.replace(tmp, path)
    return True


def domain_intents(path: Path) -> List[str]:
    """Intent names from the domain's `intents:` key (plain names or one-key mappings).

    Parsed again only when the file changes.
    """
    try:
        stat = path.stat()
    except OSError:
        return []
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _domain_cache.get(str(path))
    if cached and cached[0] == key:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as handle:
            domain = yaml.load(handle, Loader=_Loader) or {}
    except (OSError, yaml.YAMLError):
        return []
    names = []
    for entry in domain.get("intents") or [] if isinstance(domain, dict) else []:
        name = next(iter(entry), None) if isinstance(entry, dict) else entry
        if isinstance(name, str) and INTENT_RE.match(name):
            names.append(name)
    _domain_cache[str(path)] = (key, names)
    return names


def seen_intents(url: str) -> List[str]:
    cached = _seen_cache.get(url)
    if cached and time.monotonic() - cached[0] < _SEEN_TTL:
        return cached[1]
    if not db.events_ready(url):
        return []
    e = ev.events
    with db.session(url) as s:
        names = [
            n
            for n in s.scalars(sa.select(e.c.intent_name).where(e.c.intent_name.isnot(None)).distinct())
            if INTENT_RE.match(n)
        ]
    _seen_cache[url] = (time.monotonic(), sorted(names))
    return _seen_cache[url][1]


def known_intents(url: str, domain_path: Path) -> List[str]:
    """Intents staff may choose: the domain's, else the ones seen in conversations."""
    names = domain_intents(domain_path) or seen_intents(url)
    return sorted(n for n in set(names) if n != ev.FALLBACK_INTENT)


def predicted_intent(data: dict) -> str:
    """The best intent other than `nlu_fallback` (Rasa ranks the original ones after it)."""
    parse = data.get("parse_data") or {}
    for entry in parse.get("intent_ranking") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if name and name != ev.FALLBACK_INTENT:
            return name
    name = (parse.get("intent") or {}).get("name")
    return name or ev.FALLBACK_INTENT


def clean_example(text: str) -> str:
    """One line of plain text; Rasa's entity annotation syntax is broken up."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    return text.replace("](", "] (").replace("]{", "] {")


def inbox_file(directory: Path, intent: str) -> Path:
    if not INTENT_RE.match(intent):
        raise ValueError("invalid intent name")
    return directory / f"{intent}.yml"


def read_examples(path: Path) -> List[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError):
        return []
    examples: List[str] = []
    for block in content.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(line[2:])
    return examples


def render_yaml(intent: str, examples: Sequence[str]) -> str:
    lines = [f'version: "{NLU_VERSION}"', "nlu:", f"- intent: {intent}", "  examples: |"]
    lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"


def add_examples(directory: Path, intent: str, texts: Iterable[str]) -> Tuple[Path, int]:
    """Append new examples (deduplicated) to the intent's file; returns (path, added)."""
    path = inbox_file(directory, intent)
    with _write_lock:
        directory.mkdir(parents=True, exist_ok=True)
        examples = OrderedDict.fromkeys(read_examples(path))
        before = len(examples)
        for text in texts:
            cleaned = clean_example(text)
            if cleaned:
                examples.setdefault(cleaned)
        content = render_yaml(intent, list(examples))
        tmp = path.with_suffix(".yml.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    return path, len(examples) - before


def inbox_files(directory: Path) -> List[Tuple[str, int]]:
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.yml")):
        if INTENT_RE.match(path.stem):
            out.append((path.stem, len(read_examples(path))))
    return out


def _already_added(directory: Path) -> Set[str]:
    added: Set[str] = set()
    for intent, _ in inbox_files(directory):
        added.update(read_examples(inbox_file(directory, intent)))
    return added


def _message(row, added: Set[str], first_action: Optional[str] = None) -> Message:
    """The console's view of one user event row; `first_action` is the first action Rasa
    ran after it (`summary.first_actions`)."""
    data = ev.parse(row.data)
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name") or row.intent_name
    confidence = intent.get("confidence")
    text = str(data.get("text") or "")
    message = Message(
        row.id,
        row.sender_id,
        row.timestamp or 0.0,
        text,
        name or "",
        confidence if isinstance(confidence, (int, float)) else None,
        predicted_intent(data),
        clean_example(text) in added,
        not_understood_reason(name, confidence, first_action) or "",
    )
    return message


def _grouped(messages: Iterable[Message]) -> List[Group]:
    """By predicted intent; identical messages all go to the group of the first (newest)
    of them, whatever was predicted for the others (the model may have changed)."""
    home: Dict[str, str] = {}
    groups: Dict[str, Group] = {}
    for message in messages:
        predicted = home.setdefault(text_key(message.text), message.predicted)
        groups.setdefault(predicted, Group(predicted)).messages.append(message)
    return sorted(groups.values(), key=lambda g: (-len(g.messages), g.predicted))


def _user_events():
    e = db.tables().events
    return e, sa.select(e.c.id, e.c.sender_id, e.c.timestamp, e.c.intent_name, e.c.data).where(e.c.type_name == "user")


def _first_actions(session, rows: Sequence) -> Dict[int, str]:
    """`summary.first_actions` of the given user event rows, read from their senders' events."""
    if not rows:
        return {}
    e = db.tables().events
    senders = sorted({row.sender_id for row in rows})
    start = min(row.id for row in rows)
    found: Dict[int, str] = {}
    for first in range(0, len(senders), 500):
        query = (
            sa.select(e.c.id, e.c.sender_id, e.c.type_name, e.c.action_name)
            .where(
                e.c.sender_id.in_(senders[first : first + 500]),
                e.c.id >= start,
                e.c.type_name.in_(("user", "action")),
            )
            .order_by(e.c.sender_id, e.c.id)
        )
        found.update(first_actions(session.execute(query)))
    return found


def not_understood(
    url: str,
    directory: Path,
    since: float,
    limit: Optional[int] = None,
    keep: Optional[Callable[[Message], bool]] = None,
) -> List[Group]:
    """User messages since `since` that the assistant did not understand, grouped by
    predicted intent: fallback and low-confidence ones, and those whose first action was
    one that does not answer (`summary.not_understood_reason`; each Message says why);
    the newest `limit` (MAX_MESSAGES) of them for which `keep` holds."""
    limit = limit or MAX_MESSAGES
    if not db.events_ready(url):
        return []
    s = db.tables().conversation_summary
    e, query = _user_events()
    senders = sa.select(s.c.sender_id).where(s.c.fallback_turns > 0, s.c.last_at >= since)
    query = query.where(
        e.c.timestamp >= since,
        sa.or_(e.c.intent_name == ev.FALLBACK_INTENT, e.c.sender_id.in_(senders)),
    ).order_by(e.c.timestamp.desc())
    added = _already_added(directory)
    found: List[Message] = []
    with db.session(url) as session:
        messages = [(row, _message(row, added)) for row in session.execute(query)]
        # the classifier's fallbacks need no more rows; the other messages their first action
        actions = _first_actions(session, [row for row, message in messages if not message.reason])
    for row, message in messages:
        if not message.reason and row.id in actions:
            message.reason = not_understood_reason(message.intent, message.confidence, actions[row.id]) or ""
        if message.reason and (keep is None or keep(message)):
            found.append(message)
            if len(found) >= limit:
                break
    return _grouped(found)


def spot_check(
    url: str,
    directory: Path,
    since: float,
    size: Optional[int] = None,
    keep: Optional[Callable[[Message], bool]] = None,
) -> List[Group]:
    """A random sample of `size` (SAMPLE_SIZE) typed messages since `since` that the
    assistant did answer (not a fallback, not low confidence, not followed by an action
    that does not answer), grouped by the intent it chose. The not-understood list cannot
    show a confident wrong answer; a sample can."""
    size = size or SAMPLE_SIZE
    if not db.events_ready(url):
        return []
    e, query = _user_events()
    query = query.where(
        e.c.timestamp >= since,
        e.c.intent_name.isnot(None),
        e.c.intent_name != ev.FALLBACK_INTENT,
    ).order_by(sa.func.random()).limit(size * 3)  # some rows drop out below
    added = _already_added(directory)
    found: List[Message] = []
    with db.session(url) as session:
        rows = session.execute(query).all()
        actions = _first_actions(session, rows)
    for row in rows:
        message = _message(row, added, actions.get(row.id))
        typed = message.text.strip() and not message.text.startswith("/")  # not a button
        if typed and not message.reason and (keep is None or keep(message)):
            found.append(message)
            if len(found) >= size:
                break
    return _grouped(found)


def user_texts(url: str, event_ids: Sequence[int]) -> List[Tuple[int, str, str]]:
    """(event id, sender id, text) of the given user events."""
    if not db.events_ready(url):
        return []
    e = ev.events
    with db.session(url) as s:
        rows = s.execute(
            sa.select(e.c.id, e.c.sender_id, e.c.data).where(
                e.c.id.in_(list(event_ids)), e.c.type_name == "user"
            )
        ).all()
    return [(r.id, r.sender_id, str(ev.parse(r.data).get("text") or "")) for r in rows]
