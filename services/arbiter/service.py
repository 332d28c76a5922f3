"""Arbiter's service layer: decisions on firings, atomic against every limit across replicas.

Per batch: read the stored decisions and the people's facts (PostgreSQL), screen each firing
(domain), reserve in Redis in rounds — one pipelined script call per firing per round — until
the domain has a decision for each, then store the decisions and the displaced slots. A store
that fails gives the new slots back (fail closed: UNAVAILABLE, nothing allowed).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.errors import FailedPrecondition, NotFound
from services.arbiter.domain.arbitration import Attempt, next_step
from services.arbiter.domain.decisions import Decision, FiringRequest, SlotState, Verdict
from services.arbiter.domain.policy import Policy
from services.arbiter.domain.pressure import Limit, limits_for
from services.arbiter.domain.priority import hold_until
from services.arbiter.domain.screening import PersonFacts, Plan, screen
from services.arbiter.outages import guarded, rebuild
from services.arbiter.policy_file import PolicySource
from services.arbiter.storage.counters import PressureCounters, RebuildNeeded, SlotAsk
from services.arbiter.storage.decisions import DecisionRepository, stored_and_facts
from services.arbiter.storage.raw import Bind


class ArbiterService:
    def __init__(self, uow: UnitOfWork, pressure: PressureCounters, clock: Clock, policy: PolicySource,
                 reads: UnitOfWork | None = None, engine: Engine | None = None) -> None:
        """`reads`: sessions in autocommit (no BEGIN/COMMIT round trips) for reads and single-statement writes;
        `uow` when not given. `engine` (in autocommit): plain connections for the decisions' own read and write,
        cheaper than a session; `reads` when not given."""
        self._uow = uow
        self._reads = reads or uow
        self._engine = engine
        self._pressure = pressure
        self._clock = clock
        self._policy = policy

    def _connect(self) -> AbstractContextManager[Bind]:
        return self._engine.connect() if self._engine is not None else self._reads.begin()

    @property
    def policy(self) -> Policy:
        return self._policy.current()

    def decide(self, request: FiringRequest) -> Decision:
        """The decision for this firing; asked again, a final decision is returned unchanged."""
        return self.decide_batch([request])[0]

    def decide_batch(self, requests: Sequence[FiringRequest]) -> list[Decision]:
        """One decision per request, in order."""
        policy, now = self.policy, self._clock.now()
        ids = [r.firing_id for r in requests]

        # One connection for the batch's read and write (a checkout and check-in cost as much as the statement);
        # one found broken is invalidated by raw.driver and replaced at its next use, so a replay works.
        with self._connect() as bind:
            return self._decide_on(bind, requests, policy, now, ids)

    def _decide_on(self, bind: Bind, requests: Sequence[FiringRequest], policy: Policy, now: datetime,
                   ids: list[str]) -> list[Decision]:
        stored, facts = guarded(lambda: stored_and_facts(bind, ids, [r.customer_id for r in requests], now),
                                "PostgreSQL")
        answers: dict[str, Decision] = {}
        plans: dict[str, Plan] = {}
        for request in requests:
            known = stored.get(request.firing_id)
            if request.firing_id in answers or request.firing_id in plans:
                continue
            if known is not None and known.final:
                answers[request.firing_id] = known
                continue
            screened = screen(request, facts.get(request.customer_id, PersonFacts()), policy, now)
            if isinstance(screened, Plan):
                plans[request.firing_id] = screened
            else:
                answers[request.firing_id] = screened
        fresh = {fid: d for fid, d in answers.items() if fid not in stored or not stored[fid].final}
        arbitrated, victims = self._arbitrate(plans, policy, now)
        fresh.update(arbitrated)
        # A firing held earlier that screening now stops (a new exclusion, a cool-off, quiet hours) gives its slot back.
        abandoned = [d for fid, d in fresh.items() if fid in stored and stored[fid].counts and not d.counts]
        for decision in abandoned:
            guarded(lambda d=decision: self._pressure.release(d.customer_id, d.firing_id), "Redis")  # type: ignore[misc]
        written = self._store(bind, list(fresh.values()), victims)
        answers.update(written)
        return [answers[fid] for fid in ids]

    def _arbitrate(self, plans: dict[str, Plan], policy: Policy,
                   now: datetime) -> tuple[dict[str, Decision], dict[str, list[str]]]:
        """A decision per plan, and the held slots each winner displaced."""
        attempts: dict[str, list[Attempt]] = {fid: [] for fid in plans}
        decided: dict[str, Decision] = {}
        keep = policy.longest_window()
        memo: dict[tuple[str, str, ZoneInfo], tuple[Limit, ...]] = {}
        held = hold_until(policy, now)
        while len(decided) < len(plans):
            asks, pending = [], []
            for fid, plan in plans.items():
                if fid in decided:
                    continue
                step = next_step(plan, attempts[fid], policy, now)
                if isinstance(step, Decision):
                    decided[fid] = step
                    continue
                limits = limits_for(policy, step, plan.category, plan.request.cause_event_id, now, plan.zone, memo)
                ask = SlotAsk(fid, step, plan.category, plan.priority, plan.request.cause_event_id, held)
                asks.append((plan.request.customer_id, ask, limits))
                pending.append((fid, step, limits))
            if not asks:
                break
            answers = guarded(lambda asks=asks: self._pressure.reserve_many(asks, now, keep), "Redis")  # type: ignore[misc]
            missing = {asks[i][0] for i, answer in enumerate(answers) if isinstance(answer, RebuildNeeded)}
            if missing:
                rebuild(self._reads, self._pressure, sorted(missing), now - keep, keep)
            for (fid, channel, limits), answer in zip(pending, answers, strict=True):
                if not isinstance(answer, RebuildNeeded):
                    attempts[fid].append(Attempt(channel, limits, answer))
        victims = {fid: [v for a in tried for v in a.reservation.victims] for fid, tried in attempts.items()}
        return decided, {fid: found for fid, found in victims.items() if found}

    def _store(self, bind: Bind, found: list[Decision], victims: dict[str, list[str]]) -> dict[str, Decision]:
        """Store the decisions; the ones another replica finalised first are read back. Fails closed."""
        if not found:
            return {}

        # In autocommit: the upsert is one statement (atomic by itself), the displaced marks and the read-back are
        # independent and idempotent — a replay after a broken connection does no harm.
        def write() -> dict[str, Decision]:
            repository = DecisionRepository(bind)
            stored = repository.add_many(found)
            for winner, displaced in victims.items():
                repository.set_slot(displaced, SlotState.DISPLACED, displaced_by=winner)
            lost = [d.firing_id for d in found if d.firing_id not in stored]
            existing = repository.get_many(lost) if lost else {}
            bind.commit()
            return {d.firing_id: d for d in found if d.firing_id in stored} | existing

        try:
            return guarded(write, "PostgreSQL")
        except Exception:
            for decision in found:
                if decision.slot in (SlotState.HELD, SlotState.RESERVED):
                    guarded(lambda d=decision: self._pressure.release(d.customer_id, d.firing_id), "Redis")  # type: ignore[misc]
            raise

    def get(self, firing_id: str) -> Decision:
        def read() -> Decision | None:
            with self._connect() as session:
                return DecisionRepository(session).get(firing_id)

        decision = guarded(read, "PostgreSQL")
        if decision is None:
            raise NotFound(f"no decision for the firing {firing_id!r}")
        return decision

    def confirm(self, firing_id: str) -> Decision:
        """The allowed message went out: its slot is kept for good."""
        decision = self.get(firing_id)
        if decision.verdict is not Verdict.ALLOW:
            raise FailedPrecondition(f"the firing {firing_id!r} was not allowed ({decision.verdict.value})")
        if decision.slot in (SlotState.RESERVED, SlotState.HELD):
            guarded(lambda: self._pressure.confirm(decision.customer_id, firing_id), "Redis")
            decision = self._set_slot(decision, SlotState.CONFIRMED)
        return decision

    def release(self, firing_id: str) -> Decision:
        """The firing will not be sent: its slot (if it holds one) is given back."""
        decision = self.get(firing_id)
        if decision.slot is SlotState.CONFIRMED:
            raise FailedPrecondition(f"the firing {firing_id!r} was confirmed sent: its slot stays")
        if decision.counts:
            guarded(lambda: self._pressure.release(decision.customer_id, firing_id), "Redis")
            decision = self._set_slot(decision, SlotState.RELEASED)
        return decision

    def _set_slot(self, decision: Decision, slot: SlotState) -> Decision:
        def write() -> None:
            with self._uow.begin() as session:
                DecisionRepository(session).set_slot([decision.firing_id], slot)
                session.commit()

        guarded(write, "PostgreSQL")
        return replace(decision, slot=slot)

    def history(self, customer_id: str, limit: int, after: tuple[datetime, str] | None = None) -> list[Decision]:
        """`limit` of the person's decisions, newest first, after the (decided_at, firing_id) `after`."""
        def read() -> list[Decision]:
            with self._reads.begin() as session:
                return DecisionRepository(session).history(customer_id, limit, after)

        return guarded(read, "PostgreSQL")
