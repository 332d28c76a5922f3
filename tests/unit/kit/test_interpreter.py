"""The interpreter tuning every service's process applies (declic.kit.interpreter), run in a child interpreter so
that the test process's own collector is left as it was."""

from __future__ import annotations

import subprocess
import sys


def _in_child(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_the_collector_runs_after_50000_allocations() -> None:
    assert _in_child("import gc; from declic.kit.interpreter import tune_garbage_collector;"
                     "tune_garbage_collector(); print(gc.get_threshold())") == "(50000, 20, 100)"


def test_start_up_objects_are_frozen_out_of_the_passes() -> None:
    out = _in_child("import gc; from declic.kit.interpreter import freeze_start_up_objects;"
                    "before = gc.get_freeze_count(); freeze_start_up_objects();"
                    "print(before, gc.get_freeze_count() > 0)")
    assert out == "0 True"


def test_ingest_and_scenario_tune_with_the_kit_s_function() -> None:
    """Written once: the services' entry points use the kit's, not a copy of their own."""
    import services.ingest.main
    import services.scenario.main
    from declic.kit import interpreter

    assert services.ingest.main.tune_garbage_collector is interpreter.tune_garbage_collector
    assert services.scenario.main.tune_garbage_collector is interpreter.tune_garbage_collector
