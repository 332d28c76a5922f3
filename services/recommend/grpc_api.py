"""Recommend's gRPC face."""

from __future__ import annotations

import grpc

from declic.kit.database import UnitOfWork
from declic.kit.errors import InvalidArgument
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from services.recommend.domain.ranking import rank
from services.recommend.storage import RecommendRepository

MAX_LIMIT = 50


class RecommendServicer(recommend_pb2_grpc.RecommendServiceServicer):
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def Recommend(self, request: recommend_pb2.RecommendRequest, context: grpc.ServicerContext):
        if not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidArgument.field("limit", f"must be between 0 and {MAX_LIMIT} (0 means 5)")
        limit = request.limit or 5
        with self._uow.begin() as session:
            repository = RecommendRepository(session)
            purchased = repository.purchased(request.customer_id) if request.exclude_purchased else set()
            purchased |= set(request.context_product_ids)
            scores = repository.top_scores(limit + len(purchased) + 200)
            suggestions = rank(scores, purchased=purchased, out_of_stock=repository.out_of_stock(), limit=limit)
        return recommend_pb2.RecommendResponse(
            products=[
                recommend_pb2.RecommendedProduct(product_id=s.product_id, score=s.score, reason=s.reason)
                for s in suggestions
            ],
            model_version="popularity",
        )
