"""The ASGI front door: the hottest ingest routes skip FastAPI's middleware and routing.

A routed FastAPI handler costs ~4-5x a bare ASGI callable for a 60-byte POST
(MEASUREMENTS.md: 4,600 vs 21,000 requests/s on one core). Ingest is the one
place that volume matters, so its routes are answered here directly. They
stay registered as FastAPI routes too, which keeps them in `/docs` and
`/openapi.json` (and answers any method this door does not take).

Two kinds of door, by (method, path):
- `hot_routes`: the leanest. The door reads the body (5 MiB limit) and the
  handler returns (status, body, headers); no Response object at all.
- `hot_endpoints`: a plain Starlette endpoint, `Request -> Response`, run
  without the middleware stack, the router's path matching and FastAPI's
  dependency solving. It may answer `Deferred(body)` to hand the request to
  FastAPI after all (an unusual request whose exact 422 FastAPI words best).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from footfall.ingest.v1 import MAX_BODY_BYTES, IngestRejected
from footfall.services import Services
from footfall.storage.base import StoreUnavailable
from footfall.web.errors import ingest_rejected_body, store_unavailable_body

log = logging.getLogger(__name__)

# (status, body, extra headers)
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
HotHandler = Callable[[Request, bytes, Services], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Deferred:
    """A hot endpoint's "not mine": FastAPI answers, reading `body` as the request body."""

    body: bytes


HotEndpoint = Callable[[Request], Awaitable[Response | Deferred]]


class BodyTooLarge(IngestRejected):
    def __init__(self, size: int | str, limit: int) -> None:
        super().__init__(413, f"body is {size} bytes; the limit is {limit}")


async def read_body(scope: Scope, receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body, refusing more than `limit` bytes before reading it all."""
    message: Message = await receive()
    if message["type"] == "http.disconnect":
        return b""
    first: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        # The common case: the server had the whole (small) body at once. No header
        # scan and no copy (~1 us of a single event's ~60 us in the event loop).
        if len(first) > limit:
            raise BodyTooLarge(len(first), limit)
        return first
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge(value.decode(), limit)
    chunks = bytearray(first)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks += message.get("body", b"")
        if len(chunks) > limit:
            raise BodyTooLarge(f"more than {len(chunks)}", limit)
        if not message.get("more_body", False):
            break
    return bytes(chunks)


async def _respond(send: Send, answer: Answer) -> None:
    status, body, headers = answer
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FootfallApp(FastAPI):
    """FastAPI, with a front door for (method, path) pairs listed in `hot_routes`."""

    hot_routes: dict[tuple[str, str], HotHandler]
    hot_endpoints: dict[tuple[str, str], HotEndpoint]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hot_routes = {}
        self.hot_endpoints = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = (scope["method"], scope["path"])
            handler = self.hot_routes.get(key)
            if handler is not None:
                await _serve_hot(handler, self.state.services, scope, receive, send)
                return
            endpoint = self.hot_endpoints.get(key)
            if endpoint is not None:
                await self._serve_endpoint(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _serve_endpoint(
        self, endpoint: HotEndpoint, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["app"] = self  # what Starlette sets: `request.app` finds the services
        try:
            outcome = await endpoint(Request(scope, receive))
        except StoreUnavailable as exc:
            outcome = _store_unavailable(exc, self.state.services)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            outcome = Response(
                b'{"detail":"internal server error"}', 500, media_type="application/json"
            )
        if isinstance(outcome, Deferred):
            await super().__call__(scope, _replay(outcome.body, receive), send)
        else:
            await outcome(scope, receive, send)


def freeze_startup_heap() -> None:
    """Exclude everything alive after start-up (frameworks, parsers, lookup tables) from
    garbage collection: ingest allocates many short-lived objects, and each collection
    otherwise walks the whole heap again. 10,000-event NDJSON batch: 304-314 -> 243 ms
    of CPU on one core."""
    gc.collect()
    gc.freeze()


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields `body` (already read) once, then whatever the client sends."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _store_unavailable(exc: StoreUnavailable, services: Services) -> Response:
    """The 503 the app's exception handler gives, with `Retry-After`."""
    retry_after = services.settings.retry_after_seconds
    return Response(
        orjson.dumps(store_unavailable_body(exc, retry_after)),
        503,
        {"retry-after": str(retry_after)},
        media_type="application/json",
    )


async def _serve_hot(
    handler: HotHandler, services: Services, scope: Scope, receive: Receive, send: Send
) -> None:
    try:
        body = await read_body(scope, receive)
        answer = await handler(Request(scope), body, services)
    except IngestRejected as exc:
        answer = (exc.status, orjson.dumps(ingest_rejected_body(exc)), [])
    except StoreUnavailable as exc:
        retry_after = services.settings.retry_after_seconds
        answer = (
            503,
            orjson.dumps(store_unavailable_body(exc, retry_after)),
            [(b"retry-after", str(retry_after).encode())],
        )
    except Exception:
        log.exception("unexpected error on %s %s", scope["method"], scope["path"])
        answer = (500, b'{"detail":"internal server error"}', [])
    await _respond(send, answer)
