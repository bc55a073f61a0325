"""Load generators: wrk for single small requests, Python threads for big bodies and queries.

A Python client tops out far below what the server can take for small
requests, so single-event ingest is measured with wrk (C, epoll, keep-alive).
The Python loop here is only a fallback that proves the harness works where
wrk is missing (`--smoke`); its numbers measure the client, not the server.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import pinned

WRK_INSTALL_HINT = "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu)"

_WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "{content_type}"
{extra_headers}

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {{"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"mean_us":%.1f,"max_us":%d,"p50_us":%d,' ..
    '"p90_us":%d,"p99_us":%d,"p999_us":%d}}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
"""
_RESULT = re.compile(r"^BENCH_RESULT (\{.*\})$", re.MULTILINE)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    """One closed-loop run of small POSTs. Latencies in milliseconds."""

    tool: str
    connections: int
    duration_s: float
    requests: int  # responses received (any status)
    non_2xx: int  # wrk counts status > 399 here; 3xx never happens on these endpoints
    socket_errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    rounds: int = 1
    # Set when rounds are combined: the median of the rounds' rates.
    rate: float | None = None

    @property
    def ok(self) -> int:
        """Requests answered 2xx: each one a durable acknowledgement for footfall."""
        return self.requests - self.non_2xx

    @property
    def rps(self) -> float:
        if self.rate is not None:
            return self.rate
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Rounds of one load as one result: req/s and latency percentiles are the medians of
    the rounds' (robust to a round that other work on the machine slowed down); counts
    and errors add up; max is the max."""
    if not results:
        raise ValueError("no rounds to combine")
    if len(results) == 1:
        return results[0]

    def median(values: Sequence[float]) -> float:
        return percentile(values, 50)

    errors: dict[str, int] = {}
    for result in results:
        for kind, count in result.socket_errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        tool=results[0].tool,
        connections=results[0].connections,
        duration_s=sum(r.duration_s for r in results),
        requests=sum(r.requests for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=errors,
        p50_ms=median([r.p50_ms for r in results]),
        p90_ms=median([r.p90_ms for r in results]),
        p99_ms=median([r.p99_ms for r in results]),
        p999_ms=median([r.p999_ms for r in results]),
        max_ms=max(r.max_ms for r in results),
        mean_ms=median([r.mean_ms for r in results]),
        rounds=len(results),
        rate=median([r.rps for r in results]),
    )


def wrk_version() -> str | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (unknown version)"


def wrk_post(
    url: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    connections: int = 64,
    duration_s: float = 15.0,
    threads: int = 1,
    cpus: str | None = None,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """POST `body` to `url` over `connections` keep-alive connections for `duration_s`."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError(WRK_INSTALL_HINT)
    text = body.decode()
    if "]==]" in text:
        raise ValueError("body cannot be embedded in the Lua script")
    with tempfile.TemporaryDirectory(prefix="footfall-bench-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        extra = "\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items()
        )
        script.write_text(
            _WRK_SCRIPT.format(body=text, content_type=content_type, extra_headers=extra)
        )
        argv = [
            wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
            "--timeout", "5s", "-s", str(script), url,
        ]  # fmt: skip
        out = subprocess.run(
            pinned(argv, cpus),
            capture_output=True,
            text=True,
            check=False,
            timeout=duration_s + 60,
        )
    match = _RESULT.search(out.stdout)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    raw: dict[str, Any] = json.loads(match.group(1))
    return LoadResult(
        tool="wrk",
        connections=connections,
        duration_s=raw["duration_us"] / 1e6,
        requests=raw["requests"],
        non_2xx=raw["status"],
        socket_errors={k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]},
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
    )


def python_post_loop(
    host: str,
    port: int,
    path: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    connections: int = 8,
    duration_s: float = 2.0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """The wrk fallback: `connections` threads, each a keep-alive loop of POSTs."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    non_2xx = [0] * connections
    errors = [0] * connections
    headers = {"Content-Type": content_type, **(headers or {})}
    deadline = time.perf_counter() + duration_s

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError:
                errors[slot] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                continue
            latencies[slot].append((time.perf_counter() - started) * 1000)
            if not 200 <= response.status < 300:
                non_2xx[slot] += 1
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [value for per_thread in latencies for value in per_thread]
    return LoadResult(
        tool="python threads",
        connections=connections,
        duration_s=elapsed,
        requests=len(flat),
        non_2xx=sum(non_2xx),
        socket_errors={"other": sum(errors)} if sum(errors) else {},
        p50_ms=percentile(flat, 50),
        p90_ms=percentile(flat, 90),
        p99_ms=percentile(flat, 99),
        p999_ms=percentile(flat, 99.9),
        max_ms=max(flat, default=0.0),
        mean_ms=sum(flat) / len(flat) if flat else 0.0,
    )


@dataclass
class BatchResult:
    requests: int
    events_sent: int
    events_accepted: int
    bytes_sent: int
    seconds: float
    latencies_ms: list[float]
    failures: list[str]

    @property
    def events_per_s(self) -> float:
        return self.events_accepted / self.seconds if self.seconds else 0.0


def post_bodies(
    host: str,
    port: int,
    path: str,
    bodies: Sequence[bytes],
    counts: Sequence[int],
    *,
    content_type: str = "application/x-ndjson",
    threads: int = 2,
) -> BatchResult:
    """POST every body once, `threads` at a time; bodies are built before the clock starts."""
    next_index = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    accepted = [0]
    headers = {"Content-Type": content_type}

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=300)
        while (index := next(next_index)) < len(bodies):
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=bodies[index], headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except OSError as exc:
                with lock:
                    failures.append(f"body {index}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=300)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status == 202:
                    accepted[0] += int(json.loads(payload)["accepted"])
                else:
                    failures.append(f"body {index}: HTTP {response.status}: {payload[:300]!r}")
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return BatchResult(
        requests=len(bodies),
        events_sent=sum(counts),
        events_accepted=accepted[0],
        bytes_sent=sum(len(body) for body in bodies),
        seconds=time.perf_counter() - started,
        latencies_ms=latencies,
        failures=failures,
    )


class JsonClient:
    """A keep-alive JSON client for queries; each call returns (status, body, milliseconds)."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def post(self, path: str, payload: Any) -> tuple[int, Any, float]:
        body = json.dumps(payload).encode()
        return self._request("POST", path, body, {"Content-Type": "application/json"})

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, float]:
        return self._request("GET", path, None, headers or {})

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, Any, float]:
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except OSError:
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        try:
            decoded: Any = json.loads(raw)
        except ValueError:
            decoded = raw.decode(errors="replace")
        return response.status, decoded, elapsed

    def close(self) -> None:
        self.conn.close()
