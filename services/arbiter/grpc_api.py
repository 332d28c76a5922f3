"""Arbiter's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import grpc

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, channel_name, to_timestamp
from services.arbiter.domain.decisions import (
    Decision,
    FiringRequest,
    Outcome,
    RuleCheck,
    SlotState,
    SuppressReason,
    Verdict,
)
from services.arbiter.grpc_people import PeopleFace, timezone_violations
from services.arbiter.people_service import PeopleService
from services.arbiter.service import ArbiterService

_channel_name = lru_cache(maxsize=64)(channel_name)
_channel_enum = lru_cache(maxsize=64)(channel_enum)
_timestamp = lru_cache(maxsize=64)(to_timestamp)
"""Cached: every decision of a batch shares its instant (protobuf copies a Timestamp given to a message)."""

HISTORY_ORDER = (datetime, str)
"""GetContactHistory's sort key: (decided_at, firing_id), newest first."""
LOSERS = {arbiter_pb2.LOSER_POLICY_DROP: "drop", arbiter_pb2.LOSER_POLICY_DEFER: "defer",
          arbiter_pb2.LOSER_POLICY_DOWNGRADE: "downgrade"}


def _violations(request: arbiter_pb2.DecideRequest, prefix: str = "") -> list[tuple[str, str]]:
    firing = request.firing
    required = {"firing.firing_id": firing.firing_id, "firing.customer_id": firing.customer_id,
                "firing.scenario_id": firing.scenario_id}
    found = [(prefix + name, "is required") for name, value in required.items() if not value]
    found += [(f"{prefix}firing.channels[{index}]", "must not be CHANNEL_UNSPECIFIED")
              for index, channel in enumerate(firing.channels) if channel == 0]
    found += timezone_violations(request.timezone, prefix + "timezone")
    if request.loser_policy and request.loser_policy not in LOSERS:
        found.append((prefix + "loser_policy", f"unknown value {request.loser_policy}"))
    return found


def _firing(request: arbiter_pb2.DecideRequest) -> FiringRequest:
    firing = request.firing
    return FiringRequest(
        firing_id=firing.firing_id,
        scenario_id=firing.scenario_id,
        customer_id=firing.customer_id,
        wanted_channels=tuple(dict.fromkeys(_channel_name(c) for c in firing.channels)),
        contactable_channels=frozenset(_channel_name(c) for c in request.contactable_channels if c),
        transactional=firing.transactional,
        priority=firing.priority,
        cause_event_id=firing.cause_event_id,
        category=request.category,
        loser=LOSERS.get(request.loser_policy, ""),
        campaign=request.campaign,
        preferred_channel=_channel_name(request.preferred_channel) if request.preferred_channel else "",
        timezone=request.timezone,
    )


def request_from_proto(request: arbiter_pb2.DecideRequest) -> FiringRequest:
    """The firing to judge; InvalidArgument names every missing or wrong field."""
    violations = _violations(request)
    if violations:
        raise InvalidArgument("", violations)
    return _firing(request)


def batch_from_proto(request: arbiter_pb2.DecideBatchRequest) -> list[FiringRequest]:
    violations = [v for i, item in enumerate(request.requests) for v in _violations(item, f"requests[{i}].")]
    if violations:
        raise InvalidArgument("", violations)
    return [_firing(item) for item in request.requests]


_VERDICTS = {verdict: arbiter_pb2.Verdict.Value("VERDICT_" + verdict.name) for verdict in Verdict}
_OUTCOMES = {outcome: arbiter_pb2.RuleOutcome.Value("RULE_OUTCOME_" + outcome.name) for outcome in Outcome}
_SLOTS = {slot: arbiter_pb2.SlotState.Value("SLOT_STATE_" + slot.name) for slot in SlotState if slot.value}
_REASONS = {reason: arbiter_pb2.SuppressReason.Value("SUPPRESS_REASON_" + reason.name) for reason in SuppressReason
            if reason is not SuppressReason.NONE}


