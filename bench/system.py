"""How much of the server's CPU other processes took while a measurement ran.

On a shared machine a benchmark can be slowed by work that is not its own.
With the server pinned to a core, the core's busy time minus the server's own
CPU time is what everything else took from it; the report shows that share
for each measurement and warns when it is large.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Ticks:
    """One core's time since boot, in clock ticks, by kind (from /proc/stat)."""

    total: int
    idle: int  # idle + iowait
    tasks: int  # user + nice + system: processes, ours and others'
    interrupts: int  # irq + softirq (loopback networking lands here)
    steal: int  # taken by the hypervisor for other guests


def _per_cpu() -> dict[int, Ticks]:
    cpus: dict[int, Ticks] = {}
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return cpus
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        cpus[int(name[3:])] = Ticks(
            total=user + nice + system + idle + iowait + irq + softirq + steal,
            idle=idle + iowait,
            tasks=user + nice + system,
            interrupts=irq + softirq,
            steal=steal,
        )
    return cpus


def _process_ticks(pid: int | None) -> int:
    """utime + stime of `pid` (all its threads) in clock ticks; 0 when unknown."""
    if pid is None:
        return 0
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    per_cpu: dict[int, Ticks]
    server_ticks: int
    helper_ticks: int = 0


@dataclass(frozen=True)
class CpuShare:
    """Shares of the watched cores' time over an interval (0..1 per core)."""

    seconds: float
    cores: int
    server: float  # the server's CPU time
    others: float  # other processes (user + system time that is not the server's)
    interrupts: float
    steal: float
    # The bench's own helper on the same core (the hand-written SQL's process), when any.
    helper: float = 0.0

    @property
    def lost(self) -> float:
        """What the server could not have: other processes and the hypervisor's steal."""
        return self.others + self.steal


class CpuWatch:
    """Watch `cpus` (the server's cores; None: all), the server process `pid` and, apart
    from "other processes", the bench's own `helper` process sharing those cores."""

    def __init__(self, cpus: set[int] | None, pid: int | None, helper: int | None = None) -> None:
        self.cpus = cpus
        self.pid = pid
        self.helper = helper
        self.start = self.snapshot()

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            time.monotonic(), _per_cpu(), _process_ticks(self.pid), _process_ticks(self.helper)
        )

    def stop(self) -> CpuShare | None:
        end = self.snapshot()
        cpus = self.cpus if self.cpus is not None else set(end.per_cpu)
        cpus &= set(self.start.per_cpu) & set(end.per_cpu)
        if not cpus:
            return None

        def delta(kind: str) -> int:
            return sum(
                getattr(end.per_cpu[c], kind) - getattr(self.start.per_cpu[c], kind) for c in cpus
            )

        total = delta("total")
        if total <= 0:
            return None
        server = end.server_ticks - self.start.server_ticks
        helper = end.helper_ticks - self.start.helper_ticks
        return CpuShare(
            seconds=end.at - self.start.at,
            cores=len(cpus),
            server=min(1.0, server / total),
            others=max(0.0, (delta("tasks") - server - helper) / total),
            interrupts=delta("interrupts") / total,
            steal=delta("steal") / total,
            helper=min(1.0, helper / total),
        )


def busy_now(seconds: float = 1.0) -> dict[int, float]:
    """Each core's busy share over the next `seconds` (the harness itself is idle)."""
    before = _per_cpu()
    time.sleep(seconds)
    after = _per_cpu()
    shares: dict[int, float] = {}
    for cpu, ticks in after.items():
        if cpu in before:
            d_total = ticks.total - before[cpu].total
            d_idle = ticks.idle - before[cpu].idle
            shares[cpu] = 1 - d_idle / d_total if d_total > 0 else 0.0
    return shares


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
