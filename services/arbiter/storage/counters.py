"""Pressure counters in Redis: one sorted set of sends per person, scored by time.

The Lua script reserves atomically and decides nothing: it records the
firing's slot and answers how many slots other firings held before it, so
that two replicas deciding for the same person at the same instant see
different counts. Whether the count is over the cap is the domain's rule
(`domain.pressure.cap_reached`); a slot the domain refuses is released. The
firing id is the set member: asking twice for the same firing reserves once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

# A firing already holding a slot counts the slots at or before its own time, itself excepted.
RESERVE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window_start = tonumber(ARGV[2])
local member = ARGV[3]
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', window_start)
local held_since = redis.call('ZSCORE', key, member)
if held_since then
  return redis.call('ZCOUNT', key, '-inf', held_since) - 1
end
local taken = redis.call('ZCARD', key)
redis.call('ZADD', key, now, member)
redis.call('EXPIRE', key, ttl)
return taken
"""


class PressureCounters:
    """Slots of marketing pressure per person, shared by every arbiter replica."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(RESERVE)

    def _key(self, customer_id: str) -> str:
        return f"{self._prefix}:arbiter:pressure:{customer_id}"

    def reserve(self, customer_id: str, firing_id: str, now: datetime, window: timedelta) -> int:
        """Hold a slot for `firing_id` in the window ending now; return how many slots were taken before it."""
        taken = self._reserve(
            keys=[self._key(customer_id)],
            args=[now.timestamp(), (now - window).timestamp(), firing_id, int(window.total_seconds()) + 86400],
        )
        return int(taken)

    def release(self, customer_id: str, firing_id: str) -> None:
        """Give back the slot held for `firing_id` (the firing will not be sent)."""
        self._client.zrem(self._key(customer_id), firing_id)
