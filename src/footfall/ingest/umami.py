"""Umami's collect body (`POST /api/send`, v2 and v3) → an event, as Umami reads it.

`{"type": "event" | "identify" | "engagement" | "performance", "payload": {…}}`
after Umami's `src/app/api/send/route.ts` and its zod schema: the app is the
`website` id; an event without `name` is a pageview; the URL may be a path,
resolved against `hostname` (else `https://localhost`); the path keeps the
hash (`/#/route`); a referrer on the event's own domain is no referrer.
Invalid bodies answer Umami's 400, `{"error": {"message": "Bad request",
"code": "bad-request", "status": 400, "errors": [...], "properties": {...}}}`,
where `errors`/`properties` are zod's error tree naming each field.
Pure functions, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import orjson

from footfall.model import PAGEVIEW, Event, now_us

TYPES = ("event", "identify", "engagement", "performance")
IDENTIFY = "$identify"
ENGAGEMENT = "engagement"
MAX_NAME_CHARS = 50  # v2's schema; the event_name column of v3 is varchar(50) too
MAX_HOSTNAME_CHARS = 253
MAX_DISTINCT_ID_CHARS = 256
MAX_ENGAGEMENT_MS = 86_400_000
MAX_FUTURE_SKEW_US = 10 * 60 * 1_000_000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# v3 refuses names and tags that a spreadsheet would run as a formula.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_RESERVED_IN_URI = frozenset(b";/?:@&=+$,#")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


ErrorSink = Callable[[tuple[str, ...], str], None]


class UmamiInvalid(Exception):
    """The request is refused with Umami's 400 body."""

    def __init__(
        self,
        message: str = "Bad request",
        *,
        root: list[str] | None = None,
        fields: dict[tuple[str, ...], list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.root = root or []
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "code": "bad-request", "status": 400}
        if self.root or self.fields:
            error.update(_tree(self.root, self.fields))
        return {"error": error}


def _tree(root: list[str], fields: dict[tuple[str, ...], list[str]]) -> dict[str, Any]:
    """zod's `treeifyError` shape: {errors, properties: {name: {errors, properties?}}}."""
    tree: dict[str, Any] = {"errors": list(root)}
    for path, messages in fields.items():
        node = tree
        for part in path:
            node = node.setdefault("properties", {}).setdefault(part, {"errors": []})
        node["errors"].extend(messages)
    return tree


@dataclass(slots=True)
class UmamiRequest:
    type: str
    website: str  # lower case
    url: str  # absolute
    hostname: str | None  # lower case, without www.
    path: str
    referrer: str | None = None  # absolute
    name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    tag: str | None = None
    distinct_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    ts: int | None = None  # µs; the `timestamp` a server-side sender set
    engagement_ms: int | None = None


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _expected(kind: str, value: Any) -> str:
    return f"Invalid input: expected {kind}, received {_js_type(value)}"


def parse(body: bytes, *, now: int | None = None) -> UmamiRequest:
    """Validate one request body; UmamiInvalid names every field that is wrong."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UmamiInvalid(root=["Invalid input: expected object, received undefined"]) from None
    if not isinstance(data, dict):
        raise UmamiInvalid(root=[_expected("object", data)])
    errors: dict[tuple[str, ...], list[str]] = {}

    def error(path: tuple[str, ...], message: str) -> None:
        errors.setdefault(path, []).append(message)

    kind = data.get("type")
    if kind not in TYPES:
        options = "|".join(f'"{t}"' for t in TYPES)
        error(("type",), f"Invalid option: expected one of {options}")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        error(("payload",), _expected("object", payload))
        raise UmamiInvalid(fields=errors)

    def text(key: str, limit: int | None = None, safe: bool = False) -> str | None:
        value = payload.get(key)
        if value is None and key not in payload:
            return None
        if not isinstance(value, str):
            error(("payload", key), _expected("string", value))
            return None
        if limit is not None and len(value) > limit:
            error(("payload", key), f"Too big: expected string to have <={limit} characters")
            return None
        if safe and _FORMULA.match(value):
            error(
                ("payload", key),
                "Value must not start with =, +, -, @, tab, or carriage return",
            )
            return None
        return value

    website = text("website")
    if website is None and "website" not in payload:
        if "link" in payload or "pixel" in payload:
            error(("payload", "website"), "links and pixels are not supported: send website")
        else:
            error(("payload", "website"), "Invalid input: expected string, received undefined")
    elif website is not None and not _UUID.match(website):
        error(("payload", "website"), "Invalid UUID")
    hostname = text("hostname", MAX_HOSTNAME_CHARS)
    for key in ("language", "screen", "title", "userAgent"):
        text(key)
    url = text("url")
    referrer = text("referrer")
    name = text("name", MAX_NAME_CHARS, safe=True)
    tag = text("tag", MAX_NAME_CHARS, safe=True)
    distinct_id = text("id")
    ip = text("ip")
    if ip is not None:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            error(("payload", "ip"), "Invalid IP address")
    event_data = payload.get("data")
    if event_data is not None and not isinstance(event_data, dict):
        error(("payload", "data"), _expected("object", event_data))
    ts = _timestamp(payload.get("timestamp"), now, error)
    engagement = payload.get("engagement")
    if engagement is not None and not (
        isinstance(engagement, int)
        and not isinstance(engagement, bool)
        and 0 < engagement <= MAX_ENGAGEMENT_MS
    ):
        error(("payload", "engagement"), f"Invalid input: expected int in 1..{MAX_ENGAGEMENT_MS}")

    base = f"https://{hostname}" if hostname else "https://localhost"
    page = _resolve(url or "", base)
    if page is None:
        error(("payload", "url"), "Invalid URL.")
    event_domain = _domain(hostname) if hostname else (_domain(page.hostname) if page else None)
    resolved_referrer = None
    if referrer:
        ref = _resolve(referrer, f"https://{event_domain}" if event_domain else base)
        if ref is None:
            error(("payload", "referrer"), "Invalid URL.")
        else:
            resolved_referrer = ref.geturl()
    if errors:
        raise UmamiInvalid(fields=errors)
    assert website is not None and page is not None and isinstance(kind, str)
    return UmamiRequest(
        type=kind,
        website=website.lower(),
        url=page.geturl(),
        hostname=event_domain,
        path=_path(page),
        referrer=resolved_referrer,
        name=name or None,
        data=event_data or {},
        tag=tag,
        distinct_id=distinct_id[:MAX_DISTINCT_ID_CHARS] if distinct_id else None,
        ip=ip,
        user_agent=payload.get("userAgent") or None,
        ts=ts,
        engagement_ms=engagement if isinstance(engagement, int) else None,
    )


def _timestamp(value: Any, now: int | None, error: ErrorSink) -> int | None:
    """`timestamp` is Unix seconds (an integer, or a string of one)."""
    if value is None:
        return None
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = int(value.strip())
        except ValueError:
            seconds = None
    if seconds is None:
        error(("payload", "timestamp"), _expected("int", value))
        return None
    ts = seconds * 1_000_000
    if ts > (now if now is not None else now_us()) + MAX_FUTURE_SKEW_US:
        error(("payload", "timestamp"), "timestamp is more than 10 minutes in the future")
        return None
    return ts


def _resolve(url: str, base: str) -> SplitResult | None:
    """JavaScript's `new URL(url, base)`, or None where it would throw."""
    try:
        parts = urlsplit(urljoin(base, url.strip()))
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.hostname):
        return None
    return parts


