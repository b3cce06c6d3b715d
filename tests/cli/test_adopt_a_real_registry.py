"""Adopting a registry that looks like a real one (issue 21's Done means): a live
cross-trigger reroute cycle, a dangling target, an inline key and an older health
check never block the first plan after export; what the plan introduces does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.schema.secrets import PLACEHOLDER_ENV_VAR
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-adopt-real-51f0a2"
INLINE = "sk-live-INLINE-0123456789abcdef"


def rule(trigger: str, target: str) -> dict[str, Any]:
    return {"trigger": {"type": trigger}, "targetModelId": target}


def seed() -> dict[str, Any]:
    return list_response(
        [
            registry_model(
                minimal_definition(
                    "acme:main",
                    contextWindow=8000,
                    rerouteRules=[rule("context-exceeded", "acme:long")],
                    auth={"type": "api-key", "value": INLINE},
                )
            ),
            registry_model(
                minimal_definition(
                    "acme:long",
                    contextWindow=200000,
                    rerouteRules=[rule("error-fallback", "acme:main")],
                )
            ),
            registry_model(
                minimal_definition(
                    "acme:odd",
                    rerouteRules=[rule("error-fallback", "acme:gone")],
                    healthCheck={"url": "https://odd.example/health", "method": "GET"},
                )
            ),
        ]
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[tuple[Path, RegistryServer]]:
    with RegistryServer(seed=seed(), api_key=KEY) as server:
        old = Path.cwd()
        os.chdir(tmp_path)
        try:
            yield tmp_path, server
        finally:
            os.chdir(old)


def run(server: RegistryServer, *args: str) -> Result:
    env = {"MKA1_API_KEY": KEY, "MKA1_API_URL": server.url, "NO_COLOR": "1"}
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_first_plan_after_export_shows_the_auth_change_alone(
    workdir: tuple[Path, RegistryServer],
) -> None:
    root, server = workdir
    exported = run(server, "export", "--out-dir", "models")
    assert exported.exit_code == 0, exported.output
    main = root / "models" / "acme" / "main.yaml"
    main.write_text(main.read_text().replace(PLACEHOLDER_ENV_VAR, "ACME_MAIN_KEY"))

    validated = run(server, "validate")
    assert validated.exit_code == 0, validated.output

    planned = run(server, "plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "1 to update" in planned.stdout
    assert "~ acme:main will be updated in place [breaking]" in planned.stdout
    assert "auth" in planned.stdout
    assert INLINE not in planned.output
    assert "warning: reroute cycle" in planned.stderr  # live: left as it is
    for view in ("json", "markdown"):
        shown = run(server, "plan", "--format", view)
        assert shown.exit_code == 0, shown.output
        assert "breaking" in shown.stdout
        assert INLINE not in shown.output

    assert run(server, "plan", "--out", "plan.json").exit_code == 0
    markdown = run(server, "plan", "--format", "markdown").stdout
    assert run(server, "show", "plan.json", "--format", "markdown").stdout == markdown
    applied = run(server, "apply", "plan.json")  # no terminal: the plan was the approval
    assert applied.exit_code == 0, applied.output
    again = run(server, "apply", "plan.json")
    assert again.exit_code == 0, again.output
    assert "Already applied" in again.stdout
    assert run(server, "plan", "--detailed-exitcode").exit_code == 0

    # A plan that introduces a new cycle names both files.
    side = minimal_definition("acme:side", rerouteRules=[rule("error-fallback", "acme:odd")])
    (root / "models" / "acme" / "side.yaml").write_text(yaml.safe_dump(side, sort_keys=False))
    odd_file = root / "models" / "acme" / "odd.yaml"
    odd = yaml.safe_load(odd_file.read_text())
    odd["rerouteRules"] = [rule("error-fallback", "acme:side")]
    odd_file.write_text(yaml.safe_dump(odd, sort_keys=False))
    introduced = run(server, "plan")
    assert introduced.exit_code == 1
    assert "models/acme/odd.yaml" in introduced.stderr
    assert "models/acme/side.yaml" in introduced.stderr


def test_export_into_a_folder_that_declares_an_id_writes_nothing(
    workdir: tuple[Path, RegistryServer],
) -> None:
    root, server = workdir
    models = root / "models"
    models.mkdir()
    (models / "ours.yaml").write_text(
        yaml.safe_dump(minimal_definition("acme:long"), sort_keys=False)
    )
    result = run(server, "export", "--out-dir", "models")
    assert result.exit_code == 1
    assert "acme:long in models/ours.yaml" in result.stderr
    assert sorted(p.name for p in models.rglob("*.yaml")) == ["ours.yaml"]
