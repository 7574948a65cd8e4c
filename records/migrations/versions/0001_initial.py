"""Create the clinic and staff console tables.

Revision ID: 0001
Revises:
Create Date: 2024-11-25

Self-contained on purpose: migrations must not import ``records.models``, which
always describes the newest schema. Rasa's ``events`` table is not touched.
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SENDER = 255
USERNAME = 150


def _base_columns():
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "screening_result",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("flagged_items", sa.JSON, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_screening_result_sender_id", "screening_result", ["sender_id"])
    op.create_index("ix_screening_result_created_at", "screening_result", ["created_at"])
    op.create_index("ix_screening_result_outcome", "screening_result", ["outcome"])

    op.create_table(
        "triage_outcome",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    op.create_index("ix_triage_outcome_sender_id", "triage_outcome", ["sender_id"])
    op.create_index("ix_triage_outcome_created_at", "triage_outcome", ["created_at"])
    op.create_index("ix_triage_outcome_outcome", "triage_outcome", ["outcome"])

    op.create_table(
        "consultation_request",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("time_window", sa.String(200), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.UniqueConstraint("sender_id", name="uq_consultation_request_sender_id"),
    )
    op.create_index("ix_consultation_request_status", "consultation_request", ["status"])
    op.create_index(
        "ix_consultation_request_created_at", "consultation_request", ["created_at"]
    )
    op.create_index("ix_consultation_request_kind", "consultation_request", ["kind"])

    op.create_table(
        "safety_event",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_safety_event_sender_id", "safety_event", ["sender_id"])
    op.create_index("ix_safety_event_created_at", "safety_event", ["created_at"])
    op.create_index("ix_safety_event_kind", "safety_event", ["kind"])

    op.create_table(
        "deletion_log",
        *_base_columns(),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("deleted_counts", sa.JSON, nullable=False),
    )
    op.create_index("ix_deletion_log_sender_hash", "deletion_log", ["sender_hash"])

    op.create_table(
        "staff_user",
        *_base_columns(),
        sa.Column("username", sa.String(USERNAME), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("username", name="uq_staff_user_username"),
    )

    op.create_table(
        "conversation_review",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("reviewed", sa.Boolean, nullable=False),
        sa.Column("reviewed_by", sa.String(USERNAME), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("sender_id", name="uq_conversation_review_sender_id"),
    )
    op.create_index("ix_conversation_review_reviewed", "conversation_review", ["reviewed"])

    op.create_table(
        "tag",
        *_base_columns(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.UniqueConstraint("name", name="uq_tag_name"),
    )

    op.create_table(
        "conversation_tag",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column(
            "tag_id",
            sa.Integer,
            sa.ForeignKey("tag.id", name="fk_conversation_tag_tag_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint(
            "sender_id", "tag_id", name="uq_conversation_tag_sender_id_tag_id"
        ),
    )
    op.create_index("ix_conversation_tag_tag_id", "conversation_tag", ["tag_id"])

    op.create_table(
        "note",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.Column("author", sa.String(USERNAME), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_note_sender_id", "note", ["sender_id"])
    op.create_index("ix_note_created_at", "note", ["created_at"])

    op.create_table(
        "message_flag",
        *_base_columns(),
        sa.Column("sender_id", sa.String(SENDER), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("author", sa.String(USERNAME), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_message_flag_sender_id", "message_flag", ["sender_id"])
    op.create_index("ix_message_flag_created_at", "message_flag", ["created_at"])

    op.create_table(
        "audit_log",
        *_base_columns(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(USERNAME), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(SENDER + 64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_username", "audit_log", ["username"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "message_flag",
        "note",
        "conversation_tag",
        "tag",
        "conversation_review",
        "staff_user",
        "deletion_log",
        "safety_event",
        "consultation_request",
        "triage_outcome",
        "screening_result",
    ):
        op.drop_table(table)
