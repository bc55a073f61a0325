"""`GET /script.js`: footfall's own tracker, with an ETag and cache headers.

The body is `static/script.min.js`, generated from the readable `static/script.js`
by `scripts/build-tracker.sh` and committed; both ship in the wheel. It is read
once, and a gzip copy made once, when this module is imported.
"""

from __future__ import annotations

import gzip
import hashlib
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(tags=["tracker"])

SCRIPT = (files("footfall.web") / "static" / "script.min.js").read_bytes()
SCRIPT_GZIP = gzip.compress(SCRIPT, compresslevel=9, mtime=0)
_DIGEST = hashlib.sha256(SCRIPT).hexdigest()[:20]
ETAG = f'"{_DIGEST}"'
ETAG_GZIP = f'"{_DIGEST}-gz"'
CONTENT_TYPE = "text/javascript; charset=utf-8"
# Sites pick up a new tracker within a day; revalidating with the ETag is a 304.
CACHE_CONTROL = "public, max-age=86400"


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, compared weakly (RFC 9110 §13.1.2)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            quality = params.strip().removeprefix("q=").strip()
            return quality == "" or _positive(quality)
    return False


def _positive(quality: str) -> bool:
    try:
        return float(quality) > 0
    except ValueError:
        return False


@router.head("/script.js", include_in_schema=False)
@router.get(
    "/script.js",
    summary="footfall's tracker script",
    description="Pageviews (also on pushState/popstate, or hashchange with `data-hash`) and "
    "custom events `footfall(name, {props})`, sent to `POST /api/event` in Plausible's "
    "format. No cookies, no storage. Honours Do Not Track; skips localhost unless "
    "`data-allow-localhost`. Opt-in: `data-outbound-links`, `data-file-downloads`.",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {}}},
        304: {"description": "If-None-Match names the current version."},
    },
)
async def tracker_script(request: Request) -> Response:
    gzipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
    headers = {
        "ETag": ETAG_GZIP if gzipped else ETAG,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = _tags(if_none_match)
        if "*" in tags or ETAG in tags or ETAG_GZIP in tags:
            return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(SCRIPT_GZIP if gzipped else SCRIPT, media_type=CONTENT_TYPE, headers=headers)
