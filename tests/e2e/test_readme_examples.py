"""The README's quick-start curl commands work verbatim against a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000"


def _quick_start_commands() -> list[str]:
    """Every `curl` command of the README's bash blocks that talks to the default URL."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    commands = []
    for block in blocks:
        for command in re.split(r"\n(?=curl )", block.replace("\\\n", " ")):
            command = "\n".join(
                line for line in command.splitlines() if not line.lstrip().startswith("#")
            ).strip()
            if command.startswith("curl") and README_URL in command:
                commands.append(command)
    return commands


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_quick_start_curl_commands(tmp_path: Path) -> None:
    commands = _quick_start_commands()
    assert len(commands) >= 2, "the README lost its quick-start examples"
    with ServerProcess(tmp_path / "data") as server:
        answers = []
        for command in commands:
            result = subprocess.run(
                ["bash", "-c", command.replace(README_URL, server.url) + " --fail-with-body -s"],
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
            assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
            answers.append(json.loads(result.stdout))
    assert answers[0] == {"accepted": 1, "duplicates": 0}
    assert answers[1]["results"] == [{"dimensions": ["/pricing"], "metrics": [1, 1]}]
