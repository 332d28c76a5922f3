"""`declic recommend train / models / rollback` against a running recommend."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from declic.cli import recommend_commands
from declic.cli.recommend_commands import register
from declic.kit.clock import ManualClock
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from tests.integration.recommend.conftest import FAST, TINY
from tests.integration.recommend.stream import corpus_records, wait_for
from tests.unit.recommend.synthetic import NOW, shop

pytestmark = pytest.mark.integration


def test_train_lists_and_rolls_back(publish, start_service, monkeypatch) -> None:
    # The command's console was made when its module was first imported (maybe by another test): widen it itself.
    monkeypatch.setattr(recommend_commands.console, "width", 250)
    publish(corpus_records(shop(customers=40, products=10)))
    running, channel = start_service("recommend", clock=ManualClock(NOW), recommend=FAST, options=TINY)
    stub = recommend_pb2_grpc.RecommendServiceStub(channel)
    wait_for(lambda: stub.Recommend(recommend_pb2.RecommendRequest(limit=50)).products, lambda p: len(p) == 20)
    app = typer.Typer()
    register(app)
    address = ["--address", f"127.0.0.1:{running.port}"]
    first = CliRunner().invoke(app, ["recommend", "train", *address])
    assert first.exit_code == 0, first.output
    assert "held-out fit" in first.output and "final fit" in first.output and "published" in first.output
    oldest = stub.ListModels(recommend_pb2.ListModelsRequest()).current_version
    second = CliRunner().invoke(app, ["recommend", "train", "--epochs", "3", *address])
    assert second.exit_code in (0, 1), second.output  # 1: the guard refused it (and said why)
    shown = CliRunner().invoke(app, ["recommend", "models", *address])
    assert shown.exit_code == 0 and oldest in shown.output and "(current)" in shown.output
    back = CliRunner().invoke(app, ["recommend", "rollback", oldest, *address])
    assert back.exit_code == 0 and f"model {oldest}" in back.output
    assert stub.ListModels(recommend_pb2.ListModelsRequest()).current_version == oldest
    unknown = CliRunner().invoke(app, ["recommend", "rollback", "m-none", *address])
    assert unknown.exit_code == 1 and "NOT_FOUND" in unknown.output
