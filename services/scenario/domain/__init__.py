"""Scenario's pure domain: the catalogue of scenarios, how events make them fire, and what each answer of a
delivery makes of a firing."""
