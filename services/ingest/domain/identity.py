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
_MEMO_LIMIT = 500_000
_STRONG = tuple(sorted(STRONG_TYPES))


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
    _blocked: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _answers: dict[Identifier, bool] = field(init=False, repr=False, compare=False)
    """Whether each identifier met is blocked: identifiers come back again and again."""

    def __post_init__(self) -> None:
        combined = "|".join(f"(?:{translate(pattern)})" for pattern in self.blocklist) or "(?!)"
        object.__setattr__(self, "_blocked", re.compile(combined))
        object.__setattr__(self, "_answers", {})

    def is_blocked(self, identifier: Identifier) -> bool:
        """True when `identifier` matches a blocklist pattern (placeholders, test values)."""
        answers = self._answers
        blocked = answers.get(identifier)
        if blocked is None:
            blocked = self._blocked.match(f"{identifier[0]}:{identifier[1]}") is not None
            if len(answers) >= _MEMO_LIMIT:
                answers.clear()
            answers[identifier] = blocked
        return blocked

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
        counts = self.type_counts
        return any(counts.get(kind, 0) > 0 for kind in _STRONG) if counts else False

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
    _loaded_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def load(
        self,
        owners: Mapping[Identifier, str],
        customers: Iterable[CustomerState],
        split_pairs: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Add a snapshot: current owners of identifiers, their customers, and operator splits."""
        self.owners.update(owners)
        for customer in customers:
            # A copy: the graph changes its counts, and the caller's (a cache's) must survive a rollback.
            self.customers[customer.customer_id] = CustomerState(customer.customer_id, customer.created_at,
                                                                 dict(customer.type_counts))
            self._loaded_counts[customer.customer_id] = dict(customer.type_counts)
        self.split_pairs.update(frozenset(pair) for pair in split_pairs)

    def count_changes(self) -> dict[str, dict[str, int]]:
        """How the identifier counts of the loaded customers changed (a merged customer holds none any more)."""
        changes: dict[str, dict[str, int]] = {}
        for customer_id, before in self._loaded_counts.items():
            after = self.customers[customer_id].type_counts if self.find(customer_id) == customer_id else {}
            delta = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in set(before) | set(after)}
            delta = {kind: change for kind, change in delta.items() if change}
            if delta:
                changes[customer_id] = delta
        return changes

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
        """Attach the event naming `identifiers` to a customer, merging and creating as the rules say.

        Identifiers are taken strongest first (see PRIORITY): each known one brings its customer into the
        event's group, each unknown one is attached to it, unless a guard rail refuses; the first one
        is always taken, so the event belongs to whoever its strongest identifier designates.
        """
        known = self._known_holder(identifiers)
        if known is not None:
            # The common case: a customer we already know, nothing new to learn.
            return Resolution(known)
        usable, warnings = self._usable(identifiers)
        holders = {self.owner(i) for i in usable}
        if None not in holders and len(holders) == 1:
            return Resolution(holders.pop() or "", warnings=warnings)
        plan = _Plan(has_strong=any(kind in STRONG_TYPES for kind, _ in usable))
        for identifier in sorted(usable, key=priority_key):
            holder = self.owner(identifier)
            if holder is None:
                self._plan_attachment(identifier, plan)
            elif holder not in plan.group:
                self._plan_join(identifier, holder, plan)
        if plan.group:
            resolution = Resolution(self._merge(plan.group))
        else:
            customer = CustomerState(self.new_id(), now)
            self.customers[customer.customer_id] = customer
            self.created.append(customer)
            resolution = Resolution(customer.customer_id, new_customer=True)
        if len(plan.group) > 1:
            resolution.merges.append(self.merges[-1])
        survivor = self.customers[resolution.customer_id]
        for identifier in plan.attach:
            survivor.type_counts[identifier[0]] = survivor.type_counts.get(identifier[0], 0) + 1
            self.owners[identifier] = self.attached[identifier] = survivor.customer_id
        resolution.attached = plan.attach
        resolution.refusals = [Refusal(r.reason, (resolution.customer_id, *r.customer_ids), r.identifier_type)
                               for r in plan.refusals]
        resolution.warnings = warnings + plan.warnings
        return resolution

    def _known_holder(self, identifiers: Iterable[Identifier]) -> str | None:
        """The customer holding every one of `identifiers` when they are all held by one and none is
        blocklisted; else None (the full resolution decides)."""
        owners, parent, blocked = self.owners, self._parent, self.policy.is_blocked
        answers = self.policy._answers
        found = None
        for identifier in identifiers:
            holder = owners.get(identifier)
            if holder is None or answers.get(identifier) or (identifier not in answers and blocked(identifier)):
                return None
            if holder in parent:
                holder = self.find(holder)
            if found is None:
                found = holder
            elif holder != found:
                return None
        return found

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

    def _plan_attachment(self, identifier: Identifier, plan: _Plan) -> None:
        kind = identifier[0]
        if plan.taken() and self._over(kind, plan.counts.get(kind, 0) + 1):
            plan.refusals.append(Refusal(f"limit:{kind}", (), kind))
            plan.warnings.append(f"identifier_not_attached:{kind}")
            return
        plan.attach.append(identifier)
        plan.counts[kind] = plan.counts.get(kind, 0) + 1

    def _plan_join(self, identifier: Identifier, holder: str, plan: _Plan) -> None:
        state = self.customers[holder]
        kind = identifier[0]
        if kind in WEAK_TYPES and state.known and (plan.has_strong or plan.known):
            # A shared computer or tablet: anonymous ids and devices never join two known people.
            plan.refusals.append(Refusal("weak_identifier_shared", (holder,), kind))
            return
        counts = dict(plan.counts)
        for counted, count in state.type_counts.items():
            counts[counted] = counts.get(counted, 0) + count
        if plan.taken():
            if self.split_pairs and any(frozenset((holder, member)) in self.split_pairs for member in plan.group):
                plan.refusals.append(Refusal("split_by_operator", (holder,), ""))
                return
            limits = self.policy.type_limits
            over = sorted(counted for counted, count in counts.items()
                          if counted in limits and count > limits[counted])
            if over:
                plan.refusals.append(Refusal(f"limit:{over[0]}", (holder,), over[0]))
                return
        plan.group.append(holder)
        plan.counts = counts
        plan.known = plan.known or state.known

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


@dataclass
class _Plan:
    """What one event will do, built identifier by identifier before anything changes."""

    has_strong: bool
    group: list[str] = field(default_factory=list)
    attach: list[Identifier] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    known: bool = False
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def taken(self) -> bool:
        """True once the event has a customer to build on (a first identifier was taken)."""
        return bool(self.group or self.attach)
