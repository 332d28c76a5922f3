"""The body of every service's Alembic env.py (online mode only).

`services/<name>/migrations/env.py` is two lines calling `run_migrations()`;
the engine, the schema and the version table come from `kit.database.migrate`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, text


def run_migrations(target_metadata: MetaData | None = None) -> None:
    """Run the pending migrations of the service that called `kit.database.migrate`."""
    config = context.config
    engine = config.attributes["engine"]
    schema = config.attributes["schema"]
    service = config.attributes["service"]
    with engine.begin() as connection:
        # Replicas starting together would race on the same DDL: one migrates, the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"declic-migrate-{schema}"})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=f"alembic_version_{service}",
            version_table_schema=schema,
        )
        with context.begin_transaction():
            context.run_migrations()
