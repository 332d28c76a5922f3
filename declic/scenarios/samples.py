"""One of every variable a condition may read, with every field: conditions are checked against it at load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_NOW = datetime(2026, 1, 1, tzinfo=UTC)

SAMPLE_PROFILE: dict[str, Any] = {
    "customer_id": "c", "first_name": "", "last_name": "", "birth_date": "", "locale": "", "timezone": "UTC",
    "lifecycle": "prospect", "created_at": _NOW, "order_count": 0, "monetary_value": 0.0,
    "days_since_last_order": -1.0, "days_since_first_order": -1.0, "average_interval_days": 0.0,
    "days_until_next_order_expected": 0.0, "promo_sensitivity": 0.0, "preferred_channel": "",
    "rfm": {"recency_score": 0, "frequency_score": 0, "monetary_score": 0, "frequency": 0, "monetary": 0.0},
    "contactability": {"email": False, "sms": False, "push": False, "web": False, "print": False,
                       "call_center": False},
    "appetences": {}, "appetence_scores": {}, "attributes": {}, "last_order_categories": [],
}

_ORDER = {"order_id": "", "channel": "online", "kind": "purchase", "total": 0.0, "discount": 0.0, "store_id": "",
          "promo_code": "", "country": "", "categories": [], "product_ids": [], "original_order_id": "",
          "lines": [{"product_id": "", "quantity": 0, "unit_price": 0.0, "discount": 0.0, "category": "",
                     "description": ""}]}

SAMPLE_EVENT: dict[str, Any] = {
    "type": "order", "id": "", "source": "", "time": _NOW, "context": {},
    "identify": {"first_name": "", "last_name": "", "birth_date": "", "locale": "", "timezone": "", "reason": "",
                 "attributes": {}, "new_customer": False},
    "page_view": {"url": "", "title": "", "referrer": "", "category": ""},
    "product_view": {"product_id": "", "category": "", "interaction": ""},
    "cart_change": {"cart_id": "", "action": "add", "product_id": "", "quantity": 0, "unit_price": 0.0},
    "order": _ORDER,
    "message_engagement": {"message_id": "", "channel": "email", "kind": "opened", "url": "", "scenario_id": ""},
    "campaign": {"campaign_id": "", "send_at": _NOW},
}

SAMPLE_JOURNEY: dict[str, Any] = {"state": "active", "step": "", "entry_key": "", "occurrences": 1,
                                  "entered_at": _NOW, "variables": {}}

SAMPLE_ACTIVATION: dict[str, Any] = {"event": SAMPLE_EVENT, "profile": SAMPLE_PROFILE, "journey": SAMPLE_JOURNEY,
                                     "now": _NOW}
