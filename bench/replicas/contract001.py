"""Contract 001 (visit-tracker-api) as its README describes it: the baseline for ingest.

FastAPI with a *sync* `POST /visit` handler (FastAPI runs it in its thread
pool) that bumps a counter under a `threading.Lock` and returns
`{"visits": n}`; `GET /stats` returns uptime, total and current time. Nothing
is stored: the counter lives in memory, as in the original. Served by uvicorn
with uvloop and httptools.

`python -m bench.replicas.contract001 [--port 0]` prints "serving on http://…".
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from typing import Any

from fastapi import FastAPI

from bench.replicas._serve import serve

app = FastAPI(title="visit-tracker-api (replica)")
_lock = threading.Lock()
_visits = 0
_started = time.time()


@app.post("/visit")
def visit() -> dict[str, int]:
    global _visits
    with _lock:
        _visits += 1
        return {"visits": _visits}


@app.get("/stats")
def stats() -> dict[str, Any]:
    with _lock:
        total = _visits
    return {
        "uptime_seconds": round(time.time() - _started, 1),
        "total_visits": total,
        "current_time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="contract 001 replica")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve(app, name="contract 001 replica", host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
