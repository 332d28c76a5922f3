"""Recommend's service layer: suggestions for a customer, bought-together and similar products, from the model
in memory (a dot product and the filters); popularity while no model is trained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork, is_broken_connection
from declic.kit.errors import FailedPrecondition
from services.recommend.domain.customers import Customer, customer_from_rows, scores
from services.recommend.domain.filters import Filters, Shelf, pick
from services.recommend.domain.live import NO_MODEL, LiveModel, build_shelf
from services.recommend.domain.ranking import Suggestion
from services.recommend.serving import ModelHolder
from services.recommend.storage.interactions import CustomerState, customer_state
from services.recommend.storage.models import ModelRecord, ModelRepository
from services.recommend.storage.purchases import PurchaseRepository
from services.recommend.storage.reads import AutocommitReads

# Popular products fetched beyond the limit and the excluded ones, so that filtering rarely leaves too few.
EXTRA_CANDIDATES = 200


@dataclass(frozen=True)
class Query:
    customer_id: str
    limit: int
    exclude_purchased: bool = False
    filters: Filters = Filters()


class RecommendService:
    def __init__(self, uow: UnitOfWork, holder: ModelHolder, clock: Clock, reads: AutocommitReads) -> None:
        """`reads`: where a Recommend reads the customer (autocommit, on a pool without the pre-ping round trip:
        a broken connection is replayed once on a new one)."""
        self._uow = uow
        self._reads = reads
        self._holder = holder
        self._clock = clock

    def recommend(self, query: Query) -> tuple[list[Suggestion], str]:
        """The `limit` best products for the customer under the filters, and the model version that chose them."""
        live = self._holder.live
        customer, bought = self._customer(query.customer_id) if query.customer_id else (None, set())
        filters = replace(query.filters, bought=frozenset(bought) if query.exclude_purchased else frozenset())
        if live is None:
            return self._popular(query.limit, filters), NO_MODEL
        if customer is None:
            values, reason = live.popularity, "popular"  # read, not copied: pick writes to its own array
        else:
            values, reason = scores(live, customer)
        return _suggestions(live.shelf, pick(values, live.shelf, filters, query.limit), reason), live.version

    def frequently_bought_with(self, product_ids: Sequence[str], limit: int, filters: Filters
                               ) -> tuple[list[Suggestion], str]:
        """Products most co-bought with the given ones (cosine of co-purchase, summed over them)."""
        live = self._require_model()
        values = np.full(len(live.shelf.ids), -np.inf)
        for product in product_ids:
            row = live.shelf.index.get(product)
            if row is None or row >= len(live.artifact.neighbours):
                continue
            for neighbour, score in zip(live.artifact.neighbours[row], live.artifact.neighbour_scores[row],
                                        strict=True):
                if neighbour >= 0:
                    values[neighbour] = max(values[neighbour], 0.0) + float(score)
        filters = replace(filters, exclude=filters.exclude | frozenset(product_ids))
        return _suggestions(live.shelf, pick(values, live.shelf, filters, limit), "bought_together"), live.version

    def similar(self, product_id: str, limit: int, filters: Filters) -> tuple[list[Suggestion], str]:
        """Products whose model representation is closest (cosine); a new product's comes from its features."""
        live = self._require_model()
        row = live.shelf.index.get(product_id)
        if row is None:
            return [], live.version
        values = live.unit_embeddings @ live.unit_embeddings[row]
        filters = replace(filters, exclude=filters.exclude | {product_id})
        return _suggestions(live.shelf, pick(values, live.shelf, filters, limit), "similar"), live.version

    def model_info(self) -> tuple[ModelRecord | None, str]:
        live = self._holder.live
        if live is None:
            return None, NO_MODEL
        with self._uow.begin() as session:
            return ModelRepository(session).record(live.version), live.version

    def _require_model(self) -> LiveModel:
        live = self._holder.live
        if live is None:
            raise FailedPrecondition("no model trained yet: run `declic recommend train`")
        return live

    def _customer(self, customer_id: str) -> tuple[Customer, set[str]]:
        state = self._read_state(customer_id)
        return (customer_from_rows([customer_id, *state.merged_ids], state.history, state.appetences,
                                   self._clock.now()), state.bought)

    def _read_state(self, customer_id: str) -> CustomerState:
        for attempt in (1, 2):
            try:
                with self._reads.begin() as connection:
                    return customer_state(connection, customer_id)
            except Exception as exc:
                if attempt == 2 or not is_broken_connection(exc):
                    raise
        raise AssertionError("unreachable")

    def _popular(self, limit: int, filters: Filters) -> list[Suggestion]:
        with self._uow.begin() as session:
            popular = PurchaseRepository(session).top_scores(limit + len(filters.bought) + len(filters.exclude)
                                                             + EXTRA_CANDIDATES)
        shelf = build_shelf(list(popular), self._holder.catalogue)
        values = np.asarray(list(popular.values()), dtype=np.float64)
        return _suggestions(shelf, pick(values, shelf, filters, limit), "popular")


def _suggestions(shelf: Shelf, chosen: list[tuple[int, float]], reason: str) -> list[Suggestion]:
    return [Suggestion(shelf.ids[row], score, reason) for row, score in chosen]
