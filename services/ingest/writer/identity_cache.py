"""What the batch writer learnt of the identity graph, kept between its transactions.

Every batch looks up the owners of its identifiers and the state of the customers the rules consult; most
were looked up by the previous batches. The writer keeps them (and which identifiers nobody holds, and which
products exist) as long as nobody else changed the graph: every writer of the graph — batches of every
replica, operator splits, erasures — takes the writers' lock and bumps `identity_version` in its
transaction. A transaction that finds the version one past the one its cache was written at is the next
after the cache's own: the cache is exact. Any other number (another replica wrote, an erasure, a split, a
restart) empties it, and a failed transaction empties it too (the graph it mutated was rolled back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.ingest.domain.identity import CustomerState, Identifier, IdentityGraph

DEFAULT_LIMIT = 500_000
"""Entries (owners, customers, products) kept at most, ~150 MB (~300 bytes each); beyond, it starts afresh."""


class IdentityCache:
    """Owners of identifiers (None: held by nobody and not erased), customers' states and split pairs, and
    products known to exist (False: not in the catalogue), as of `version`."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.version: int | None = None
        self.owners: dict[Identifier, str | None] = {}
        self.states: dict[str, CustomerState] = {}
        self.pairs: dict[str, list[tuple[str, str]]] = {}
        self._merged: dict[str, str] = {}
        self.products: dict[str, bool] = {}

    def clear(self) -> None:
        self.version = None
        self.owners.clear()
        self.states.clear()
        self.pairs.clear()
        self._merged.clear()
        self.products.clear()

    def begin(self, version: int) -> None:
        """A transaction starts at `version` (the writers' counter once bumped by it): keep the cache only
        if it was written by the transaction just before."""
        if self.version is None or version != self.version + 1:
            self.clear()

    def current(self, customer_id: str) -> str:
        """The customer `customer_id` was merged into (itself if none)."""
        merged = self._merged
        while customer_id in merged:
            customer_id = merged[customer_id]
        return customer_id

    def owner(self, identifier: Identifier) -> tuple[bool, str | None]:
        """(known, owner): whether the cache knows `identifier`, and its current owner (None: nobody)."""
        if identifier not in self.owners:
            return False, None
        owner = self.owners[identifier]
        return True, None if owner is None else self.current(owner)

    def commit(self, version: int, owners: Mapping[Identifier, str | None], states: Iterable[CustomerState],
               pairs: Mapping[str, list[tuple[str, str]]], graph: IdentityGraph,
               products: Mapping[str, bool]) -> None:
        """After a commit at `version`: what the transaction read (`owners`, `states`, `pairs`, `products`)
        and what its graph changed."""
        self.owners.update(owners)
        for state in states:
            self.states[state.customer_id] = state
        self.pairs.update(pairs)
        for customer in graph.created:
            self.pairs.setdefault(customer.customer_id, [])
        for merge in graph.merges:
            for merged in merge.merged_ids:
                self._merged[merged] = graph.find(merged)
                self.states.pop(merged, None)
        for customer_id, state in graph.customers.items():
            if graph.find(customer_id) == customer_id:
                self.states[customer_id] = state
        self.owners.update((identifier, graph.find(owner)) for identifier, owner in graph.attached.items())
        self.products.update(products)
        self.version = version
        if len(self.owners) + len(self.states) + len(self.products) > self.limit:
            self.clear()
