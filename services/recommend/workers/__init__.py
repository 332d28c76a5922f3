"""Recommend's background loops: model and catalogue polling, scheduled retraining."""
