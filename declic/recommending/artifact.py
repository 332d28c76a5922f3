"""A trained model as plain numpy arrays: what is stored, shipped to replicas and scored with one dot product.

Vectors carry one extra column so a single product gives the full LightFM score: item vectors end with the item's
bias, user vectors with 1.0 (a user's own bias does not change their ranking)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields

import numpy as np

FLOAT = np.float32


@dataclass
class ModelArtifact:
    user_ids: np.ndarray  # (n_users,) str
    user_vectors: np.ndarray  # (n_users, d + 1)
    item_ids: np.ndarray  # (n_items,) str
    item_vectors: np.ndarray  # (n_items, d + 1)
    user_feature_names: np.ndarray  # (n_uf,) str, without the identity features
    user_feature_vectors: np.ndarray  # (n_uf, d + 1), last column 0
    item_feature_names: np.ndarray  # (n_if,) str
    item_feature_vectors: np.ndarray  # (n_if, d + 1), last column the feature's bias
    popularity: np.ndarray  # (n_items,) distinct buyers, for cold start at worst
    neighbours: np.ndarray  # (n_items, m) int32 indexes of the most co-bought items, -1 padded
    neighbour_scores: np.ndarray  # (n_items, m) cosine of co-purchase
    # the hybrid's co-purchase half (declic.recommending.hybrid): each item's most co-bought items by the same
    # customers and the blend weight; empty / 0 in models trained before it (LightFM alone)
    history_neighbours: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int32))
    history_neighbour_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=FLOAT))
    co_purchase_weight: np.ndarray = field(default_factory=lambda: np.zeros((), dtype=FLOAT))
    trending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=FLOAT))  # (n_items,) log(1 + recent buyers)
    trending_weight: np.ndarray = field(default_factory=lambda: np.zeros((), dtype=FLOAT))
    # the other item priors (declic.recommending.priors); empty / 0 in models trained before them
    novelty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=FLOAT))  # (n_items,) new arrivals' buyers
    novelty_weight: np.ndarray = field(default_factory=lambda: np.zeros((), dtype=FLOAT))
    seasonal: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=FLOAT))  # (n_items,) same weeks last year
    seasonal_weight: np.ndarray = field(default_factory=lambda: np.zeros((), dtype=FLOAT))

    def prior_parts(self) -> list[tuple[np.ndarray, float]]:
        """The item priors and their weights, for priors.item_prior."""
        return [(self.trending, float(self.trending_weight)), (self.novelty, float(self.novelty_weight)),
                (self.seasonal, float(self.seasonal_weight))]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{f.name: getattr(self, f.name) for f in fields(self)})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelArtifact:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(**{f.name: arrays[f.name] for f in fields(cls) if f.name in arrays.files})

    @property
    def dimensions(self) -> int:
        return int(self.item_vectors.shape[1])


def features_vector(names: list[str], index: dict[str, int], vectors: np.ndarray) -> np.ndarray | None:
    """The mean of the known features' vectors (LightFM's normalised features), None when none is known."""
    rows = [index[name] for name in names if name in index]
    if not rows:
        return None
    return np.asarray(vectors[rows].mean(axis=0), dtype=FLOAT)
