"""Recommendation models, pure: interactions and their weights, item/user features, the LightFM hybrid, the
baselines it is measured against and the evaluation. The recommend service and `declic recommend` both use it."""
