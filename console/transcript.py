"""One conversation turn by turn, and the staff annotations on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from console import db, labels
from console import events as ev
from console.accounts import utcnow
from console.summary import first_actions, not_understood_reason

TAG_RE = re.compile(r"^[\w .:-]{1,64}$", re.UNICODE)
MAX_NOTE = 4000
HIDDEN_ACTIONS = ("action_listen",)


class AnnotationError(ValueError):
    pass


@dataclass
class Item:
    event_id: int
    kind: str
    timestamp: Optional[float]
    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None
    fallback: bool = False  # not understood (summary.not_understood_reason), `reason` says why
    reason: str = ""
    entities: List[dict] = field(default_factory=list)
    buttons: List[dict] = field(default_factory=list)
    name: Optional[str] = None
    value: Any = None
    policy: Optional[str] = None
    slots: Dict[str, Any] = field(default_factory=dict)
    flags: List[Any] = field(default_factory=list)
    notes: List[Any] = field(default_factory=list)
    clicked: Optional[str] = None  # a button click: the title the visitor saw

    @property
    def technical(self) -> bool:
        """Lines shown only in the technical view (actions, slots, session events)."""
        return self.kind not in ("user", "bot")

    @property
    def shown_text(self) -> str:
        return self.clicked if self.clicked is not None else self.text

    @property
    def intent_label(self) -> str:
        return labels.intent(self.intent)

    @property
    def slot_label(self) -> str:
        return labels.slot_label(self.name or "")


@dataclass
class Transcript:
    sender_id: str
    items: List[Item]
    channel: Optional[str]
    screenings: List[Any]
    triages: List[Any]
    consultation: Optional[Any]
    safety: List[Any]
    tags: List[Any]
    review: Optional[Any]
    notes: List[Any]

    @property
    def started_at(self) -> Optional[float]:
        stamps = [i.timestamp for i in self.items if i.timestamp is not None]
        return min(stamps) if stamps else None

    @property
    def turns(self) -> int:
        return sum(1 for i in self.items if i.kind == "user")

    @property
    def channel_label(self) -> str:
        return labels.channel(self.channel)

    @property
    def conversation_items(self) -> List[Item]:
        return [i for i in self.items if not i.technical]


def screening_answers(record) -> List[tuple]:
    """(slot, question, answer, flagged) in the questionnaire's order."""
    flagged = set(record.flagged_items or [])
    return [
        (slot, question, answer, slot in flagged)
        for slot, question, answer in labels.answers(record.answers, labels.form_slots("screening_form"))
    ]


def triage_answers(record) -> List[tuple]:
    return [
        (slot, question, answer, False)
        for slot, question, answer in labels.answers(record.answers, labels.form_slots("triage_form"))
    ]


def _entities(raw) -> List[dict]:
    out = []
    for entity in raw if isinstance(raw, list) else []:
        if isinstance(entity, dict):
            out.append({k: entity.get(k) for k in ("entity", "value", "role", "group", "extractor")})
    return out


