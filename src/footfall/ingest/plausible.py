"""Plausible's Events API body (`POST /api/event`) → events, as Plausible reads it.

Field for field after Plausible's `Plausible.Ingestion.Request`: the body is
JSON whatever the Content-Type (its tracker sends `text/plain`); each field has
a long and a short name; errors are keyed by Plausible's own field names
(`event_name`, `url`, `domain`, `hash_mode`, `props`, `request`) with its
messages, so a client that parses them keeps working. What Plausible drops
silently (an over-long referrer's tail, bad props, a 31st prop, a malformed
revenue) is dropped silently here too. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from footfall.model import Event, now_us

MAX_URL_BYTES = 2_000
MAX_REFERRER_CHARS = 2_000
MAX_NAME_CHARS = 120
MAX_PROPS = 30
MAX_PROP_KEY_BYTES = 300
MAX_PROP_VALUE_BYTES = 2_000
# An engagement time this large came from an old tracker's bug; Plausible ignores it.
TOO_LARGE_ENGAGEMENT_MS = 30 * 24 * 3600 * 1000
ENGAGEMENT = "engagement"
# Plausible's earlier tracker sent `pageleave` with a scroll depth; read it the same way.
ENGAGEMENT_NAMES = frozenset({ENGAGEMENT, "pageleave"})
BLANK_ENGAGEMENT = (
    "engagement event requires a valid integer value for at least one of 'sd' or 'e' fields"
)
# Plausible.Goal.Revenue's currencies are ISO 4217 codes; footfall checks the shape only.
_CURRENCY_LENGTH = 3


ErrorSink = Callable[[str, str], None]


class PlausibleInvalid(Exception):
    """The request is refused with 400 and `{"errors": errors}`."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(slots=True)
class PlausibleRequest:
    """What one valid request says; `domains` are the apps it is recorded in."""

    name: str
    url: str
    hostname: str | None  # without www.; None where the URL has no host
    pathname: str
    domains: list[str]
    referrer: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    interactive: bool = True
    hash_mode: int | None = None
    revenue: tuple[str, str] | None = None  # (amount, currency)
    scroll_depth: int | None = None  # engagement: percent, 0-100
    engagement_ms: int | None = None  # engagement: engaged time in milliseconds


def _first(body: dict[str, Any], *names: str) -> Any:
    """Elixir's `body["n"] || body["name"]`: the first value that is neither null nor false."""
    for name in names:
        value = body.get(name)
        if value is not None and value is not False:
            return value
    return None


def sanitize_hostname(host: str) -> str:
    return host.strip().removeprefix("www.")


def parse(body: bytes) -> PlausibleRequest:
    """Validate one request body; PlausibleInvalid lists every problem found."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise PlausibleInvalid({"request": ["Unable to parse request body as json"]})
    errors: dict[str, list[str]] = {}

    def error(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    parts = None
    raw_url = _first(data, "u", "url")
    if raw_url is None:
        error("url", "is required")
    elif not isinstance(raw_url, str) or len(raw_url.encode()) > MAX_URL_BYTES:
        error("url", "must be a valid url")
    else:
        try:
            parts = urlsplit(raw_url)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            error("url", "must be a valid url")
            parts = None
        if parts is not None and parts.scheme.lower() == "data":
            error("url", "scheme is not allowed")
            parts = None
    host = sanitize_hostname(parts.hostname) if parts is not None and parts.hostname else None

    name = _event_name(_first(data, "n", "name"), error)
    hash_mode = _hash_mode(_first(data, "h", "hashMode"), error)
    pathname = _pathname(parts, hash_mode) if parts is not None else "/"

    referrer = _first(data, "r", "referrer")
    referrer = referrer[:MAX_REFERRER_CHARS] if isinstance(referrer, str) and referrer else None

    props = _props(_first(data, "m", "meta", "p", "props"))
    if any(
        len(k.encode()) > MAX_PROP_KEY_BYTES or len(v.encode()) > MAX_PROP_VALUE_BYTES
        for k, v in props.items()
    ):
        error(
            "props",
            f"keys should have at most {MAX_PROP_KEY_BYTES} bytes and values "
            f"{MAX_PROP_VALUE_BYTES} bytes",
        )

    scroll_depth = engagement_ms = None
    if name in ENGAGEMENT_NAMES:
        scroll_depth = _scroll_depth(data.get("sd"))
        engagement_ms = _engagement_time(data.get("e"))
        if name == ENGAGEMENT and scroll_depth is None and engagement_ms is None:
            error("event_name", BLANK_ENGAGEMENT)

    # Not `i || interactive`: `false` is the value that matters here.
    interactive = data.get("i") if isinstance(data.get("i"), bool) else data.get("interactive")
    domains = _domains(_first(data, "d", "domain"), host, error)
    if errors:
        raise PlausibleInvalid(errors)
    assert name is not None and raw_url is not None and domains is not None
    return PlausibleRequest(
        name=name,
        url=raw_url,
        hostname=host,
        pathname=pathname,
        domains=domains,
        referrer=referrer,
        props=props,
        interactive=interactive if isinstance(interactive, bool) else True,
        hash_mode=hash_mode,
        revenue=_revenue(_first(data, "revenue", "$")),
        scroll_depth=scroll_depth,
        engagement_ms=engagement_ms,
    )


def _event_name(value: Any, error: ErrorSink) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        if value is None:
            error("event_name", "can't be blank")
        else:
            error("event_name", "is invalid")
        return None
    name = str(value)
    if not name.strip():
        error("event_name", "can't be blank")
        return None
    if len(name) > MAX_NAME_CHARS:
        error("event_name", f"should be at most {MAX_NAME_CHARS} character(s)")
        return None
    return name


def _hash_mode(value: Any, error: ErrorSink) -> int | None:
    """Cast to an integer as Ecto does: integers, and strings of one."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    error("hash_mode", "is invalid")
    return None


