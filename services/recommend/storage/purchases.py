"""Recommend's tables: what was bought (popularity, per customer) and the catalogue's stock."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, select
from sqlalchemy.orm import Session

from declic.kit.database import insert_for
from declic.kit.inbox import inbox_table

metadata = MetaData()
inbox = inbox_table(metadata)

popularity = Table(
    "popularity",
    metadata,
    Column("product_id", String(100), primary_key=True),
    Column("units", Float, nullable=False),
)

purchases = Table(
    "purchases",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("product_id", String(100), primary_key=True),
)

products = Table(
    "products",
    metadata,
    Column("product_id", String(100), primary_key=True),
    Column("in_stock", Boolean, nullable=False),
)


class RecommendRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_purchase(self, customer_id: str, product_id: str, units: float) -> None:
        self._session.execute(
            insert_for(self._session, popularity)
            .values(product_id=product_id, units=units)
            .on_conflict_do_update(index_elements=["product_id"], set_={"units": popularity.c.units + units})
        )
        if customer_id:
            self._session.execute(
                insert_for(self._session, purchases)
                .values(customer_id=customer_id, product_id=product_id)
                .on_conflict_do_nothing()
            )

    def set_stock(self, product_id: str, in_stock: bool) -> None:
        self._session.execute(
            insert_for(self._session, products)
            .values(product_id=product_id, in_stock=in_stock)
            .on_conflict_do_update(index_elements=["product_id"], set_={"in_stock": in_stock})
        )

    def move_customer(self, from_id: str, to_id: str) -> None:
        for (product_id,) in self._session.execute(
            select(purchases.c.product_id).where(purchases.c.customer_id == from_id)
        ).all():
            self._session.execute(
                insert_for(self._session, purchases).values(customer_id=to_id, product_id=product_id)
                .on_conflict_do_nothing()
            )
        self.forget_customer(from_id)

    def forget_customer(self, customer_id: str) -> None:
        self._session.execute(purchases.delete().where(purchases.c.customer_id == customer_id))

    def top_scores(self, limit: int) -> dict[str, float]:
        rows = self._session.execute(select(popularity).order_by(popularity.c.units.desc()).limit(limit))
        return {row.product_id: row.units for row in rows}

    def purchased(self, customer_id: str) -> set[str]:
        rows = self._session.execute(select(purchases.c.product_id).where(purchases.c.customer_id == customer_id))
        return {row.product_id for row in rows}

    def out_of_stock(self) -> set[str]:
        rows = self._session.execute(select(products.c.product_id).where(products.c.in_stock.is_(False)))
        return {row.product_id for row in rows}


