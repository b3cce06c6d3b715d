"""`registry-sync export` from a catalog, end to end over real HTTP: byo definitions
written, the activation choices in registry-sync.yaml, and the first plan empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.errors import ExportError
from registry_sync.export.activation import (
    ActivationChoices,
    activation_choices,
    plan_config_edit,
)
from registry_sync.live.entries import Activation, LiveEntry
from registry_sync.settings.config import load_config
from registry_sync.testing import RegistryServer, catalog_entry, catalog_list, minimal_definition

KEY = "test-key-catalog-export-7d1e"
EMBED_LIMITS = {"maxBatchSize": 256, "maxBatchTokens": 300_000, "dimensions": 1024}
CONFIG = "registry-sync.yaml"
# What registry-sync.yaml must say after exporting SEED (without --include-read-only).
BLOCK = (
    "activation:\n"
    "  inactive:\n"
    '    - "team:idle"\n'
    '    - "team:shared"\n'
    "  activate:\n"
    '    - {name: "gpt:4o", source: serving}\n'
)
COMMENT = (
    "# Added by registry-sync export, from what the registry speaks and serves.\n"
    "# activation.inactive: exported byo definitions whose names are not active;\n"
    "# activation.activate: platform names served from serving or cluster.\n"
)


def seed() -> dict[str, Any]:
    """One name of each kind export has to tell apart."""
    return catalog_list(
        [
            # byo, api origin, active, with a catalog-only count: a file, served as it is.
            catalog_entry(
                minimal_definition(
                    "team:embed", apiFormat="embeddings", embeddingLimits=EMBED_LIMITS
                )
            ),
            # byo, api origin, not active: a file, and activation.inactive.
            catalog_entry(minimal_definition("team:idle"), active=False),
            # byo, yaml origin, active / not active: files only with --include-read-only
            # (the second then in activation.inactive).
            catalog_entry(minimal_definition("team:fixed"), origin="yaml"),
            catalog_entry(minimal_definition("team:frozen"), origin="yaml", active=False),
            # byo, api origin, the name held by serving: a file, and inactive.
            catalog_entry(
                minimal_definition("team:shared"), active=False, blocker_source="serving"
            ),
            catalog_entry(minimal_definition("team:shared"), source="serving", origin=None),
            # serving only, active: activation.activate.
            catalog_entry(minimal_definition("gpt:4o"), source="serving", origin=None),
            # cluster only, not active: nothing at all.
            catalog_entry(
                minimal_definition("llama:70b"), source="cluster", origin=None, active=False
            ),
        ]
    )


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed(), api_key=KEY, api="catalog") as running:
        yield running


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root to run in: registry-sync.yaml is looked for no higher."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, env={"MKA1_API_KEY": KEY, "NO_COLOR": "1"})


def export(server: RegistryServer, *extra: str) -> Result:
    return run(["export", "--api-url", server.url, "--out-dir", "models", *extra])


def plan(server: RegistryServer, *extra: str) -> Result:
    return run(
        [
            "plan",
            "--api-url",
            server.url,
            "--models-dir",
            "models",
            "--detailed-exitcode",
            *extra,
        ]
    )


def files_below(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.yaml"))


def test_export_writes_byo_definitions_and_the_activation_choices_then_plan_is_empty(
    server: RegistryServer, project: Path
) -> None:
    exported = export(server)
    assert exported.exit_code == 0, exported.stderr
    # byo definitions of api origin only: never serving or cluster ones, and yaml-origin
    # ones only when asked.
    assert files_below(project / "models") == [
        "team/embed.yaml",
        "team/idle.yaml",
        "team/shared.yaml",
    ]
    config = project / CONFIG
    assert config.read_text() == f"{COMMENT}api: catalog\n{BLOCK}"
    loaded = load_config(config)
    assert loaded.api == "catalog"
    assert loaded.inactive == ("team:idle", "team:shared")
    assert loaded.activate == (("gpt:4o", "serving"),)
    assert exported.stdout.splitlines()[-2:] == [
        "Exported 3 models to models/. 2 read-only entries not exported "
        "(--include-read-only exports them).",
        "wrote registry-sync.yaml: api: catalog and activation (2 inactive, 1 to activate)",
    ]
    assert exported.stderr == ""

    planned = plan(server)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout


def test_a_catalog_only_count_survives_export_then_plan(
    server: RegistryServer, project: Path
) -> None:
    assert export(server).exit_code == 0
    written = yaml.safe_load((project / "models" / "team" / "embed.yaml").read_text())
    assert written["embeddingLimits"] == EMBED_LIMITS
    assert written == minimal_definition(
        "team:embed", apiFormat="embeddings", embeddingLimits=EMBED_LIMITS
    )
    planned = plan(server, "--format", "json")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    # Export and plan only read; the server keeps the count.
    assert {request.method for request in server.requests()} == {"GET"}
    after = {
        item["model_id"]: item["definition"]
        for item in server.catalog()["data"]
        if item["source"] == "byo"
    }
    assert after["team:embed"]["embeddingLimits"] == EMBED_LIMITS


def test_read_only_definitions_only_with_the_flag(server: RegistryServer, project: Path) -> None:
    exported = export(server, "--include-read-only")
    assert exported.exit_code == 0, exported.stderr
    assert files_below(project / "models") == [
        "_read-only/team/fixed.yaml",
        "_read-only/team/frozen.yaml",
        "team/embed.yaml",
        "team/idle.yaml",
        "team/shared.yaml",
    ]
    fixed = (project / "models" / "_read-only" / "team" / "fixed.yaml").read_text()
    assert fixed.startswith("# Read-only: this definition has origin yaml")
    # A declared yaml-origin definition that is not served stays so.
    assert load_config(project / CONFIG).inactive == ("team:frozen", "team:idle", "team:shared")
    assert "(2 read-only, in _read-only/)" in exported.stdout
    planned = plan(server)
    assert planned.exit_code == 0, planned.stdout + planned.stderr


def test_only_the_ids_asked_for_and_their_choices(server: RegistryServer, project: Path) -> None:
    exported = export(server, "--id", "team:idle", "--id", "team:embed")
    assert exported.exit_code == 0, exported.stderr
    assert files_below(project / "models") == ["team/embed.yaml", "team/idle.yaml"]
    loaded = load_config(project / CONFIG)
    assert (loaded.inactive, loaded.activate) == (("team:idle",), ())


def test_a_platform_name_given_to_id_is_refused_saying_how_to_serve_it(
    server: RegistryServer, project: Path
) -> None:
    result = export(server, "--id", "gpt:4o")
    assert result.exit_code == 1
    assert "'gpt:4o' is defined by serving, not byo" in result.stderr
    assert "activation.activate" in result.stderr
    assert not (project / "models").exists()
    assert not (project / CONFIG).exists()


ORIGINAL = (
    "# The team's settings: keep this comment.\n"
    "models_dir: models   # the folder export writes\n"
    "protect:\n"
    '  - "team:*"\n'
)


def test_a_configuration_without_them_gets_api_and_activation_appended(
    server: RegistryServer, project: Path
) -> None:
    (project / CONFIG).write_text(ORIGINAL)
    exported = export(server)
    assert exported.exit_code == 0, exported.stderr
    assert (project / CONFIG).read_text() == f"{ORIGINAL}\n{COMMENT}api: catalog\n{BLOCK}"
    assert (
        "added api: catalog and activation (2 inactive, 1 to activate) to registry-sync.yaml"
        in exported.stdout
    )
    loaded = load_config(project / CONFIG)
    assert loaded.protect == ("team:*",)
    assert plan(server).exit_code == 0


def test_only_what_is_missing_is_appended(server: RegistryServer, project: Path) -> None:
    (project / CONFIG).write_text("api: catalog")  # no final newline
    exported = export(server)
    assert exported.exit_code == 0, exported.stderr
    assert (project / CONFIG).read_text() == f"api: catalog\n\n{COMMENT}{BLOCK}"
    assert "added activation (2 inactive, 1 to activate) to registry-sync.yaml" in (exported.stdout)
    # Again, over the files: the configuration already says it all.
    again = export(server, "--force")
    assert again.exit_code == 0, again.stderr
    assert (project / CONFIG).read_text() == f"api: catalog\n\n{COMMENT}{BLOCK}"
    assert "registry-sync.yaml unchanged: it already says what the registry serves" in (
        again.stdout
    )


def test_a_different_activation_block_is_left_alone_with_the_block_to_add(
    server: RegistryServer, project: Path
) -> None:
    original = 'api: catalog\nactivation:\n  inactive: ["team:embed"]   # ours\n'
    (project / CONFIG).write_text(original)
    exported = export(server)
    assert exported.exit_code == 0, exported.stderr
    assert (project / CONFIG).read_text() == original
    assert "registry-sync.yaml" not in exported.stdout
    assert (
        "warning: registry-sync.yaml already has an activation: block that differs from "
        "what the registry serves; it was left as it is, so the first plan will not be "
        "empty. To match the registry, make its activation: say:\n"
        + "".join(f"  {line}\n" for line in BLOCK.splitlines())
    ) in exported.stderr
    assert plan(server).exit_code != 0


def test_the_configuration_found_in_a_parent_folder_is_the_one_edited(
    server: RegistryServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / CONFIG).write_text(ORIGINAL)
    team = project / "team"
    team.mkdir()
    monkeypatch.chdir(team)
    exported = export(server)
    assert exported.exit_code == 0, exported.stderr
    assert not (team / CONFIG).exists()
    assert (project / CONFIG).read_text().endswith(BLOCK)
    assert "to ../registry-sync.yaml" in exported.stdout


def test_a_configuration_that_would_not_read_back_stops_the_export(
    server: RegistryServer, project: Path
) -> None:
    original = "{models_dir: models}\n"  # a flow mapping: appended keys would not parse
    (project / CONFIG).write_text(original)
    exported = export(server)
    assert exported.exit_code == 1
    assert "cannot add the catalog's settings to registry-sync.yaml" in exported.stderr
    assert "Nothing was written" in exported.stderr
    assert (project / CONFIG).read_text() == original
    assert not (project / "models").exists()


def test_with_an_environment_the_file_is_never_edited(
    server: RegistryServer, project: Path
) -> None:
    original = (
        "environments:\n"
        "  prod:\n"
        f"    api_url: {server.url}\n"
        "    api_key_env: MKA1_API_KEY\n"
        "    api: catalog\n"
    )
    (project / CONFIG).write_text(original)
    exported = run(["export", "--env", "prod", "--out-dir", "models"])
    assert exported.exit_code == 0, exported.stderr
    assert (project / CONFIG).read_text() == original
    assert "with --env prod, the activation choices are that environment's" in exported.stderr
    assert '    - {name: "gpt:4o", source: serving}' in exported.stderr


def test_the_registry_generation_writes_no_configuration(project: Path) -> None:
    from registry_sync.testing import list_response, registry_model

    document = list_response([registry_model(minimal_definition("team:chat"))])
    with RegistryServer(document, api_key=KEY) as registry:
        exported = export(registry)
    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout == "wrote models/team/chat.yaml\nExported 1 model to models/.\n"
    assert not (project / CONFIG).exists()


# --- the choices and the edit, without a server -----------------------------------------


def entry(model_id: str, active: str | None, sources: tuple[str, ...] = ("byo",)) -> LiveEntry:
    source = "byo" if "byo" in sources else sources[0]
    return LiveEntry(
        model_id,
        immutable=source != "byo",
        source=source,
        definition=minimal_definition(model_id),
        origin="api" if source == "byo" else None,
        activation=Activation(active, sources),
    )


def test_choices_per_kind_of_name() -> None:
    live = [
        entry("b:served", "byo"),
        entry("b:idle", None),
        entry("b:held", "cluster", ("byo", "cluster")),
        entry("p:on", "serving", ("serving",)),
        entry("p:off", None, ("cluster",)),
        entry("p:two words", "serving", ("serving",)),
    ]
    choices = activation_choices(live, {"b:served", "b:idle", "b:held"})
    assert choices == ActivationChoices(
        inactive=("b:held", "b:idle"), activate=(("p:on", "serving"),), unlisted=("p:two words",)
    )
    assert activation_choices(live, {"b:idle"}, names={"b:idle"}) == ActivationChoices(
        inactive=("b:idle",)
    )


def test_an_id_with_pattern_characters_is_written_to_match_only_itself(tmp_path: Path) -> None:
    choices = ActivationChoices(inactive=("team:a*b", "team:c[1]"))
    edit = plan_config_edit(tmp_path / CONFIG, None, choices, exported=choices.inactive)
    assert edit.text is not None
    (tmp_path / CONFIG).write_text(edit.text)
    assert load_config(tmp_path / CONFIG).inactive == ("team:a[*]b", "team:c[[]1]")


def test_line_endings_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    existing = "\ufeffprune: true\r\n"
    choices = ActivationChoices(activate=(("gpt:4o", "serving"),))
    edit = plan_config_edit(tmp_path / CONFIG, existing, choices, exported=())
    assert edit.text is not None
    assert edit.text.startswith(existing + "\r\n# Added by registry-sync export")
    assert "\n" not in edit.text.replace("\r\n", "")
    assert edit.added == ("api", "activation")


def test_an_edit_that_would_not_read_back_is_refused_with_the_text_to_add(
    tmp_path: Path,
) -> None:
    # After an end-of-document marker the appended keys would be a second document.
    existing = "prune: true\n...\n"
    with pytest.raises(ExportError) as raised:
        plan_config_edit(
            tmp_path / CONFIG, existing, ActivationChoices(inactive=("a:b",)), exported=("a:b",)
        )
    message = str(raised.value)
    assert "cannot add the catalog's settings" in message
    assert "registry-sync.yaml:7: YAML syntax error" in message
    assert message.endswith('api: catalog\nactivation:\n  inactive:\n    - "a:b"')


def test_without_choices_only_api_is_added(tmp_path: Path) -> None:
    edit = plan_config_edit(tmp_path / CONFIG, "prune: true\n", ActivationChoices(), exported=())
    assert edit.text == (
        "prune: true\n\n"
        "# Added by registry-sync export, from what the registry speaks and serves.\n"
        "api: catalog\n"
    )
    assert edit.added == ("api",)


def test_a_file_pinning_the_registry_api_keeps_its_pin_with_a_warning(tmp_path: Path) -> None:
    choices = ActivationChoices(inactive=("a:b",))
    edit = plan_config_edit(tmp_path / CONFIG, "api: registry\n", choices, exported=("a:b",))
    assert edit.added == ("activation",)
    assert edit.text is not None and edit.text.startswith("api: registry\n")
    assert len(edit.notes) == 1
    assert "pins api: registry in the top level, and was left as it is" in edit.notes[0]
