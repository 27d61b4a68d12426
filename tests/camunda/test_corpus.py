"""The 54 models of camunda-bpm-examples (fixtures/, Apache-2.0): how many deploy, start and complete.

The counts are the figures of docs/camunda-migration.md; a change that makes fewer work fails here."""

from pathlib import Path

import pytest

from tests.camunda.corpus import run

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock}


@pytest.mark.slow
def test_camunda_examples(engine, clock):
    result = run(engine, clock, FIXTURES)
    report = "\n".join([f"refused {n}: {m}" for n, m in result.refused.items()]
                       + [f"stopped {n}: {m}" for n, m in result.stopped.items()])
    print(report)
    print(f"files {result.files} strict {len(result.deployed_strict)} deployed {len(result.deployed)} "
          f"started {len(result.started)} completed {len(result.completed)}")
    assert result.files == 54
    # Floors: the figures measured when this test was written (docs/camunda-migration.md).
    assert len(result.deployed_strict) >= 40, report  # no ignored extension that changes behaviour
    assert len(result.deployed) >= 46, report  # with --allow-ignored
    assert len(result.started) >= 45, report
    assert len(result.completed) >= 39, report
