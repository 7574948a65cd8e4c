"""The records store: the only functions the actions use to write clinic records.

Every function is synchronous and opens its own session (the actions call them
through ``asyncio.to_thread``). Values outside the contract's vocabularies raise
``ValueError`` before anything is written. When the database cannot be reached, the
save/log functions spool the record (see :mod:`records.spool`) and return None;
the next call that reaches the database replays the spool first, and a background
thread retries every ``MESOGUIDE_SPOOL_RETRY_SECONDS`` (10) until the spool is empty,
so the records reach the database when it is back even if no other call comes.
"""
import hashlib
import json
import logging
import os
import threading
import time
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from records import copies, db, spool
from records.models import (
    CONVERSATION_REFERENCE_TARGET,
    SENDER_ID_LENGTH,
    AuditLog,
    ConsultationRequest,
    ConversationReference,
    DeletionLog,
    SafetyEvent,
    ScreeningResult,
    SENDER_TABLES,
    TriageOutcome,
    utcnow,
)
from records.vocabulary import (
    CONSULTATION_KINDS,
    CONSULTATION_STATUSES,
    SAFETY_KINDS,
    SCREENING_ANSWERS,
    SCREENING_OUTCOMES,
    STAFF_ROLES,
    TRIAGE_OUTCOMES,
    check_choice,
)

__all__ = [
    "CONSULTATION_KINDS",
    "CONSULTATION_STATUSES",
    "SAFETY_KINDS",
    "SCREENING_ANSWERS",
    "SCREENING_OUTCOMES",
    "STAFF_ROLES",
    "TRIAGE_OUTCOMES",
    "conversation_target",
    "forget_sender",
    "is_unreachable",
    "log_safety_event",
    "replay_spool",
    "save_consultation",
    "save_screening",
    "save_triage",
    "sender_hash",
    "set_consultation_status",
]

logger = logging.getLogger(__name__)

EVENTS_TABLE = "events"
"""Rasa's tracker store table; owned by Rasa, only ever deleted from here."""

CONVERSATION_TARGET_PREFIX = "conversation:"
"""Audit targets that name a conversation are exactly this prefix and the sender id."""

CONSULTATION_UPDATABLE = (
    "kind",
    "name",
    "email",
    "phone",
    "time_window",
    "reason",
    "updated_at",
    "consent_at",
    "status",
)


def is_unreachable(exc: BaseException) -> bool:
    """Return True when ``exc`` means the database could not be reached or used."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def sender_hash(sender_id: str) -> str:
    """Return the sha256 hex digest of a sender id (what ``deletion_log`` keeps)."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()


def conversation_target(sender_id: str) -> str:
    """The ``audit_log.target`` of a staff action on a conversation. "Delete my data"
    pseudonymises exactly these targets, nothing that merely ends like one."""
    return CONVERSATION_TARGET_PREFIX + sender_id


def _check_sender(sender_id: Any) -> str:
    if not isinstance(sender_id, str) or not sender_id.strip():
        raise ValueError("sender_id must be a non-empty string")
    if len(sender_id) > SENDER_ID_LENGTH:
        raise ValueError(f"sender_id must be at most {SENDER_ID_LENGTH} characters")
    return sender_id


def _check_text(field: str, value: Any, max_length: int, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value.strip()):
        raise ValueError(f"{field} must be a {'string' if optional else 'non-empty string'}")
    if len(value) > max_length:
        raise ValueError(f"{field} must be at most {max_length} characters")
    return value


def _column_length(model, column: str) -> int:
    return model.__table__.c[column].type.length


def _json_value(field: str, value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field} must be JSON-serialisable") from exc


def _check_screening_answers(answers: Any) -> Dict[str, str]:
    if not isinstance(answers, Mapping):
        raise ValueError("answers must be a mapping of item -> answer")
    for item, answer in answers.items():
        if not isinstance(item, str):
            raise ValueError("answers must be keyed by item name")
        check_choice(f"answers[{item!r}]", answer, SCREENING_ANSWERS)
    return dict(answers)


def _check_items(field: str, items: Any) -> list:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ValueError(f"{field} must be a list of item names")
    items = list(items)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{field} must be a list of item names")
    return items


