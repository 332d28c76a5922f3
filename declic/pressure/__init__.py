"""The marketing-pressure policy as data: its schema and its file loader (shared by the arbiter and the CLI)."""
