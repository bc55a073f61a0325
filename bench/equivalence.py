"""Check that bench/direct_load.py stores what footfall's HTTP ingest stores.

The same generated events go into two real servers: one over
`POST /api/v1/events` (NDJSON), one from a file written by direct_load. Every
query of bench/queries.py must answer the same on both. Visitor ids differ in
value by design (daily salts are random), so only answers are compared.

`python -m bench.equivalence [--events N]` exits 1 and prints the differences.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import datagen, direct_load
from bench.loadgen import JsonClient, post_bodies
from bench.queries import DASHBOARD
from bench.servers import footfall_spec, start


def answers(host: str, port: int) -> dict[str, Any]:
    client = JsonClient(host, port)
    try:
        out: dict[str, Any] = {}
        for case in DASHBOARD:
            status, body, _ = client.post("/api/v1/query", case.body)
            out[case.name] = body["results"] if status == 200 else (status, body)
        return out
    finally:
        client.close()


def differences(events: int, seed: int = datagen.DEFAULT_SEED) -> list[str]:
    """Load `events` both ways and return what differs (empty: identical answers)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    data = datagen.generate(events, seed=seed, now=now, batch_size=2_000)
    sim = datagen.simulate(events, seed=seed, now=now)
    with tempfile.TemporaryDirectory(prefix="footfall-equivalence-") as tmp:
        over_http, direct = Path(tmp) / "http", Path(tmp) / "direct"
        direct_load.load_footfall_store(direct_load.arrow_events(sim), direct / "footfall.duckdb")
        with start(footfall_spec(over_http), cpus=None) as server:
            host, port = server.host_port
            result = post_bodies(host, port, "/api/v1/events", data.bodies, data.body_events)
            if result.failures:
                return [f"HTTP ingest failed: {result.failures[:3]}"]
            expected = answers(host, port)
        with start(footfall_spec(direct), cpus=None) as server:
            got = answers(*server.host_port)
    return [
        f"{name}: over HTTP {expected[name]!r}, direct {got[name]!r}"
        for name in expected
        if expected[name] != got[name]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    problems = differences(args.events)
    for problem in problems:
        print(problem)
    print("identical" if not problems else f"{len(problems)} queries differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
