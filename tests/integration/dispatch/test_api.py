"""Dispatch against the real database, over real gRPC (in-process server)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from declic.common.v1 import identity_pb2, trigger_pb2
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc


def _request(firing_id: str = "f-1") -> dispatch_pb2.SendMessageRequest:
    return dispatch_pb2.SendMessageRequest(
        firing=trigger_pb2.TriggerFiring(
            firing_id=firing_id, scenario_id="welcome", customer_id="c-1", template_id="welcome",
            variables={"first_name": "Ann"},
        ),
        channel=identity_pb2.CHANNEL_EMAIL,
        address="ann@example.com",
    )


def test_send_is_exactly_once_per_firing_and_channel(start_service) -> None:
    _, channel = start_service("dispatch")
    stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
    first = stub.SendMessage(_request())
    again = stub.SendMessage(_request())
    assert first.created and not again.created
    assert first.message.message_id == again.message.message_id
    assert first.message.subject == "Welcome, Ann!"
    listed = stub.ListMessages(dispatch_pb2.ListMessagesRequest(customer_id="c-1")).messages
    assert [m.message_id for m in listed] == [first.message.message_id]


def test_bad_request_names_every_missing_field(start_service) -> None:
    _, channel = start_service("dispatch")
    stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.SendMessage(dispatch_pb2.SendMessageRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    fields = {v.field for v in bad_request.field_violations}
    assert fields == {"firing.firing_id", "firing.customer_id", "channel", "address"}
