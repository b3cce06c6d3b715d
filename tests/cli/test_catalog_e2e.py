"""The catalog generation end to end: the CLI against the local server in catalog mode,
seeded with byo (api and yaml origin, active and not), serving and cluster entries."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, catalog_entry, catalog_list, minimal_definition

KEY = "sk-catalog-e2e-7d21c4"
CATALOG = "/api/v1/llm/models/catalog"
ACTIVATION = "/api/v1/llm/models/registry"


def model(model_id: str, **fields: Any) -> dict[str, Any]:
    return minimal_definition(model_id, **fields)


def seed() -> dict[str, Any]:
    return catalog_list(
        [
            # byo, api origin, active, drifted in its file (contextWindow, a removed rpm).
            catalog_entry(model("acme:chat", contextWindow=8192, rpm=60)),
            # byo, api origin, defined but not active: the file's model is activated.
            catalog_entry(model("acme:idle"), active=False),
            # byo, api origin, nobody declares it: unmanaged (prune deletes it).
            catalog_entry(model("acme:legacy")),
            # byo, yaml origin: read-only; declared in sync.
            catalog_entry(model("acme:pinned"), origin="yaml"),
            # byo with a catalog-only count that must survive every step.
            catalog_entry(
                model(
                    "acme:embed", apiFormat="embeddings", embeddingLimits={"maxBatchTokens": 8000}
                )
            ),
            # Platform models: served from serving; defined by cluster and not active.
            catalog_entry(model("meetkai:functionary"), source="serving", origin=None),
            catalog_entry(
                model("meetkai:cluster-llm"), source="cluster", origin=None, active=False
            ),
        ]
    )


FILES = {
    "chat.yaml": model("acme:chat", contextWindow=16384),
    "idle.yaml": model("acme:idle"),
    "pinned.yaml": model("acme:pinned"),
    "embed.yaml": model(
        "acme:embed", apiFormat="embeddings", embeddingLimits={"maxBatchTokens": 8000}
    ),
    "new.yaml": model("acme:new", apiProviderType="openrouter"),
}


class Project:
    """A repository with models/ and registry-sync.yaml, against one catalog server."""

    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        (root / "models").mkdir()

    def write(self, files: dict[str, dict[str, Any]]) -> None:
        for name, body in files.items():
            (self.root / "models" / name).write_text(yaml.safe_dump(body, sort_keys=False))

    def config(self, text: str) -> None:
        (self.root / "registry-sync.yaml").write_text(text)

    def run(self, *args: str) -> Result:
        env = {"MKA1_API_KEY": KEY, "MKA1_API_URL": self.server.url, "NO_COLOR": "1"}
        old = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(cli, list(args), env=env)
        finally:
            os.chdir(old)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with RegistryServer(seed(), api_key=KEY, api="catalog") as server:
        found = Project(tmp_path, server)
        found.write(FILES)
        found.config(
            "activation:\n  activate:\n    - {name: 'meetkai:cluster-llm', source: cluster}\n"
        )
        yield found


def writes(server: RegistryServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests() if r.method != "GET"]


def test_plan_lists_every_kind_of_change_and_names_the_generation(project: Project) -> None:
    result = project.run("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    text = result.stdout
    assert f"on {project.server.url} (catalog API):" in text
    assert "+ acme:new will be created" in text
    assert "> serve the name: activate it from byo" in text
    assert "~ acme:chat will be updated in place" in text
    assert "- rpm: 60 -> (removed)" in text
    assert "> acme:idle will be activated" in text
    assert "> meetkai:cluster-llm will be activated" in text
    assert "? acme:legacy" in text
    assert "Not listed: 1 in sync, 1 read-only in sync" in text
    assert writes(project.server) == []
    document = json.loads(project.run("plan", "--format", "json").stdout)
    assert document["api"] == "catalog"
    chat = next(a for a in document["actions"] if a["id"] == "acme:chat")
    assert chat["patch"] == {"contextWindow": 16384, "rpm": None}


def test_apply_converges_and_touches_nothing_it_does_not_own(project: Project) -> None:
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete:" in applied.stdout
    assert "2 activated, 0 deactivated" in applied.stdout
    sent = writes(project.server)
    # Every write went to a byo definition the files declare, or to activation.
    assert ("PATCH", CATALOG) in sent
    assert ("POST", CATALOG) in sent
    assert not any(method == "DELETE" for method, _ in sent)
    catalog = {(e["model_id"], e["source"]): e for e in project.server.catalog()["data"]}
    for name in ("acme:chat", "acme:new", "acme:idle", "acme:embed"):
        assert catalog[(name, "byo")]["activation_state"] == "active", name
    assert catalog[("acme:chat", "byo")]["definition"]["contextWindow"] == 16384
    assert "rpm" not in catalog[("acme:chat", "byo")]["definition"]
    assert catalog[("acme:new", "byo")]["definition"]["apiProviderType"] == "openrouter"
    assert catalog[("acme:embed", "byo")]["definition"]["embeddingLimits"] == {
        "maxBatchTokens": 8000
    }
    assert catalog[("meetkai:cluster-llm", "cluster")]["activation_state"] == "active"
    assert catalog[("meetkai:functionary", "serving")]["activation_state"] == "active"
    assert catalog[("acme:pinned", "byo")]["origin"] == "yaml"
    again = project.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_prune_deletes_only_undeclared_byo_api_definitions(project: Project) -> None:
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.server.clear_requests()
    pruned = project.run("apply", "--auto-approve", "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert writes(project.server) == [("DELETE", CATALOG)]
    left = {(e["model_id"], e["source"]) for e in project.server.catalog()["data"]}
    assert ("acme:legacy", "byo") not in left
    assert {("meetkai:functionary", "serving"), ("acme:pinned", "byo")} <= left


def test_a_name_another_source_serves_is_an_error_naming_it(project: Project) -> None:
    project.write({"functionary.yaml": model("meetkai:functionary")})
    result = project.run("plan")
    assert result.exit_code == 1
    assert "name-held: meetkai:functionary is served from serving" in result.stderr
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert writes(project.server) == []


def test_a_switch_deactivates_then_activates_and_is_breaking(project: Project) -> None:
    project.write({"functionary.yaml": model("meetkai:functionary")})
    project.config(
        "activation:\n  activate:\n    - {name: 'meetkai:cluster-llm', source: cluster}\n"
        "  switch: ['meetkai:functionary']\n"
    )
    planned = project.run("plan")
    assert planned.exit_code == 0, planned.output
    assert "+ meetkai:functionary will be created [breaking]" in planned.stdout
    assert "deactivate it from serving, then activate it from byo" in planned.stdout
    applied = project.run("apply", "--auto-approve", "--target", "meetkai:functionary")
    assert applied.exit_code == 0, applied.output
    assert writes(project.server) == [
        ("POST", CATALOG),
        ("DELETE", ACTIVATION),
        ("POST", ACTIVATION),
    ]
    held = {
        (e["model_id"], e["source"]): e["activation_state"]
        for e in project.server.catalog()["data"]
    }
    assert held[("meetkai:functionary", "byo")] == "active"
    assert held[("meetkai:functionary", "serving")] != "active"


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("apiProviderType", "azure", "apiProviderType"),
        (
            "rerouteRules",
            [{"trigger": {"type": "context-exceeded"}, "targetModelId": "acme:chat"}],
            "rerouteRules[0].trigger",
        ),
    ],
)
def test_a_value_the_catalog_refuses_fails_at_its_line_with_nothing_written(
    project: Project, field: str, value: Any, where: str
) -> None:
    project.write({"new.yaml": model("acme:new", **{field: value})})
    result = project.run("plan", "--api", "catalog")
    assert result.exit_code == 1
    assert "models/new.yaml:" in result.stderr
    assert where in result.stderr
    unpinned = project.run("apply", "--auto-approve")
    assert unpinned.exit_code == 1
    assert "models/new.yaml:" in unpinned.stderr
    assert writes(project.server) == []


def test_a_saved_plan_is_refused_by_a_registry_of_the_other_generation(
    project: Project, tmp_path: Path
) -> None:
    assert project.run("plan", "--out", "plan.json").exit_code == 0
    document = json.loads((project.root / "plan.json").read_text())
    assert document["api"] == "catalog"
    with RegistryServer(catalog_list([]), api_key=KEY) as registry:
        env_url = registry.url
        (project.root / "plan.json").write_text(
            json.dumps({**document, "registry": env_url}), encoding="utf-8"
        )
        result = project.run("apply", "plan.json", "--api-url", env_url, "--auto-approve")
    assert result.exit_code == 1
    assert "was made for the catalog API, but the registry speaks the registry API" in (
        result.stderr
    )


def test_dry_run_shows_the_catalog_requests(project: Project) -> None:
    result = project.run("apply", "--dry-run", "--target", "acme:new")
    assert result.exit_code == 0, result.output
    assert f"  POST {CATALOG}" in result.stdout
    assert f"  POST {ACTIVATION}" in result.stdout
    assert '"model_id": "acme:new"' in result.stdout
    assert writes(project.server) == []


def test_health_reports_unknown_as_its_own_state(project: Project) -> None:
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.server.set_unknown("acme:new")
    result = project.run("health", "--target", "acme:*")
    assert result.exit_code == 0, result.output
    assert "acme:new" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("acme:new"))
    assert "unknown" in row
    assert "neither healthy nor unhealthy" in row
    assert "The registry cannot tell yet whether the ones of status unknown are healthy" in (
        result.stdout
    )
    document = json.loads(project.run("health", "--format", "json").stdout)
    new = next(m for m in document["models"] if m["id"] == "acme:new")
    assert (new["status"], new["is_available"]) == ("unknown", None)
    project.server.set_unhealthy("acme:chat")
    down = project.run("health")
    assert down.exit_code == 4, down.output


def test_verify_health_neither_fails_nor_rolls_back_an_unknown_entry(project: Project) -> None:
    project.server.set_unknown("acme:new")
    result = project.run("apply", "--auto-approve", "--rollback-on-unhealthy")
    assert result.exit_code == 0, result.output
    assert "unknown    acme:new: the registry cannot tell yet" in result.stdout
    states = {e["model_id"]: e for e in project.server.catalog()["data"] if e["source"] == "byo"}
    assert "acme:new" in states


def test_fields_this_version_does_not_know_survive_an_update_and_a_replace(
    tmp_path: Path,
) -> None:
    future = {"futureRouting": {"tier": "gold"}}
    lifecycle = {"status": "deprecated", "successor": "acme:chat-v2"}
    live = model("acme:chat", contextWindow=8192, lifecycle=lifecycle, **future)
    with RegistryServer(catalog_list([catalog_entry(live)]), api_key=KEY, api="catalog") as server:
        project = Project(tmp_path, server)
        project.write({"chat.yaml": model("acme:chat", contextWindow=16384, lifecycle=lifecycle)})
        planned = project.run("plan")
        assert planned.exit_code == 0, planned.output
        # Shown as not compared, never as drift; the catalog's lifecycle is compared.
        assert "this version of registry-sync does not know: futureRouting." in planned.stdout
        assert "lifecycle" not in planned.stdout
        assert project.run("apply", "--auto-approve").exit_code == 0

        def stored() -> dict[str, Any]:
            (entry,) = server.catalog()["data"]
            definition: dict[str, Any] = entry["definition"]
            return definition

        assert stored()["futureRouting"] == {"tier": "gold"}
        assert stored()["contextWindow"] == 16384
        replaced = project.run("apply", "--auto-approve", "--replace", "acme:chat")
        assert replaced.exit_code == 0, replaced.output
        assert [(r.method, r.path) for r in server.requests() if r.method != "GET"][-3:] == [
            ("DELETE", CATALOG),
            ("POST", CATALOG),
            ("POST", ACTIVATION),
        ]
        assert stored()["futureRouting"] == {"tier": "gold"}
        assert stored()["lifecycle"] == lifecycle
        assert project.run("plan", "--detailed-exitcode").exit_code == 0
