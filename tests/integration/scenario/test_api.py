"""Scenario's gRPC API and `declic scenarios` against a scenario service started in this process."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner

from declic.cli import scenario_commands
from declic.cli.main import app
from declic.kit.clock import ManualClock
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.scenarios.loader import DEFAULT_DIR
from services.scenario.settings import ScenarioSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("welcome", "abandoned-cart", "spring-sale-campaign"):
        shutil.copy(DEFAULT_DIR / f"{name}.yaml", folder)
    (folder / "broken.yaml").write_text((DEFAULT_DIR / "abandoned-cart.yaml").read_text()
                                        .replace("id: abandoned-cart", "id: broken").replace("1 day}", "1 dya}"))
    return folder


@pytest.fixture
def scenario(start_service, catalogue_dir: Path):
    running, channel = start_service("scenario", clock=ManualClock(),
                                     own=ScenarioSettings(scenarios_dir=catalogue_dir, segment_check_seconds=60))
    return scenario_pb2_grpc.ScenarioServiceStub(channel), f"127.0.0.1:{running.port}"


def test_scenarios_with_their_validation_state(scenario) -> None:
    stub, _ = scenario
    listed = stub.ListScenarios(scenario_pb2.ListScenariosRequest(page_size=2), timeout=5)
    assert [s.scenario_id for s in listed.scenarios] == ["abandoned-cart", "broken"] and listed.next_page_token
    broken = listed.scenarios[1]
    assert not broken.valid and broken.problems[0].startswith("broken.yaml:")
    assert "steps[1].wait.duration" in broken.problems[0]
    cart = stub.GetScenario(scenario_pb2.GetScenarioRequest(scenario_id="abandoned-cart"), timeout=5).scenario
    assert cart.valid and cart.kind == scenario_pb2.SCENARIO_KIND_CONVERSION_BASED and cart.holdout_percent == 10
    assert cart.steps[0] == "cart-reminder: send abandoned-cart by email or push or sms"
    assert "keyed on event.cart_change.cart_id, 2 hours later" in cart.trigger and cart.source.startswith("#")
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetScenario(scenario_pb2.GetScenarioRequest(scenario_id="nope"), timeout=5)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_pause_enter_by_hand_and_journeys(scenario) -> None:
    stub, _ = scenario
    paused = stub.PauseScenario(scenario_pb2.PauseScenarioRequest(scenario_id="welcome", reason="review"), timeout=5)
    assert paused.scenario.paused and not paused.scenario.active
    assert not stub.ResumeScenario(scenario_pb2.ResumeScenarioRequest(scenario_id="welcome"), timeout=5).scenario.paused
    request = scenario_pb2.EnterCustomerRequest(scenario_id="abandoned-cart", customer_id="c1", business_key="cart-7",
                                                variables={"agent": "Zoe"}, reason="call center")
    first, again = stub.EnterCustomer(request, timeout=5), stub.EnterCustomer(request, timeout=5)
    assert first.entered and not again.entered and first.journey.journey_id == again.journey.journey_id
    assert first.journey.state == scenario_pb2.JOURNEY_STATE_SCHEDULED and first.journey.entry_key == "cart-7"
    [journey] = stub.ListJourneys(scenario_pb2.ListJourneysRequest(customer_id="c1"), timeout=5).journeys
    assert journey.variables["agent"] == "Zoe" and journey.detail.startswith("entered by hand")


@pytest.mark.parametrize(("call", "request_", "field"), [
    ("EnterCustomer", scenario_pb2.EnterCustomerRequest(scenario_id="welcome", customer_id="c" * 65), "customer_id"),
    ("EnterCustomer", scenario_pb2.EnterCustomerRequest(scenario_id="broken", customer_id="c1"), "scenario_id"),
    ("TriggerCampaign", scenario_pb2.TriggerCampaignRequest(scenario_id="welcome", campaign_id="x"), "scenario_id"),
    ("TriggerCampaign", scenario_pb2.TriggerCampaignRequest(scenario_id="spring-sale-campaign"), "campaign_id"),
    ("ListJourneys", scenario_pb2.ListJourneysRequest(), "customer_id"),
])
def test_bad_requests_name_the_field(scenario, call: str, request_, field: str) -> None:
    stub, _ = scenario
    with pytest.raises(grpc.RpcError) as refused:
        getattr(stub, call)(request_, timeout=5)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in refused.value.details()


def test_the_cli_validates_files_and_mirrors_the_api(scenario, catalogue_dir: Path, monkeypatch) -> None:
    _, address = scenario
    # A terminal wide enough that rich does not wrap inside cells (CI has no terminal: 80 columns).
    monkeypatch.setattr(scenario_commands.console, "width", 300)
    runner = CliRunner()
    validated = runner.invoke(app, ["scenarios", "validate", "--dir", str(catalogue_dir)])
    assert validated.exit_code == 1
    assert 'broken.yaml:42 steps[1].wait.duration: "1 dya" is not a duration' in validated.output
    assert "3 of 4 scenario files valid" in validated.output
    shown = runner.invoke(app, ["scenarios", "show", "abandoned-cart", "--address", address])
    assert shown.exit_code == 0 and "3-branch: if cart-reminder clicked within 1 day then exit else reassurance" in (
        shown.output)
    listed = runner.invoke(app, ["scenarios", "list", "--address", address])
    assert listed.exit_code == 0 and "invalid" in listed.output and "spring-sale-campaign" in listed.output
    paused = runner.invoke(app, ["scenarios", "pause", "welcome", "--address", address])
    assert paused.exit_code == 0 and "paused" in runner.invoke(
        app, ["scenarios", "show", "welcome", "--address", address]).output.lower()
    entered = runner.invoke(app, ["scenarios", "enter", "abandoned-cart", "-c", "c9", "--key", "k1", "--address",
                                  address])
    assert entered.exit_code == 0 and entered.output.startswith("entered: journey ")
    journeys = runner.invoke(app, ["scenarios", "journeys", "c9", "--address", address])
    assert "abandoned-cart" in journeys.output and "scheduled" in journeys.output
