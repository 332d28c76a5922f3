"""Segment requests: protobuf → domain SegmentSpec, with every bad field named."""

from __future__ import annotations

from declic.common.v1 import identity_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.protoconv import channel_name
from declic.profile.v1 import profile_pb2
from services.profile.domain.lifecycle import LifecycleStage
from services.profile.domain.segments import (
    BirthdayToday,
    Comparison,
    Condition,
    LastOrderContaining,
    RepurchaseOverdue,
    SegmentField,
    SegmentKind,
    SegmentSpec,
)

CONTACTABLE_CHANNELS = {"email", "sms", "push", "print", "call_center"}
DEFAULT_BATCH, MAX_BATCH = 5_000, 50_000


def batch_size_of(request: profile_pb2.QuerySegmentRequest) -> int:
    if request.batch_size < 0 or request.batch_size > MAX_BATCH:
        raise InvalidArgument.field("batch_size", f"must be between 0 (default {DEFAULT_BATCH}) and {MAX_BATCH}")
    return request.batch_size or DEFAULT_BATCH


def spec_of(segment: profile_pb2.Segment) -> SegmentSpec:
    """The domain segment; raises InvalidArgument naming every wrong field."""
    violations: list[tuple[str, str]] = []
    kind = _kind_of(segment, violations)
    channels = []
    for index, channel in enumerate(segment.contactable_on):
        name = channel_name(channel) if channel in identity_pb2.Channel.values() else "?"
        if name not in CONTACTABLE_CHANNELS:
            violations.append((f"segment.contactable_on[{index}]", "must be EMAIL, SMS, PUSH, PRINT or CALL_CENTER"))
        channels.append(name)
    stages = []
    for index, stage in enumerate(segment.lifecycle_stages):
        if stage == profile_pb2.LIFECYCLE_STAGE_UNSPECIFIED or stage not in profile_pb2.LifecycleStage.values():
            violations.append((f"segment.lifecycle_stages[{index}]", "must be a lifecycle stage"))
            continue
        stages.append(LifecycleStage(profile_pb2.LifecycleStage.Name(stage).removeprefix("LIFECYCLE_STAGE_").lower()))
    conditions = []
    for index, condition in enumerate(segment.conditions):
        path = f"segment.conditions[{index}]"
        if condition.field == profile_pb2.SEGMENT_FIELD_UNSPECIFIED or condition.field not in (
                profile_pb2.SegmentField.values()):
            violations.append((f"{path}.field", "is required"))
            continue
        if condition.comparison == profile_pb2.COMPARISON_UNSPECIFIED or condition.comparison not in (
                profile_pb2.Comparison.values()):
            violations.append((f"{path}.comparison", "is required"))
            continue
        conditions.append(Condition(
            SegmentField[profile_pb2.SegmentField.Name(condition.field).removeprefix("SEGMENT_FIELD_")],
            Comparison[profile_pb2.Comparison.Name(condition.comparison).removeprefix("COMPARISON_")],
            condition.value,
        ))
    if violations:
        raise InvalidArgument("", violations)
    return SegmentSpec(kind, tuple(channels), tuple(stages), tuple(conditions))


def _kind_of(segment: profile_pb2.Segment, violations: list[tuple[str, str]]) -> SegmentKind:
    which = segment.WhichOneof("kind")
    if which == "birthday_today":
        return BirthdayToday()
    if which == "last_order_containing":
        wanted = segment.last_order_containing
        path = "segment.last_order_containing"
        if not wanted.category:
            violations.append((f"{path}.category", "is required"))
        if wanted.days_ago < 0:
            violations.append((f"{path}.days_ago", "must be >= 0"))
        for size, days in wanted.days_ago_by_pack_size.items():
            if days < 0:
                violations.append((f"{path}.days_ago_by_pack_size[{size}]", "must be >= 0"))
        by_size = {size.upper(): days for size, days in wanted.days_ago_by_pack_size.items()}
        return LastOrderContaining(wanted.category, wanted.days_ago, by_size)
    if which == "repurchase_overdue":
        wanted = segment.repurchase_overdue
        path = "segment.repurchase_overdue"
        if wanted.factor < 0:
            violations.append((f"{path}.factor", "must be > 0 (default 1.2)"))
        if wanted.within_days < 0:
            violations.append((f"{path}.within_days", "must be >= 0"))
        if wanted.min_orders < 0:
            violations.append((f"{path}.min_orders", "must be >= 0 (default 2)"))
        return RepurchaseOverdue(wanted.factor or 1.2, wanted.within_days, max(2, wanted.min_orders))
    return None
