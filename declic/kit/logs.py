"""Logging set-up: one line per record, with the service name; no personal data."""

from __future__ import annotations

import logging


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
