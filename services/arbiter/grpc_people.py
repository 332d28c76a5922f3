"""Arbiter's gRPC face for people: pressure, may-we-contact, exclusion lists (protobuf ↔ plain types)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc

from declic.arbiter.v1 import arbiter_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, channel_name, to_datetime, to_timestamp
from services.arbiter.domain.decisions import FiringRequest
from services.arbiter.domain.screening import ExclusionFact
from services.arbiter.people_service import PeopleService

EXCLUSION_ORDER = (str, str)
"""ListExclusions' sort key: (list, customer_id)."""
MAX_CUSTOMER_ID = 64


def _customer(customer_id: str, field: str = "customer_id") -> str:
    if not customer_id:
        raise InvalidArgument.field(field, "is required")
    if len(customer_id) > MAX_CUSTOMER_ID:
        raise InvalidArgument.field(field, f"at most {MAX_CUSTOMER_ID} characters")
    return customer_id


def timezone_violations(timezone: str, field: str) -> list[tuple[str, str]]:
    """[(field, why)] when `timezone` is given and is not an IANA zone."""
    if not timezone:
        return []
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [(field, f"{timezone[:64]!r} is not an IANA timezone (e.g. Europe/Paris)")]
    return []


def _timezone(timezone: str) -> str:
    violations = timezone_violations(timezone, "timezone")
    if violations:
        raise InvalidArgument("", violations)
    return timezone


def exclusion_to_proto(customer_id: str, fact: ExclusionFact,
                       created_at: datetime | None = None) -> arbiter_pb2.Exclusion:
    message = arbiter_pb2.Exclusion(customer_id=customer_id, list=fact.list, reason=fact.reason, source=fact.source)
    if created_at is not None:
        message.created_at.CopyFrom(to_timestamp(created_at))
    if fact.expires_at is not None:
        message.expires_at.CopyFrom(to_timestamp(fact.expires_at))
    return message


class PeopleFace:
    """The people RPCs of ArbiterService (mixed into its servicer)."""

    def __init__(self, people: PeopleService) -> None:
        self._people = people

    def GetPressure(self, request: arbiter_pb2.GetPressureRequest, context: grpc.ServicerContext
                    ) -> arbiter_pb2.GetPressureResponse:
        found = self._people.pressure(_customer(request.customer_id), _timezone(request.timezone))
        return arbiter_pb2.GetPressureResponse(
            customer_id=found.customer_id,
            counters=[arbiter_pb2.PressureCounter(
                rule=limit.rule, scope="global" if limit.kind == "all" else f"{limit.kind}:{limit.value}", used=used,
                limit=limit.limit, window=limit.window.label() if limit.window else "",
                window_start=to_timestamp(limit.since)) for limit, used in found.counters],
            exclusions=[exclusion_to_proto(found.customer_id, fact)
                        for fact in found.facts.exclusions],
            cool_offs=[arbiter_pb2.CoolOff(kind=c.kind, channel=channel_enum(c.channel) if c.channel else 0,
                                           until=to_timestamp(c.until)) for c in found.facts.cool_offs],
            policy_version=found.policy_version,
            global_control_group=found.global_control_group,
        )

    def CanContact(self, request: arbiter_pb2.CanContactRequest, context: grpc.ServicerContext
                   ) -> arbiter_pb2.CanContactResponse:
        customer_id = _customer(request.customer_id)
        if any(channel == 0 for channel in request.channels):
            raise InvalidArgument.field("channels", "must not hold CHANNEL_UNSPECIFIED")
        contactable = frozenset(channel_name(c) for c in request.contactable_channels if c)
        wanted = tuple(dict.fromkeys(channel_name(c) for c in request.channels)) or tuple(sorted(contactable))
        found, version = self._people.can_contact(FiringRequest(
            firing_id="", scenario_id="", customer_id=customer_id, wanted_channels=wanted,
            contactable_channels=contactable, category=request.category, timezone=_timezone(request.timezone)))
        response = arbiter_pb2.CanContactResponse(
            allowed=found.allowed, explanation=found.explanation, policy_version=version,
            rules=[arbiter_pb2.RuleCheck(rule=r.rule, outcome=arbiter_pb2.RuleOutcome.Value(
                "RULE_OUTCOME_" + r.outcome.name), detail=r.detail) for r in found.rules])
        if found.channel:
            response.channel = channel_enum(found.channel)
        if found.next_allowed_at is not None:
            response.next_allowed_at.CopyFrom(to_timestamp(found.next_allowed_at))
        return response

    def Exclude(self, request: arbiter_pb2.ExcludeRequest, context: grpc.ServicerContext
                ) -> arbiter_pb2.ExcludeResponse:
        exclusion = request.exclusion
        customer_id = _customer(exclusion.customer_id, "exclusion.customer_id")
        missing = [(f"exclusion.{name}", "is required") for name in ("list", "reason", "source")
                   if not getattr(exclusion, name)]
        if missing:
            raise InvalidArgument("", missing)
        expires = to_datetime(exclusion.expires_at) if exclusion.HasField("expires_at") else None
        created = self._people.exclude(customer_id, exclusion.list, exclusion.reason, exclusion.source, expires)
        fact = ExclusionFact(exclusion.list, exclusion.reason, exclusion.source, expires)
        return arbiter_pb2.ExcludeResponse(exclusion=exclusion_to_proto(customer_id, fact, created))

    def Unexclude(self, request: arbiter_pb2.UnexcludeRequest, context: grpc.ServicerContext
                  ) -> arbiter_pb2.UnexcludeResponse:
        if not request.list:
            raise InvalidArgument.field("list", "is required")
        return arbiter_pb2.UnexcludeResponse(removed=self._people.unexclude(_customer(request.customer_id),
                                                                            request.list))

    def ListExclusions(self, request: arbiter_pb2.ListExclusionsRequest, context: grpc.ServicerContext
                       ) -> arbiter_pb2.ListExclusionsResponse:
        page = page_request(request.page_size, request.page_token, EXCLUSION_ORDER,
                            query=f"{request.customer_id}|{request.list}")
        found = self._people.exclusions(request.customer_id, request.list, page.fetch, page.after)
        rows, token = fill_page(found, page, lambda row: (row[1].list, row[0]),
                                lambda row: exclusion_to_proto(*row))
        return arbiter_pb2.ListExclusionsResponse(exclusions=rows, next_page_token=token)