def _created_at(record: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(record["at"])


def _insert(model) -> Callable[[Session, Dict[str, Any]], int]:
    def apply(session: Session, record: Dict[str, Any]) -> int:
        fields = {key: value for key, value in record.items() if key != "at"}
        row = model(created_at=_created_at(record), **fields)
        session.add(row)
        session.flush()
        return row.id

    return apply


_UPSERT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _upsert_consultation(session: Session, record: Dict[str, Any]) -> int:
    """Insert or update the sender's one request; an older record never overwrites a newer one."""
    at = _created_at(record)
    table = ConsultationRequest.__table__
    values = {key: value for key, value in record.items() if key != "at"}
    values.update(created_at=at, updated_at=at, consent_at=at, status="new")
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERT_INSERTS:
        raise NotImplementedError(f"consultation upsert is not implemented for {dialect}")
    stmt = _UPSERT_INSERTS[dialect](table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.sender_id],
        set_={name: stmt.excluded[name] for name in CONSULTATION_UPDATABLE},
        where=table.c.updated_at <= stmt.excluded.updated_at,
    )
    session.execute(stmt)
    return session.execute(
        sa.select(table.c.id).where(table.c.sender_id == values["sender_id"])
    ).scalar_one()


_APPLY: Dict[str, Callable[[Session, Dict[str, Any]], int]] = {
    "screening": _insert(ScreeningResult),
    "triage": _insert(TriageOutcome),
    "consultation": _upsert_consultation,
    "safety_event": _insert(SafetyEvent),
}


def _apply_in_own_session(op: str, record: Dict[str, Any], url: Optional[str]) -> int:
    with db.session_scope(url) as session:
        return _APPLY[op](session, record)


def replay_spool(*, url: Optional[str] = None) -> int:
    """Write spooled records to the database at ``url``; return how many were replayed.

    Raises the database error when it is still unreachable (the spool is kept).
    """
    return spool.replay(
        lambda op, record: _apply_in_own_session(op, record, url), is_unreachable
    )


def _write(op: str, record: Dict[str, Any], url: Optional[str]) -> Optional[int]:
    record["at"] = utcnow().isoformat()
    try:
        replay_spool(url=url)
        return _apply_in_own_session(op, record, url)
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        try:
            spool.append(op, record)
        except OSError:
            logger.error(
                "records database unreachable (%s) and spool not writable; %s record lost",
                type(exc).__name__,
                op,
            )
            raise exc
        logger.warning(
            "records database unreachable (%s); %s record spooled for replay",
            type(exc).__name__,
            op,
        )
        _retry_in_background(url)
        return None


RETRY_ENV = "MESOGUIDE_SPOOL_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 10.0
_retry_lock = threading.Lock()
_retry_threads: Dict[tuple, threading.Thread] = {}


def retry_seconds() -> float:
    """How often a spool is retried while the database is away (``MESOGUIDE_SPOOL_RETRY_SECONDS``)."""
    value = os.environ.get(RETRY_ENV, "").strip()
    return max(0.05, float(value)) if value else DEFAULT_RETRY_SECONDS


def _retry_loop(url: Optional[str], key: tuple) -> None:
    target, where = key
    try:
        while spool.pending():
            time.sleep(retry_seconds())
            if db.data_dir(create=False) != where or (url is None and db.database_url() != target):
                return  # the process was pointed elsewhere (tests); nothing of ours to do
            try:
                replay_spool(url=target)
            except Exception as exc:  # noqa: BLE001 - keep trying; never log the error's text
                if not is_unreachable(exc):
                    logger.error("records spool replay failed (%s); retrying", type(exc).__name__)
    finally:
        with _retry_lock:
            _retry_threads.pop(key, None)


def _retry_in_background(url: Optional[str]) -> None:
    """Replay the records spool as soon as the database is back, without waiting for
    the next record (one daemon thread per database while something is spooled)."""
    key = (url or db.database_url(), db.data_dir(create=False))
    with _retry_lock:
        if key in _retry_threads:
            return
        thread = _retry_threads[key] = threading.Thread(
            target=_retry_loop, args=(url, key), name="mesoguide-records-retry", daemon=True
        )
    thread.start()


