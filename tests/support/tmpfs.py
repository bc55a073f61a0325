"""Small tmpfs file systems of a test's own, to fill up or make read-only.

As root, chmod does not stop a write; a real full or read-only file system does.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted_tmpfs(mountpoint: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `mountpoint` (skipping the test where that is impossible)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (and chmod does not stop root from writing)")
    mountpoint.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no `mount` command here")
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the file system of `directory` with one file, leaving about `leave` bytes free."""
    filler = directory / "filler"
    out = filler.open("wb", buffering=0)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * chunk)
    finally:
        with contextlib.suppress(OSError):
            out.close()
    assert os.statvfs(directory).f_bavail == 0
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler
