"""What was bought: units per product (popularity) and which products each customer has."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.recommend.storage.tables import popularity, purchases


class PurchaseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_purchase(self, customer_id: str, product_id: str, units: float) -> None:
        """Count `units` of the product (negative for a return); remember the buyer unless anonymous."""
        self._session.execute(
            insert(popularity)
            .values(product_id=product_id, units=units)
            .on_conflict_do_update(index_elements=["product_id"], set_={"units": popularity.c.units + units})
        )
        if customer_id:
            self._session.execute(
                insert(purchases).values(customer_id=customer_id, product_id=product_id).on_conflict_do_nothing()
            )

    def move_customer(self, from_id: str, to_id: str) -> None:
        """After a merge: the survivor has bought what the merged customer bought."""
        bought = select(purchases.c.product_id).where(purchases.c.customer_id == from_id)
        for (product_id,) in self._session.execute(bought).all():
            self._session.execute(
                insert(purchases).values(customer_id=to_id, product_id=product_id).on_conflict_do_nothing()
            )
        self.forget_customer(from_id)

    def forget_customer(self, customer_id: str) -> None:
        """Erase what the customer bought (popularity, being anonymous, stays)."""
        self._session.execute(purchases.delete().where(purchases.c.customer_id == customer_id))

    def top_scores(self, limit: int) -> dict[str, float]:
        """The `limit` most bought products and their units."""
        rows = self._session.execute(select(popularity).order_by(popularity.c.units.desc()).limit(limit))
        return {row.product_id: row.units for row in rows}

    def purchased(self, customer_id: str) -> set[str]:
        """The products the customer has bought."""
        rows = self._session.execute(select(purchases.c.product_id).where(purchases.c.customer_id == customer_id))
        return {row.product_id for row in rows}
