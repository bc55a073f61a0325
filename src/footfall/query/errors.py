"""Errors of the query layer."""


class QueryError(ValueError):
    """The query asks for something that does not exist; answered with a 400 naming it."""
