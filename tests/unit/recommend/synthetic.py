"""A tiny shop for model tests: cat people buy cat products, dog people dog products (trains in a blink)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from declic.recommending.interactions import PURCHASE, VIEW, Corpus, Interaction, Product

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TRIBES = ("cat", "dog")


def product(tribe: str, n: int) -> Product:
    return Product(f"{tribe}-{n}", f"{tribe} toy model {n}", categories=(f"{tribe}s",),
                   attributes=(("species", tribe),), price=4.0 + n)


def shop(customers: int = 16, products: int = 8, seed: int = 3) -> Corpus:
    rng = random.Random(seed)
    catalogue = {p.product_id: p for tribe in TRIBES for p in (product(tribe, n) for n in range(products))}
    interactions = []
    for c in range(customers):
        tribe = TRIBES[c % 2]
        for n in rng.sample(range(products), 5):
            at = NOW - timedelta(days=rng.randint(1, 60))
            interactions.append(Interaction(f"{tribe}-person-{c}", f"{tribe}-{n}", PURCHASE, at, 1.0, f"o{c}-{n // 2}"))
            interactions.append(Interaction(f"{tribe}-person-{c}", f"{tribe}-{n}", VIEW, at - timedelta(hours=1)))
    appetences = {f"{TRIBES[c % 2]}-person-{c}": {f"{TRIBES[c % 2]}s": 3.0} for c in range(customers)}
    return Corpus(interactions, catalogue, appetences)
