"""What is live never blocks a plan that does not touch it: a reroute cycle or a
dangling target the registry already holds is a warning; the same condition the plan
introduces is an error naming every file and line involved (issue 21)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-live-conditions-4e1b"


def rule(trigger: str, target: str) -> dict[str, Any]:
    return {"trigger": {"type": trigger}, "targetModelId": target}


LONG = minimal_definition(
    "t:long", contextWindow=200000, rerouteRules=[rule("error-fallback", "t:main")]
)
MAIN = minimal_definition(
    "t:main", contextWindow=8000, rerouteRules=[rule("context-exceeded", "t:long")]
)
DANGLING = minimal_definition("t:odd", rerouteRules=[rule("error-fallback", "t:gone")])


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    entries = [registry_model(body) for body in (LONG, MAIN, DANGLING)]
    with RegistryServer(seed=list_response(entries), api_key=KEY) as running:
        yield running


def write(models: Path, *bodies: dict[str, Any]) -> None:
    models.mkdir(exist_ok=True)
    for body in bodies:
        name = body["id"].replace(":", "-")
        (models / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def plan(server: RegistryServer, models: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["plan", "--models-dir", str(models), "--api-url", server.url, *args],
        env={"MKA1_API_KEY": KEY, "NO_COLOR": "1"},
    )


def test_a_live_cycle_and_a_live_dangling_target_are_warnings(
    server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    write(models, LONG, MAIN, DANGLING)
    result = plan(server, models, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.stdout
    assert "warning: reroute cycle: t:long" in result.stderr
    assert "warning: no model 't:gone' in models/ or in the registry" in result.stderr
    assert "this plan leaves it as it is" in result.stderr


def test_a_cycle_the_plan_introduces_is_an_error_naming_both_files(
    server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    side = minimal_definition("t:side", rerouteRules=[rule("error-fallback", "t:odd")])
    odd = minimal_definition("t:odd", rerouteRules=[rule("error-fallback", "t:side")])
    write(models, LONG, MAIN, side, odd)
    result = plan(server, models)
    assert result.exit_code == 1
    assert "reroute cycle: t:odd (" in result.stderr
    assert "t-odd.yaml" in result.stderr
    assert "t-side.yaml" in result.stderr
    assert "warning: reroute cycle: t:long" in result.stderr  # the live one stays a warning
    assert [r.method for r in server.requests()] == ["GET", "GET"]


def test_a_dangling_target_the_plan_introduces_is_an_error(
    server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    changed = minimal_definition("t:odd", rerouteRules=[rule("error-fallback", "t:missing")])
    write(models, LONG, MAIN, changed)
    result = plan(server, models)
    assert result.exit_code == 1
    assert "no model 't:missing' in models/ or in the registry" in result.stderr
    assert "already live" not in result.stderr.split("t:missing")[1].splitlines()[0]
