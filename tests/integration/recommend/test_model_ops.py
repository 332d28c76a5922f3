"""Recommend end to end over gRPC: trained from the hand-off stream, filtered, versioned, guarded, reloaded."""

from __future__ import annotations

import threading
from datetime import timedelta

import grpc
import pytest

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.recommend.v1 import recommend_pb2
from declic.recommending.interactions import PURCHASE
from declic.recommending.training import TrainingOptions
from tests.integration.recommend.conftest import train
from tests.integration.recommend.stream import order, upsert, wait_for
from tests.unit.recommend.synthetic import NOW, product

pytestmark = pytest.mark.integration


def bought_by(corpus, customer: str) -> set[str]:
    return {i.product_id for i in corpus.interactions if i.customer_id == customer and i.kind == PURCHASE}


def test_suggestions_follow_the_filters_and_name_the_model(trained, publish) -> None:
    stub, version, corpus = trained
    publish([upsert(product("cat", 9), in_stock=False)])
    request = recommend_pb2.RecommendRequest(customer_id="cat-person-0", limit=10, exclude_purchased=True)
    response = wait_for(lambda: stub.Recommend(request), lambda r: "cat-9" not in [p.product_id for p in r.products])
    suggested = [p.product_id for p in response.products]
    assert response.model_version == version
    assert "cat-9" not in suggested and suggested
    assert not set(suggested) & bought_by(corpus, "cat-person-0")
    assert suggested[0].startswith("cat-")
    diverse = stub.Recommend(recommend_pb2.RecommendRequest(customer_id="cat-person-0", limit=4, max_per_category=2))
    assert sorted(p.product_id.split("-")[0] for p in diverse.products) == ["cat", "cat", "dog", "dog"]
    cheap = stub.Recommend(recommend_pb2.RecommendRequest(customer_id="cat-person-0", limit=20, max_price=6,
                                                          categories=["dogs"]))
    assert {p.product_id for p in cheap.products} == {"dog-0", "dog-1", "dog-2"}


def test_bought_together_similar_and_model_info(trained) -> None:
    stub, version, corpus = trained
    together = stub.FrequentlyBoughtWith(recommend_pb2.FrequentlyBoughtWithRequest(product_ids=["cat-0"], limit=3))
    assert together.model_version == version
    assert together.products and all(p.product_id.startswith("cat-") for p in together.products)
    similar = stub.SimilarProducts(recommend_pb2.SimilarProductsRequest(product_id="dog-3", limit=3))
    assert [p.reason for p in similar.products] == ["similar"] * 3
    assert "dog-3" not in [p.product_id for p in similar.products]
    info = stub.GetModelInfo(recommend_pb2.GetModelInfoRequest())
    assert info.model_version == version == info.model.version
    assert info.model.status == "published" and info.model.products == 20
    assert {"precision_at_10", "popularity_precision_at_10", "recall_at_10", "coverage"} <= set(info.model.metrics)


def test_bad_input_names_the_field(trained) -> None:
    stub, _, _ = trained
    for request, field in [
        (recommend_pb2.RecommendRequest(limit=51), "limit"),
        (recommend_pb2.RecommendRequest(min_price=5, max_price=2), "max_price"),
        (recommend_pb2.RecommendRequest(max_per_category=-1), "max_per_category"),
    ]:
        with pytest.raises(grpc.RpcError) as error:
            stub.Recommend(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        stub.FrequentlyBoughtWith(recommend_pb2.FrequentlyBoughtWithRequest())
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "product_ids" in error.value.details()


def test_replicas_switch_models_while_answering_and_rollback(trained, recommend) -> None:
    stub, first, _ = trained
    replica = recommend()
    wait_for(lambda: replica.Recommend(recommend_pb2.RecommendRequest()).model_version, lambda v: v == first)
    seen: list[str] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                seen.append(replica.Recommend(recommend_pb2.RecommendRequest(customer_id="dog-person-1")).model_version)
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        second = train(stub)
        assert second.status == "published", second.refusal
        wait_for(lambda: seen[-1] if seen else "", lambda v: v == second.version)
        stub.RollbackModel(recommend_pb2.RollbackModelRequest(version=first))
        wait_for(lambda: seen[-1], lambda v: v == first)
    finally:
        stop.set()
        asker.join()
    assert not errors
    assert second.version in seen and seen[-1] == first
    with pytest.raises(grpc.RpcError) as error:
        stub.RollbackModel(recommend_pb2.RollbackModelRequest(version="nope"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_merged_survivor_uses_both_histories_and_erasure_forgets(trained, publish) -> None:
    stub, _, corpus = trained
    publish([handoff_pb2.HandoffRecord(record_id="merge-1", customers_merged=handoff_pb2.CustomersMerged(
        survivor_id="cat-person-0", merged_ids=["dog-person-1"]))])
    request = recommend_pb2.RecommendRequest(customer_id="cat-person-0", limit=10, exclude_purchased=True)
    both = bought_by(corpus, "cat-person-0") | bought_by(corpus, "dog-person-1")
    response = wait_for(lambda: stub.Recommend(request), lambda r: not {p.product_id for p in r.products} & both)
    suggested = [p.product_id for p in response.products]
    assert not set(suggested) & both
    assert {p.split("-")[0] for p in suggested[:6]} == {"cat", "dog"}
    publish([handoff_pb2.HandoffRecord(record_id="erase-1", customer_erased=handoff_pb2.CustomerErased(
        customer_id="cat-person-0"))])
    erased = wait_for(lambda: stub.Recommend(request), lambda r: r.products[0].reason == "popular")
    assert {p.reason for p in erased.products} == {"popular"}


def test_the_guard_refuses_a_worse_model_judged_on_purchases_the_current_one_never_saw(trained, publish,
                                                                                      recommend) -> None:
    stub, first, corpus = trained
    later = NOW + timedelta(days=3)
    fresh, late = [], {}
    for customer in sorted({i.customer_id for i in corpus.interactions}):
        tribe = customer.split("-")[0]
        mine = bought_by(corpus, customer)
        late[customer] = sorted(p for p in corpus.products if p.startswith(f"{tribe}-") and p not in mine)
        fresh.append(order(f"late-{customer}", customer, late[customer], later))
    publish(fresh)
    request = recommend_pb2.RecommendRequest(customer_id="dog-person-39", limit=20, exclude_purchased=True)
    wait_for(lambda: {p.product_id for p in stub.Recommend(request).products},
             lambda suggested: not suggested & set(late["dog-person-39"]))  # the late orders are applied
    careless = recommend(TrainingOptions(no_components=8, epochs=1, learning_rate=0.0, item_features=False,
                                         user_features=False, threads=1),  # random vectors, no shared features
                         clock=ManualClock(later + timedelta(days=1)))
    result = train(careless)  # seeded, one thread: the same figures every run (0.3375 against 0.375)
    assert result.metrics["current_compared_users"] >= 20  # the late orders, after the first model's data
    assert result.metrics["current_precision_at_10"] > result.metrics["current_window_precision_at_10"]
    assert result.status == "refused" and "below" in result.refusal and "held-out" in result.refusal
    listed = careless.ListModels(recommend_pb2.ListModelsRequest())
    assert listed.current_version == first
    assert sorted(m.status for m in listed.models) == ["published", "refused"]
