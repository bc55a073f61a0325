"""`footfall token`: mint a JWT for contract 004 clients (filled in with the JWT work)."""

from __future__ import annotations

import click


@click.command()
def token() -> None:
    """Mint a JWT for testing and for sites (not yet available)."""
    raise click.ClickException("not implemented yet")
