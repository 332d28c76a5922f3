"""Every request validated at the door, the same way in every service.

    from declic.kit import request_validation
    request_validation.violations(message)        # [(field path, reason), ...], [] when good
    request_validation.check_request(message)     # raises InvalidArgument naming each field

The server applies it to every request of every RPC (`declic.kit.interceptors.RequestCheckInterceptor`), so a
handler only ever sees a decodable request within the limits of `limits` (documented in docs/requests.md).
Fields a service answers item by item (`limits.FieldRule.answered_per_item`) are left to that service, which calls
`violations(item)` on each. Reasons name the field and the limit, never the value sent.
"""

from __future__ import annotations

from google.protobuf.message import Message

from declic.kit.errors import InvalidArgument
from declic.kit.request_validation import limits
from declic.kit.request_validation.checker import walk
from declic.kit.request_validation.values import Violations

__all__ = ["check_request", "limits", "violations"]


def violations(message: Message, prefix: str = "") -> Violations:
    """Every rule `message` breaks, as (field path, reason), at most `limits.MAX_VIOLATIONS` of them.

    `prefix` starts every path (e.g. "event." or "events[3]."). Never raises on a decoded message, however
    strange its values (out-of-range Timestamps, unknown enum numbers, NaN)."""
    found: Violations = []
    walk(message, prefix, found)
    return found[:limits.MAX_VIOLATIONS]


def check_request(message: Message) -> None:
    """Raise InvalidArgument (with a google.rpc.BadRequest field violation each) when `message` breaks a rule."""
    found: Violations = []
    walk(message, "", found)
    if found:
        listed = "; ".join(f"{path}: {reason}" for path, reason in found[:limits.MAX_VIOLATIONS])
        # The count first: the kit's errors cut long messages at the end.
        raise InvalidArgument(listed if len(found) == 1 else f"{len(found):,} violations: {listed}",
                              found[:limits.MAX_VIOLATIONS])
