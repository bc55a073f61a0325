"""Start a server under test as a real subprocess, optionally pinned to CPUs.

Every server the harness runs prints "serving on http://HOST:PORT" on stdout
when it listens (`footfall serve --port 0` does; so does bench/ceiling.py);
baselines added later (replicas of the contract servers) follow the same rule.
"""

from __future__ import annotations

import collections
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
_URL = re.compile(r"serving on (http://\S+)")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server. `argv` must make it print "serving on http://…"."""

    name: str
    argv: tuple[str, ...]
    health_path: str = "/healthz"
    env: dict[str, str] = field(default_factory=dict)


def footfall_spec(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> ServerSpec:
    return ServerSpec(
        name="footfall",
        env=env or {},
        argv=(
            sys.executable, "-m", "footfall", "serve",
            "--port", "0", "--data-dir", str(data_dir), "--log-level", "warning",
            *extra,
        ),
    )  # fmt: skip


def ceiling_spec() -> ServerSpec:
    return ServerSpec(
        name="bare ASGI ceiling",
        argv=(sys.executable, "-m", "bench.ceiling", "--port", "0"),
        health_path="/",
    )


def pinned(argv: tuple[str, ...] | list[str], cpus: str | None) -> list[str]:
    """`argv` under `taskset -c cpus` (taskset execs, so the pid stays the program's)."""
    if cpus is None:
        return list(argv)
    taskset = shutil.which("taskset")
    if taskset is None:
        raise RuntimeError("taskset not found (util-linux); run with --no-pin")
    return [taskset, "-c", cpus, *argv]


class RunningServer:
    """A started server: its URL, its pid (for RSS), and the tail of its output."""

    def __init__(self, spec: ServerSpec, *, cpus: str | None) -> None:
        self.spec = spec
        self.cpus = cpus
        self.url = ""
        self.exit_code: int | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=200)
        env = {**os.environ, **spec.env}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self.proc = subprocess.Popen(
            pinned(spec.argv, cpus),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def wait_ready(self, timeout: float = 60.0) -> RunningServer:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self._tail.append(line)
            if match := _URL.search(line):
                self.url = match.group(1).rstrip("/")
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"{self.spec.name} did not start:\n{self.output_tail()}")
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        host, port = self.host_port
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(host, port, timeout=2)
                conn.request("GET", self.spec.health_path)
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
                conn.close()
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.spec.name} never became healthy:\n{self.output_tail()}")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._tail.append(line)

    def output_tail(self, lines: int = 30) -> str:
        return "".join(list(self._tail)[-lines:])

    def memory(self) -> tuple[int, int]:
        """(current RSS, peak RSS) in bytes, from /proc; (0, 0) where unavailable."""
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0, 0
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) * 1024
        return values["VmRSS"], values["VmHWM"]

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (the server drains and exits), SIGKILL after `timeout`; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.exit_code = self.proc.returncode
        return self.exit_code

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(spec: ServerSpec, *, cpus: str | None, timeout: float = 60.0) -> RunningServer:
    return RunningServer(spec, cpus=cpus).wait_ready(timeout)


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def replica001_spec() -> ServerSpec:
    return ServerSpec(
        name="contract 001 replica",
        argv=(sys.executable, "-m", "bench.replicas.contract001", "--port", "0"),
    )


def replica003_spec(database: Path) -> ServerSpec:
    return ServerSpec(
        name="contract 003 replica",
        argv=(
            sys.executable, "-m", "bench.replicas.contract003",
            "--port", "0", "--db", str(database),
        ),
    )  # fmt: skip
