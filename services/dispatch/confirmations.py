"""Dispatch confirms each message it recorded to the arbiter (`Confirm` on the firing): the slot the arbiter
reserved for the firing is then kept for good. A loop does it right after the message is recorded and tries again,
with backoff, while the arbiter is unreachable: the confirmation is stored with the message, never lost with a
failed call, and the arbiter's Confirm is idempotent, so a replay does no harm."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

import grpc

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.backoff import retry_delay
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from services.dispatch.domain.confirmation import Confirmation
from services.dispatch.storage.messages import MessageRepository

log = logging.getLogger("declic.dispatch.confirmations")

LEASE = timedelta(seconds=30)
"""How long a claimed message stays hidden from the other replicas' loops."""


class ConfirmFailed(Exception):
    """The arbiter could not be told (down, slow, or refusing the call itself)."""


class Arbiter(Protocol):
    def confirm(self, firing_id: str) -> Confirmation:
        """What the arbiter made of the confirmation; raises ConfirmFailed when it could not be told."""
        ...


class GrpcArbiter:
    """The arbiter's Confirm over gRPC, each call bounded by `timeout` seconds."""

    def __init__(self, channel: grpc.Channel, timeout: float) -> None:
        self._stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
        self._timeout = timeout

    def confirm(self, firing_id: str) -> Confirmation:
        try:
            self._stub.Confirm(arbiter_pb2.ConfirmRequest(firing_id=firing_id), timeout=self._timeout)
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            if code == grpc.StatusCode.NOT_FOUND:
                return Confirmation.UNDECIDED
            if code == grpc.StatusCode.FAILED_PRECONDITION:
                return Confirmation.REFUSED
            raise ConfirmFailed(f"arbiter: {code.name}: {exc.details()}") from exc  # type: ignore[attr-defined]
        return Confirmation.CONFIRMED


class Confirmations:
    """Confirms the recorded messages due, `batch` at a time (a step of a `PollingWorker`)."""

    def __init__(self, uow: UnitOfWork, clock: Clock, arbiter: Arbiter, batch: int = 100) -> None:
        self._uow = uow
        self._clock = clock
        self._arbiter = arbiter
        self._batch = batch

    def confirm_due(self) -> int:
        """Tell the arbiter about up to `batch` messages; how many were tried."""
        with self._uow.begin() as session:
            due = MessageRepository(session).claim_to_confirm(self._clock.now(), LEASE, self._batch)
            session.commit()
        settled = []
        for message_id, firing_id, attempts in due:
            try:
                outcome, again = self._arbiter.confirm(firing_id), None
            except ConfirmFailed as failure:
                outcome, again = Confirmation.PENDING, self._clock.now() + retry_delay(attempts)
                log.warning("firing %s: not confirmed to the arbiter yet (%s); trying again at %s", firing_id,
                            failure, again.isoformat())
            if outcome is Confirmation.REFUSED:
                log.error("firing %s: sent, but the arbiter had not allowed it", firing_id)
            settled.append((message_id, outcome, again))
        if settled:
            with self._uow.begin() as session:
                repository = MessageRepository(session)
                for message_id, outcome, again in settled:
                    repository.settle_confirmation(message_id, outcome, again)
                session.commit()
        return len(due)
