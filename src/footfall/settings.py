"""One settings object for the whole server, read from flags and `FOOTFALL_*` variables."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# DuckDB's memory sizes: a number and a unit (1000- or 1024-based), or a share of RAM.
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B|%)", re.IGNORECASE)


class Settings(BaseSettings):
    """Every knob footfall has. Flags of `footfall serve` override the environment."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to listen on.")
    data_dir: Path = Field(Path("./footfall-data"), description="Where the embedded store lives.")
    store: str = Field(
        "duckdb",
        description="Event store: `duckdb` (a file in the data dir), `duckdb:///path/file.duckdb`, "
        "`chdb` / `chdb:///path/dir` (ClickHouse in-process) or "
        "`clickhouse://user:password@host:8123/database` (a ClickHouse server).",
    )
    cluster: str | None = Field(
        None,
        description="ClickHouse cluster name: the schema is created ON CLUSTER as "
        "ReplicatedMergeTree tables behind a Distributed table (clickhouse:// stores only; "
        "same as `?cluster=` in the store URL).",
    )
    writer_max_batch: int = Field(
        10_000, ge=1, description="Most events the writer commits in one transaction."
    )
    writer_linger_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="Extra time the writer waits to fill a batch. 0 commits whatever "
        "arrived during the previous commit (natural group commit).",
    )
    journal: str = Field(
        "on",
        description="`on`: single events and small requests are acknowledged once they are "
        "fsync'd in footfall's journal (next to the store) and loaded into the store in bulk "
        "moments later; `off`: every request is acknowledged after the store's own commit. "
        "DuckDB and chDB only: clickhouse:// stores always commit before acknowledging.",
    )
    duckdb_memory_limit: str = Field(
        "",
        description="Most memory DuckDB may use for its cache and queries (`512MB`, `2GB`, "
        "`1GiB`, `50%` of RAM): a bigger query spills to disk instead. Empty: DuckDB's "
        "default, 80 % of RAM.",
    )
    retry_after_seconds: int = Field(
        5, ge=1, description="`Retry-After` sent with a 503 when the store cannot write."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated proxy addresses or networks whose `X-Forwarded-For` "
        "is believed. Empty: the TCP peer is the client.",
    )
    store_ip: bool = Field(False, description="Keep raw client IPs in the event table.")
    apps: str = Field(
        "",
        description="Comma-separated apps this server accepts (Plausible domains, Umami "
        "website ids): the tracker endpoints drop events for others, POST /api/v1/events "
        "refuses them (422). Empty: an app is created by its first event.",
    )
    geoip_db: Path | None = Field(
        None,
        description="A MaxMind DB file (.mmdb) with countries (GeoLite2-Country, DB-IP "
        "lite…): events get the country of their client IP. Unset: no country.",
    )
    jwt_secret: str = Field(
        "",
        validation_alias=AliasChoices("FOOTFALL_JWT_SECRET", "JWT_SECRET_KEY", "jwt_secret"),
        description="HS256 secrets for contract 004, comma-separated for rotation "
        "(JWT_SECRET_KEY is honoured too). Empty: one is generated in the data dir.",
    )
    jwt_public_key: str = Field(
        "", description="RS256/ES256 public key (PEM text or a path) accepted for JWTs."
    )
    default_pages: str = Field(
        "", description="Comma-separated default page list of contract 002's GET /api/events/."
    )
    log_level: str = Field("info", description="uvicorn log level.")

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        from footfall.storage.factory import parse_store_url

        parse_store_url(value, Path("."))  # a StoreUrlError (ValueError) says what is wrong
        return value

    @model_validator(mode="after")
    def _cluster_needs_clickhouse(self) -> Settings:
        if self.cluster and not self.store.startswith("clickhouse://"):
            raise ValueError(
                f"cluster {self.cluster!r} needs a clickhouse:// store (the store is "
                f"{self.store!r}, which runs on one machine)"
            )
        return self

    @field_validator("journal", mode="before")
    @classmethod
    def _on_or_off(cls, value: object) -> object:
        text = str(value).strip().lower() if isinstance(value, str | bool) else value
        aliases = {"true": "on", "1": "on", "yes": "on", "false": "off", "0": "off", "no": "off"}
        text = aliases.get(text, text) if isinstance(text, str) else text
        if text not in ("on", "off"):
            raise ValueError(
                f"must be 'on' (acknowledge once journaled, load the store in bulk) or "
                f"'off' (acknowledge after the store's commit), not {value!r}"
            )
        return text

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        value = value.strip()
        if value and not _MEMORY_SIZE.fullmatch(value):
            raise ValueError(
                f"must be a size with a unit (512MB, 2GB, 1GiB) or a share of RAM (50%), "
                f"not {value!r}"
            )
        return value

    @field_validator("geoip_db", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def allowed_apps(self) -> frozenset[str]:
        """The apps FOOTFALL_APPS lists; empty when every app is accepted."""
        return frozenset(part.strip() for part in self.apps.split(",") if part.strip())

    def duckdb_path(self) -> Path:
        """The DuckDB file this configuration points at."""
        if self.store.startswith("duckdb://"):
            rest = self.store.removeprefix("duckdb://")
            if rest:
                return Path(rest)
        return self.data_dir / "footfall.duckdb"