def _domain(host: str | None) -> str | None:
    return host.strip().lower().removeprefix("www.") if host else None


def _path(page: SplitResult) -> str:
    """Path and hash, as Umami stores them (`/#/route` for a hash router), URI-decoded."""
    path = page.path or "/"
    if path == "/undefined":  # `new URL(undefined, base)`: the tracker sent no url
        path = "/"
    if page.fragment:
        path = f"{path}#{page.fragment}"
    return decode_uri(path)


def decode_uri(text: str) -> str:
    """JavaScript's `decodeURI`: escapes of reserved characters (`%2F`, `%23`…) stay;
    text with a malformed escape is returned unchanged, as Umami's `safeDecodeURI` does."""

    def run(match: re.Match[str]) -> str:
        raw = match.group(0)
        data = bytes.fromhex(raw.replace("%", ""))
        decoded = data.decode("utf-8")  # UnicodeDecodeError: handled below
        out: list[str] = []
        offset = 0
        for char in decoded:
            size = len(char.encode())
            if size == 1 and data[offset] in _RESERVED_IN_URI:
                out.append(raw[offset * 3 : offset * 3 + 3])
            else:
                out.append(char)
            offset += size
        return "".join(out)

    try:
        return _ESCAPES.sub(run, text)
    except UnicodeDecodeError:
        return text


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested event data → dotted keys (`{"a": {"b": 1}}` → `{"a.b": 1}`), as Umami stores
    it; arrays are kept as their JSON text, nulls are left out."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = orjson.dumps(value).decode()
        elif value is not None:
            out[name] = value
    return out


def to_event(request: UmamiRequest) -> Event | None:
    """The event to store, or None for what footfall does not store (performance
    beacons, an identify call with neither id nor data, an engagement without time).

    Pageviews and custom events carry `data` (flattened) and `tag` as props;
    `identify` is a non-interactive `$identify` event with the data as props;
    `engagement` is a non-interactive `engagement` event with the engaged time
    as `duration` (seconds) and prop `e` (ms). The distinct `id` is the user id.
    """
    props = flatten(request.data)
    if request.tag is not None:
        props.setdefault("tag", request.tag)
    if request.type == "event":
        name, interactive, duration = request.name or PAGEVIEW, True, None
    elif request.type == "identify":
        if not request.data and request.distinct_id is None:
            return None
        name, interactive, duration = IDENTIFY, False, None
    elif request.type == ENGAGEMENT:
        if request.engagement_ms is None:
            return None
        props["e"] = request.engagement_ms
        name, interactive, duration = ENGAGEMENT, False, request.engagement_ms / 1000
    else:
        return None
    event = Event(
        app=request.website,
        name=name,
        url=request.url,
        hostname=request.hostname,
        path=request.path,
        referrer=request.referrer,
        props=orjson.dumps(props).decode() if props else "{}",
        interactive=interactive,
        duration=duration,
        user_id=request.distinct_id,
    )
    if request.ts is not None:
        event.ts = request.ts
    return event
