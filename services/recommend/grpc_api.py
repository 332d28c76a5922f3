"""Recommend's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator

import grpc

from declic.kit.errors import InvalidArgument
from declic.kit.protoconv import to_timestamp
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from declic.recommending.training import TrainingOptions
from services.recommend.domain.filters import Filters
from services.recommend.domain.ranking import Suggestion
from services.recommend.operations import ModelOperations
from services.recommend.service import Query, RecommendService
from services.recommend.storage.models import ModelRecord

DEFAULT_LIMIT = 5
MAX_LIMIT = 50


class RecommendServicer(recommend_pb2_grpc.RecommendServiceServicer):
    def __init__(self, service: RecommendService, operations: ModelOperations) -> None:
        self._service = service
        self._operations = operations

    def Recommend(self, request: recommend_pb2.RecommendRequest, context: grpc.ServicerContext
                  ) -> recommend_pb2.RecommendResponse:
        query = Query(request.customer_id, _limit(request.limit), request.exclude_purchased, _filters(request))
        suggestions, version = self._service.recommend(query)
        return recommend_pb2.RecommendResponse(products=_products(suggestions), model_version=version)

    def FrequentlyBoughtWith(self, request: recommend_pb2.FrequentlyBoughtWithRequest, context: grpc.ServicerContext
                             ) -> recommend_pb2.FrequentlyBoughtWithResponse:
        if not request.product_ids or not all(request.product_ids):
            raise InvalidArgument.field("product_ids", "one or more non-empty product ids")
        suggestions, version = self._service.frequently_bought_with(
            list(request.product_ids), _limit(request.limit), Filters(request.include_out_of_stock))
        return recommend_pb2.FrequentlyBoughtWithResponse(products=_products(suggestions), model_version=version)

    def SimilarProducts(self, request: recommend_pb2.SimilarProductsRequest, context: grpc.ServicerContext
                        ) -> recommend_pb2.SimilarProductsResponse:
        if not request.product_id:
            raise InvalidArgument.field("product_id", "required")
        suggestions, version = self._service.similar(request.product_id, _limit(request.limit),
                                                     Filters(request.include_out_of_stock))
        return recommend_pb2.SimilarProductsResponse(products=_products(suggestions), model_version=version)

    def GetModelInfo(self, request: recommend_pb2.GetModelInfoRequest, context: grpc.ServicerContext
                     ) -> recommend_pb2.GetModelInfoResponse:
        record, version = self._service.model_info()
        return recommend_pb2.GetModelInfoResponse(model=_info(record) if record else None, model_version=version)

    def TrainModel(self, request: recommend_pb2.TrainModelRequest, context: grpc.ServicerContext
                   ) -> Iterator[recommend_pb2.TrainModelResponse]:
        if not 0 <= request.epochs <= 1000:
            raise InvalidArgument.field("epochs", "must be between 0 and 1000 (0: the service's setting)")
        options = self._operations.options
        if request.epochs:
            options = TrainingOptions(**{**options.__dict__, "epochs": request.epochs})
        updates: queue.Queue[recommend_pb2.TrainModelResponse | BaseException | ModelRecord] = queue.Queue()

        def work() -> None:
            try:
                updates.put(self._operations.train(options, lambda phase, done, total: updates.put(
                    recommend_pb2.TrainModelResponse(epochs_done=done, epochs_total=total, phase=phase))))
            except BaseException as exc:  # noqa: BLE001 - handed to the RPC's thread, which raises it
                updates.put(exc)

        threading.Thread(target=work, name="recommend-train", daemon=True).start()
        while True:
            update = updates.get()
            if isinstance(update, BaseException):
                raise update
            if isinstance(update, ModelRecord):
                yield recommend_pb2.TrainModelResponse(result=_info(update))
                return
            yield update

    def ListModels(self, request: recommend_pb2.ListModelsRequest, context: grpc.ServicerContext
                   ) -> recommend_pb2.ListModelsResponse:
        records, current = self._operations.models()
        return recommend_pb2.ListModelsResponse(models=[_info(r) for r in records], current_version=current or "")

    def RollbackModel(self, request: recommend_pb2.RollbackModelRequest, context: grpc.ServicerContext
                      ) -> recommend_pb2.RollbackModelResponse:
        if not request.version:
            raise InvalidArgument.field("version", "required")
        return recommend_pb2.RollbackModelResponse(model=_info(self._operations.rollback(request.version)))


def _limit(limit: int) -> int:
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidArgument.field("limit", f"must be between 0 and {MAX_LIMIT} (0 means {DEFAULT_LIMIT})")
    return limit or DEFAULT_LIMIT


def _filters(request: recommend_pb2.RecommendRequest) -> Filters:
    low = request.min_price if request.HasField("min_price") else None
    high = request.max_price if request.HasField("max_price") else None
    for name, value in (("min_price", low), ("max_price", high)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InvalidArgument.field(name, "must be a finite amount, 0 or more")
    if low is not None and high is not None and low > high:
        raise InvalidArgument.field("max_price", "must not be below min_price")
    if request.max_per_category < 0:
        raise InvalidArgument.field("max_per_category", "must be 0 (no limit) or more")
    return Filters(
        include_out_of_stock=request.include_out_of_stock, categories=frozenset(request.categories),
        min_price=low, max_price=high, max_per_category=request.max_per_category,
        exclude=frozenset(request.exclude_product_ids) | frozenset(request.context_product_ids),
    )


def _products(suggestions: list[Suggestion]) -> list[recommend_pb2.RecommendedProduct]:
    return [recommend_pb2.RecommendedProduct(product_id=s.product_id, score=s.score, reason=s.reason)
            for s in suggestions]


def _info(record: ModelRecord) -> recommend_pb2.ModelInfo:
    info = recommend_pb2.ModelInfo(version=record.version, metrics=record.metrics, status=record.status,
                                   refusal=record.refusal, users=record.users, products=record.products)
    info.trained_at.CopyFrom(to_timestamp(record.trained_at))
    if record.data_from:
        info.data_from.CopyFrom(to_timestamp(record.data_from))
    if record.data_to:
        info.data_to.CopyFrom(to_timestamp(record.data_to))
    return info
