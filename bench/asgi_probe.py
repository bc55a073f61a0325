"""Where a single-event request's CPU goes, without sockets: ASGI calls in-process.

    python -m bench.asgi_probe                        # v1, 50,000 requests, 64 at a time
    python -m bench.asgi_probe --route visit --requests 20000

Runs the bare-ASGI ceiling app (bench/ceiling.py) and then footfall's app
(journal on, a fresh data dir) in this process on one event loop (uvloop), with
`--concurrency` clients each awaiting the app's `__call__` directly: no HTTP
parsing, no socket, no uvicorn. What is left is the app's own cost per request,
split by thread from /proc (utime + stime): the event loop thread (routing,
parsing, enrichment, handing the events to the writer, the answer), the writer
thread (journal append + fdatasync, acknowledgements) and the loader thread
(Arrow + DuckDB insert). Run it pinned (`taskset -c 0`) for one-core figures.

Add the HTTP server's own cost per request (the ceiling's, measured with wrk by
bench/run.py: about 1/20,000 s on this machine) to get a whole request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any

from bench.ingest_probe import ROUTES, UA

Message = MutableMapping[str, Any]
App = Callable[..., Coroutine[Any, Any, None]]


def post_scope(
    path: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    client: str = "10.0.0.1",
    user_agent: str = UA,
) -> dict[str, Any]:
    """The ASGI scope of a POST of `body` to `path`, as uvicorn would pass it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"user-agent", user_agent.encode()),
        ],
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _thread_cpu() -> dict[str, float]:
    """CPU seconds used so far by each Python thread of this process."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[thread.name] = (int(fields[11]) + int(fields[12])) / ticks
    return out


class _Lifespan:
    """Drives the app's lifespan protocol: start-up before the load, shutdown after."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"start-up failed: {message}")

    async def stop(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        if self.task is not None:
            await self.task


async def _load(app: App, path: str, body: bytes, requests: int, clients: int) -> dict[int, int]:
    statuses: dict[int, int] = {}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    async def client(first: int) -> None:
        for index in range(first, requests, clients):
            # A few hundred client addresses: visitors and visits as from real traffic.
            scope = post_scope(path, body, client=f"10.0.{index % 250}.{index % 7}")
            await app(scope, receive, send)

    await asyncio.gather(*(client(k) for k in range(clients)))
    return statuses


async def _measure(name: str, app: App, args: argparse.Namespace) -> None:
    path, body = ROUTES[args.route]
    lifespan = _Lifespan(app)
    await lifespan.start()
    try:
        await _load(app, path, body, min(args.requests, 5_000), args.concurrency)  # warm-up
        before, cpu0, wall0 = _thread_cpu(), time.process_time(), time.perf_counter()
        statuses = await _load(app, path, body, args.requests, args.concurrency)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        after = _thread_cpu()
    finally:
        await lifespan.stop()
    n = args.requests
    print(f"{name}: {n / wall:,.0f} requests/s, {cpu / n * 1e6:.1f} us of CPU each  {statuses}")
    for thread, seconds in sorted(after.items()):
        used = seconds - before.get(thread, 0.0)
        if used > 0:
            print(f"    {thread:24s} {used / n * 1e6:6.1f} us per request")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--route", choices=[r for r in ROUTES if r != "visit-empty"], default="v1")
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)

    import uvloop

    from bench.ceiling import app as ceiling

    with tempfile.TemporaryDirectory(prefix="footfall-asgi-probe-") as data_dir:
        os.environ["FOOTFALL_DATA_DIR"] = data_dir
        from footfall.app import create_app

        async def both() -> None:
            await _measure("bare-ASGI ceiling", ceiling, args)
            await _measure(f"footfall {ROUTES[args.route][0]}", create_app(), args)

        uvloop.run(both())


if __name__ == "__main__":
    main()
