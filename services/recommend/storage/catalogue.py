"""The catalogue as the model reads it: details, stock, and a revision so replicas fetch only what changed."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.recommending.interactions import Product
from services.recommend.storage.tables import products


class CatalogueRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def upsert(self, product: Product) -> None:
        values = {
            "product_id": product.product_id, "in_stock": product.in_stock, "name": product.name,
            "categories": list(product.categories), "attributes": dict(product.attributes), "price": product.price,
            "replenishment": product.replenishment, "revision": text("nextval('product_revisions')"),
        }
        statement = insert(products).values(**values)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["product_id"], set_={k: statement.excluded[k] for k in values if k != "product_id"}))

    def changed_since(self, revision: int) -> tuple[list[Product], int]:
        """Products changed after `revision`, and the revision to ask from next time."""
        rows = self._session.execute(select(products).where(products.c.revision > revision)
                                     .order_by(products.c.revision)).all()
        last = max((row.revision for row in rows), default=revision)
        return [_product(row) for row in rows], last

    def out_of_stock(self) -> set[str]:
        """The products that cannot be sold now."""
        rows = self._session.execute(select(products.c.product_id).where(products.c.in_stock.is_(False)))
        return {row.product_id for row in rows}

    def count(self) -> int:
        return int(self._session.execute(select(func.count()).select_from(products)).scalar() or 0)


def _product(row) -> Product:
    return Product(
        product_id=row.product_id, name=row.name, categories=tuple(row.categories or ()),
        attributes=tuple(sorted((row.attributes or {}).items())), price=row.price, in_stock=row.in_stock,
        replenishment=row.replenishment,
    )
