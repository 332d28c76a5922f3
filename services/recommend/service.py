"""Recommend's service layer: products for one customer, from what was bought and what is in stock."""

from __future__ import annotations

from collections.abc import Iterable

from declic.kit.database import UnitOfWork
from services.recommend.domain.ranking import Suggestion, rank
from services.recommend.storage.purchases import PurchaseRepository
from services.recommend.storage.stock import StockRepository

# Scores fetched beyond the limit and the excluded products, so that filtering rarely leaves too few.
EXTRA_CANDIDATES = 200


class RecommendService:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def recommend(
        self, customer_id: str, limit: int, exclude_purchased: bool, context_product_ids: Iterable[str] = ()
    ) -> list[Suggestion]:
        """The `limit` best products for the customer, leaving out the context's products (and, if asked,
        what the customer bought already)."""
        with self._uow.begin() as session:
            purchases = PurchaseRepository(session)
            excluded = purchases.purchased(customer_id) if exclude_purchased else set()
            excluded |= set(context_product_ids)
            scores = purchases.top_scores(limit + len(excluded) + EXTRA_CANDIDATES)
            out_of_stock = StockRepository(session).out_of_stock()
        return rank(scores, purchased=excluded, out_of_stock=out_of_stock, limit=limit)
