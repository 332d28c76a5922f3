"""The catalogue's stock: which products cannot be sold now."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.recommend.storage.tables import products


class StockRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def set_stock(self, product_id: str, in_stock: bool) -> None:
        """Record whether the product can be sold."""
        self._session.execute(
            insert(products)
            .values(product_id=product_id, in_stock=in_stock)
            .on_conflict_do_update(index_elements=["product_id"], set_={"in_stock": in_stock})
        )

    def out_of_stock(self) -> set[str]:
        """The products that cannot be sold now."""
        rows = self._session.execute(select(products.c.product_id).where(products.c.in_stock.is_(False)))
        return {row.product_id for row in rows}
