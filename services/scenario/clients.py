"""Scenario's calls to its peers over gRPC: profile, arbiter and dispatch, in plain types.

A call that fails raises `PeerFailed` (the service retries the firing later);
profile not knowing the customer is an answer (None), not a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.channels import is_transient
from declic.kit.protoconv import channel_enum, channel_name, to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenarios.facts import profile_facts
from declic.scenarios.schema import Segment
from services.scenario.domain.delivery import ArbiterDecision, Contact, PeerFailed, Verdict, arbitration_terms
from services.scenario.domain.firings import Firing
from services.scenario.grpc_api import firing_to_proto

PEERS = ("profile", "arbiter", "dispatch")

_VERDICTS = {
    arbiter_pb2.VERDICT_ALLOW: Verdict.ALLOW,
    arbiter_pb2.VERDICT_DEFER: Verdict.DEFER,
    arbiter_pb2.VERDICT_SUPPRESS: Verdict.SUPPRESS,
    arbiter_pb2.VERDICT_CONTROL_GROUP: Verdict.CONTROL_GROUP,
}


class PeerClients:
    """The three peers a firing goes through, each call bounded by `timeout` seconds."""

    def __init__(self, channels: dict[str, grpc.Channel], timeout: float) -> None:
        self._profile = profile_pb2_grpc.ProfileServiceStub(channels["profile"])
        self._arbiter = arbiter_pb2_grpc.ArbiterServiceStub(channels["arbiter"])
        self._dispatch = dispatch_pb2_grpc.DispatchServiceStub(channels["dispatch"])
        self._timeout = timeout

    def contact(self, customer_id: str) -> Contact | None:
        """How to greet and reach the customer; None when profile does not know them."""
        try:
            profile = self._profile.GetProfile(
                profile_pb2.GetProfileRequest(customer_id=customer_id), timeout=self._timeout
            ).profile
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _failed("profile", exc) from exc
        addresses = {channel_name(c.channel): c.address for c in profile.contactability if c.contactable}
        preferred = channel_name(profile.preferred_channel) if profile.preferred_channel else ""
        return Contact(first_name=profile.first_name, timezone=profile.timezone, addresses=addresses,
                       preferred_channel=preferred)

    def profile_facts(self, customer_id: str, now: datetime) -> dict[str, Any] | None:
        """The profile as conditions see it; None when profile does not know the customer."""
        try:
            profile = self._profile.GetProfile(
                profile_pb2.GetProfileRequest(customer_id=customer_id), timeout=self._timeout).profile
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _failed("profile", exc) from exc
        return profile_facts(profile, now)

    def segment(self, segment: Segment, as_of: datetime, batch_size: int = 5000) -> Iterator[list[str]]:
        """The customer ids of a segment, a batch at a time (profile's QuerySegment stream)."""
        request = profile_pb2.QuerySegmentRequest(segment=segment_to_proto(segment), as_of=to_timestamp(as_of),
                                                  batch_size=batch_size)
        try:
            for response in self._profile.QuerySegment(request, timeout=self._timeout * 30):
                yield list(response.customer_ids)
        except grpc.RpcError as exc:
            raise _failed("profile", exc) from exc

    def decide(self, firing: Firing, variables: dict[str, str], contact: Contact) -> ArbiterDecision:
        """The arbiter's decision on the firing for this person."""
        category, campaign, cause_event_id = arbitration_terms(firing)
        proposal = firing_to_proto(firing, variables)
        proposal.cause_event_id = cause_event_id
        request = arbiter_pb2.DecideRequest(
            firing=proposal,
            contactable_channels=[channel_enum(c) for c in contact.addresses],
            timezone=contact.timezone,
            category=category,
            campaign=campaign,
            preferred_channel=channel_enum(contact.preferred_channel) if contact.preferred_channel else 0,
        )
        try:
            decision = self._arbiter.Decide(request, timeout=self._timeout).decision
        except grpc.RpcError as exc:
            raise _failed("arbiter", exc) from exc
        if decision.verdict not in _VERDICTS:
            raise PeerFailed("arbiter: unknown verdict", transient=False, cause=str(decision.verdict))
        return ArbiterDecision(
            verdict=_VERDICTS[decision.verdict],
            explanation=decision.explanation,
            channel=channel_name(decision.channel) if decision.channel else "",
            defer_until=decision.defer_until.ToDatetime(tzinfo=UTC) if decision.HasField("defer_until") else None,
        )

    def release(self, firing_id: str) -> bool:
        """Give back the slot the arbiter may hold for the firing; False when the message had gone out after all
        (dispatch confirmed it). A firing the arbiter never decided has nothing to give back."""
        try:
            self._arbiter.Release(arbiter_pb2.ReleaseRequest(firing_id=firing_id), timeout=self._timeout)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return True
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                return False
            raise _failed("arbiter", exc) from exc
        return True

    def send(self, firing: Firing, variables: dict[str, str], channel: str, address: str) -> str:
        """Hand the message to dispatch (exactly once per firing and channel); its message id."""
        request = dispatch_pb2.SendMessageRequest(
            firing=firing_to_proto(firing, variables), channel=channel_enum(channel), address=address
        )
        try:
            return self._dispatch.SendMessage(request, timeout=self._timeout).message.message_id
        except grpc.RpcError as exc:
            raise _failed("dispatch", exc) from exc


def _failed(peer: str, exc: grpc.RpcError) -> PeerFailed:
    return PeerFailed(f"{peer}: {exc.code().name}", transient=is_transient(exc), cause=exc.details() or "")


def segment_to_proto(segment: Segment) -> profile_pb2.Segment:
    """The catalogue's segment as profile's QuerySegment takes it ("everyone" is a segment with no kind)."""
    data = segment.model_dump(exclude_none=True, exclude={"everyone"})
    data["contactable_on"] = ["CHANNEL_" + c.upper() for c in segment.contactable_on]
    data["lifecycle_stages"] = ["LIFECYCLE_STAGE_" + s.upper() for s in segment.lifecycle_stages]
    data["conditions"] = [{"field": "SEGMENT_FIELD_" + c.field.upper(),
                           "comparison": "COMPARISON_" + c.comparison.upper(), "value": c.value}
                          for c in segment.conditions]
    return json_format.ParseDict(data, profile_pb2.Segment())
