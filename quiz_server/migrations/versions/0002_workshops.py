"""workshops: rooms with a join code, their participants and live answers

Revision ID: 0002_workshops
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0002_workshops"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = quiz_server.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("quiz_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("join_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opens_at", UTC(), nullable=False),
        sa.Column("closes_at", UTC(), nullable=False),
        sa.Column("leaderboard", sa.Boolean(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("current_index", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trainer_id"], ["staff.id"], name=op.f("fk_workshops_trainer_id_staff"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["quiz_id"], ["quizzes.id"], name=op.f("fk_workshops_quiz_id_quizzes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshops_trainer_id"), ["trainer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workshops_join_code"), ["join_code"], unique=False)
        batch_op.create_index(
            "uq_workshops_open_join_code",
            ["join_code"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "workshop_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", UTC(), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_participants_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_workshop_participants_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_participants")),
        sa.UniqueConstraint("workshop_id", "learner_id", name="uq_workshop_participants_learner"),
    )
    with op.batch_alter_table("workshop_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_participants_workshop_id"), ["workshop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workshop_participants_learner_id"), ["learner_id"], unique=False)

    op.create_table(
        "live_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("question_index", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("choice_ids", sa.JSON(), nullable=False),
        sa.Column("answered_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshops.id"], name=op.f("fk_live_answers_workshop_id_workshops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["workshop_participants.id"],
            name=op.f("fk_live_answers_participant_id_workshop_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_answers")),
        sa.UniqueConstraint("participant_id", "question_index", name="uq_live_answers_participant_question"),
    )
    with op.batch_alter_table("live_answers", schema=None) as batch_op:
        batch_op.create_index("ix_live_answers_workshop_question", ["workshop_id", "question_index"], unique=False)


def downgrade() -> None:
    op.drop_table("live_answers")
    op.drop_table("workshop_participants")
    op.drop_table("workshops")
