"""`registry-sync validate` through the CLI: exit codes and every problem listed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from paths import ROOT

from registry_sync.cli import cli

VALID = """\
id: team:chat
provider: openai-compatible
modelId: chat
apiFormat: responses
auth:
  type: api-key
  envVar: CHAT_KEY
capabilities:
  modalities: {input: [text], output: [text]}
  reasoning: false
"""


def validate(folder: Path) -> Result:
    return CliRunner().invoke(cli, ["validate", "--models-dir", str(folder)])


def test_bundled_models_are_valid() -> None:
    result = validate(ROOT / "models")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "5 model definitions in 4 files: valid.\n"


def test_validate_needs_no_key_and_no_network(tmp_path: Path) -> None:
    (tmp_path / "chat.yaml").write_text(VALID)
    result = CliRunner().invoke(
        cli, ["validate", "--models-dir", str(tmp_path)], env={"MKA1_API_KEY": None}
    )
    assert result.exit_code == 0
    assert result.stdout == "1 model definition in 1 file: valid.\n"


def test_every_problem_in_every_file_is_listed_sorted(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("reasoning: false", "reasoning: 'yes'"))
    (tmp_path / "b.yaml").write_text(
        VALID.replace("team:chat", "team:other").replace("modelId: chat", "modelID: chat")
    )
    (tmp_path / "c.yaml").write_text("id: [unclosed\n")
    (tmp_path / "d.yaml").write_text(VALID + "source: database\n")
    (tmp_path / "empty.yaml").write_text("")
    result = validate(tmp_path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    problems = [line for line in lines if line.startswith(str(tmp_path))]
    files = [Path(line.split(":", 1)[0]).name for line in problems]
    assert files == sorted(files)
    assert f"{tmp_path}/a.yaml:10: capabilities.reasoning: expected a boolean, got 'yes'" in lines
    assert any(
        line.startswith(f"{tmp_path}/b.yaml:3: modelID:") and "did you mean 'modelId'" in line
        for line in lines
    )
    assert any(line.startswith(f"{tmp_path}/c.yaml:") for line in lines)
    assert any(line.startswith(f"{tmp_path}/d.yaml:11: source:") for line in lines)
    assert f"note: {tmp_path}/empty.yaml: empty file, skipped" in lines
    assert lines[-1] == f"error: models are invalid: {len(problems)} problems found"
    assert result.stdout == ""


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    result = validate(tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path}/a.yaml:1" in result.stderr
    assert f"{tmp_path}/b.yaml:1" in result.stderr


def test_inline_secret_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    secret = "sk-proj-abcdefghijklmnop1234567890"
    (tmp_path / "a.yaml").write_text(VALID.replace("envVar: CHAT_KEY", f"value: {secret}"))
    result = validate(tmp_path)
    assert result.exit_code == 1
    assert "auth.value" in result.stderr
    assert secret not in result.output


def test_missing_models_dir_says_what_to_do(tmp_path: Path) -> None:
    result = validate(tmp_path / "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "nope" in result.stderr


def test_folder_without_yaml_is_valid_but_says_so(tmp_path: Path) -> None:
    result = validate(tmp_path)
    assert result.exit_code == 0
    assert "0 model definitions in 0 files" in result.stdout
    assert f"note: no *.yaml or *.yml files found below {tmp_path}" in result.stderr


def test_export_placeholder_must_be_replaced(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("envVar: CHAT_KEY", "envVar: TODO_SET_ENV_VAR_NAME")
    )
    result = validate(tmp_path)
    assert result.exit_code == 1
    assert (
        f"{tmp_path}/a.yaml:7: auth.envVar: TODO_SET_ENV_VAR_NAME is the placeholder export "
        "wrote for a secret: set the name of the environment variable the server reads"
    ) in result.stderr
