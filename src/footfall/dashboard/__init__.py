"""The browser dashboard: URL state, periods, the queries it runs, templates and assets.

Every number on the page comes from the typed `Query` (footfall.query), the same
path `POST /api/v1/query` takes; nothing here writes SQL.
"""
