"""A recommend service on a manual clock, polling every 0.1 s, with tiny trainings."""

from __future__ import annotations

import pytest

from declic.kit.clock import ManualClock
from declic.kit.stream import StreamPublisher, stream_key
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from declic.recommending.training import TrainingOptions
from services.recommend.settings import RecommendSettings
from tests.integration.recommend.stream import corpus_records, wait_for
from tests.unit.recommend.synthetic import NOW, shop

FAST = RecommendSettings(poll_seconds=0.1, retrain_hours=0, holdout_days=14)
TINY = TrainingOptions(no_components=8, epochs=20, threads=1)


@pytest.fixture
def publish(settings, redis_client):
    publisher = StreamPublisher(redis_client, stream_key(settings.stream_prefix, "handoff"))
    return lambda records: publisher.publish([r if isinstance(r, bytes) else r.SerializeToString() for r in records])


@pytest.fixture
def recommend(start_service):
    """Start a replica: recommend(options=...) -> stub."""

    def _start(options: TrainingOptions = TINY, clock: ManualClock | None = None):
        _, channel = start_service("recommend", clock=clock or ManualClock(NOW), recommend=FAST, options=options)
        return recommend_pb2_grpc.RecommendServiceStub(channel)

    return _start


@pytest.fixture
def trained(publish, recommend):
    """A replica fed the tiny shop, with a published model: (stub, version, corpus)."""
    corpus = shop(customers=40, products=10)
    publish(corpus_records(corpus))
    stub = recommend()
    wait_for(lambda: stub.Recommend(recommend_pb2.RecommendRequest(limit=50)).products,
             lambda products: len(products) == 20)
    result = train(stub)
    assert result.status == "published", result.refusal
    wait_for(lambda: stub.Recommend(recommend_pb2.RecommendRequest()).model_version, lambda v: v == result.version)
    return stub, result.version, corpus


def train(stub, epochs: int = 0) -> recommend_pb2.ModelInfo:
    responses = list(stub.TrainModel(recommend_pb2.TrainModelRequest(epochs=epochs)))
    assert responses[-1].HasField("result")
    assert [r.epochs_done for r in responses if r.phase == "holdout"][-1] == responses[0].epochs_total
    return responses[-1].result
