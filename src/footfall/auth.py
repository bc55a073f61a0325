"""JWT verification for contract 004, and minting tokens for `footfall token`.

The original service fell back to reading a token *without* verifying it when
the signature did not match its own secret, which let anyone forge any user.
footfall verifies every token: HS256 against any of the configured secrets
(several, for rotation), or RS256/ES256 against a configured public key so
tokens from another issuer still work. `exp` and `sub` are required.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from footfall.settings import Settings

log = logging.getLogger(__name__)

SECRET_FILE = "jwt_secret"
HMAC_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32  # RFC 7518 §3.2 for HS256

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class TokenRejected(Exception):
    """A token that does not authenticate anyone; the message says why (answered with 401)."""


class AuthConfigError(Exception):
    """The configured secret or public key cannot be used."""


@dataclass(frozen=True, slots=True)
class JWTVerifier:
    secrets: tuple[str, ...]
    public_key: PublicKey | None = None
    public_algorithm: str | None = None  # RS256 or ES256, matching `public_key`

    @property
    def accepted_algorithms(self) -> tuple[str, ...]:
        extra = (self.public_algorithm,) if self.public_algorithm else ()
        return (HMAC_ALGORITHM, *extra)

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`; TokenRejected unless signature, `exp` and `sub` hold."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"malformed token: {exc}") from None
        algorithm = header.get("alg")
        keys: tuple[str | PublicKey, ...]
        if algorithm == HMAC_ALGORITHM:
            keys = self.secrets
        elif algorithm is not None and algorithm == self.public_algorithm:
            assert self.public_key is not None
            keys = (self.public_key,)
        else:
            raise TokenRejected(
                f"signing algorithm {algorithm!r} is not accepted; "
                f"accepted: {', '.join(self.accepted_algorithms)}"
            )
        for key in keys:
            try:
                with warnings.catch_warnings():
                    # Short HS256 secrets are the operator's choice; warned once at start.
                    warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                    claims: dict[str, Any] = jwt.decode(
                        token,
                        key,
                        algorithms=[algorithm],
                        options={"require": ["exp", "sub"]},
                    )
            except jwt.InvalidSignatureError:
                continue  # perhaps the next secret (rotation)
            except jwt.ExpiredSignatureError:
                raise TokenRejected("token has expired") from None
            except jwt.MissingRequiredClaimError as exc:
                raise TokenRejected(f"token has no {exc.claim!r} claim") from None
            except (jwt.PyJWTError, ValueError, TypeError) as exc:
                raise TokenRejected(f"invalid token: {exc}") from None
            subject = claims.get("sub")
            if not isinstance(subject, str) or not subject:
                raise TokenRejected("token's 'sub' claim must be a non-empty string")
            return claims
        raise TokenRejected("token signature does not verify")


def configured_secrets(settings: Settings) -> tuple[str, ...]:
    """The HS256 secrets of the settings (comma-separated), or the data dir's generated one."""
    configured = tuple(part.strip() for part in settings.jwt_secret.split(",") if part.strip())
    return configured or (ensure_secret(settings.data_dir),)


def signing_secret(settings: Settings) -> str:
    """The secret new tokens are signed with: the first configured one."""
    return configured_secrets(settings)[0]


def ensure_secret(data_dir: Path) -> str:
    """The secret kept in `data_dir`, generated (mode 0600) if there is none yet.

    Created under a temporary name and hard-linked into place, so two
    processes starting at once agree on one secret and none reads half a file.
    """
    path = data_dir / SECRET_FILE
    existing = _read_secret(path)
    if existing is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process generated it first: use theirs
        else:
            log.info("generated a JWT secret in %s", path)
    finally:
        temporary.unlink(missing_ok=True)
    secret = _read_secret(path)
    if secret is None:
        raise AuthConfigError(f"could not create the JWT secret file {path}")
    return secret


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text:
        raise AuthConfigError(f"the JWT secret file {path} is empty; delete it to generate one")
    if path.stat().st_mode & 0o077:
        log.warning("the JWT secret file %s is readable by other users; chmod 600 it", path)
    return text


def load_public_key(value: str) -> tuple[PublicKey, str] | None:
    """The public key configured as PEM text or a path to a PEM file, with its algorithm."""
    value = value.strip()
    if not value:
        return None
    if "-----BEGIN" in value:
        pem = value.replace("\\n", "\n")
    else:
        try:
            pem = Path(value).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthConfigError(f"cannot read the JWT public key file {value}: {exc}") from None
    data = pem.encode()
    try:
        if b"BEGIN CERTIFICATE" in data:
            key: Any = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise AuthConfigError(f"the JWT public key is not a PEM public key: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise AuthConfigError("the JWT public key must be an RSA key (RS256) or a P-256 key (ES256)")


def verifier_from_settings(settings: Settings) -> JWTVerifier:
    """The verifier for `settings`; generates the data dir's secret when none is configured."""
    keys = configured_secrets(settings)
    for index, secret in enumerate(keys):
        if len(secret.encode()) < _MIN_SECRET_BYTES:
            log.warning(
                "JWT secret #%d is %d bytes; at least %d are recommended for HS256",
                index + 1,
                len(secret.encode()),
                _MIN_SECRET_BYTES,
            )
    loaded = load_public_key(settings.jwt_public_key)
    if loaded is None:
        return JWTVerifier(keys)
    return JWTVerifier(keys, loaded[0], loaded[1])


_EXPIRY = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str) -> dt.timedelta:
    """`30m`, `2h`, `7d`… as a timedelta; ValueError naming the accepted units otherwise."""
    match = _EXPIRY.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(
            f"invalid expiry {text!r}: use a positive number followed by "
            "s, m, h, d or w (e.g. 30m, 12h, 7d)"
        )
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


def mint_token(
    secret: str,
    user: str,
    expires_in: dt.timedelta,
    *,
    app: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """An HS256 token for `user` (`sub`), valid for `expires_in`, limited to `app` if given."""
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": user,
        "iat": int(issued.timestamp()),
        "exp": int((issued + expires_in).timestamp()),
    }
    if app is not None:
        claims["app"] = app
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm=HMAC_ALGORITHM)
