"""Numbers as the dashboard shows them: short, with the exact value kept for a title."""

from __future__ import annotations


def count(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) < 10_000:
        return f"{round(value):,}"
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value / 1_000_000:.1f}M".replace(".0M", "M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}%"


def decimal(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}"


def metric(name: str, value: float | None) -> str:
    if name == "visit_duration":
        return duration(value)
    if name == "bounce_rate":
        return percent(value)
    if name == "views_per_visit":
        return decimal(value)
    return count(value)


def flag(country: str | None) -> str:
    """The flag emoji of an ISO 3166 alpha-2 code ("" for anything else)."""
    if not country or len(country) != 2 or not country.isascii() or not country.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country.upper())
