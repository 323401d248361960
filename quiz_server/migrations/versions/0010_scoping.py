"""hand-ins addressed by a random public id instead of their sequential row id

Revision ID: 0010_scoping
Revises: 0005_exercise_submissions

Existing hand-ins get a fresh random id each; the integer id stays as the internal key.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010_scoping"
down_revision = "0005_exercise_submissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exercise_submissions") as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
    subs = sa.table("exercise_submissions", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    conn = op.get_bind()
    ids = [row.id for row in conn.execute(sa.select(subs.c.id).where(subs.c.public_id.is_(None)))]
    for i in range(0, len(ids), 1000):
        conn.execute(
            subs.update().where(subs.c.id == sa.bindparam("row_id")).values(public_id=sa.bindparam("pid")),
            [{"row_id": row_id, "pid": secrets.token_urlsafe(16)} for row_id in ids[i : i + 1000]],
        )
    with op.batch_alter_table("exercise_submissions") as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_exercise_submissions_public_id"), ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("exercise_submissions") as batch_op:
        batch_op.drop_constraint(op.f("uq_exercise_submissions_public_id"), type_="unique")
        batch_op.drop_column("public_id")
