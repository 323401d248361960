"""registrations waiting for their email code (identity at registration, issue #15)

Revision ID: 0008_pending_registrations
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0008_pending_registrations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_registrations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("nip", sa.String(length=18), nullable=False),
        sa.Column("nip_kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("instansi_id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.Column("created_at", quiz_server.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", quiz_server.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_registrations")),
    )
    op.create_index("ix_pending_registrations_nip", "pending_registrations", ["nip"])
    op.create_index("ix_pending_registrations_expires_at", "pending_registrations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_registrations_expires_at", table_name="pending_registrations")
    op.drop_index("ix_pending_registrations_nip", table_name="pending_registrations")
    op.drop_table("pending_registrations")
