"""Arbiter's pure domain: the rules that decide whether a person may be contacted now."""
