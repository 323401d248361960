"""roster and report indexes

Revision ID: 0003_roster
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0003_roster"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instansi_id", sa.String(length=64), nullable=False),
        sa.Column("nip", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", quiz_server.models.base.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["instansi_id"], ["instansi.id"], name=op.f("fk_roster_instansi_id_instansi")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster")),
        sa.UniqueConstraint("instansi_id", "nip", name="uq_roster_instansi_nip"),
    )
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.create_index("ix_roster_instansi_unit", ["instansi_id", "unit"], unique=False)
        batch_op.create_index("ix_roster_nip", ["nip"], unique=False)
    # A covering index for the completion reports (see quiz_server/models/roster.py). Plain
    # op.create_index, not batch mode: batch mode would copy the whole attempts table on SQLite.
    op.create_index(
        "ix_attempts_learner_report", "attempts", ["learner_id", "quiz_id", "passed", "submitted_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_attempts_learner_report", table_name="attempts")
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_nip")
        batch_op.drop_index("ix_roster_instansi_unit")
    op.drop_table("roster")
