"""Recommend's pure domain: what an order tells the model, and ranking products for one customer."""
