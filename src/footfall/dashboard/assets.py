"""The dashboard's static files, read once from the package, with ETags and gzip copies.

Pages link each file with `?v=<digest>`; such a URL never changes content, so it is
cached for a year. Without the matching `v` a file is revalidated (ETag → 304).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
_COMPRESSIBLE = (".js", ".css", ".txt", ".svg")


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    gzipped: bytes | None
    content_type: str
    digest: str

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    @property
    def etag_gzip(self) -> str:
        return f'"{self.digest}-gz"'


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            out.update(_walk(entry, name + "/"))
            continue
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if suffix not in _TYPES:
            continue
        body = entry.read_bytes()
        zipped = gzip.compress(body, compresslevel=9, mtime=0) if suffix in _COMPRESSIBLE else None
        digest = hashlib.sha256(body).hexdigest()[:16]
        out[name] = Asset(name, body, zipped, _TYPES[suffix], digest)
    return out


ASSETS: dict[str, Asset] = _walk(files("footfall.dashboard") / "static")


def url(name: str) -> str:
    """The cache-busting URL of a static file (a KeyError for a missing one: a bug)."""
    return f"/dashboard/static/{name}?v={ASSETS[name].digest}"


def entity_tags(header: str) -> set[str]:
    """The tags of an If-None-Match header, compared weakly (RFC 9110 §13.1.2)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            quality = params.strip().removeprefix("q=").strip()
            try:
                return quality == "" or float(quality) > 0
            except ValueError:
                return False
    return False
