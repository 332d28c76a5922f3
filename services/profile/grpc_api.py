"""Profile's gRPC face: translate protobuf ↔ domain, nothing more."""

from __future__ import annotations

import json
from datetime import datetime

import grpc

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, identifier_type_name, to_datetime, to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.profile.domain.consents import GRANTED, Consent
from services.profile.domain.summary import ProfileSummary
from services.profile.grpc_segments import batch_size_of, spec_of
from services.profile.service import ProfileService

CONSENT_HISTORY_ORDER = (datetime, int)
"""ListConsentHistory's sort key: (given_at, id), oldest first."""


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
        rfm=profile_pb2.Rfm(
            frequency=summary.rfm.frequency, monetary=money(summary.rfm.monetary_cents, stats.currency),
            recency_score=summary.rfm.recency_score, frequency_score=summary.rfm.frequency_score,
            monetary_score=summary.rfm.monetary_score, window_days=summary.rfm_window_days,
        ),
        average_interval_days=stats.average_interval_days or 0.0,
        appetences=[profile_pb2.Appetence(dimension=a.dimension, value=a.value, score=a.score, share=a.share)
                    for a in summary.appetences],
        promo_sensitivity=stats.promo_sensitivity,
        preferred_channel=channel_enum(summary.preferred_channel) if summary.preferred_channel else 0,
        last_orders=[
            profile_pb2.OrderSummary(
                order_id=o.order_id, kind=event_pb2.OrderKind.Value(f"ORDER_KIND_{o.kind.upper()}"),
                ordered_at=to_timestamp(o.ordered_at), amount=money(o.amount_cents, o.currency),
                discount=money(o.discount_cents, o.currency), channel=_order_channel(o.channel),
                categories=o.categories,
            )
            for o in summary.last_orders
        ],
        explanations=summary.explanations,
        as_of=to_timestamp(summary.as_of),
    )
    if summary.rfm.days_since_last_order is not None:
        profile.rfm.days_since_last_order = summary.rfm.days_since_last_order
    if stats.next_order_expected_at is not None:
        profile.next_order_expected_at.CopyFrom(to_timestamp(stats.next_order_expected_at))
    if summary.created_at is not None:
        profile.created_at.CopyFrom(to_timestamp(summary.created_at))
    if stats.first_order_at is not None:
        profile.first_order_at.CopyFrom(to_timestamp(stats.first_order_at))
    if stats.last_order_at is not None:
        profile.last_order_at.CopyFrom(to_timestamp(stats.last_order_at))
    return profile


def _order_channel(name: str) -> int:
    key = f"ORDER_CHANNEL_{name.upper()}"
    return dict(event_pb2.OrderChannel.items()).get(key, 0)


def _as_of(request: object) -> datetime | None:
    return to_datetime(request.as_of) if request.HasField("as_of") else None  # type: ignore[attr-defined]


def _required_customer_id(request: object) -> str:
    customer_id = request.customer_id  # type: ignore[attr-defined]
    if not customer_id:
        raise InvalidArgument.field("customer_id", "is required")
    return str(customer_id)


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, service: ProfileService) -> None:
        self._service = service

    def GetProfile(self, request: profile_pb2.GetProfileRequest, context: grpc.ServicerContext):
        summary = self._service.get(_required_customer_id(request), _as_of(request))
        return profile_pb2.GetProfileResponse(profile=profile_to_proto(summary))

    def LookupProfile(self, request: profile_pb2.LookupProfileRequest, context: grpc.ServicerContext):
        identifier = request.identifier
        if identifier.type == identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED:
            raise InvalidArgument.field("identifier.type", "is required")
        if not identifier.value.strip():
            raise InvalidArgument.field("identifier.value", "is required")
        summary = self._service.lookup(identifier_type_name(identifier.type), identifier.value, _as_of(request))
        return profile_pb2.LookupProfileResponse(profile=profile_to_proto(summary))

    def QuerySegment(self, request: profile_pb2.QuerySegmentRequest, context: grpc.ServicerContext):
        spec, batch_size = spec_of(request.segment), batch_size_of(request)
        for batch in self._service.segment(spec, _as_of(request), batch_size):
            yield profile_pb2.QuerySegmentResponse(customer_ids=batch)

    def ListConsentHistory(self, request: profile_pb2.ListConsentHistoryRequest, context: grpc.ServicerContext):
        asked = _required_customer_id(request)
        page = page_request(request.page_size, request.page_token, CONSENT_HISTORY_ORDER, query=asked)
        customer_id, history = self._service.consent_history(asked, page.fetch, page.after)
        records, next_token = fill_page(history, page, lambda entry: entry[0], lambda entry: profile_pb2.ConsentRecord(
            consent=consent_to_proto(entry[1]), recorded_at=to_timestamp(entry[2]), origin=entry[3]))
        return profile_pb2.ListConsentHistoryResponse(customer_id=customer_id, records=records,
                                                      next_page_token=next_token)

    def ExportProfile(self, request: profile_pb2.ExportProfileRequest, context: grpc.ServicerContext):
        exported = self._service.export(_required_customer_id(request))
        return profile_pb2.ExportProfileResponse(customer_id=exported["customer"]["customer_id"],
                                                 json=json.dumps(exported, indent=2, ensure_ascii=False))

    def EraseProfile(self, request: profile_pb2.EraseProfileRequest, context: grpc.ServicerContext):
        customer_id, hashes = self._service.erase(_required_customer_id(request))
        return profile_pb2.EraseProfileResponse(customer_id=customer_id, identifiers_suppressed=len(hashes))
