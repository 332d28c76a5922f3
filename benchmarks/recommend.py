"""Recommend benchmark (issue 14).

1. Quality on the UCI Online Retail time split ("Online Retail", UCI Machine Learning Repository, donor Daqing
   Chen, CC BY 4.0): train on 2010-12-01 … 2011-08-31, test on the products the same customers bought from
   2011-09-01 on that they had not bought before; precision@10, recall@10, coverage of the served hybrid — scored
   through Recommend's own code (services.recommend.offline) — and of popularity, item-kNN and implicit ALS
   trained in the same run, every model ranking the same candidates (all but what the customer already bought);
   the hybrid's neighbours and weights and the baselines' settings chosen on rolling validation folds before
   2011-09-01 (declic.recommending.selection, which prints their figures), LightFM's own on July-August, the
   seasonal prior's weight a priori (declic.recommending.priors); the test split chooses nothing.
2. Training time of the LightFM hybrid on the full UCI year.
3. Recommend top-10 p50/p99 over gRPC (`python -m services.recommend`, its own process) with a 50,000-product
   catalogue and a model of the production shape (64 dimensions, 20,000 customers; random vectors: latency does
   not depend on what they learnt), against bare numpy scoring of the same model in the same run.

PostgreSQL: DECLIC_DATABASE_URL or the bundled server; Redis: DECLIC_REDIS_URL or the bundled one (as
benchmarks/ingest.py). `python -m benchmarks.recommend --skip-quality` for the latency part only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text
from threadpoolctl import threadpool_limits

from benchmarks._idle import idle_states
from benchmarks._rig import Server, database_url, drop_schemas, free_port, redis_url
from declic.kit.config import load_settings
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from declic.recommending.artifact import ModelArtifact
from declic.recommending.datasets import load_uci
from declic.recommending.hybrid import CO_PURCHASE_WEIGHT
from declic.recommending.metrics import top_k
from declic.recommending.priors import NOVELTY_WEIGHT, SEASONAL_WEIGHT, TRENDING_WEIGHT
from declic.recommending.suites import TUNED, UCI_TEST_CUT, evaluate_dataset
from declic.recommending.training import train
from services.recommend.domain.customers import Customer, scores
from services.recommend.domain.filters import Filters, pick
from services.recommend.offline import served_scorer
from services.recommend.serving import ModelHolder
from services.recommend.settings import RecommendSettings
from services.recommend.storage.models import ModelRecord, ModelRepository
from services.recommend.storage.tables import interactions, products, purchases

console = Console()
PRODUCTS, USERS, DIMENSIONS, ASKED = 50_000, 20_000, 64, 1_000


def quality() -> None:
    started = time.perf_counter()
    report, title = evaluate_dataset("uci", UCI_TEST_CUT, served=served_scorer)
    table = Table(title=title)
    for column in ("model", "precision@10", "recall@10", "coverage", "customers", "fit s"):
        table.add_column(column)
    for name, s in report.scores.items():
        table.add_row(name, f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.coverage:.3f}", str(s.users),
                      f"{report.seconds[name]:.1f}")
    console.print(table)
    best, scores = report.best_baseline()
    console.print(f"served hybrid (lightfm row) precision@10 / best baseline ({best}) = "
                  f"{report.scores['lightfm'].precision / scores.precision:.2f} (target 1.10); "
                  f"{time.perf_counter() - started:.0f} s")
    corpus = load_uci()
    started = time.perf_counter()
    artifact = train(corpus, datetime(2011, 12, 10, tzinfo=UTC), TUNED)
    console.print(f"training on the full UCI year ({len(corpus.interactions):,} interactions, "
                  f"{len(artifact.user_ids):,} customers, {len(artifact.item_ids):,} products, {TUNED.epochs} epochs, "
                  f"{TUNED.threads} thread(s)): {time.perf_counter() - started:.1f} s")


def synthetic_model(rng: np.random.Generator) -> ModelArtifact:
    empty = np.zeros((0, DIMENSIONS + 1), dtype=np.float32)
    return ModelArtifact(
        user_ids=np.asarray([f"c{i}" for i in range(USERS)]),
        user_vectors=np.hstack([rng.normal(size=(USERS, DIMENSIONS)), np.ones((USERS, 1))]).astype(np.float32),
        item_ids=np.asarray([f"p{i}" for i in range(PRODUCTS)]),
        item_vectors=rng.normal(size=(PRODUCTS, DIMENSIONS + 1)).astype(np.float32),
        user_feature_names=np.asarray([], dtype=str), user_feature_vectors=empty,
        item_feature_names=np.asarray([], dtype=str), item_feature_vectors=empty,
        popularity=rng.integers(0, 100, PRODUCTS).astype(np.float32),
        neighbours=rng.integers(0, PRODUCTS, (PRODUCTS, 20)).astype(np.int32),
        neighbour_scores=np.sort(rng.random((PRODUCTS, 20)).astype(np.float32))[:, ::-1],
        # the hybrid's parts, so that Recommend pays for them as in production
        history_neighbours=rng.integers(0, PRODUCTS, (PRODUCTS, 20)).astype(np.int32),
        history_neighbour_scores=np.sort(rng.random((PRODUCTS, 20)).astype(np.float32))[:, ::-1],
        co_purchase_weight=np.asarray(CO_PURCHASE_WEIGHT, dtype=np.float32),
        trending=np.log1p(rng.integers(0, 20, PRODUCTS)).astype(np.float32),
        trending_weight=np.asarray(TRENDING_WEIGHT, dtype=np.float32),
        novelty=np.where(rng.random(PRODUCTS) < 0.05, np.log1p(rng.integers(0, 20, PRODUCTS)), 0).astype(np.float32),
        novelty_weight=np.asarray(NOVELTY_WEIGHT, dtype=np.float32),
        seasonal=np.log1p(rng.integers(0, 20, PRODUCTS)).astype(np.float32),
        seasonal_weight=np.asarray(SEASONAL_WEIGHT, dtype=np.float32),
    )


def seed(uow: UnitOfWork, artifact: ModelArtifact, rng: np.random.Generator) -> str:
    now = datetime.now(UTC)
    rows = [{"product_id": f"p{i}", "in_stock": bool(rng.random() > 0.05), "name": f"product {i}",
             "categories": [f"cat{i % 200}"], "attributes": {}, "price": float(1 + i % 90),
             "replenishment": i % 50 == 0, "revision": i + 1} for i in range(PRODUCTS)]
    history = [{"customer_id": f"c{c}", "product_id": f"p{rng.integers(PRODUCTS)}", "kind": "purchase",
                "quantity": 1.0, "order_id": f"o{c}-{n}", "at": now - timedelta(days=int(n))}
               for c in range(ASKED) for n in range(20)]
    version = f"bench-{uuid.uuid4().hex[:8]}"
    with uow.begin() as session:
        session.execute(insert(products), rows)
        session.execute(insert(interactions), history)
        pairs = {(h["customer_id"], h["product_id"]) for h in history}
        session.execute(insert(purchases), [{"customer_id": c, "product_id": p} for c, p in pairs])
        models = ModelRepository(session)
        models.save(ModelRecord(version, now, now - timedelta(days=365), now, {}, users=USERS, products=PRODUCTS),
                    artifact.to_bytes())
        models.make_current(version, now)
        session.commit()
    # The statistics autovacuum gathers within a minute of a bulk load: without them the model poll's catalogue read
    # seq-scans the 50,000 products (5.5 ms) every 0.5 s, on the cores the Recommend calls share.
    with uow.begin() as session:
        session.execute(text("ANALYZE products, interactions, purchases"))
        session.commit()
    return version


def latency(calls: int, idle: str = "default idle states", poll_seconds: float = 5.0) -> None:
    rng = np.random.default_rng(7)
    url, rurl, prefix, port = database_url(), redis_url(), f"benchrec{uuid.uuid4().hex[:6]}_", free_port()
    env = {"DECLIC_DATABASE_URL": url, "DECLIC_REDIS_URL": rurl, "DECLIC_DB_SCHEMA_PREFIX": prefix,
           "DECLIC_STREAM_PREFIX": prefix, "DECLIC_RECOMMEND_PORT": str(port), "DECLIC_LOG_LEVEL": "WARNING",
           "DECLIC_RECOMMEND_POLL_SECONDS": str(poll_seconds), "DECLIC_RECOMMEND_RETRAIN_HOURS": "0"}
    server = Server(["-m", "services.recommend"], env, port)
    engine = make_engine(load_settings(database_url=url, db_schema_prefix=prefix, redis_url=rurl), "recommend")
    try:
        artifact = synthetic_model(rng)
        uow = UnitOfWork(session_factory(engine))
        version = seed(uow, artifact, rng)
        stub = recommend_pb2_grpc.RecommendServiceStub(server.channel)
        deadline = time.monotonic() + 120
        while stub.GetModelInfo(recommend_pb2.GetModelInfoRequest()).model_version != version:
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not load the benchmark model")
            time.sleep(0.2)
        customers = [f"c{rng.integers(ASKED)}" for _ in range(calls)]
        process = psutil.Process(server.process.pid)
        started = _cpu(process)
        grpc_ms = [_timed(lambda c=c: stub.Recommend(recommend_pb2.RecommendRequest(
            customer_id=c, limit=10, exclude_purchased=True, max_per_category=3))) for c in customers]
        middle = _cpu(process)
        anonymous_ms = [_timed(lambda: stub.Recommend(recommend_pb2.RecommendRequest(limit=10, max_per_category=3)))
                        for _ in customers]
        server_us = ((middle - started) / calls * 1e6, (_cpu(process) - middle) / calls * 1e6)
        with threadpool_limits(1, user_api="blas"):  # as the service scores
            holder = ModelHolder(uow)
            holder.refresh()
            live = holder.live
            assert live is not None
            in_stock = live.shelf.in_stock
            items = live.vectors  # as served: float32, column-major (the artifact's row-major copy is 1.5× slower)
            bare_ms = [_timed(lambda c=c: top_k(np.where(
                in_stock, items @ artifact.user_vectors[int(c[1:])], -np.inf)[None, :], 10)) for c in customers]
            filters = Filters(max_per_category=3, bought=frozenset(f"p{n}" for n in range(20)))
            history = {f"p{n}": 1.0 for n in range(20)}
            domain_ms = [_timed(lambda c=c: pick(scores(live, Customer([c], history, {}, 20, history))[0],
                                                 live.shelf, filters, 10)) for c in customers]
    finally:
        server.stop()
        engine.dispose()
        drop_schemas(url, prefix)
    _latency_table(grpc_ms[100:], anonymous_ms[100:], domain_ms[100:], bare_ms[100:], idle, server_us)


def _cpu(process: psutil.Process) -> float:
    """The server process's CPU seconds (user + system, all its threads): what a call costs it, which the other
    sessions' load disturbs less than the wall clock."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _latency_table(grpc_ms: list[float], anonymous_ms: list[float], domain_ms: list[float],
                   bare_ms: list[float], idle: str, server_us: tuple[float, float]) -> None:
    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    table = Table(title=f"Recommend top-10, {PRODUCTS:,}-product catalogue, {DIMENSIONS} dimensions, "
                        f"{len(grpc_ms):,} calls after 100 warm-up; {idle}")
    for column in ("path", "p50 ms", "p99 ms", "mean ms", "server CPU µs/call"):
        table.add_column(column)
    table.add_row("gRPC Recommend (history, bought, filters, diversity)", f"{pct(grpc_ms, 50):.2f}",
                  f"{pct(grpc_ms, 99):.2f}", f"{statistics.fmean(grpc_ms):.2f}", f"{server_us[0]:.0f}")
    table.add_row("gRPC Recommend, no customer (popularity: no database read)", f"{pct(anonymous_ms, 50):.2f}",
                  f"{pct(anonymous_ms, 99):.2f}", f"{statistics.fmean(anonymous_ms):.2f}", f"{server_us[1]:.0f}")
    table.add_row("in process: hybrid scores + filters (no database, no gRPC)", f"{pct(domain_ms, 50):.2f}",
                  f"{pct(domain_ms, 99):.2f}", f"{statistics.fmean(domain_ms):.2f}", "")
    table.add_row("bare numpy (LightFM dot product only, stock mask, top 10)", f"{pct(bare_ms, 50):.2f}",
                  f"{pct(bare_ms, 99):.2f}", f"{statistics.fmean(bare_ms):.2f}", "")
    console.print(table)
    console.print(f"p99 {pct(grpc_ms, 99):.2f} ms (target < 5 ms); gRPC / bare numpy p50 = "
                  f"{pct(grpc_ms, 50) / pct(bare_ms, 50):.1f}×; load average {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--poll-idle", action="store_true", help="keep the CPUs out of idle states (benchmarks._idle)")
    parser.add_argument("--model-poll-seconds", type=float, default=RecommendSettings().poll_seconds,
                        help="the server's model poll (default: the service's own)")
    args = parser.parse_args()
    if not args.skip_quality:
        quality()
    with idle_states(args.poll_idle) as idle:
        latency(args.calls, idle, args.model_poll_seconds)


if __name__ == "__main__":
    main()
