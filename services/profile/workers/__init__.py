"""Profile's background loops (no rules inside)."""
