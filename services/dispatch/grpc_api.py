"""Dispatch's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

from datetime import datetime

import grpc

from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, channel_name, to_timestamp
from services.dispatch.domain.messages import Message, SendOrder
from services.dispatch.service import DispatchService

MESSAGE_ORDER = (datetime, str)
"""ListMessages' sort key: (created_at, message_id), newest first."""


def order_from_proto(request: dispatch_pb2.SendMessageRequest) -> SendOrder:
    """The order to deliver; InvalidArgument names every missing field."""
    firing = request.firing
    required = {
        "firing.firing_id": firing.firing_id,
        "firing.customer_id": firing.customer_id,
        "channel": request.channel,
        "address": request.address,
    }
    violations = [(name, "is required") for name, value in required.items() if not value]
    if violations:
        raise InvalidArgument("", violations)
    return SendOrder(
        firing_id=firing.firing_id,
        scenario_id=firing.scenario_id,
        customer_id=firing.customer_id,
        channel=channel_name(request.channel),
        address=request.address,
        template_id=firing.template_id,
        variables=dict(firing.variables),
    )


def message_to_proto(message: Message) -> dispatch_pb2.Message:
    return dispatch_pb2.Message(
        message_id=message.message_id,
        customer_id=message.customer_id,
        channel=channel_enum(message.channel),
        scenario_id=message.scenario_id,
        firing_id=message.firing_id,
        address=message.address,
        subject=message.subject,
        body=message.body,
        state=dispatch_pb2.DeliveryState.Value("DELIVERY_STATE_" + message.state.name),
        created_at=to_timestamp(message.created_at),
    )


class DispatchServicer(dispatch_pb2_grpc.DispatchServiceServicer):
    def __init__(self, service: DispatchService) -> None:
        self._service = service

    def SendMessage(
        self, request: dispatch_pb2.SendMessageRequest, context: grpc.ServicerContext
    ) -> dispatch_pb2.SendMessageResponse:
        message, created = self._service.send(order_from_proto(request))
        return dispatch_pb2.SendMessageResponse(message=message_to_proto(message), created=created)

    def ListMessages(
        self, request: dispatch_pb2.ListMessagesRequest, context: grpc.ServicerContext
    ) -> dispatch_pb2.ListMessagesResponse:
        if request.limit < 0:
            raise InvalidArgument.field("limit", "must be >= 0")
        page = page_request(request.page_size or request.limit, request.page_token, MESSAGE_ORDER,
                            query=request.customer_id)
        found = self._service.list(request.customer_id, page.fetch, page.after)
        messages, next_token = fill_page(found, page, lambda m: (m.created_at, m.message_id), message_to_proto)
        return dispatch_pb2.ListMessagesResponse(messages=messages, next_page_token=next_token)
