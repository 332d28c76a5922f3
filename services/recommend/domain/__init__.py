"""Recommend's pure domain: ranking products for one customer."""
