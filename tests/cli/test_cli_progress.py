"""Long runs show one updating progress line on a terminal (a pseudo-terminal here),
and none of it when the output is piped or JSON: apply, health and export."""

from __future__ import annotations

import errno
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from registry_sync.testing import RegistryServer, minimal_definition

KEY = "sk-progress-7e2b19"
COUNT = 50


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    with RegistryServer(api_key=KEY) as running:
        yield running


def models(folder: Path, prefix: str) -> Path:
    folder.mkdir()
    for number in range(COUNT):
        body = minimal_definition(f"{prefix}:model-{number:02d}")
        (folder / f"model-{number:02d}.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return folder


def environment(server: RegistryServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA1_", "FORCE_COLOR"))}
    return env | {"MKA1_API_KEY": KEY, "MKA1_API_URL": server.url, "NO_COLOR": "1"}


def on_a_terminal(args: list[str], server: RegistryServer, cwd: Path) -> tuple[int, str]:
    """Run registry-sync with stdin, stdout and stderr on a pseudo-terminal; returns its
    exit code and everything it wrote there."""
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "registry_sync", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=environment(server),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return child.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def piped(args: list[str], server: RegistryServer, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry_sync", *args],
        cwd=cwd,
        env=environment(server),
        capture_output=True,
        text=True,
        check=False,
    )


def progress_line(text: str, label: str) -> str:
    """The one terminal line holding the progress (redrawn after each \\r), which
    must be the only line naming ``label``; without the cursor's hide and show codes."""
    lines = [re.sub(r"\x1b\[\?25[lh]", "", line) for line in text.split("\n") if label in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_apply_of_50_entries_shows_one_updating_line_on_a_terminal(
    server: RegistryServer, tmp_path: Path
) -> None:
    folder = models(tmp_path / "models", "tty")
    code, text = on_a_terminal(
        ["apply", "--auto-approve", "--models-dir", str(folder)], server, tmp_path
    )
    assert code == 0, text
    line = progress_line(text, "Applying")
    drawn = [part.rstrip() for part in line.split("\r") if part.strip()]
    assert len(drawn) > 1  # redrawn in place: one line, not one per write
    assert drawn[-1].startswith("Applying")
    assert f" {COUNT}/{COUNT}  0 failed, " in drawn[-1]
    assert drawn[-1].endswith(" writes/s")
    assert "Apply complete: 50 created" in text


def test_apply_piped_or_as_json_shows_no_progress(server: RegistryServer, tmp_path: Path) -> None:
    folder = models(tmp_path / "models", "piped")
    result = piped(["apply", "--auto-approve", "--models-dir", str(folder)], server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Apply complete: 50 created" in result.stdout
    assert "Applying" not in result.stdout + result.stderr
    assert "\r" not in result.stdout + result.stderr

    more = models(tmp_path / "more", "json")
    code, text = on_a_terminal(
        ["apply", "--auto-approve", "--format", "json", "--models-dir", str(more)],
        server,
        tmp_path,
    )
    assert code == 0, text
    assert "Applying" not in text
    assert '"format_version": "1"' in text


def test_health_and_export_show_the_line_on_a_terminal_only(
    server: RegistryServer, tmp_path: Path
) -> None:
    folder = models(tmp_path / "models", "probe")
    assert (
        piped(["apply", "--auto-approve", "--models-dir", str(folder)], server, tmp_path).returncode
        == 0
    )

    code, text = on_a_terminal(["health", "--models-dir", str(folder)], server, tmp_path)
    assert code == 0, text
    assert f" {COUNT}/{COUNT}  0 failed, " in progress_line(text, "Probing")
    result = piped(["health", "--models-dir", str(folder)], server, tmp_path)
    assert "Probing" not in result.stdout + result.stderr

    code, text = on_a_terminal(["export", "--out-dir", "exported"], server, tmp_path)
    assert code == 0, text
    line = progress_line(text, "Writing")
    assert "/" in line and " files/s" in line
    result = piped(["export", "--out-dir", "again"], server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Writing" not in result.stdout + result.stderr
