"""Recommend's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

import grpc

from declic.kit.errors import InvalidArgument
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from services.recommend.domain.ranking import POPULARITY_MODEL
from services.recommend.service import RecommendService

DEFAULT_LIMIT = 5
MAX_LIMIT = 50


class RecommendServicer(recommend_pb2_grpc.RecommendServiceServicer):
    def __init__(self, service: RecommendService) -> None:
        self._service = service

    def Recommend(
        self, request: recommend_pb2.RecommendRequest, context: grpc.ServicerContext
    ) -> recommend_pb2.RecommendResponse:
        if not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidArgument.field("limit", f"must be between 0 and {MAX_LIMIT} (0 means {DEFAULT_LIMIT})")
        suggestions = self._service.recommend(
            request.customer_id, request.limit or DEFAULT_LIMIT, request.exclude_purchased, request.context_product_ids
        )
        return recommend_pb2.RecommendResponse(
            products=[
                recommend_pb2.RecommendedProduct(product_id=s.product_id, score=s.score, reason=s.reason)
                for s in suggestions
            ],
            model_version=POPULARITY_MODEL,
        )
