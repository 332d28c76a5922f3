"""Moves due firings forward: profile (who, where) → arbiter (may we?) → dispatch (send).

Every step is idempotent (the arbiter and dispatch key on the firing id), so
a firing retried after a crash or an outage is never sent twice. A peer that
is down only delays the firing: it stays pending and is retried with backoff.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import grpc

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.channels import is_transient
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.protoconv import channel_enum, channel_name
from declic.kit.telemetry import continued_span
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.scenario.domain.firings import Firing, FiringState
from services.scenario.firing_proto import firing_to_proto
from services.scenario.storage import FiringRepository

log = logging.getLogger("declic.scenario.delivery")

LEASE = timedelta(seconds=30)
# The profile may not have applied the contact yet when scenario fires: wait for it, within reason.
PROFILE_WAIT_ATTEMPTS = 60


def retry_delay(attempts: int) -> timedelta:
    """Backoff between attempts of one firing: 0.5 s doubling up to 1 minute."""
    return timedelta(seconds=min(0.5 * 2 ** min(attempts, 7), 60))


class FiringDelivery:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        profile: profile_pb2_grpc.ProfileServiceStub,
        arbiter: arbiter_pb2_grpc.ArbiterServiceStub,
        dispatch: dispatch_pb2_grpc.DispatchServiceStub,
        timeout: float,
        idle_wait: float = 0.2,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._profile = profile
        self._arbiter = arbiter
        self._dispatch = dispatch
        self._timeout = timeout
        self._idle_wait = idle_wait

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.deliver_due() == 0:
                    stop.wait(self._idle_wait)
            except Exception:  # noqa: BLE001 - the loop must outlive a failing database
                log.exception("delivery loop failed; retrying")
                stop.wait(1.0)

    def deliver_due(self, limit: int = 20) -> int:
        """Advance up to `limit` due firings; return how many were handled."""
        now = self._clock.now()
        with self._uow.begin() as session:
            due = FiringRepository(session).claim_due(now, LEASE, limit)
            session.commit()
        for firing in due:
            with continued_span("firing.deliver", firing.trace_context, **{"declic.scenario_id": firing.scenario_id}):
                state, detail, retry_at = self._advance(firing)
            with self._uow.begin() as session:
                FiringRepository(session).settle(firing.firing_id, state, detail, retry_at)
                session.commit()
        return len(due)

    def _advance(self, firing: Firing) -> tuple[FiringState, str, object]:
        now = self._clock.now()
        try:
            profile = self._profile.GetProfile(
                profile_pb2.GetProfileRequest(customer_id=firing.customer_id), timeout=self._timeout
            ).profile
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND and firing.attempts < PROFILE_WAIT_ATTEMPTS:
                return FiringState.PENDING, "waiting for the profile", now + retry_delay(min(firing.attempts, 2))
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return FiringState.SUPPRESSED, "customer unknown to profile", None
            return self._later(firing, f"profile: {exc.code().name}", exc)
        addresses = {channel_name(c.channel): c.address for c in profile.contactability if c.contactable}
        variables = dict(firing.variables)
        if profile.first_name:
            variables.setdefault("first_name", profile.first_name)
        proto = firing_to_proto(firing, variables)
        try:
            decision = self._arbiter.Decide(
                arbiter_pb2.DecideRequest(
                    firing=proto,
                    contactable_channels=[channel_enum(c) for c in addresses],
                    timezone=profile.timezone,
                ),
                timeout=self._timeout,
            ).decision
        except grpc.RpcError as exc:
            return self._later(firing, f"arbiter: {exc.code().name}", exc)
        if decision.verdict == arbiter_pb2.VERDICT_DEFER:
            return FiringState.PENDING, decision.explanation, decision.defer_until.ToDatetime(tzinfo=now.tzinfo)
        if decision.verdict == arbiter_pb2.VERDICT_SUPPRESS:
            return FiringState.SUPPRESSED, decision.explanation, None
        if decision.verdict == arbiter_pb2.VERDICT_CONTROL_GROUP:
            return FiringState.CONTROL_GROUP, decision.explanation, None
        channel = channel_name(decision.channel)
        try:
            sent = self._dispatch.SendMessage(
                dispatch_pb2.SendMessageRequest(firing=proto, channel=decision.channel, address=addresses[channel]),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            return self._later(firing, f"dispatch: {exc.code().name}", exc)
        return FiringState.SENT, f"message {sent.message.message_id} on {channel}", None

    def _later(self, firing: Firing, detail: str, exc: grpc.RpcError) -> tuple[FiringState, str, object]:
        if not is_transient(exc):
            log.error("firing %s: %s (%s)", firing.firing_id, detail, exc.details())
        return FiringState.PENDING, detail, self._clock.now() + retry_delay(firing.attempts)
