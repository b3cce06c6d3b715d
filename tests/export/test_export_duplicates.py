"""Export never writes a second declaration of an id (issue 21, item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-export-twice-83d1"


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    entries = [registry_model(minimal_definition(f"acme:{name}")) for name in ("chat", "embed")]
    with RegistryServer(seed=list_response(entries), api_key=KEY) as running:
        yield running


def export(server: RegistryServer, out: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["export", "--out-dir", str(out), "--api-url", server.url, *args],
        env={"MKA1_API_KEY": KEY, "NO_COLOR": "1"},
    )


def test_an_id_declared_by_another_file_is_never_written_again(
    server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    out.mkdir()
    own = out / "team-chat.yaml"
    own.write_text(yaml.safe_dump(minimal_definition("acme:chat"), sort_keys=False))
    for extra in ((), ("--force",)):
        result = export(server, out, *extra)
        assert result.exit_code == 1, result.output
        assert "already declares an id this export would write again" in result.stderr
        assert "acme:chat in " in result.stderr
        assert "team-chat.yaml" in result.stderr
        assert "Nothing was written" in result.stderr
        assert sorted(p.name for p in out.rglob("*.yaml")) == ["team-chat.yaml"]
    # Leaving that id out exports the rest.
    rest = export(server, out, "--id", "acme:embed")
    assert rest.exit_code == 0, rest.output


def test_force_still_overwrites_the_files_export_itself_writes(
    server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    assert export(server, out).exit_code == 0
    again = export(server, out)
    assert again.exit_code == 1
    assert "already exist" in again.stderr
    forced = export(server, out, "--force")
    assert forced.exit_code == 0, forced.output
