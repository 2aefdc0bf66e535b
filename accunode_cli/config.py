"""Settings: one pydantic-settings class read from ``ACCUNODE_*`` variables, built on first use."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "default_data_dir", "default_config_dir"]

_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "test"}
_MIN_SECRET_LENGTH = 32


def _xdg_dir(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable)
    return Path(base) if base else Path.home() / fallback


def default_data_dir() -> Path:
    """Return the folder for AccuNode's data (the embedded SQLite database)."""
    override = os.environ.get("ACCUNODE_DATA_DIR")
    return Path(override) if override else _xdg_dir("XDG_DATA_HOME", ".local/share") / "accunode"


def default_config_dir() -> Path:
    """Return the folder for AccuNode's configuration (the CLI's saved login)."""
    override = os.environ.get("ACCUNODE_CONFIG_DIR")
    return Path(override) if override else _xdg_dir("XDG_CONFIG_HOME", ".config") / "accunode"


class Settings(BaseSettings):
    """Every setting of AccuNode; each field is read from ``ACCUNODE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ACCUNODE_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=default_data_dir)
    config_dir: Path = Field(default_factory=default_config_dir)
    model_dir: Path | None = None

    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "accunode:"  # keys of rate limits, revocations and cache
    # Longest wait on PostgreSQL (connect, pool, statement, a stalled round trip), in seconds;
    # readiness checks give up sooner.
    database_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    jwt_secret: str | None = None
    jwt_issuer: str = "accunode"
    jwt_audience: str = "accunode-api"
    access_token_minutes: float = 15  # fractions for tests of expiry (0.05 = 3 s)
    refresh_token_days: int = 30
    bcrypt_rounds: int = 12
    require_email_verification: bool = False

    cors_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    rate_limit_per_minute: int = 600
    login_attempts_per_15_minutes: int = 10  # per account and client address (strict)
    login_attempts_per_address_15_minutes: int = 100  # per client address, any accounts
    login_account_attempts_per_minute: int = 30  # per account from anywhere: slows, not locks
    registrations_per_hour: int = 10  # per client address

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "accunode@localhost"

    blob_url: str | None = None  # a folder, or s3://bucket/prefix (default: data_dir/blobs)
    max_active_jobs: int = 5  # queued or running bulk-upload jobs per organization
    job_stale_seconds: int = 600  # a job with no progress for this long is handed out again

    api_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    metrics: bool = False  # GET /metrics (Prometheus text format)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("redis_url", "jwt_secret", "blob_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        secret = self.jwt_secret or ""
        if secret.lower() in _PLACEHOLDER_SECRETS or len(secret) < _MIN_SECRET_LENGTH:
            problems.append(
                f"ACCUNODE_JWT_SECRET must be a random string of at least {_MIN_SECRET_LENGTH} "
                "characters"
            )
        if not (self.database_url or "").startswith("postgresql"):
            problems.append("ACCUNODE_DATABASE_URL must be a postgresql+psycopg:// URL")
        if not self.redis_url:
            problems.append("ACCUNODE_REDIS_URL must be set (redis://...)")
        if problems:
            raise ValueError("production settings are unsafe: " + "; ".join(problems))
        return self

    @property
    def effective_blob_url(self) -> str:
        """Return the blob store URL, defaulting to a folder in the data directory."""
        return self.blob_url or str(self.data_dir / "blobs")

    @property
    def effective_database_url(self) -> str:
        """Return the database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'accunode.db'}"

    def effective_jwt_secret(self) -> str:
        """Return the JWT secret, generating a per-data-folder one in development."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "dev-jwt-secret"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
