"""Recommend fed through the real hand-off stream, queried over gRPC."""

from __future__ import annotations

import time

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.stream import StreamPublisher, stream_key
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc


def order(record_id: str, customer_id: str, lines: dict[str, int], kind=event_pb2.ORDER_KIND_PURCHASE) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=record_id,
        accepted_event=handoff_pb2.AcceptedEvent(
            customer_id=customer_id,
            event=event_pb2.Event(
                event_id=record_id,
                source="pos",
                order=event_pb2.Order(
                    order_id=record_id, kind=kind,
                    lines=[event_pb2.OrderLine(product_id=p, quantity=q) for p, q in lines.items()],
                ),
            ),
        ),
    ).SerializeToString()


def test_popular_products_not_already_bought(settings, redis_client, start_service) -> None:
    publisher = StreamPublisher(redis_client, stream_key(settings.stream_prefix, "handoff"))
    publisher.publish([
        order("o1", "ann", {"kibble": 5, "leash": 1}),
        order("o2", "bob", {"kibble": 2, "bowl": 3}),
        order("o2", "bob", {"kibble": 2, "bowl": 3}),  # delivered twice: counted once
        order("r1", "bob", {"bowl": 1}, kind=event_pb2.ORDER_KIND_RETURN),
    ])
    _, channel = start_service("recommend")
    stub = recommend_pb2_grpc.RecommendServiceStub(channel)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = stub.Recommend(recommend_pb2.RecommendRequest(customer_id="ann", exclude_purchased=True))
        if len(response.products) == 1 and response.products[0].score == 2:
            break
        time.sleep(0.1)
    assert [(p.product_id, p.score) for p in response.products] == [("bowl", 2.0)]
    everyone = stub.Recommend(recommend_pb2.RecommendRequest(limit=3)).products
    assert [p.product_id for p in everyone] == ["kibble", "bowl", "leash"]
