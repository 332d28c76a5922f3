"""Profile's gRPC face: translate protobuf ↔ domain, nothing more."""

from __future__ import annotations

import grpc

from declic.common.v1 import identity_pb2, money_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.protoconv import channel_enum, identifier_type_name, to_datetime, to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.profile.domain.consents import GRANTED, Consent
from services.profile.domain.summary import ProfileSummary
from services.profile.service import ProfileService


def money(cents: int, currency: str) -> money_pb2.Money:
    units = int(cents / 100)  # truncates toward zero: units and nanos keep the same sign
    return money_pb2.Money(currency_code=currency, units=units, nanos=(cents - units * 100) * 10_000_000)


def consent_to_proto(consent: Consent) -> identity_pb2.Consent:
    basis = consent.legal_basis.upper() or "UNSPECIFIED"
    return identity_pb2.Consent(
        channel=channel_enum(consent.channel),
        state=identity_pb2.CONSENT_STATE_GRANTED if consent.state == GRANTED else identity_pb2.CONSENT_STATE_DENIED,
        legal_basis=identity_pb2.LegalBasis.Value(f"LEGAL_BASIS_{basis}"),
        source=consent.source,
        time=to_timestamp(consent.given_at),
    )


def profile_to_proto(summary: ProfileSummary) -> profile_pb2.Profile:
    stats = summary.stats
    profile = profile_pb2.Profile(
        customer_id=summary.customer_id,
        identifiers=[
            identity_pb2.Identifier(type=identity_pb2.IdentifierType.Value(f"IDENTIFIER_TYPE_{t.upper()}"), value=v)
            for t, v in summary.identifiers
        ],
        first_name=summary.first_name,
        last_name=summary.last_name,
        birth_date=summary.birth_date,
        locale=summary.locale,
        timezone=summary.timezone,
        consents=[consent_to_proto(consent) for consent in summary.consents],
        contactability=[
            profile_pb2.Contactability(channel=channel_enum(state.channel), contactable=state.contactable,
                                       address=state.address, reason=state.reason)
            for state in summary.contactability
        ],
        lifecycle_stage=profile_pb2.LifecycleStage.Value(
            "LIFECYCLE_STAGE_" + summary.lifecycle_stage.value.upper()),
        order_count=stats.order_count,
        monetary_value=money(stats.monetary_cents, stats.currency),
        attributes=summary.attributes,
    )
    if summary.created_at is not None:
        profile.created_at.CopyFrom(to_timestamp(summary.created_at))
    if stats.first_order_at is not None:
        profile.first_order_at.CopyFrom(to_timestamp(stats.first_order_at))
    if stats.last_order_at is not None:
        profile.last_order_at.CopyFrom(to_timestamp(stats.last_order_at))
    return profile


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, service: ProfileService) -> None:
        self._service = service

    def GetProfile(self, request: profile_pb2.GetProfileRequest, context: grpc.ServicerContext):
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        return profile_pb2.GetProfileResponse(profile=profile_to_proto(self._service.get(request.customer_id)))

    def LookupProfile(self, request: profile_pb2.LookupProfileRequest, context: grpc.ServicerContext):
        identifier = request.identifier
        if identifier.type == identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED:
            raise InvalidArgument.field("identifier.type", "is required")
        if not identifier.value.strip():
            raise InvalidArgument.field("identifier.value", "is required")
        summary = self._service.lookup(identifier_type_name(identifier.type), identifier.value)
        return profile_pb2.LookupProfileResponse(profile=profile_to_proto(summary))


__all__ = ["ProfileServicer", "to_datetime"]
