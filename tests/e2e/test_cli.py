"""The `footfall` command as a user runs it: help, version, configuration, start-up errors."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest

from footfall import __version__
from footfall.cli import main
from footfall.settings import Settings

_URL = re.compile(r"serving on http://([^\s:]+):(\d+)")


def _footfall_script() -> str:
    beside = Path(sys.executable).with_name("footfall")
    found = str(beside) if beside.exists() else shutil.which("footfall")
    if found is None:
        pytest.skip("the `footfall` console script is not installed")
    return found


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "footfall", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_clean_env(), **(env or {})},
        cwd=cwd,
        check=False,
    )


def _clean_env() -> dict[str, str]:
    """The environment without any FOOTFALL_* setting of whoever runs the tests."""
    return {key: value for key, value in os.environ.items() if not key.startswith("FOOTFALL_")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- version and help --------------------------------------------------------


def test_version_from_the_script_and_from_python_m() -> None:
    script = subprocess.run(
        [_footfall_script(), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    module = _run("--version")
    for result in (script, module):
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"footfall, version {__version__}"


def test_help_lists_every_command_with_what_it_does() -> None:
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    assert "footfall" in result.stdout and "FOOTFALL_" in result.stdout
    commands = result.stdout.split("Commands:", 1)[1]
    assert isinstance(main, click.Group)
    assert "serve" in main.commands
    for name, command in main.commands.items():
        line = next((line for line in commands.splitlines() if line.split()[:1] == [name]), "")
        assert line.split(maxsplit=1)[1:], f"`footfall --help` says nothing about {name}"
        assert command.help, f"`footfall {name}` has no help text"


@pytest.mark.parametrize("name", sorted(main.commands) if isinstance(main, click.Group) else [])
def test_every_option_of_every_command_is_documented(name: str) -> None:
    result = _run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert isinstance(main, click.Group)
    for param in main.commands[name].params:
        if isinstance(param, click.Option):
            assert param.help, f"`footfall {name} {param.opts[0]}` has no help"
            assert param.opts[0] in result.stdout, f"{param.opts[0]} missing from --help"


def test_serve_help_names_the_variable_behind_every_option() -> None:
    result = _run("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "SIGTERM" in result.stdout
    text = " ".join(result.stdout.split())  # undo click's line wrapping
    assert isinstance(main, click.Group)
    options = [p for p in main.commands["serve"].params if isinstance(p, click.Option)]
    assert {"host", "port", "data_dir", "store"} <= {p.name for p in options}
    for param in options:
        assert param.name in Settings.model_fields, f"{param.name} is not a setting"
        variable = f"FOOTFALL_{(param.name or '').upper()}"
        assert variable in text, f"`serve --help` does not name {variable}"


# -- configuration -----------------------------------------------------------


class _Serving:
    """`footfall serve` as a user starts it: no flags unless given."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [_footfall_script(), "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**_clean_env(), **env},
            cwd=cwd,
        )
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline()
        match = _URL.search(self.first_line)
        if match is None:
            self.stop()
            rest = self.proc.stdout.read()
            pytest.fail(f"no URL printed:\n{self.first_line}{rest[-3000:]}")
        self.host, self.port = match.group(1), int(match.group(2))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{self.host}:{self.port}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("the server never answered /healthz")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def serving() -> Iterator[list[_Serving]]:
    started: list[_Serving] = []
    yield started
    for server in started:
        server.stop()


@pytest.mark.slow
def test_serve_takes_port_and_data_dir_from_the_environment(
    tmp_path: Path, serving: list[_Serving]
) -> None:
    port = _free_port()
    data_dir = tmp_path / "from-env"
    server = _Serving(
        env={"FOOTFALL_PORT": str(port), "FOOTFALL_DATA_DIR": str(data_dir)}, cwd=tmp_path
    )
    serving.append(server)
    assert (server.host, server.port) == ("127.0.0.1", port)
    assert f"http://127.0.0.1:{port}" in server.first_line
    assert (data_dir / "footfall.duckdb").is_file()
    assert not (tmp_path / "footfall-data").exists(), "the default data dir was used"


@pytest.mark.slow
def test_a_flag_wins_over_the_environment(tmp_path: Path, serving: list[_Serving]) -> None:
    data_dir = tmp_path / "from-flag"
    server = _Serving(
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        env={"FOOTFALL_PORT": "not-a-port", "FOOTFALL_DATA_DIR": str(tmp_path / "from-env")},
        cwd=tmp_path,
    )
    serving.append(server)
    assert server.port > 0
    assert (data_dir / "footfall.duckdb").is_file()
    assert not (tmp_path / "from-env").exists()


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("FOOTFALL_PORT", "eighty", "port"),
        ("FOOTFALL_PORT", "70000", "port"),
        ("FOOTFALL_PORT", "-1", "port"),
        ("FOOTFALL_STORE", "postgres://db", "unknown store"),
        ("FOOTFALL_CLUSTER", "main", "cluster 'main' needs a clickhouse:// store"),
        ("FOOTFALL_DUCKDB_MEMORY_LIMIT", "lots", "a size with a unit (512MB, 2GB, 1GiB)"),
        ("FOOTFALL_DUCKDB_MEMORY_LIMIT", "512", "a size with a unit (512MB, 2GB, 1GiB)"),
    ],
)
def test_a_bad_setting_in_the_environment_is_a_clear_error(
    tmp_path: Path, variable: str, value: str, complaint: str
) -> None:
    result = _run("serve", env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "invalid configuration" in result.stderr
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "footfall-data").exists(), "it started anyway"


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("serve", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr
    assert "Traceback" not in result.stderr
