"""Which records of a hand-off batch can be applied together, and in what order.

Applying a batch one record at a time costs a few statements per record. Instead the batch is cut into waves:
in each wave, its customer events are applied together (set-based), then its merges together, then, one by one,
the records that may touch anyone (splits, erasures, catalogue changes). A record goes to the first wave after
every earlier record it depends on, so the profiles are those of applying the records one at a time:

- an event depends on earlier records about the same person (merges make two customers one person), the same
  identifier (the first to bring it keeps it) or the same order (the first delivery wins);
- a bounce or complaint naming no address (domain.engagement.blocks_every_address) reads the person's addresses
  as they are at that moment: it comes before the person's later records;
- a merge comes after everything earlier about its customers, and before everything later about them;
- a split, an erasure or a catalogue change comes after everything earlier, and before everything later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from services.profile.domain.commands import ApplyEvent, HandoffCommand, MergeCustomers, RecordOrder, UpsertProduct
from services.profile.domain.engagement import blocks_every_address


@dataclass
class Wave:
    """Records applied together: `events`, then `merges` (about distinct people), then `others` one by one."""

    events: list[ApplyEvent] = field(default_factory=list)
    merges: list[MergeCustomers] = field(default_factory=list)
    others: list[HandoffCommand] = field(default_factory=list)


class _People:
    """Customer ids grouped by person: an id leads to its survivor, and a merge joins two groups."""

    def __init__(self, surviving: Mapping[str, str]) -> None:
        self._parent: dict[str, str] = {}
        self._surviving = surviving

    def person(self, customer_id: str) -> str:
        current = self._surviving.get(customer_id, customer_id)
        while (parent := self._parent.get(current, current)) != current:
            self._parent[current] = self._parent.get(parent, parent)  # halve the path
            current = parent
        return current

    def join(self, customer_ids: Sequence[str]) -> str:
        people = [self.person(customer_id) for customer_id in customer_ids]
        for person in people[1:]:
            if person != people[0]:
                self._parent[person] = people[0]
        return people[0]


def plan_waves(commands: Sequence[HandoffCommand], surviving: Mapping[str, str]) -> list[Wave]:
    """The batch's commands, in order, cut into waves. `surviving`: customer id → the id it leads to (through
    merges stored before the batch); ids absent lead to themselves."""
    people = _People(surviving)
    ready: dict[tuple[str, ...], int] = {}  # ("person"|"identifier"|"order", …) → first wave it may go to
    floor = 0  # first wave for anything: after the last record that may touch anyone
    waves: list[Wave] = []

    def wave(number: int) -> Wave:
        while len(waves) <= number:
            waves.append(Wave())
        return waves[number]

    for command in commands:
        if isinstance(command, ApplyEvent) and not isinstance(command.action, UpsertProduct):
            keys = _event_keys(command, people)
            number = max([floor, *(ready.get(key, 0) for key in keys)])
            wave(number).events.append(command)
            for key in keys:
                ready[key] = max(ready.get(key, 0), number)
            if blocks_every_address(command):
                ready[keys[0]] = number + 1
        elif isinstance(command, MergeCustomers):
            before = [("person", people.person(customer_id)) for customer_id in (command.survivor_id,
                                                                                   *command.merged_ids)]
            number = max([floor, *(ready.get(key, 0) for key in before)])
            wave(number).merges.append(command)
            ready[("person", people.join([command.survivor_id, *command.merged_ids]))] = number + 1
        else:  # after everything so far: the events and merges of the last wave are applied before it
            number = max(floor, len(waves) - 1)
            wave(number).others.append(command)
            floor = number + 1
    return waves


def _event_keys(command: ApplyEvent, people: _People) -> list[tuple[str, ...]]:
    """What the event depends on: its person first, then its identifiers and order."""
    keys: list[tuple[str, ...]] = [("person", people.person(command.context.customer_id))]
    keys.extend(("identifier", *identifier) for identifier in command.context.identifiers)
    if isinstance(command.action, RecordOrder):
        keys.append(("order", command.action.order_id, command.action.kind))
    return keys
