from declic.kit.migrations import run_migrations

run_migrations()
