"""Profile's tables and repositories (SQLAlchemy Core), on SQLite or PostgreSQL."""
