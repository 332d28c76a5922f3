"""The model this replica answers with, kept current: a poll loads a newly published version (or a rollback)
and the catalogue's changes, and swaps the in-memory model in one assignment, so a request in flight finishes
on the model it started with and none waits for a load."""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading

from declic.kit.database import UnitOfWork
from declic.recommending.artifact import ModelArtifact
from declic.recommending.interactions import Product
from services.recommend.domain.live import LiveModel, build, build_shelf
from services.recommend.storage.catalogue import CatalogueRepository
from services.recommend.storage.models import ModelRepository

log = logging.getLogger("declic.recommend.serving")


class ModelHolder:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._lock = threading.Lock()  # one refresh at a time; readers never take it
        self._revision = 0
        self._catalogue: dict[str, Product] = {}
        self.live: LiveModel | None = None

    @property
    def catalogue(self) -> dict[str, Product]:
        return self._catalogue

    def refresh(self) -> bool:
        """Load what changed since the last look; True when the answering model or catalogue changed."""
        with self._lock:
            current = self.live.version if self.live else None
            with self._uow.begin() as session:
                models = ModelRepository(session)
                version = models.current_version()
                data = models.artifact(version) if version and version != current else None
                changed, self._revision = CatalogueRepository(session).changed_since(self._revision)
            if changed:
                catalogue = dict(self._catalogue)
                catalogue.update((product.product_id, product) for product in changed)
                self._catalogue = catalogue
            if data is not None and version is not None:
                self.live = build(version, ModelArtifact.from_bytes(data), self._catalogue)
                _out_of_collector_reach()
                log.info("now answering with model %s", version)
            elif changed and self.live is not None:
                self.live = self._with_catalogue(self.live, {product.product_id for product in changed})
            return data is not None or bool(changed)

    def _with_catalogue(self, live: LiveModel, changed: set[str]) -> LiveModel:
        if changed <= live.shelf.index.keys():  # stock, price or category of known products: same vectors
            return dataclasses.replace(live, shelf=build_shelf(list(live.shelf.ids), self._catalogue))
        return build(live.version, live.artifact, self._catalogue)


def _out_of_collector_reach() -> None:
    """The model and the catalogue just loaded (240,000 objects at 50,000 products, no reference cycles) left out
    of the cyclic collector's full passes, which walked them all holding the GIL (180 ms, every call in flight
    stalled). They are still freed by their reference counts once a newer model replaces them; the young garbage
    is collected first so that no cycle is frozen with them."""
    gc.collect(1)
    gc.freeze()
