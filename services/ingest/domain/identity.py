"""The identity graph: which customer an event belongs to, and when two customers are one person.

Identifiers are (type, normalised value) pairs. Each belongs to at most one
customer. An event names several identifiers; `IdentityGraph.resolve` decides
its customer, attaching unknown identifiers and merging customers the event
proves to be one person, within the guard rails:

* strong identifiers (e-mail, phone, loyalty card, CRM id) merge customers;
* weak identifiers (anonymous web id, device id) bring an anonymous-only
  customer into a known one ("the browsing history attaches when they
  identify"), but never join two known customers: a shared computer or a
  family tablet is not proof (Mautic #5495);
* per-type limits: a merge or an attachment that would give one customer more
  values of a type than `IdentityPolicy.type_limits` allows is refused;
* blocklisted identifiers (placeholders such as "noreply@...") are ignored;
* customers an operator split apart are never merged again.

Refusals are returned with the resolution, so they are recorded and visible.
The survivor of a merge is the oldest customer (earliest `created_at`, then the
smallest id): deterministic whatever the order the customers are met in.

The graph works on a snapshot of the customers a batch touches (loaded by the
storage layer) and records every change it makes, so the storage layer can
persist them in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import translate

Identifier = tuple[str, str]
"""(type, normalised value), e.g. ("email", "ann@example.com")."""

STRONG_TYPES = frozenset({"crm_id", "loyalty_card", "email", "phone"})
WEAK_TYPES = frozenset({"device_id", "anonymous_id"})
PRIORITY = ("crm_id", "loyalty_card", "email", "phone", "device_id", "anonymous_id")
"""Which identifier decides when a customer must be chosen among several: the first type listed."""
_RANK = {name: rank for rank, name in enumerate(PRIORITY)}


def priority_key(identifier: Identifier) -> tuple[int, str]:
    """Sort key: stronger identifier types first, then by value (deterministic)."""
    return _RANK.get(identifier[0], len(PRIORITY)), identifier[1]


@dataclass(frozen=True)
class IdentityPolicy:
    """Guard rails of identity resolution."""

    type_limits: Mapping[str, int] = field(default_factory=dict)
    """Most values of a type one customer may hold (types not listed: unlimited)."""
    blocklist: tuple[str, ...] = ()
    """Patterns "type:value" ("*" matches anything) of identifiers that never identify anyone."""

    def __post_init__(self) -> None:
        combined = "|".join(f"(?:{translate(pattern)})" for pattern in self.blocklist) or "(?!)"
        object.__setattr__(self, "_blocked", re.compile(combined))

    def is_blocked(self, identifier: Identifier) -> bool:
        """True when `identifier` matches a blocklist pattern (placeholders, test values)."""
        return self._blocked.match(f"{identifier[0]}:{identifier[1]}") is not None  # type: ignore[attr-defined]

    def limit(self, identifier_type: str) -> int | None:
        return self.type_limits.get(identifier_type)


@dataclass
class CustomerState:
    """What the graph needs to know of a customer: age and how many identifiers of each type."""

    customer_id: str
    created_at: datetime
    type_counts: dict[str, int] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """True when the customer holds a strong identifier (not only anonymous/device ids)."""
        return any(self.type_counts.get(kind, 0) > 0 for kind in STRONG_TYPES)

    def age_key(self) -> tuple[datetime, str]:
        return self.created_at, self.customer_id


@dataclass(frozen=True)
class Merge:
    """`merged_ids` became part of `survivor_id`."""

    survivor_id: str
    merged_ids: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    """A merge or attachment the guard rails refused. `reason` is a short code ("limit:crm_id", ...)."""

    reason: str
    customer_ids: tuple[str, ...]
    identifier_type: str


@dataclass
class Resolution:
    """The outcome of one event."""

    customer_id: str
    new_customer: bool = False
    attached: list[Identifier] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IdentityGraph:
    """A working view of the identity graph; `resolve` applies events one by one, in order."""

    policy: IdentityPolicy
    new_id: Callable[[], str]
    owners: dict[Identifier, str] = field(default_factory=dict)
    customers: dict[str, CustomerState] = field(default_factory=dict)
    split_pairs: set[frozenset[str]] = field(default_factory=set)
    _parent: dict[str, str] = field(default_factory=dict)
    created: list[CustomerState] = field(default_factory=list)
    """Customers created by this graph, in creation order."""
    attached: dict[Identifier, str] = field(default_factory=dict)
    """Identifiers attached by this graph (to the customer they were first given)."""
    merges: list[Merge] = field(default_factory=list)

    def load(
        self,
        owners: Mapping[Identifier, str],
        customers: Iterable[CustomerState],
        split_pairs: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Add a snapshot: current owners of identifiers, their customers, and operator splits."""
        self.owners.update(owners)
        for customer in customers:
            self.customers[customer.customer_id] = customer
        self.split_pairs.update(frozenset(pair) for pair in split_pairs)

    def find(self, customer_id: str) -> str:
        """The customer `customer_id` is now part of (itself unless merged)."""
        root = customer_id
        while root in self._parent:
            root = self._parent[root]
        while customer_id != root:  # path compression
            self._parent[customer_id], customer_id = root, self._parent[customer_id]
        return root

    def owner(self, identifier: Identifier) -> str | None:
        """The current customer of `identifier`, or None when nobody holds it."""
        holder = self.owners.get(identifier)
        return None if holder is None else self.find(holder)

    def resolve(self, identifiers: Iterable[Identifier], now: datetime) -> Resolution:
        """Attach the event naming `identifiers` to a customer, merging and creating as the rules say."""
        usable, warnings = self._usable(identifiers)
        owned = sorted((i for i in usable if self.owner(i) is not None), key=priority_key)
        fresh = [i for i in usable if self.owner(i) is None]
        if owned and not fresh and len({self.owner(i) for i in owned}) == 1:
            # The common case: a customer we already know, nothing new to learn.
            return Resolution(self.find(self.owners[owned[0]]), warnings=warnings)
        refusals: list[Refusal] = []
        group = self._candidates(owned, fresh, refusals)
        group = self._within_limits(group, fresh, refusals)
        if not group:
            customer = CustomerState(self.new_id(), now)
            self.customers[customer.customer_id] = customer
            self.created.append(customer)
            resolution = Resolution(customer.customer_id, new_customer=True)
        else:
            resolution = Resolution(self._merge(group))
        resolution.refusals = refusals
        resolution.warnings = warnings
        for identifier in fresh:
            self._attach(identifier, resolution)
        if len(group) > 1:
            resolution.merges.append(self.merges[-1])
        return resolution

    def _usable(self, identifiers: Iterable[Identifier]) -> tuple[list[Identifier], list[str]]:
        usable: list[Identifier] = []
        warnings: list[str] = []
        for identifier in identifiers:
            if identifier in usable:
                continue
            if self.policy.blocklist and self.policy.is_blocked(identifier):
                warnings.append(f"blocklisted_identifier:{identifier[0]}")
                continue
            usable.append(identifier)
        return usable, warnings

    def _candidates(self, owned: list[Identifier], fresh: list[Identifier], refusals: list[Refusal]) -> list[str]:
        """The customers the event proves to be one person, most trusted first."""
        has_strong = any(i[0] in STRONG_TYPES for i in owned + fresh)
        group: list[str] = []
        for identifier in owned:  # strong identifiers come first (priority order)
            holder = self.find(self.owners[identifier])
            if holder in group:
                continue
            if identifier[0] in STRONG_TYPES:
                group.append(holder)
            elif not self.customers[holder].known:
                group.append(holder)  # anonymous history joins whoever identifies
            elif not has_strong and not any(self.customers[c].known for c in group):
                group.append(holder)  # a weak-only event follows the known customer of its identifier
            else:
                refusals.append(Refusal("weak_identifier_shared", (holder,), identifier[0]))
        return group

    def _within_limits(self, group: list[str], fresh: list[Identifier], refusals: list[Refusal]) -> list[str]:
        """Keep, in trust order, the customers that can join without breaking a limit or an operator split."""
        kept: list[str] = []
        counts: dict[str, int] = {}
        for candidate in group:
            state = self.customers[candidate]
            merged_counts = {kind: counts.get(kind, 0) + state.type_counts.get(kind, 0)
                             for kind in set(counts) | set(state.type_counts)}
            over = [kind for kind, count in sorted(merged_counts.items()) if self._over(kind, count)]
            blocked = any(frozenset((candidate, member)) in self.split_pairs for member in kept)
            if kept and (over or blocked):
                reason = "split_by_operator" if blocked else f"limit:{over[0]}"
                refusals.append(Refusal(reason, (kept[0], candidate), over[0] if over else ""))
                continue
            kept.append(candidate)
            counts = merged_counts
        return kept

    def _over(self, identifier_type: str, count: int) -> bool:
        limit = self.policy.limit(identifier_type)
        return limit is not None and count > limit

    def _merge(self, group: list[str]) -> str:
        if len(group) == 1:
            return group[0]
        survivor = min(group, key=lambda c: self.customers[c].age_key())
        merged = tuple(sorted(c for c in group if c != survivor))
        totals = self.customers[survivor].type_counts
        for customer_id in merged:
            self._parent[customer_id] = survivor
            for kind, count in self.customers[customer_id].type_counts.items():
                totals[kind] = totals.get(kind, 0) + count
        self.merges.append(Merge(survivor, merged))
        return survivor

    def _attach(self, identifier: Identifier, resolution: Resolution) -> None:
        state = self.customers[resolution.customer_id]
        kind = identifier[0]
        if self._over(kind, state.type_counts.get(kind, 0) + 1):
            resolution.refusals.append(Refusal(f"limit:{kind}", (state.customer_id,), kind))
            resolution.warnings.append(f"identifier_not_attached:{kind}")
            return
        state.type_counts[kind] = state.type_counts.get(kind, 0) + 1
        self.owners[identifier] = state.customer_id
        self.attached[identifier] = state.customer_id
        resolution.attached.append(identifier)
