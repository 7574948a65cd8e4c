"""Add conversation_summary, the staff console's per-conversation cache.

Revision ID: 0003
Revises: 0002
Create Date: 2024-11-25

Requested in console/SCHEMA_REQUESTS.md: the inbox, its filters and text search
answer from this small indexed table instead of scanning every event's JSON.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_summary",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("turns", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("fallback_turns", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("sender_id", name="uq_conversation_summary_sender_id"),
    )
    op.create_index(
        "ix_conversation_summary_started_at", "conversation_summary", ["started_at"]
    )
    op.create_index(
        "ix_conversation_summary_last_event_id", "conversation_summary", ["last_event_id"]
    )


def downgrade() -> None:
    op.drop_table("conversation_summary")
