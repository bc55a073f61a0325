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


# Version 4's visit attributes, written out (a released migration never changes, whatever
# the event model grows later): the origin columns, and each client column with the
# column that now holds its visit's value.
_V4_ORIGIN = (
    "referrer_domain",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
_V4_CLIENT = {
    "browser": "visit_browser",
    "browser_version": "visit_browser_version",
    "os": "visit_os",
    "os_version": "visit_os_version",
    "device": "visit_device",
    "country": "visit_country",
}


def _stamp_visits() -> tuple[str, ...]:
    """Version 4: the visit's client next to the event's own, and every event of a visit
    carrying its visit's attributes (origin and client), as ingest now stamps them.

    For stored rows, a visit's attributes are those of its first event by (ts, seq); an
    event without a session id keeps its own. The new columns first get each row's own
    client (one vectorised pass: ~2 s for 10 M rows); then only the rows whose values
    differ from their visit's are rewritten through the join (an UPDATE through a join
    costs per row: all 10 M rows of the bench data set take many minutes, the few that
    differ ~15 s).
    """
    attributes = (*_V4_ORIGIN, *_V4_CLIENT)
    stored = {**{c: c for c in _V4_ORIGIN}, **_V4_CLIENT}  # where each one is kept
    first = ", ".join(f"{c} := {c}" for c in attributes)
    differs = " OR ".join(f"events.{stored[c]} IS DISTINCT FROM f.first.{c}" for c in attributes)
    own_client = ", ".join(f"{visit} = {own}" for own, visit in _V4_CLIENT.items())
    visits = ", ".join(f"{stored[c]} = f.first.{c}" for c in attributes)
    # Every name above is a fixed column name of this module, never input.
    return (
        *(f"ALTER TABLE events ADD COLUMN {visit} VARCHAR" for visit in _V4_CLIENT.values()),
        f"UPDATE events SET {own_client}",  # noqa: S608
        # A struct is never NULL, so arg_min keeps a first event whose values are all NULL.
        f"UPDATE events SET {visits} "  # noqa: S608
        f"FROM (SELECT app, session_id, arg_min(struct_pack({first}), (ts, seq)) AS first "
        "FROM events WHERE session_id IS NOT NULL GROUP BY app, session_id) f "
        f"WHERE events.app = f.app AND events.session_id = f.session_id AND ({differs})",
    )


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
    Migration(
        4,
        "visit attributes on every event: the visit's origin in the origin columns, its "
        "client in visit_browser, visit_browser_version, visit_os, visit_os_version, "
        "visit_device, visit_country",
        _stamp_visits(),
    ),
)

LATEST_VERSION = DUCKDB_MIGRATIONS[-1].version
