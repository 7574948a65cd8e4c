"""Retention: ``python -m records purge --older-than DAYS [--dry-run]``.

A conversation is purged when the newest thing the visitor left (a message in Rasa's
``events``, a screening, triage outcome, consultation request or safety event) is
older than DAYS. Purging a conversation is what "delete my data" does to it
(``records.store``): every table keyed by its sender id (clinic records, staff
tags, notes, flags, reviews, the console's summary), its events, its audit targets
pseudonymised, its spooled lines and its NLU inbox examples, with a ``deletion_log``
row (sha256 of the id and the counts) for each conversation.

Outside the database, older than DAYS also goes:

- spool lines written before the cut-off (``records.spool``, every spool file);
- NLU inbox files not changed since the cut-off (``records.copies``);
- log content older than the cut-off (``records.copies.purge_logs_before``).

Questionnaires left in the middle by visitors who chose not to keep their answers are
masked whole (``records.private_answers.mask_abandoned``), whatever DAYS says.

Signed-out console sessions whose cookies have expired are forgotten as well (not
visitor data, only housekeeping). With ``dry_run`` nothing is changed and the counts
say what would go. The schedule is in ``deploy/`` (a daily systemd timer); the
privacy page's retention period (``retention`` in data/content/clinic.yml) and DAYS
must say the same.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from records import copies, db, private_answers, spool, store
from records.models import (
    ConsoleSessionRevocation,
    ConsultationRequest,
    DeletionLog,
    SafetyEvent,
    ScreeningResult,
    TriageOutcome,
    utcnow,
)

VISITOR_RECORDS = (
    (ScreeningResult, "created_at"),
    (TriageOutcome, "created_at"),
    (ConsultationRequest, "consent_at"),
    (SafetyEvent, "created_at"),
)
"""What a visitor left besides messages, and the column that says when the visitor last
touched it (``consent_at`` of a request: staff status changes do not count)."""


def _as_utc(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def last_activity(session: Session) -> Dict[str, datetime]:
    """Every conversation's newest visitor activity (UTC), by sender id."""
    latest: Dict[str, datetime] = {}

    def see(rows: Iterable[Tuple[str, Any]]) -> None:
        for sender_id, moment in rows:
            moment = _as_utc(moment)
            if sender_id and moment is not None and (sender_id not in latest or moment > latest[sender_id]):
                latest[sender_id] = moment

    connection = session.connection()
    if sa.inspect(connection).has_table(store.EVENTS_TABLE):
        events = sa.table(store.EVENTS_TABLE, sa.column("sender_id"), sa.column("timestamp"))
        see(connection.execute(
            sa.select(events.c.sender_id, sa.func.max(events.c.timestamp)).group_by(events.c.sender_id)
        ))
    for model, column in VISITOR_RECORDS:
        see(session.execute(
            sa.select(model.sender_id, sa.func.max(getattr(model, column))).group_by(model.sender_id)
        ))
    return latest


def _spooled_at(entry: Any) -> Optional[datetime]:
    """When a spool line was written: a record's ``at``, or an events snapshot's newest event."""
    if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
        return None
    record = entry["record"]
    try:
        if "at" in record:
            return _as_utc(record["at"])
        stamps = [e.get("timestamp") for e in record.get("events") or [] if isinstance(e, dict)]
        stamps = [s for s in stamps if isinstance(s, (int, float))]
        return _as_utc(max(stamps)) if stamps else None
    except (TypeError, ValueError):
        return None


def purge(days: float, *, url: Optional[str] = None, dry_run: bool = False,
          now: Optional[datetime] = None) -> Dict[str, int]:
    """Delete everything older than ``days`` days; return the counts per place."""
    if days <= 0:
        raise ValueError("DAYS must be more than 0")
    cutoff = (now or utcnow()) - timedelta(days=days)
    totals: Dict[str, int] = {"conversations": 0}
    purged: List[str] = []
    texts: List[str] = []
    session_factory = db.session_scope(url)
    with session_factory as session:
        old = sorted(s for s, moment in last_activity(session).items() if moment < cutoff)
        for sender_id in old:
            texts += store._user_texts(session, sender_id)
            counts = store._delete_conversation_rows(session, sender_id)
            counts["audit_log_pseudonymised"] = store._pseudonymise_audit_targets(session, [sender_id])
            for name, count in counts.items():
                totals[name] = totals.get(name, 0) + count
            session.add(DeletionLog(sender_hash=store.sender_hash(sender_id), deleted_counts={**counts, "retention_days": int(days)}))
            purged.append(sender_id)
        totals["conversations"] = len(purged)
        totals["console_session_revocation"] = session.execute(
            sa.delete(ConsoleSessionRevocation)
            .where(ConsoleSessionRevocation.expires_at < (now or utcnow()))
            .execution_options(synchronize_session=False)
        ).rowcount
        if dry_run:
            session.rollback()
    gone = set(purged)
    totals["spool_lines"] = spool.remove(
        lambda _line, entry: store.spooled_sender(entry) in gone
        or ((_spooled_at(entry) or cutoff) < cutoff),
        dry_run=dry_run,
    )
    totals["nlu_inbox_examples"] = copies.scrub_nlu_inbox(texts, dry_run=dry_run)
    totals["nlu_inbox_files"] = copies.purge_nlu_inbox_before(cutoff, dry_run=dry_run)
    totals["log_files"] = copies.purge_logs_before(cutoff, dry_run=dry_run)
    moment = (now or utcnow()).timestamp()
    totals["unkept_answers_masked"] = private_answers.mask_abandoned(url=url, now=moment, dry_run=dry_run)
    return totals


def report(counts: Dict[str, int], days: float, dry_run: bool) -> str:
    """The command's output: one line per place (no ids, no texts)."""
    verb = "would delete" if dry_run else "deleted"
    lines = [f"{verb} what is older than {days:g} days:"]
    lines += [f"  {name}: {count}" for name, count in counts.items()]
    return "\n".join(lines)

