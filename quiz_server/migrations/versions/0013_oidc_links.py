"""learners linked to their agency's OpenID provider account (issue #15, Identity)

Revision ID: 0013_oidc_links
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0013_oidc_links"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = quiz_server.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "oidc_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("last_login_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_oidc_links_learner_id_learners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_links")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_links_issuer")),
        sa.UniqueConstraint("learner_id", "issuer", name=op.f("uq_oidc_links_learner_id")),
    )


def downgrade() -> None:
    op.drop_table("oidc_links")
