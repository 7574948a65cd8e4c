"""Add console_saved_view and followup_assignment, two staff console tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

``console_saved_view``: inbox filter sets saved under a name by a member of staff
(the filters only, never a text search, which may quote a visitor), optionally shared
with all staff. ``followup_assignment``: who on the staff looks after a consultation
request; it goes with the request (ON DELETE CASCADE), so "delete my data" needs no
change. Neither holds a sender id.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_saved_view",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(150), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("owner", "name", name="uq_console_saved_view_owner_name"),
    )
    op.create_table(
        "followup_assignment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey(
                "consultation_request.id", name="fk_followup_assignment_request_id", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("assignee", sa.String(150), nullable=False),
        sa.Column("assigned_by", sa.String(150), nullable=True),
        sa.UniqueConstraint("request_id", name="uq_followup_assignment_request_id"),
    )
    op.create_index("ix_followup_assignment_assignee", "followup_assignment", ["assignee"])


def downgrade() -> None:
    op.drop_table("followup_assignment")
    op.drop_table("console_saved_view")
