"""The LightFM hybrid's data: the catalogue's details and a change revision, interactions, appetences, merges,
trained models and which one is current.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("CREATE SEQUENCE product_revisions")
    op.add_column("products", sa.Column("name", sa.Text, nullable=False, server_default=""))
    op.add_column("products", sa.Column("categories", sa.JSON, nullable=False, server_default="[]"))
    op.add_column("products", sa.Column("attributes", sa.JSON, nullable=False, server_default="{}"))
    op.add_column("products", sa.Column("price", sa.Float))
    op.add_column("products", sa.Column("replenishment", sa.Boolean, nullable=False, server_default="false"))
    op.add_column("products", sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index("ix_products_revision", "products", ["revision"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_interactions_customer_id", "interactions", ["customer_id"])
    op.create_index("ix_interactions_at", "interactions", ["at"])
    op.create_table(
        "appetences",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("weight", sa.Float, nullable=False),
    )
    op.create_table(
        "merged_into",
        sa.Column("merged_id", sa.String(64), primary_key=True),
        sa.Column("survivor_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_merged_into_survivor_id", "merged_into", ["survivor_id"])
    op.create_table(
        "models",
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_from", sa.DateTime(timezone=True)),
        sa.Column("data_to", sa.DateTime(timezone=True)),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("refusal", sa.Text, nullable=False, server_default=""),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Column("products", sa.Integer, nullable=False),
        sa.Column("artifact", sa.LargeBinary),
    )
    op.create_table(
        "current_model",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("current_model", "models", "merged_into", "appetences", "interactions"):
        op.drop_table(table)
    op.drop_index("ix_products_revision", "products")
    for column in ("revision", "replenishment", "price", "attributes", "categories", "name"):
        op.drop_column("products", column)
    op.execute("DROP SEQUENCE product_revisions")
