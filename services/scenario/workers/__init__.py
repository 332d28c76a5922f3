"""Scenario's background loops: they poll and lease, the service decides."""