def save_screening(
    sender_id: str,
    answers: Mapping[str, str],
    outcome: str,
    flagged: Iterable[str],
    completed: bool,
    *,
    url: Optional[str] = None,
) -> Optional[int]:
    """Save a contraindication screening; return its id, or None when spooled."""
    record = {
        "sender_id": _check_sender(sender_id),
        "answers": _check_screening_answers(answers),
        "outcome": check_choice("outcome", outcome, SCREENING_OUTCOMES),
        "flagged_items": _check_items("flagged", flagged),
        "completed": bool(completed),
    }
    return _write("screening", record, url)


def save_triage(
    sender_id: str, answers: Mapping[str, Any], outcome: str, *, url: Optional[str] = None
) -> Optional[int]:
    """Save a hair-loss triage outcome; return its id, or None when spooled."""
    if not isinstance(answers, Mapping):
        raise ValueError("answers must be a mapping")
    record = {
        "sender_id": _check_sender(sender_id),
        "answers": _json_value("answers", dict(answers)),
        "outcome": check_choice("outcome", outcome, TRIAGE_OUTCOMES),
    }
    return _write("triage", record, url)


def save_consultation(
    sender_id: str,
    kind: str,
    name: str,
    email: Optional[str],
    phone: Optional[str],
    time_window: str,
    reason: Optional[str] = None,
    *,
    url: Optional[str] = None,
) -> Optional[int]:
    """Create or update the conversation's consultation request; return its id or None.

    There is at most one request per sender id: a second call replaces the details,
    records the new consent time and sets the status back to "new" so that staff
    see the change. At least one of ``email`` and ``phone`` is required.
    """
    model = ConsultationRequest
    record = {
        "sender_id": _check_sender(sender_id),
        "kind": check_choice("kind", kind, CONSULTATION_KINDS),
        "name": _check_text("name", name, _column_length(model, "name")),
        "email": _check_text("email", email or None, _column_length(model, "email"), True),
        "phone": _check_text("phone", phone or None, _column_length(model, "phone"), True),
        "time_window": _check_text(
            "time_window", time_window, _column_length(model, "time_window")
        ),
        "reason": _check_text("reason", reason or None, _column_length(model, "reason"), True),
    }
    if record["email"] is None and record["phone"] is None:
        raise ValueError("a consultation request needs an email or a phone number")
    return _write("consultation", record, url)


def log_safety_event(
    sender_id: str, kind: str, detail: str = "", *, url: Optional[str] = None
) -> Optional[int]:
    """Record a safety event; return its id, or None when spooled."""
    record = {
        "sender_id": _check_sender(sender_id),
        "kind": check_choice("kind", kind, SAFETY_KINDS),
        "detail": _check_text("detail", detail or "", 10_000, optional=True),
    }
    return _write("safety_event", record, url)


def _delete_rasa_events(session: Session, sender_id: str) -> int:
    connection = session.connection()
    if not sa.inspect(connection).has_table(EVENTS_TABLE):
        return 0
    events = sa.table(EVENTS_TABLE, sa.column("sender_id"))
    return connection.execute(events.delete().where(events.c.sender_id == sender_id)).rowcount


def _user_texts(session: Session, sender_id: str) -> List[str]:
    """The conversation's user messages as stored (redacted), for the copies outside
    the database (NLU inbox, logs)."""
    connection = session.connection()
    if not sa.inspect(connection).has_table(EVENTS_TABLE):
        return []
    events = sa.table(EVENTS_TABLE, sa.column("sender_id"), sa.column("type_name"), sa.column("data"))
    texts = []
    for (data,) in connection.execute(
        sa.select(events.c.data).where(events.c.sender_id == sender_id, events.c.type_name == "user")
    ):
        try:
            text = json.loads(data or "{}").get("text")
        except (ValueError, AttributeError):
            continue
        if isinstance(text, str) and text.strip():
            texts.append(text)
    return texts