@lru_cache(maxsize=4096)
def _rule(check: RuleCheck) -> arbiter_pb2.RuleCheck:
    """Cached: most checks read the same for every decision (a message given to another is copied, not shared)."""
    return arbiter_pb2.RuleCheck(rule=check.rule, outcome=_OUTCOMES[check.outcome], detail=check.detail)


def decision_to_proto(decision: Decision) -> arbiter_pb2.Decision:
    message = arbiter_pb2.Decision(
        firing_id=decision.firing_id,
        verdict=_VERDICTS[decision.verdict],
        explanation=decision.explanation,
        decided_at=_timestamp(decision.decided_at),
        rules=[_rule(r) for r in decision.rules],
        policy_version=decision.policy_version,
        customer_id=decision.customer_id,
        scenario_id=decision.scenario_id,
        category=decision.category,
        priority=decision.priority,
        cause_event_id=decision.cause_event_id,
    )
    if decision.slot.value:
        message.slot = _SLOTS[decision.slot]
    if decision.channel:
        message.channel = _channel_enum(decision.channel)
    if decision.reason is not SuppressReason.NONE:
        message.reason = _REASONS[decision.reason]
    if decision.defer_until is not None:
        message.defer_until.CopyFrom(_timestamp(decision.defer_until))
    return message


def _firing_id(request: arbiter_pb2.ConfirmRequest | arbiter_pb2.ReleaseRequest | arbiter_pb2.GetDecisionRequest
               ) -> str:
    if not request.firing_id:
        raise InvalidArgument.field("firing_id", "is required")
    return request.firing_id


class ArbiterServicer(PeopleFace, arbiter_pb2_grpc.ArbiterServiceServicer):
    def __init__(self, service: ArbiterService, people: PeopleService) -> None:
        super().__init__(people)
        self._service = service

    def Decide(self, request: arbiter_pb2.DecideRequest, context: grpc.ServicerContext) -> arbiter_pb2.DecideResponse:
        decision = self._service.decide(request_from_proto(request))
        return arbiter_pb2.DecideResponse(decision=decision_to_proto(decision))

    def DecideBatch(self, request: arbiter_pb2.DecideBatchRequest,
                    context: grpc.ServicerContext) -> arbiter_pb2.DecideBatchResponse:
        decisions = self._service.decide_batch(batch_from_proto(request))
        return arbiter_pb2.DecideBatchResponse(decisions=[decision_to_proto(d) for d in decisions])

    def Confirm(self, request: arbiter_pb2.ConfirmRequest, context: grpc.ServicerContext
                ) -> arbiter_pb2.ConfirmResponse:
        return arbiter_pb2.ConfirmResponse(decision=decision_to_proto(self._service.confirm(_firing_id(request))))

    def Release(self, request: arbiter_pb2.ReleaseRequest, context: grpc.ServicerContext
                ) -> arbiter_pb2.ReleaseResponse:
        return arbiter_pb2.ReleaseResponse(decision=decision_to_proto(self._service.release(_firing_id(request))))

    def GetDecision(self, request: arbiter_pb2.GetDecisionRequest, context: grpc.ServicerContext
                    ) -> arbiter_pb2.GetDecisionResponse:
        return arbiter_pb2.GetDecisionResponse(decision=decision_to_proto(self._service.get(_firing_id(request))))

    def GetContactHistory(
        self, request: arbiter_pb2.GetContactHistoryRequest, context: grpc.ServicerContext
    ) -> arbiter_pb2.GetContactHistoryResponse:
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        if request.limit < 0:
            raise InvalidArgument.field("limit", "must be >= 0")
        page = page_request(request.page_size or request.limit, request.page_token, HISTORY_ORDER,
                            query=request.customer_id)
        found = self._service.history(request.customer_id, page.fetch, page.after)
        decisions, next_token = fill_page(found, page, lambda d: (d.decided_at, d.firing_id), decision_to_proto)
        return arbiter_pb2.GetContactHistoryResponse(decisions=decisions, next_page_token=next_token)
