"""Serve an ASGI app the way the replicas' READMEs run it: uvicorn, uvloop, httptools."""

from __future__ import annotations

import socket
from typing import Any


def serve(app: Any, *, name: str, host: str, port: int) -> None:
    """Bind first (port 0 picks a free one), print the URL, then hand the socket to uvicorn."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, loop="uvloop", http="httptools"
    )
    print(f"{name} serving on http://{bound_host}:{bound_port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
