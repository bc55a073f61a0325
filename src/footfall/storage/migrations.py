"""Forward-only schema migrations for the DuckDB store.

Each migration is a version number and the statements that take the schema
from the previous version to it. They run at start, inside one transaction
each, and the version reached is recorded in `footfall_schema`. Never edit a
released migration: add the next one.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    description: str
    statements: tuple[str, ...]


DUCKDB_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event table and client-id dedup table",
        (
            """
            CREATE TABLE events (
                app VARCHAR NOT NULL,
                seq BIGINT NOT NULL,
                id UUID NOT NULL,
                ts TIMESTAMP NOT NULL,
                name VARCHAR NOT NULL,
                user_id VARCHAR,
                session_id VARCHAR,
                visitor_id UBIGINT NOT NULL,
                url VARCHAR,
                hostname VARCHAR,
                path VARCHAR,
                referrer VARCHAR,
                referrer_domain VARCHAR,
                source VARCHAR,
                utm_source VARCHAR,
                utm_medium VARCHAR,
                utm_campaign VARCHAR,
                utm_term VARCHAR,
                utm_content VARCHAR,
                browser VARCHAR,
                browser_version VARCHAR,
                os VARCHAR,
                os_version VARCHAR,
                device VARCHAR,
                country VARCHAR,
                ip VARCHAR,
                user_agent VARCHAR,
                duration DOUBLE,
                description VARCHAR,
                props JSON NOT NULL
            )
            """,
            # Only client-supplied ids live here: footfall's own UUIDv7 ids are
            # unique by construction, so only retries can collide.
            "CREATE TABLE client_event_ids (id UUID PRIMARY KEY)",
        ),
    ),
    Migration(
        2,
        "interactive flag (non-interactive events do not affect bounce)",
        ("ALTER TABLE events ADD COLUMN interactive BOOLEAN NOT NULL DEFAULT true",),
    ),
    Migration(
        3,
        "counts of events dropped on purpose (bots, unlisted apps, spam), by app, day, reason",
        (
            # Appended to, never updated: readers sum `n` (footfall/drops.py).
            """
            CREATE TABLE dropped_counts (
                app VARCHAR NOT NULL,
                day DATE NOT NULL,
                reason VARCHAR NOT NULL,
                n BIGINT NOT NULL
            )
            """,
        ),
    ),
)

LATEST_VERSION = DUCKDB_MIGRATIONS[-1].version