def _pathname(parts: Any, hash_mode: int | None) -> str:
    pathname = unquote(parts.path or "/").rstrip()
    if hash_mode == 1 and parts.fragment:
        pathname = f"{pathname}#{unquote(parts.fragment)}"
    return pathname


def _props(raw: Any) -> dict[str, str]:
    """An object, or JSON text of one; nested and blank values are left out, the rest
    become strings, and the first 30 are kept."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
    if not isinstance(raw, dict):
        return {}
    props: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, list | dict) or value is None:
            continue
        text = _to_string(value)
        if not key.lstrip() or not text.lstrip():
            continue
        props[key] = text
        if len(props) == MAX_PROPS:
            break
    return props


def _to_string(value: Any) -> str:
    """As Elixir's `to_string`: true → "true", 1.5 → "1.5"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _domains(raw: Any, host: str | None, error: ErrorSink) -> list[str] | None:
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            error("domain", "can't be blank")
            return None
        return [sanitize_hostname(part) for part in raw.split(",")]
    if host is None:
        error("domain", "can't be blank")
        return None
    return [host]


def _scroll_depth(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, 100)
    return None


def _engagement_time(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value < TOO_LARGE_ENGAGEMENT_MS
    ):
        return value
    return None


def _revenue(raw: Any) -> tuple[str, str] | None:
    """`{"amount": 12.5, "currency": "EUR"}` (or its JSON text) → ("12.5", "EUR")."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(raw, dict):
        return None
    amount, currency = raw.get("amount"), raw.get("currency")
    if not isinstance(currency, str) or len(currency) != _CURRENCY_LENGTH:
        return None
    if not currency.isalpha() or not currency.isupper():
        return None
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        return None
    try:
        number = float(amount)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return str(amount).strip(), currency


def to_events(request: PlausibleRequest, *, ts: int | None = None) -> list[Event]:
    """One event per domain. Engagement events are stored non-interactive, with the
    scroll depth (`sd`, percent) and engaged time (`e`, ms) as props and the engaged
    time as `duration` in seconds; revenue as the props `revenue_amount` and
    `revenue_currency`."""
    when = ts if ts is not None else now_us()
    props: dict[str, Any] = dict(request.props)
    duration = None
    interactive = request.interactive
    if request.name in ENGAGEMENT_NAMES:
        interactive = False
        if request.scroll_depth is not None:
            props["sd"] = request.scroll_depth
        if request.engagement_ms is not None:
            props["e"] = request.engagement_ms
            duration = request.engagement_ms / 1000
    if request.revenue is not None:
        props["revenue_amount"], props["revenue_currency"] = request.revenue
    props_text = orjson.dumps(props).decode() if props else "{}"
    return [
        Event(
            app=domain,
            ts=when,
            name=request.name,
            url=request.url,
            hostname=request.hostname,
            path=request.pathname,
            referrer=request.referrer,
            props=props_text,
            interactive=interactive,
            duration=duration,
        )
        for domain in request.domains
    ]
