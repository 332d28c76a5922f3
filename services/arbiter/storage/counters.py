"""Pressure counters in Redis: one sorted set of sends per person, reserved atomically.

The Lua script checks and reserves in one step, so two replicas deciding for
the same person at the same instant can never both take the last slot. The
firing id is the set member: asking twice for the same firing reserves once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

RESERVE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window_start = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local member = ARGV[4]
local ttl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', key, '-inf', window_start)
if redis.call('ZSCORE', key, member) then
  return 1
end
if redis.call('ZCARD', key) >= cap then
  return 0
end
redis.call('ZADD', key, now, member)
redis.call('EXPIRE', key, ttl)
return 1
"""


class PressureCounter:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(RESERVE)

    def _key(self, customer_id: str) -> str:
        return f"{self._prefix}:arbiter:pressure:{customer_id}"

    def reserve(self, customer_id: str, firing_id: str, now: datetime, cap: int, window: timedelta) -> bool:
        """Take one slot under the cap for `firing_id`; False when the cap is reached."""
        result = self._reserve(
            keys=[self._key(customer_id)],
            args=[now.timestamp(), (now - window).timestamp(), cap, firing_id, int(window.total_seconds()) + 86400],
        )
        return int(result) == 1

    def count(self, customer_id: str, now: datetime, window: timedelta) -> int:
        """How many slots are taken in the window ending now."""
        return int(self._client.zcount(self._key(customer_id), (now - window).timestamp(), "+inf"))
