"""Issue 23, item 1: ids are checked where they enter, and what a dry run shows is byte
for byte what apply sends. The CLI against the local server (both API generations)
holding odd ids a request can carry and hostile ones no request can carry safely."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import (
    RegistryServer,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-hostile-ids-e2e-51a9c3"
# Odd, but one percent-encoded path segment or query value carries each unchanged.
ODD = ["team:a/b", "team:x?y=1#z", "team:...", "team:50%", "team:a&id=b", "team:p+q=r", "team:ü~"]
# No request can carry these safely: '.' and '..' are dot segments, the rest would
# put a line break, an escape sequence or an invisible character into a request line.
HOSTILE = [
    ".",
    "..",
    "team:x\n\nPlan: 0 to create, 0 to update",
    "team:\x1b[8mhidden",
    "team:a b",
    "team:evil\u202etxt",
]
UPDATED = "team:a/b"  # declared with a change: an update
CREATED = "team:new?x=1#frag"  # declared, not live: a create
_CHARACTER = "should hold no whitespace, control or invisible format character, but character "
_REQUEST_LINE = re.compile(r"^  (POST|PATCH|DELETE) (\S+)$")


def seed(api: str) -> dict[str, Any]:
    ids = [*ODD, *HOSTILE]
    if api == "catalog":
        return catalog_list(catalog_entry(minimal_definition(i)) for i in ids)
    return list_response(registry_model(minimal_definition(i)) for i in ids)


class Project:
    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        (root / "models").mkdir()

    def declare(self, name: str, body: dict[str, Any]) -> None:
        (self.root / "models" / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def run(self, *args: str) -> Result:
        env = {"MKA1_API_KEY": KEY, "MKA1_API_URL": self.server.url, "NO_COLOR": "1"}
        return CliRunner().invoke(cli, list(args), env=env)

    def sent(self) -> list[str]:
        """Every write the server received, as its request line: the path as sent."""
        return [
            f"{r.method} {r.raw_path}" + (f"?{r.raw_query}" if r.raw_query else "")
            for r in self.server.requests()
            if r.method != "GET"
        ]

    def live_ids(self) -> set[str]:
        if self.server.api == "catalog":
            return {entry["model_id"] for entry in self.server.catalog()["data"]}
        return set(self.server.entries())


@pytest.fixture(params=["registry", "catalog"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    with RegistryServer(seed(request.param), api_key=KEY, api=request.param) as server:
        found = Project(tmp_path, server)
        found.declare("updated.yaml", minimal_definition(UPDATED, contextWindow=4096))
        found.declare("created.yaml", minimal_definition(CREATED))
        yield found


def printed_requests(stdout: str) -> list[str]:
    return [
        f"{match[1]} {match[2]}"
        for line in stdout.splitlines()
        if (match := _REQUEST_LINE.match(line))
    ]


def test_what_the_dry_run_shows_is_what_apply_sends(project: Project) -> None:
    dry = project.run("apply", "--prune", "--dry-run")
    assert dry.exit_code == 0, dry.output
    shown = printed_requests(dry.stdout)
    assert project.sent() == []

    applied = project.run("apply", "--prune", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    # Apply runs independent entries at once: the same lines, maybe in another order.
    assert sorted(project.sent()) == sorted(shown)
    deleted = {i for i in ODD if i != UPDATED}
    assert len([line for line in shown if line.startswith("DELETE ")]) >= len(deleted)
    assert project.live_ids() == {UPDATED, CREATED, *HOSTILE}
    again = project.run("plan", "--prune", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_live_ids_no_request_can_carry_are_left_out_with_one_escaped_warning(
    project: Project,
) -> None:
    result = project.run("plan", "--prune")

    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.stderr.splitlines() if "not safely addressable" in line]
    for hostile in HOSTILE:
        assert repr(hostile) in warning
    assert "never writes them (prune included)" in warning
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\nPlan: 0 to create, 0 to update\n" not in result.output
    for odd in ODD:
        if odd != UPDATED:
            assert f"- {odd} will be deleted" in result.stdout
    assert project.sent() == []


@pytest.mark.parametrize(
    ("declared", "why"),
    [
        (".", "should not be '.'"),
        ("..", "should not be '..'"),
        ("team:a\u202eb", _CHARACTER + "7 is U+202E"),
        ("team:tab\there", _CHARACTER + "9 is U+0009"),
    ],
)
def test_a_declared_id_breaking_the_rule_is_an_error_at_its_line(
    project: Project, declared: str, why: str
) -> None:
    project.declare("bad.yaml", {"provider": "x", **minimal_definition(declared)})

    for command in ("validate", "plan"):
        result = project.run(command)
        assert result.exit_code == 1, result.output
        assert f"models/bad.yaml:2: id: {why}" in result.output
    assert project.sent() == []


def test_a_saved_plan_edited_to_name_a_dot_segment_is_refused_before_any_write(
    project: Project,
) -> None:
    assert project.run("plan", "--prune", "--out", "plan.json").exit_code == 0
    saved = json.loads(Path("plan.json").read_text("utf-8"))
    delete = next(action for action in saved["actions"] if action["action"] == "delete")
    delete["id"] = ".."
    Path("plan.json").write_text(json.dumps(saved), "utf-8")

    for extra in (("--dry-run",), ()):
        result = project.run("apply", "plan.json", *extra)
        assert result.exit_code == 1, result.output
        assert "error: apply refused; nothing was written:\n  '..': the id should not be" in (
            result.stderr
        )
    assert project.sent() == []
