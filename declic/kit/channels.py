"""Client channels between services: deadlines, and retries of transient failures.

gRPC's own retry policy (service config) retries UNAVAILABLE with
exponential backoff inside one call; workers add tenacity around whole
operations so a dependency that stays down longer is retried later.
"""

from __future__ import annotations

import json

import grpc
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from declic.kit.auth import with_token
from declic.kit.telemetry import traced

RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def make_channel(address: str, token: str = "") -> grpc.Channel:
    """A channel to another Declic service, retrying UNAVAILABLE, presenting `token` when given."""
    channel = grpc.insecure_channel(
        address,
        options=[
            ("grpc.enable_retries", 1),
            # Spread calls over every replica behind a headless Service (one connection per address).
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.service_config", RETRY_SERVICE_CONFIG),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.max_send_message_length", 8 * 1024 * 1024),
        ],
    )
    return with_token(traced(channel), token)


TRANSIENT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


def is_transient(exc: BaseException) -> bool:
    """True for RPC failures worth retrying later (the peer is down or slow)."""
    return isinstance(exc, grpc.RpcError) and exc.code() in TRANSIENT_CODES  # type: ignore[attr-defined]


def retry_transient(attempts: int = 5, max_wait: float = 2.0):  # type: ignore[no-untyped-def]
    """Decorator: retry a call on transient gRPC failures, with exponential backoff."""
    return retry(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.1, max=max_wait),
        reraise=True,
    )
