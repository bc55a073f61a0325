"""JWT verification (every token verified, rotation, RS256/ES256), the secret, `footfall token`."""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import stat
import threading
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from footfall.auth import (
    SECRET_FILE,
    AuthConfigError,
    JWTVerifier,
    TokenRejected,
    configured_secrets,
    ensure_secret,
    load_public_key,
    mint_token,
    parse_expiry,
    verifier_from_settings,
)
from footfall.cli import main
from footfall.settings import Settings

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
OLD_SECRET = "the-previous-secret-still-accepted-while-rotating"


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "Demo", "exp": int(time.time()) + 600, **extra}


def _hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def verifier() -> JWTVerifier:
    return JWTVerifier((SECRET, OLD_SECRET))


def test_a_valid_hs256_token_gives_its_claims(verifier: JWTVerifier) -> None:
    claims = verifier.verify(_hs256(_claims(role="admin")))
    assert claims["sub"] == "Demo"
    assert claims["role"] == "admin"


def test_every_configured_secret_verifies_for_rotation(verifier: JWTVerifier) -> None:
    assert verifier.verify(_hs256(_claims(), OLD_SECRET))["sub"] == "Demo"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(
            lambda: _hs256(_claims(), "someone-else's-secret-entirely-!!"), "signature", id="forged"
        ),
        pytest.param(lambda: _hs256(_claims(exp=int(time.time()) - 5)), "expired", id="expired"),
        pytest.param(lambda: _hs256({"sub": "Demo"}), "'exp'", id="no-exp"),
        pytest.param(lambda: _hs256({"exp": int(time.time()) + 60}), "'sub'", id="no-sub"),
        pytest.param(lambda: _hs256(_claims(sub="")), "sub", id="empty-sub"),
        pytest.param(lambda: _hs256(_claims(exp="tomorrow")), "invalid", id="exp-not-a-number"),
        pytest.param(
            lambda: _hs256(_claims(nbf=int(time.time()) + 600)), "invalid", id="not-yet-valid"
        ),
        pytest.param(
            lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
            "'none'",
            id="alg-none",
        ),
        pytest.param(
            lambda: jwt.encode(_claims(), SECRET + "x" * 40, algorithm="HS512"),
            "'HS512'",
            id="hs512-not-accepted",
        ),
        pytest.param(lambda: "not-a-jwt", "malformed", id="malformed"),
        pytest.param(lambda: "a.b.c", "malformed", id="garbage-segments"),
        pytest.param(lambda: "", "malformed", id="empty"),
        pytest.param(
            # A valid header and payload with the signature cut off.
            lambda: _hs256(_claims()).rsplit(".", 1)[0] + ".",
            "signature",
            id="no-signature",
        ),
        pytest.param(
            # The payload swapped for another user's, the signature kept.
            lambda: ".".join(
                [
                    _hs256(_claims()).split(".")[0],
                    _b64(_claims(sub="admin")),
                    _hs256(_claims()).split(".")[2],
                ]
            ),
            "signature",
            id="tampered-payload",
        ),
    ],
)
def test_bad_tokens_are_rejected_with_a_reason(
    verifier: JWTVerifier, token: Any, reason: str
) -> None:
    with pytest.raises(TokenRejected) as caught:
        verifier.verify(token())
    assert reason in str(caught.value)


def _rsa() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, pem.decode()


def _ec(curve: ec.EllipticCurve | None = None) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, pem.decode()


def test_rs256_tokens_verify_with_the_public_key(tmp_path: Path) -> None:
    private, pem = _rsa()
    key_file = tmp_path / "issuer.pem"
    key_file.write_text(pem)
    verifier = verifier_from_settings(
        Settings(data_dir=tmp_path, jwt_secret=SECRET, jwt_public_key=str(key_file))
    )
    assert verifier.accepted_algorithms == ("HS256", "RS256")
    token = jwt.encode(_claims(), private, algorithm="RS256")
    assert verifier.verify(token)["sub"] == "Demo"
    # HS256 keeps working beside it.
    assert verifier.verify(_hs256(_claims()))["sub"] == "Demo"
    # Signed by another RSA key: rejected.
    other, _ = _rsa()
    with pytest.raises(TokenRejected, match="signature"):
        verifier.verify(jwt.encode(_claims(), other, algorithm="RS256"))
    # Expired RS256: rejected.
    with pytest.raises(TokenRejected, match="expired"):
        verifier.verify(jwt.encode(_claims(exp=int(time.time()) - 1), private, algorithm="RS256"))


def test_es256_tokens_verify_with_the_public_key_given_as_pem_text(tmp_path: Path) -> None:
    private, pem = _ec()
    verifier = verifier_from_settings(
        Settings(data_dir=tmp_path, jwt_secret=SECRET, jwt_public_key=pem)
    )
    assert verifier.accepted_algorithms == ("HS256", "ES256")
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="ES256"))["sub"] == "Demo"
    rsa_private, _ = _rsa()
    with pytest.raises(TokenRejected, match="'RS256' is not accepted"):
        verifier.verify(jwt.encode(_claims(), rsa_private, algorithm="RS256"))