def _buttons(raw) -> List[dict]:
    out = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, dict):
            out.append({"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))})
    return out


def _offered(text: str, offered: List[dict]) -> bool:
    """A plain-word payload ("temples and crown") sent by a button just offered."""
    return any(b["payload"] == text and b["title"] != text for b in offered)


def build_items(rows) -> List[Item]:
    """Turn event rows into display items, tracking slot values as they were set."""
    rows = list(rows)
    actions = first_actions(rows)
    items: List[Item] = []
    slots: Dict[str, Any] = {}
    offered: List[dict] = []  # the buttons of the assistant's latest message
    for row in rows:
        data = ev.parse(row.data)
        kind = row.type_name
        if kind == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            name = intent.get("name") or row.intent_name
            confidence = intent.get("confidence")
            confidence = float(confidence) if isinstance(confidence, (int, float)) else None
            text = str(data.get("text") or "")
            reason = not_understood_reason(name, confidence, actions.get(row.id)) or ""
            items.append(
                Item(
                    row.id,
                    kind,
                    row.timestamp,
                    text=text,
                    intent=name,
                    confidence=confidence,
                    fallback=bool(reason),
                    reason=reason,
                    entities=_entities(parse.get("entities")),
                    slots=dict(slots),
                    clicked=labels.payload(text, offered) if text.startswith("/") or _offered(text, offered) else None,
                )
            )
        elif kind == "bot":
            payload = data.get("data") or {}
            buttons = _buttons(payload.get("buttons") if isinstance(payload, dict) else None)
            if buttons:
                offered = buttons
            items.append(Item(row.id, kind, row.timestamp, text=str(data.get("text") or ""), buttons=buttons))
        elif kind == "action":
            name = data.get("name") or row.action_name
            if name in HIDDEN_ACTIONS:
                continue
            confidence = data.get("confidence")
            items.append(
                Item(
                    row.id,
                    kind,
                    row.timestamp,
                    name=name,
                    policy=data.get("policy"),
                    confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
                )
            )
        elif kind == "slot":
            name = data.get("name") or row.action_name
            value = data.get("value")
            if value is None:
                slots.pop(name, None)
            else:
                slots[name] = value
            if name != "requested_slot":
                items.append(Item(row.id, kind, row.timestamp, name=name, value=value))
        elif kind in ("session_started", "active_loop", "restart", "followup", "action_execution_rejected"):
            items.append(Item(row.id, kind, row.timestamp, name=data.get("name")))
    return items


def load(url: str, sender_id: str) -> Optional[Transcript]:
    t = db.tables()
    e = t.events
    with db.session(url) as s:
        rows = (
            s.execute(sa.select(e).where(e.c.sender_id == sender_id).order_by(e.c.id)).all()
            if db.events_ready(url)
            else []
        )

        def by_sender(table, *order):
            return s.execute(
                sa.select(table).where(table.c.sender_id == sender_id).order_by(*(order or (table.c.id,)))
            ).all()

        screenings = by_sender(t.screening_result)
        triages = by_sender(t.triage_outcome)
        consultations = by_sender(t.consultation_request)
        safety = by_sender(t.safety_event)
        flags = by_sender(t.message_flag)
        notes = by_sender(t.note)
        tags = s.execute(
            sa.select(t.tag.c.id, t.tag.c.name)
            .join(t.conversation_tag, t.conversation_tag.c.tag_id == t.tag.c.id)
            .where(t.conversation_tag.c.sender_id == sender_id)
            .order_by(t.tag.c.name)
        ).all()
        review = s.execute(
            sa.select(t.conversation_review).where(t.conversation_review.c.sender_id == sender_id)
        ).first()
    if not (rows or screenings or triages or consultations or safety):
        return None
    items = build_items(rows)
    by_event: Dict[int, Item] = {item.event_id: item for item in items}
    loose_notes = []
    for flag in flags:
        if flag.event_id in by_event:
            by_event[flag.event_id].flags.append(flag)
    for note in notes:
        if note.event_id is not None and note.event_id in by_event:
            by_event[note.event_id].notes.append(note)
        else:
            loose_notes.append(note)
    channel = next((ev.parse(r.data).get("input_channel") for r in rows if r.type_name == "user"), None)
    return Transcript(
        sender_id,
        items,
        channel,
        screenings,
        triages,
        consultations[-1] if consultations else None,
        safety,
        tags,
        review,
        loose_notes,
    )


def event_belongs(url: str, sender_id: str, event_id: int, types=("user", "bot")) -> bool:
    if not db.events_ready(url):
        return False
    e = ev.events
    with db.session(url) as s:
        return (
            s.execute(
                sa.select(e.c.id).where(
                    e.c.id == event_id, e.c.sender_id == sender_id, e.c.type_name.in_(types)
                )
            ).first()
            is not None
        )


def add_tag(url: str, sender_id: str, name: str) -> str:
    name = " ".join((name or "").split())
    if not TAG_RE.match(name):
        raise AnnotationError("Tags are 1-64 letters, digits, spaces, '.', ':', '_' or '-'.")
    t = db.tables()
    with db.session(url) as s:
        tag_id = s.scalar(sa.select(t.tag.c.id).where(t.tag.c.name == name))
    if tag_id is None:
        try:
            with db.session(url) as s:
                tag_id = s.execute(
                    sa.insert(t.tag).values(name=name, created_at=utcnow())
                ).inserted_primary_key[0]
        except IntegrityError:
            with db.session(url) as s:
                tag_id = s.scalar(sa.select(t.tag.c.id).where(t.tag.c.name == name))
    try:
        with db.session(url) as s:
            s.execute(
                sa.insert(t.conversation_tag).values(sender_id=sender_id, tag_id=tag_id, created_at=utcnow())
            )
    except IntegrityError:
        pass
    return name


def remove_tag(url: str, sender_id: str, tag_id: int) -> Optional[str]:
    t = db.tables()
    with db.session(url) as s:
        name = s.scalar(sa.select(t.tag.c.name).where(t.tag.c.id == tag_id))
        s.execute(
            sa.delete(t.conversation_tag).where(
                t.conversation_tag.c.sender_id == sender_id, t.conversation_tag.c.tag_id == tag_id
            )
        )
    return name


def all_tags(url: str) -> List[str]:
    t = db.tables()
    with db.session(url) as s:
        return list(s.scalars(sa.select(t.tag.c.name).order_by(t.tag.c.name)))


def set_reviewed(url: str, sender_id: str, reviewed: bool, username: str) -> None:
    cr = db.tables().conversation_review
    values = {
        "reviewed": reviewed,
        "reviewed_by": username if reviewed else None,
        "reviewed_at": utcnow() if reviewed else None,
    }
    with db.session(url) as s:
        updated = s.execute(sa.update(cr).where(cr.c.sender_id == sender_id).values(**values)).rowcount
    if not updated:
        try:
            with db.session(url) as s:
                s.execute(sa.insert(cr).values(sender_id=sender_id, created_at=utcnow(), **values))
        except IntegrityError:
            with db.session(url) as s:
                s.execute(sa.update(cr).where(cr.c.sender_id == sender_id).values(**values))


def _clean_text(text: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise AnnotationError("The text is empty.")
    if len(text) > limit:
        raise AnnotationError(f"At most {limit} characters.")
    return text


def add_note(url: str, sender_id: str, username: str, text: str, event_id: Optional[int] = None) -> None:
    text = _clean_text(text, MAX_NOTE)
    if event_id is not None and not event_belongs(url, sender_id, event_id):
        raise AnnotationError("That message is not part of this conversation.")
    with db.session(url) as s:
        s.execute(
            sa.insert(db.tables().note).values(
                sender_id=sender_id, event_id=event_id, author=username, text=text, created_at=utcnow()
            )
        )


def flag_message(url: str, sender_id: str, username: str, event_id: int, reason: str) -> None:
    reason = (reason or "").strip()[:MAX_NOTE]
    if not event_belongs(url, sender_id, event_id):
        raise AnnotationError("That message is not part of this conversation.")
    with db.session(url) as s:
        s.execute(
            sa.insert(db.tables().message_flag).values(
                sender_id=sender_id, event_id=event_id, author=username, reason=reason, created_at=utcnow()
            )
        )


def conversation_exists(url: str, sender_id: str) -> bool:
    s = db.tables().conversation_summary
    e = ev.events
    with db.session(url) as session:
        if session.execute(sa.select(s.c.id).where(s.c.sender_id == sender_id)).first():
            return True
        if not db.events_ready(url):
            return False
        return (
            session.execute(sa.select(e.c.id).where(e.c.sender_id == sender_id).limit(1)).first() is not None
        )
