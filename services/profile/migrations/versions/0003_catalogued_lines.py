"""Order lines: whether the product was known when the line was stored (late catalogue completes appetences).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("order_lines", sa.Column("catalogued", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute("UPDATE order_lines SET catalogued = (product_id IN (SELECT product_id FROM products))")


def downgrade() -> None:
    op.drop_column("order_lines", "catalogued")
