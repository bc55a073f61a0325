"""Sample a server's resident memory in the background while a measurement runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Current RSS of `pid` from /proc (0 where unavailable)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class RssSeries:
    """(seconds since start, RSS bytes) samples, with the phase each was taken in."""

    samples: list[tuple[float, int, str]] = field(default_factory=list)

    def values(self, phase: str | None = None) -> list[int]:
        return [rss for _, rss, p in self.samples if rss and (phase is None or p == phase)]

    @property
    def peak(self) -> int:
        return max(self.values(), default=0)

    def edge_means(self, share: float = 0.1) -> tuple[float, float]:
        """Mean RSS of the first and of the last `share` of the samples."""
        values = [v for v in self.values() if v]
        if not values:
            return 0.0, 0.0
        k = max(1, int(len(values) * share))
        return sum(values[:k]) / k, sum(values[-k:]) / k


class RssSampler:
    """A daemon thread that records the RSS of `pid` every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.series = RssSeries()
        self.phase = ""
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.series.samples.append(
                (time.monotonic() - self._started, rss_bytes(self.pid), self.phase)
            )
            self._stop.wait(self.interval)
