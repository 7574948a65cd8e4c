"""SQLAlchemy models of every table in docs/contracts.md, "Clinic records".

The schema itself is created by the Alembic migrations in ``records/migrations``;
these models must match the newest revision (a test compares them). Rasa's
``events`` table is deliberately absent: Rasa owns it.
"""
from datetime import datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

Base = declarative_base()

SENDER_ID_LENGTH = 255
USERNAME_LENGTH = 150


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned as an aware UTC datetime.

    PostgreSQL stores ``timestamp with time zone``; SQLite, which has no time zone
    support, stores the naive UTC value. Naive inputs are taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class _Record:
    """Columns shared by every table: integer key and creation time."""

    id = sa.Column(sa.Integer, primary_key=True)
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)


class ScreeningResult(_Record, Base):
    """A contraindication screening; ``answers`` maps item -> "yes" | "no" | "unsure"."""

    __tablename__ = "screening_result"
    __table_args__ = (
        sa.Index("ix_screening_result_sender_id", "sender_id"),
        sa.Index("ix_screening_result_created_at", "created_at"),
        sa.Index("ix_screening_result_outcome", "outcome"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    answers = sa.Column(sa.JSON, nullable=False)
    outcome = sa.Column(sa.String(32), nullable=False)
    flagged_items = sa.Column(sa.JSON, nullable=False)
    completed = sa.Column(sa.Boolean, nullable=False)


class TriageOutcome(_Record, Base):
    """A hair-loss triage result."""

    __tablename__ = "triage_outcome"
    __table_args__ = (
        sa.Index("ix_triage_outcome_sender_id", "sender_id"),
        sa.Index("ix_triage_outcome_created_at", "created_at"),
        sa.Index("ix_triage_outcome_outcome", "outcome"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    answers = sa.Column(sa.JSON, nullable=False)
    outcome = sa.Column(sa.String(32), nullable=False)


class ConsultationRequest(_Record, Base):
    """A consultation request; one per conversation (a second request updates it)."""

    __tablename__ = "consultation_request"
    __table_args__ = (
        sa.UniqueConstraint("sender_id", name="uq_consultation_request_sender_id"),
        sa.Index("ix_consultation_request_status_created_at", "status", "created_at"),
        sa.Index("ix_consultation_request_created_at", "created_at"),
        sa.Index("ix_consultation_request_kind", "kind"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    kind = sa.Column(sa.String(32), nullable=False)
    name = sa.Column(sa.String(200), nullable=False)
    email = sa.Column(sa.String(320), nullable=True)
    phone = sa.Column(sa.String(64), nullable=True)
    time_window = sa.Column(sa.String(200), nullable=False)
    consent_at = sa.Column(UTCDateTime, nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default="new")
    reason = sa.Column(sa.String(64), nullable=True)


class SafetyEvent(_Record, Base):
    """An emergency, complication report, red flag, declined advice or hand-off."""

    __tablename__ = "safety_event"
    __table_args__ = (
        sa.Index("ix_safety_event_sender_id", "sender_id"),
        sa.Index("ix_safety_event_created_at", "created_at"),
        sa.Index("ix_safety_event_kind", "kind"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    detail = sa.Column(sa.Text, nullable=False, default="")


class DeletionLog(_Record, Base):
    """Proof that a sender's data was deleted: only a hash of the id and row counts."""

    __tablename__ = "deletion_log"
    __table_args__ = (sa.Index("ix_deletion_log_sender_hash", "sender_hash"),)

    sender_hash = sa.Column(sa.String(64), nullable=False)
    deleted_counts = sa.Column(sa.JSON, nullable=False)


class StaffUser(_Record, Base):
    """A staff console account."""

    __tablename__ = "staff_user"
    __table_args__ = (sa.UniqueConstraint("username", name="uq_staff_user_username"),)

    username = sa.Column(sa.String(USERNAME_LENGTH), nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False, default="reviewer")
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    failed_logins = sa.Column(sa.Integer, nullable=False, default=0)
    locked_until = sa.Column(UTCDateTime, nullable=True)
    last_login_at = sa.Column(UTCDateTime, nullable=True)


class ConversationReview(_Record, Base):
    """Whether staff have reviewed a conversation."""

    __tablename__ = "conversation_review"
    __table_args__ = (
        sa.UniqueConstraint("sender_id", name="uq_conversation_review_sender_id"),
        sa.Index("ix_conversation_review_reviewed", "reviewed"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    reviewed = sa.Column(sa.Boolean, nullable=False, default=False)
    reviewed_by = sa.Column(sa.String(USERNAME_LENGTH), nullable=True)
    reviewed_at = sa.Column(UTCDateTime, nullable=True)


class Tag(_Record, Base):
    """A label staff can put on conversations."""

    __tablename__ = "tag"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_tag_name"),)

    name = sa.Column(sa.String(64), nullable=False)


class ConversationTag(_Record, Base):
    """A tag on a conversation."""

    __tablename__ = "conversation_tag"
    __table_args__ = (
        sa.UniqueConstraint("sender_id", "tag_id", name="uq_conversation_tag_sender_id_tag_id"),
        sa.Index("ix_conversation_tag_tag_id", "tag_id"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    tag_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("tag.id", name="fk_conversation_tag_tag_id", ondelete="CASCADE"),
        nullable=False,
    )


class Note(_Record, Base):
    """A staff note on a conversation, optionally on one event of it."""

    __tablename__ = "note"
    __table_args__ = (
        sa.Index("ix_note_sender_id", "sender_id"),
        sa.Index("ix_note_created_at", "created_at"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    event_id = sa.Column(sa.Integer, nullable=True)
    author = sa.Column(sa.String(USERNAME_LENGTH), nullable=False)
    text = sa.Column(sa.Text, nullable=False)


class MessageFlag(_Record, Base):
    """A staff flag on one message (event) of a conversation."""

    __tablename__ = "message_flag"
    __table_args__ = (
        sa.Index("ix_message_flag_sender_id", "sender_id"),
        sa.Index("ix_message_flag_created_at", "created_at"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    event_id = sa.Column(sa.Integer, nullable=False)
    author = sa.Column(sa.String(USERNAME_LENGTH), nullable=False)
    reason = sa.Column(sa.Text, nullable=False, default="")


class AuditLog(_Record, Base):
    """What a staff member did in the console (``target`` is e.g. a sender id)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_at", "at"),
        sa.Index("ix_audit_log_username", "username"),
        sa.Index("ix_audit_log_action", "action"),
    )

    at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    username = sa.Column(sa.String(USERNAME_LENGTH), nullable=True)
    action = sa.Column(sa.String(64), nullable=False)
    target = sa.Column(sa.String(SENDER_ID_LENGTH + 64), nullable=True)
    detail = sa.Column(sa.Text, nullable=False, default="")


class ConsoleSessionRevocation(_Record, Base):
    """A staff console session that was signed out (``created_at`` is when).

    ``session_digest`` is ``console.security.session_digest`` of the session; a cookie
    of a listed session is refused even though its signature is still valid. Rows
    may be deleted once ``expires_at`` (the cookie's own expiry) has passed.
    """

    __tablename__ = "console_session_revocation"
    __table_args__ = (
        sa.UniqueConstraint("session_digest", name="uq_console_session_revocation_digest"),
        sa.Index("ix_console_session_revocation_expires_at", "expires_at"),
    )

    session_digest = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)


class ConversationSummary(_Record, Base):
    """The console's per-conversation cache derived from Rasa's ``events``.

    Only the console writes it and can rebuild it at any time; it holds lower-cased
    message texts (``search_text``), so ``forget_sender`` deletes the sender's row.
    Times are epoch seconds like ``events.timestamp``. On PostgreSQL migration 0008 adds
    a pg_trgm index on ``search_text`` (``records.db.SEARCH_INDEX``), kept out of these
    models because it exists only where the extension can be used.
    """

    __tablename__ = "conversation_summary"
    __table_args__ = (
        sa.UniqueConstraint("sender_id", name="uq_conversation_summary_sender_id"),
        sa.Index("ix_conversation_summary_started_at", "started_at"),
        sa.Index("ix_conversation_summary_last_event_id", "last_event_id"),
    )

    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)
    started_at = sa.Column(sa.Float, nullable=False)
    last_at = sa.Column(sa.Float, nullable=False)
    last_event_id = sa.Column(sa.Integer, nullable=False)
    channel = sa.Column(sa.String(64), nullable=True)
    turns = sa.Column(sa.Integer, nullable=False, default=0, server_default=sa.text("0"))
    fallback_turns = sa.Column(
        sa.Integer, nullable=False, default=0, server_default=sa.text("0")
    )
    escalated = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    search_text = sa.Column(sa.Text, nullable=False, default="", server_default="")


class ConsoleSavedView(_Record, Base):
    """An inbox filter set a member of staff saved under a name (``console/savedviews.py``).

    ``query`` is the inbox's query string without the text search (which may quote a
    visitor); ``shared`` views are listed for all staff.
    """

    __tablename__ = "console_saved_view"
    __table_args__ = (sa.UniqueConstraint("owner", "name", name="uq_console_saved_view_owner_name"),)

    owner = sa.Column(sa.String(USERNAME_LENGTH), nullable=False)
    name = sa.Column(sa.String(80), nullable=False)
    query = sa.Column(sa.String(2000), nullable=False)
    shared = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())


class FollowupAssignment(_Record, Base):
    """Who on the staff looks after a consultation request (``console/followups.py``);
    deleted with the request."""

    __tablename__ = "followup_assignment"
    __table_args__ = (
        sa.UniqueConstraint("request_id", name="uq_followup_assignment_request_id"),
        sa.Index("ix_followup_assignment_assignee", "assignee"),
    )

    request_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("consultation_request.id", name="fk_followup_assignment_request_id", ondelete="CASCADE"),
        nullable=False,
    )
    assignee = sa.Column(sa.String(USERNAME_LENGTH), nullable=False)
    assigned_by = sa.Column(sa.String(USERNAME_LENGTH), nullable=True)


CONVERSATION_REFERENCE_TARGET = "ref:"
"""Audit targets naming a conversation by its console reference are
``conversation_target(CONVERSATION_REFERENCE_TARGET + ref)``."""


class ConversationReference(_Record, Base):
    """The staff console's opaque reference to a conversation (``console/references.py``).

    Staff never see a sender id (it is the conversation's credential): pages, URLs,
    exports and audit targets name the conversation by ``ref``, a keyed HMAC of the
    sender id, and this table maps it back. Deliberately not in ``SENDER_TABLES``:
    "delete my data" first rewrites the audit targets that name the reference
    (``records.store._pseudonymise_audit_targets``), then deletes the row.
    """

    __tablename__ = "conversation_reference"
    __table_args__ = (
        sa.UniqueConstraint("ref", name="uq_conversation_reference_ref"),
        sa.UniqueConstraint("sender_id", name="uq_conversation_reference_sender_id"),
    )

    ref = sa.Column(sa.String(32), nullable=False)
    sender_id = sa.Column(sa.String(SENDER_ID_LENGTH), nullable=False)


SENDER_TABLES = (
    ScreeningResult,
    TriageOutcome,
    ConsultationRequest,
    SafetyEvent,
    ConversationReview,
    ConversationTag,
    Note,
    MessageFlag,
    ConversationSummary,
)
"""Every model keyed by ``sender_id``: what ``forget_sender`` deletes from."""