def _pseudonymise_audit_targets(session: Session, sender_ids: Sequence[str]) -> int:
    """Replace the sender id in audit targets naming exactly these conversations, by
    the id or by the staff console's reference to it (``conversation_reference``,
    whose row goes too: it holds the sender id)."""
    count = 0
    references = ConversationReference.__table__
    for sender_id in sender_ids:
        refs = session.scalars(
            sa.select(references.c.ref).where(references.c.sender_id == sender_id)
        ).all()
        targets = [conversation_target(sender_id)] + [
            conversation_target(CONVERSATION_REFERENCE_TARGET + ref) for ref in refs
        ]
        count += session.execute(
            sa.update(AuditLog)
            .where(AuditLog.target.in_(targets))
            .values(target=conversation_target("sha256:" + sender_hash(sender_id)))
            .execution_options(synchronize_session=False)
        ).rowcount
        session.execute(references.delete().where(references.c.sender_id == sender_id))
    return count


def spooled_sender(entry: Any) -> Optional[str]:
    """The sender id a spool entry belongs to, if it is readable."""
    if isinstance(entry, dict) and isinstance(entry.get("record"), dict):
        sender = entry["record"].get("sender_id")
        return sender if isinstance(sender, str) else None
    return None


def forget_copies(sender_id: str, texts: Iterable[str]) -> Dict[str, int]:
    """Remove a conversation's copies outside the database: its spooled lines, the
    NLU inbox examples taken from its messages, and its id and messages in the logs."""
    texts = list(texts)
    raw_id = sender_id.encode("utf-8")
    return {
        "spool_lines": spool.remove(
            lambda line, entry: spooled_sender(entry) == sender_id
            or (entry is None and raw_id in line)
        ),
        "nlu_inbox_examples": copies.scrub_nlu_inbox(texts),
        "log_lines": copies.scrub_logs([sender_id, *texts]),
    }


def forget_sender(sender_id: str, *, url: Optional[str] = None) -> Dict[str, int]:
    """Delete every row and copy about ``sender_id``; return the counts per place.

    Covers the clinic tables, the console tables keyed by sender id and Rasa's
    ``events`` table when it exists (0 otherwise), then the copies outside the
    database (``forget_copies``: spool lines, NLU inbox examples, log lines). Audit log
    entries about the conversation (``target`` exactly ``conversation_target(sender
    id)``) are kept for accountability but the id in them is replaced by its hash
    (count under ``audit_log_pseudonymised``); no other target is touched. A
    ``deletion_log`` row records the sha256 of the sender id and the counts. Spooled
    records are replayed first so that they are deleted too; when the database is
    unreachable the error is raised.
    """
    _check_sender(sender_id)
    replay_spool(url=url)
    with db.session_scope(url) as session:
        texts = _user_texts(session, sender_id)
        counts = _delete_conversation_rows(session, sender_id)
        counts["audit_log_pseudonymised"] = _pseudonymise_audit_targets(session, [sender_id])
        counts.update(forget_copies(sender_id, texts))
        session.add(DeletionLog(sender_hash=sender_hash(sender_id), deleted_counts=counts))
    return counts


def delete_rows(session: Session, models: Iterable[Any], sender_id: str) -> Dict[str, int]:
    """Delete ``sender_id``'s rows from each of ``models``; return the counts by table."""
    return {
        model.__tablename__: session.execute(
            sa.delete(model)
            .where(model.sender_id == sender_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        for model in models
    }


def _delete_conversation_rows(session: Session, sender_id: str) -> Dict[str, int]:
    counts = delete_rows(session, SENDER_TABLES, sender_id)
    counts[EVENTS_TABLE] = _delete_rasa_events(session, sender_id)
    return counts


def set_consultation_status(
    request_id: int, status: str, *, url: Optional[str] = None
) -> bool:
    """Set a consultation request's status (staff follow-up); return False if no such id.

    Unlike the save functions this raises when the database is unreachable: the
    console must show the member of staff that the change was not made.
    """
    check_choice("status", status, CONSULTATION_STATUSES)
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise ValueError("request_id must be an integer")
    replay_spool(url=url)
    with db.session_scope(url) as session:
        result = session.execute(
            sa.update(ConsultationRequest)
            .where(ConsultationRequest.id == request_id)
            .values(status=status, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1
