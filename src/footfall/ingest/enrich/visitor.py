"""Cookieless visitor ids: a keyed hash that cannot follow anyone across days.

The key is a random salt that changes every UTC day and is deleted after 48
hours (kept that long so a visit crossing midnight keeps its visitor). Once a
salt is gone, nobody — us included — can link that day's ids to an IP or a
user agent again. Raw IPs never need to be stored for this.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import threading
from pathlib import Path

SALT_RETENTION = dt.timedelta(hours=48)


class DailySalts:
    """Random per-day salts, persisted (mode 0600) so a restart keeps today's visitors."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._salts: dict[str, bytes] = {}
        # Days already past retention (imports of old data) get salts that are
        # never written down and die with the process.
        self._ephemeral: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            stored = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return  # unreadable salts only mean new visitor ids; never fail ingest for it
        self._salts = {day: bytes.fromhex(value) for day, value in stored.items()}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({day: salt.hex() for day, salt in self._salts.items()}, handle)
        os.replace(tmp, self.path)

    def salt_for(self, day: dt.date, now: dt.datetime | None = None) -> bytes:
        """The salt of `day`, created on first use; salts older than 48 h are forgotten."""
        key = day.isoformat()
        salt = self._salts.get(key)
        if salt is not None:
            return salt
        now = now or dt.datetime.now(dt.UTC)
        cutoff = (now - SALT_RETENTION).date()
        if day < cutoff:
            return self._ephemeral.setdefault(key, secrets.token_bytes(16))
        with self._lock:
            if key not in self._salts:
                self._salts = {
                    d: s for d, s in self._salts.items() if dt.date.fromisoformat(d) >= cutoff
                }
                self._salts[key] = secrets.token_bytes(16)
                # A read-only data dir must not stop ingest; the writer reports it.
                with contextlib.suppress(OSError):
                    self._save()
            return self._salts[key]


def anonymous_visitor_id(salt: bytes, app: str, ip: str, user_agent: str) -> int:
    """64-bit visitor id from the day's salt, the app, the client IP and its user agent."""
    digest = hashlib.blake2b(
        f"{app}\x00{ip}\x00{user_agent}".encode(), key=salt, digest_size=8
    ).digest()
    return int.from_bytes(digest, "big")


def known_visitor_id(app: str, user_id: str) -> int:
    """Visitor id for an event whose client names its user: the same user is one visitor."""
    digest = hashlib.blake2b(f"{app}\x00{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
