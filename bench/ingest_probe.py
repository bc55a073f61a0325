"""A short ingest probe for iterating on the hot paths: footfall against the ceiling, same run.

    python -m bench.ingest_probe                       # every single-event route + batch
    python -m bench.ingest_probe --routes v1 --no-batch --duration 5
    python -m bench.ingest_probe --server-cpus 0,1     # both cores to the server (no ceiling)
    python -m bench.ingest_probe --routes '' --no-ceiling --batch-bodies 12   # batch only

The server runs under `taskset -c 0`, wrk (`-t1 -c64`) under `taskset -c 1`,
as in bench/run.py; the bare-ASGI ceiling (bench/ceiling.py) is measured in
the same run, so the printed ratio is comparable across runs even on a noisy
machine. Every request carries a browser User-Agent, so UA parsing, the
visitor hash and sessionizing run as for real traffic.

Batch: NDJSON bodies of 10,000 events with user agents, IPs, referrers and
UTM tags and nothing pre-enriched (full enrichment), posted by one client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import RunningServer, ceiling_spec, footfall_spec, pinned

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ROUTES: dict[str, tuple[str, bytes]] = {
    "v1": (
        "/api/v1/events",
        b'{"app":"probe","url":"https://probe.example/pricing","referrer":"https://www.google.com/"}',
    ),
    "plausible": (
        "/api/event",
        b'{"n":"pageview","u":"https://probe.example/pricing","d":"probe.example",'
        b'"r":"https://www.google.com/"}',
    ),
    "visit": (
        "/visit",
        b'{"user_id":"u-1","page_url":"https://probe.example/pricing","app":"probe"}',
    ),
    "visit-empty": ("/visit", b""),
}
_LUA = """\
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "{ua}"
done = function(summary, latency, requests)
  io.write(string.format('PROBE {{"requests":%d,"us":%d,"non2xx":%d,"errors":%d,' ..
    '"p50":%d,"p99":%d}}\\n', summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

_USER_AGENTS = [
    UA,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
]
_REFERRERS = [None, None, "https://www.google.com/", "https://news.ycombinator.com/item?id=1"]


@dataclass
class Run:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    cpu_us: float = 0.0  # server CPU (user + system) per request: robust on a busy machine


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(server: RunningServer, name: str, url: str, body: bytes, opts: dict[str, Any]) -> Run:
    # One unmeasured second first: caches (UA parse, referrers) and DuckDB's first
    # inserts would otherwise land in whichever route is measured first.
    wrk(url, body, **{**opts, "seconds": 1})
    before = cpu_seconds(server.pid)
    run = wrk(url, body, **opts)
    run.name = name
    requests = run.rps * opts["seconds"]
    run.cpu_us = (cpu_seconds(server.pid) - before) / requests * 1e6 if requests else 0.0
    return run


def wrk(url: str, body: bytes, *, seconds: int, connections: int, cpus: str | None) -> Run:
    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "probe.lua"
        script.write_text(_LUA.format(body=body.decode(), ua=UA))
        argv = [exe, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
        out = subprocess.run(pinned(argv, cpus), capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("PROBE "))
    raw = json.loads(line.removeprefix("PROBE "))
    return Run(
        url,
        raw["requests"] / (raw["us"] / 1e6),
        raw["p50"] / 1000,
        raw["p99"] / 1000,
        raw["non2xx"],
        raw["errors"],
    )


def batch_bodies(count: int, per_body: int, seed: int = 7) -> list[bytes]:
    """NDJSON bodies of `per_body` raw events each: nothing the pipeline derives is set."""
    rng = random.Random(seed)
    now = time.time()
    bodies = []
    for b in range(count):
        lines = []
        for i in range(per_body):
            visitor = rng.randrange(3000)
            event: dict[str, object] = {
                "app": f"batch{visitor % 4}",
                "ts": time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600 + (b * per_body + i) * 0.01)
                ),
                "url": f"https://site.example/p/{rng.randrange(200)}"
                + ("?utm_source=newsletter&utm_medium=email" if rng.random() < 0.1 else ""),
                "ip": f"10.1.{visitor // 250}.{visitor % 250}",
                "user_agent": _USER_AGENTS[visitor % len(_USER_AGENTS)],
            }
            referrer = _REFERRERS[rng.randrange(len(_REFERRERS))]
            if referrer:
                event["referrer"] = referrer
            if rng.random() < 0.05:
                event["name"] = "signup"
                event["props"] = {"plan": "pro"}
            lines.append(json.dumps(event, separators=(",", ":")))
        bodies.append(("\n".join(lines) + "\n").encode())
    return bodies


def batch(server: RunningServer, bodies: list[bytes]) -> tuple[float, list[float], float]:
    """Events/s over all bodies, one keep-alive client; each body's milliseconds; and the
    server's CPU microseconds per event."""
    host, port = server.host_port
    conn = http.client.HTTPConnection(host, port, timeout=300)
    headers = {"Content-Type": "application/x-ndjson"}
    events, times = 0, []
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/events", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 202:
            raise SystemExit(f"batch failed: {response.status} {payload[:300]!r}")
        events += int(json.loads(payload)["accepted"])
        times.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    cpu_us = (cpu_seconds(server.pid) - cpu_before) / events * 1e6
    return events / elapsed, times, cpu_us


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--routes", default="v1,plausible,visit", help=",".join(ROUTES))
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--client-cpus", default="1")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--no-batch", action="store_true")
    parser.add_argument("--batch-bodies", type=int, default=6)
    args = parser.parse_args(argv)
    opts: dict[str, Any] = {
        "seconds": args.duration,
        "connections": args.connections,
        "cpus": args.client_cpus,
    }

    runs: list[Run] = []
    if not args.no_ceiling:
        ceiling = RunningServer(ceiling_spec(), cpus=args.server_cpus).wait_ready()
        try:
            runs.append(measured(ceiling, "ceiling", ceiling.url + "/", ROUTES["v1"][1], opts))
        finally:
            ceiling.stop()
    with tempfile.TemporaryDirectory(prefix="footfall-probe-") as data:
        server = RunningServer(footfall_spec(Path(data)), cpus=args.server_cpus).wait_ready()
        try:
            for name in [r for r in args.routes.split(",") if r]:
                path, body = ROUTES[name]
                runs.append(measured(server, name, server.url + path, body, opts))
            if not args.no_batch:
                bodies = batch_bodies(args.batch_bodies, 10_000)
                rate, times, cpu_us = batch(server, bodies)
                print(
                    f"batch  {rate:>10,.0f} events/s  server CPU {cpu_us:.1f} us/event  "
                    "ms per 10k body: " + " ".join(f"{t:.0f}" for t in times),
                    flush=True,
                )
        finally:
            server.stop()
    base = runs[0].rps if runs and runs[0].name == "ceiling" else None
    for run in runs:
        ratio = f"{run.rps / base:6.0%}" if base else ""
        print(
            f"{run.name:<12} {run.rps:>9,.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
            f"p99 {run.p99_ms:6.2f} ms  non2xx {run.non_2xx}  errors {run.errors}  "
            f"CPU {run.cpu_us:5.1f} us/req  {ratio}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
