"""Scenario's pure domain: the catalogue of scenarios and how events make them fire."""
