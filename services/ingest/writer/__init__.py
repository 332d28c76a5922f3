"""The write path: what the gRPC process validated, written to the database and handed off.

`calls` (what a call hands over and gets back) → `process` (the writer in a process of its own; `wire`, what
crosses its pipes) → `group_commit` (concurrent calls grouped) → `transactions` (one transaction per group,
replayed after a conflict or a broken connection) → `batch` (what one transaction does: de-duplicate, resolve
identities, store events, hand them off; `stats`, how they count), remembering the identity graph between
transactions (`identity_cache`).
"""
