"""Profile's tables and repositories (SQLAlchemy Core), on PostgreSQL."""