def test_the_public_key_is_never_used_as_an_hmac_secret(tmp_path: Path) -> None:
    # The classic key-confusion attack: sign HS256 with the (public) PEM text.
    _, pem = _rsa()
    verifier = verifier_from_settings(
        Settings(data_dir=tmp_path, jwt_secret=SECRET, jwt_public_key=pem)
    )
    header, payload = _b64({"alg": "HS256", "typ": "JWT"}), _b64(_claims(sub="admin"))
    signature = hmac.new(pem.encode(), f"{header}.{payload}".encode(), sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    with pytest.raises(TokenRejected, match="signature"):
        verifier.verify(forged)


def test_rs256_without_a_configured_public_key_is_rejected(verifier: JWTVerifier) -> None:
    private, _ = _rsa()
    with pytest.raises(TokenRejected, match="'RS256' is not accepted; accepted: HS256"):
        verifier.verify(jwt.encode(_claims(), private, algorithm="RS256"))


def test_unusable_public_keys_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="cannot read"):
        load_public_key(str(tmp_path / "missing.pem"))
    with pytest.raises(AuthConfigError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    _, p384 = _ec(ec.SECP384R1())
    with pytest.raises(AuthConfigError, match="P-256"):
        load_public_key(p384)
    assert load_public_key("") is None
    # A PEM with its newlines escaped (as env files often hold it) still loads.
    _, pem = _rsa()
    loaded = load_public_key(pem.replace("\n", "\\n"))
    assert loaded is not None and loaded[1] == "RS256"


def test_short_secrets_still_work_without_warnings(recwarn: pytest.WarningsRecorder) -> None:
    verifier = JWTVerifier(("short",))
    token = mint_token("short", "Demo", dt.timedelta(minutes=5))
    assert verifier.verify(token)["sub"] == "Demo"
    assert not [w for w in recwarn if issubclass(w.category, jwt.InsecureKeyLengthWarning)]


def test_comma_separated_secrets(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=f" {SECRET} , {OLD_SECRET},")
    assert configured_secrets(settings) == (SECRET, OLD_SECRET)
    assert not (tmp_path / SECRET_FILE).exists()


def test_jwt_secret_key_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FOOTFALL_JWT_SECRET", raising=False)
    monkeypatch.setenv("JWT_SECRET_KEY", OLD_SECRET)
    assert configured_secrets(Settings(data_dir=tmp_path)) == (OLD_SECRET,)


# --- the generated secret -------------------------------------------------------


def test_without_a_secret_one_is_generated_private_and_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ensure_secret(data)
    path = data / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 43
    assert ensure_secret(data) == first  # reused after a restart
    assert configured_secrets(Settings(data_dir=data, jwt_secret="")) == (first,)
    assert [p.name for p in data.iterdir()] == [SECRET_FILE]  # no temporary files left


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    results: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(ensure_secret(tmp_path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1


def test_an_empty_secret_file_is_an_error_not_a_blank_secret(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("\n")
    with pytest.raises(AuthConfigError, match="empty"):
        ensure_secret(tmp_path)


# --- minting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", dt.timedelta(minutes=30)),
        ("45s", dt.timedelta(seconds=45)),
        ("12h", dt.timedelta(hours=12)),
        ("7d", dt.timedelta(days=7)),
        ("2w", dt.timedelta(weeks=2)),
        (" 5 m ", dt.timedelta(minutes=5)),
    ],
)
def test_parse_expiry(text: str, expected: dt.timedelta) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", ["", "30", "0m", "-5m", "1y", "m", "1.5h", "30 minutes"])
def test_parse_expiry_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="s, m, h, d or w"):
        parse_expiry(text)


def test_minted_tokens_verify_and_carry_exp_and_app() -> None:
    now = dt.datetime.now(dt.UTC)
    token = mint_token(SECRET, "alice", dt.timedelta(minutes=30), app="shop", now=now)
    claims = JWTVerifier((SECRET,)).verify(token)
    assert claims["sub"] == "alice"
    assert claims["app"] == "shop"
    assert claims["exp"] - claims["iat"] == 1800
    assert "app" not in JWTVerifier((SECRET,)).verify(
        mint_token(SECRET, "bob", dt.timedelta(minutes=1))
    )


def test_cli_token_with_a_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_JWT_SECRET", f"{SECRET},{OLD_SECRET}")
    result = CliRunner().invoke(main, ["token", "--user", "alice", "--expires", "2h"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert 7190 <= claims["exp"] - time.time() <= 7210


def test_cli_token_with_the_generated_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FOOTFALL_JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    data = tmp_path / "data"
    result = CliRunner().invoke(
        main, ["token", "--user", "Demo", "--app", "shop", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    secret = (data / SECRET_FILE).read_text().strip()
    claims = verifier_from_settings(Settings(data_dir=data)).verify(result.output.strip())
    assert claims["app"] == "shop"
    assert 1790 <= claims["exp"] - time.time() <= 1810  # default 30m
    assert jwt.decode(result.output.strip(), secret, algorithms=["HS256"])["sub"] == "Demo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "--user", "a", "--expires", "soon"], "--expires"),
        (["token"], "--user"),
        (["token", "--user", "  "], "--user"),
    ],
)
def test_cli_token_usage_errors(
    monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("FOOTFALL_JWT_SECRET", SECRET)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
