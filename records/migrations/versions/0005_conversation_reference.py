"""Add conversation_reference: the staff console's opaque names for conversations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

The visitor's sender id is the credential of a chat conversation, so the console no
longer shows it, puts it in URLs, exports or audit targets: it names a conversation
by a reference (a keyed HMAC of the sender id, console/references.py) and this table
maps the reference back. "Delete my data" pseudonymises the audit targets naming the
reference and deletes the row (records.store._pseudonymise_audit_targets).
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_reference",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ref", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("ref", name="uq_conversation_reference_ref"),
        sa.UniqueConstraint("sender_id", name="uq_conversation_reference_sender_id"),
    )


def downgrade() -> None:
    op.drop_table("conversation_reference")
