"""Features LightFM learns from, as "kind:value" tokens: what a product is, what a person likes."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from declic.recommending.interactions import Product

TOKEN = re.compile(r"[a-z][a-z0-9]{2,}")
STOP_WORDS = frozenset({"the", "and", "with", "for", "set", "of", "in", "size", "pack"})
MAX_APPETENCES = 5


def price_band(price: float | None) -> str:
    """Bands on a log2 scale (…, 2-4, 4-8, …): a £3 mug and a £3.50 one are alike, a £40 lamp is not."""
    if price is None or price <= 0:
        return "price:unknown"
    return f"price:{int(math.floor(math.log2(price)))}"


def item_features(product: Product, description_tokens: bool = True, bigrams: bool = False) -> list[str]:
    """Category and department (each level of the path), attributes, price band and description words (and
    pairs of neighbouring words: "hanging heart", "jumbo bag")."""
    features = [f"category:{category.lower()}" for category in product.categories]
    features += [f"attr:{key.lower()}={value.lower()}" for key, value in product.attributes]
    features.append(price_band(product.price))
    if description_tokens:
        words = [word for word in TOKEN.findall(product.name.lower()) if word not in STOP_WORDS]
        tokens = {f"word:{word}" for word in words}
        if bigrams:
            tokens |= {f"words:{a}_{b}" for a, b in zip(words, words[1:], strict=False)}
        features += sorted(tokens)
    return features


def user_features(appetences: Mapping[str, float], purchase_count: int) -> list[str]:
    """The customer's strongest appetences (categories) and their lifecycle stage (by purchases)."""
    strongest = sorted(appetences.items(), key=lambda item: (-item[1], item[0]))[:MAX_APPETENCES]
    return [f"likes:{category.lower()}" for category, weight in strongest if weight > 0] + [lifecycle(purchase_count)]


def lifecycle(purchase_count: int) -> str:
    if purchase_count == 0:
        return "lifecycle:prospect"
    if purchase_count < 3:
        return "lifecycle:new"
    return "lifecycle:loyal" if purchase_count >= 10 else "lifecycle:repeat"

