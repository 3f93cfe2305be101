"""All configuration, from `ORDERGATE_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ordergate.domain.integrations import IntegrationType

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ordergate.db"
SANDBOX_DIR = Path(".ordergate")
SANDBOX_DATABASE_URL = f"sqlite+aiosqlite:///./{SANDBOX_DIR}/sandbox.db"
BASE_URL_PREFIX = "ORDERGATE_BASE_URL_"


def base_url_overrides(environ: dict[str, str] | None = None) -> dict[IntegrationType, str]:
    """`ORDERGATE_BASE_URL_KRAKEN_DIRECT=http://…` → {krakenDirect: "http://…"}."""
    env = os.environ if environ is None else environ
    by_name = {t.env_name: t for t in IntegrationType}
    found: dict[IntegrationType, str] = {}
    for key, value in env.items():
        if key.startswith(BASE_URL_PREFIX) and value:
            integration = by_name.get(key[len(BASE_URL_PREFIX) :])
            if integration is not None:
                found[integration] = value.rstrip("/")
    return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERGATE_", extra="ignore")

    database_url: str | None = None
    # Shared state for several workers (rate limits, cool-downs, per-key sequencing); in-process when unset.
    redis_url: str | None = Field(default=None, repr=False)
    # Ordered `kid:base64key` list (comma or whitespace separated); the first one seals, all open.
    token_keys: str | None = Field(default=None, repr=False)
    upstream_timeout_s: float = 10.0
    # A venue answer larger than this (after decompression) is not read: the outcome is looked up instead.
    max_upstream_response_bytes: int = 1 << 20
    testnet: bool = False
    sandbox: bool = False
    # How long a verified API client stays cached in memory (disable takes effect within this).
    client_cache_ttl_s: float = 5.0
    max_body_bytes: int = 64 * 1024
    # A request's line and headers together; a larger head is answered 431 and its connection closed.
    max_header_bytes: int = 64 * 1024
    # Per API client token bucket (requests per second, burst); 0 turns it off.
    client_rate_per_s: float = 1000.0
    client_burst: int = 2000
    # Lookups of client ids not already known, per source address (TCP peer): beyond the burst, refilled at this
    # rate, that source is answered 429 before any lookup. Known clients are never limited by it. 0 turns it off.
    source_lookups_per_s: float = 1.0
    source_lookup_burst: int = 30
    # How long an unknown client id is remembered as unknown (no database read for it meanwhile).
    client_miss_ttl_s: float = 5.0
    # Failed-authentication audit rows are aggregated: one row per source, endpoint and errorType per window.
    auth_audit_window_s: float = 10.0
    # Stay inside each venue's documented per-key cancel limit (venues/catalog.py KEY_BUDGETS).
    venue_key_budgets: bool = True
    log_level: str = "info"
    # `/metrics`: with a token, only `Authorization: Bearer <token>` reads it (from anywhere); without one, only
    # loopback peers outside the sandbox (a scraper on the same host, or a reverse proxy that forwards to it).
    metrics_token: str | None = Field(default=None, repr=False)
    # `/docs` and `/openapi.json` (Mesh's public contract, no secrets); false turns both off (404).
    docs: bool = True
    # Where audit rows wait (fsync'd) while the database is unreachable; replayed automatically.
    audit_spool_dir: str = ".ordergate/audit-spool"
    base_urls: dict[IntegrationType, str] = Field(default_factory=base_url_overrides)
    # This deployment's E*TRADE consumer key and secret, for users who connect E*TRADE without their own
    # (`username`/`password` absent at /authenticate). SecretStr: never in a repr, a log line or an error.
    etrade_consumer_key: SecretStr | None = Field(default=None, repr=False)
    etrade_consumer_secret: SecretStr | None = Field(default=None, repr=False)

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return SANDBOX_DATABASE_URL if self.sandbox else DEFAULT_DATABASE_URL
