"""The Markdown report: sections of text and tables, errors collected on the way."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ERROR_MARK = "**ERROR**"
WARNING_MARK = "**WARNING**"


def fmt_int(value: float) -> str:
    return f"{round(value):,}"


def fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_bytes(value: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


@dataclass
class Table:
    """A Markdown table; numeric tables right-align every column but the first."""

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    numeric: bool = True

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def render(self) -> str:
        align = ["---"] + ["---:" if self.numeric else "---"] * (len(self.headers) - 1)
        lines = [self.headers, align, *self.rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


@dataclass
class Section:
    title: str
    blocks: list[str | Table] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def text(self, paragraph: str) -> None:
        self.blocks.append(paragraph.strip())

    def table(self, headers: list[str], *, numeric: bool = True) -> Table:
        table = Table(headers, numeric=numeric)
        self.blocks.append(table)
        return table

    def error(self, message: str) -> None:
        """A measurement failed or a check did not hold: the run fails."""
        self.errors.append(message)
        self.blocks.append(f"{ERROR_MARK}: {_block(message)}")

    def warning(self, message: str) -> None:
        """Something worth a look that does not invalidate the numbers."""
        self.warnings.append(message)
        self.blocks.append(f"{WARNING_MARK}: {_block(message)}")

    def render(self) -> str:
        parts = [f"## {self.title}"]
        for block in self.blocks:
            parts.append(block.render() if isinstance(block, Table) else block)
        return "\n\n".join(parts)


def _block(message: str) -> str:
    """First line as text, the rest (server output…) as a code block."""
    first, _, rest = message.strip().partition("\n")
    return f"{first}\n\n```\n{rest.strip()}\n```" if rest.strip() else first


@dataclass
class Report:
    title: str
    intro: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        section = Section(title)
        self.sections.append(section)
        return section

    @property
    def errors(self) -> list[str]:
        return [f"{s.title}: {e}" for s in self.sections for e in s.errors]

    @property
    def warnings(self) -> list[str]:
        return [f"{s.title}: {w}" for s in self.sections for w in s.warnings]

    def render(self) -> str:
        parts = [f"# {self.title}", *self.intro]
        parts += [section.render() for section in self.sections]
        errors, warnings = self.errors, self.warnings
        if errors:
            status = f"{ERROR_MARK}: {len(errors)} problem(s):\n\n" + "\n".join(
                f"- {e.splitlines()[0]}" for e in errors
            )
        else:
            status = "OK: every measurement ran and every check passed."
        if warnings:
            status += f"\n\n{len(warnings)} warning(s):\n\n" + "\n".join(
                f"- {w.splitlines()[0]}" for w in warnings
            )
        parts.append(f"## Status\n\n{status}")
        return "\n\n".join(parts) + "\n"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_total() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision(root: Path) -> str:
    """The commit, and whether src/ differs from it (read-only: takes no index lock)."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "unknown"
    dirty = git("diff", "--quiet", "HEAD", "--", "src").returncode != 0
    return head.stdout.strip() + (" (src/ has uncommitted changes)" if dirty else "")


def machine_table(section: Section, *, root: Path, wrk: str | None, pinning: str) -> Table:
    table = section.table(["", ""], numeric=False)
    table.add("CPU", cpu_model())
    table.add("cores", f"{os.cpu_count()} (this run may use: {pinning})")
    table.add("RAM", fmt_bytes(memory_total()))
    table.add("OS", f"{platform.system()} {platform.release()}")
    table.add("Python", f"{platform.python_version()} ({platform.python_implementation()})")
    table.add("footfall", f"{version('footfall')}, git {git_revision(root)}")
    for package in ("duckdb", "uvicorn", "uvloop", "httptools", "fastapi", "msgspec", "pyarrow"):
        table.add(package, version(package))
    table.add("load generator", wrk or "wrk missing: Python threads (client-bound numbers)")
    return table


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
