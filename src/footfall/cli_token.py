"""`footfall token`: mint a JWT for contract 004 clients, for testing and for sites."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from footfall.auth import AuthConfigError, mint_token, parse_expiry, signing_secret
from footfall.settings import Settings


@click.command()
@click.option("--user", required=True, help="The token's subject (`sub`): the user it speaks for.")
@click.option(
    "--app",
    default=None,
    help="Limit the token to this app: requests for any other app are refused.",
)
@click.option(
    "--expires",
    default="30m",
    show_default=True,
    help="Lifetime: a number followed by s, m, h, d or w (e.g. 30m, 12h, 7d).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory whose generated secret signs the token when no secret is "
    "configured [FOOTFALL_DATA_DIR; ./footfall-data].",
)
def token(user: str, app: str | None, expires: str, data_dir: Path | None) -> None:
    """Print an HS256 JWT for USER, signed with the server's secret.

    The secret is the first of FOOTFALL_JWT_SECRET (or JWT_SECRET_KEY); without
    one, the secret `footfall serve` generates in the data directory (created
    here if the server has not started yet).
    """
    if not user.strip():
        raise click.BadParameter("must not be empty", param_hint="--user")
    try:
        lifetime = parse_expiry(expires)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from None
    try:
        settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
        secret = signing_secret(settings)
    except (ValidationError, AuthConfigError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(mint_token(secret, user, lifetime, app=app))
