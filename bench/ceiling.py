"""The ceiling: the least work a Python server can do to accept one event.

A bare ASGI callable (no framework, no routing, no storage) that reads the body,
decodes it with msgspec into a small struct, bumps a counter and answers
`202 {"accepted": 1}`. Served by uvicorn with uvloop and httptools, as footfall
is, so the difference between the two is footfall's own cost per request.

`python -m bench.ceiling [--port 0]` prints "serving on http://HOST:PORT", like
`footfall serve`, so the harness starts both the same way.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Visit(msgspec.Struct):
    app: str = "default"
    name: str = "pageview"
    url: str | None = None
    referrer: str | None = None


_DECODER = msgspec.json.Decoder(Visit)
_ACCEPTED = b'{"accepted":1}'
_HEADERS = [(b"content-type", b"application/json")]
_count = 0


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global _count
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status, payload = 200, b"{}"
    if scope["method"] == "POST":
        try:
            _DECODER.decode(body)
        except msgspec.DecodeError:
            status, payload = 400, b'{"error":"invalid event"}'
        else:
            _count += 1
            status, payload = 202, _ACCEPTED
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description="bare ASGI ingest ceiling")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
    )
    print(f"ceiling serving on http://{host}:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
