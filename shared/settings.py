"""The one settings class, read from ``NEWSFLOW_*`` environment variables (and ``.env``).

Settings fail fast: ``load_settings()`` turns a validation error into a clear message and stops
the process at start, rather than letting a bad value surface at the first message.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from lingua import IsoCode639_1
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

MIB = 1024 * 1024
DEFAULT_LANGUAGES = ("ru", "be", "uk", "de", "en", "pl", "kk")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Broker, dead letters, dedupe claims."
    )
    index_url: str = Field(
        default="./newsflow.db",
        description="The index: a SQLite file path (or sqlite:///path) or a postgresql:// URL.",
    )
    max_file_bytes: int = Field(default=10 * MIB, gt=0, description="Larger files: too_large.")
    inline_max_bytes: int = Field(
        default=256 * 1024,
        gt=0,
        description="Raw files up to this size travel inside the message, larger by claim-check.",
    )
    blob_ttl_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, description="Life of a claim-checked raw file in Redis."
    )
    receipt_ttl_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, description="How long a submission's status can be asked for."
    )
    # Comma-separated in the environment (NEWSFLOW_LANGUAGES=ru,be,de), not JSON.
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES)
    )
    language_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    language_min_letters: int = Field(
        default=12, ge=1, description="Texts with fewer letters than this are 'und'."
    )
    # NER and money cost far more per character than the rest of enrich, and NER's memory grows
    # with the text: they read a document's first 100 000 characters (news runs to ~10 000).
    enrich_max_chars: int = Field(
        default=100_000, gt=0, description="Entities and money read at most this many characters."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console renderer on a terminal, JSON otherwise."
    )
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 disables /metrics.")
    # Redis redelivers a message that was taken but not acknowledged after this many seconds
    # (tasks ack late, after their work is done). It must exceed the longest task run plus the
    # longest retry countdown, or a slow task runs twice (harmless, since writes are idempotent,
    # but wasteful). An hour is far above both for news-sized files.
    visibility_timeout: int = Field(default=3600, ge=60)
    task_max_retries: int = Field(default=5, ge=0)
    retry_backoff_max: int = Field(default=60, ge=1, description="Cap of the retry countdown, s.")
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token the /v1 API requires; unset: no token needed."
    )
    max_queue_depth: int = Field(
        default=10_000,
        ge=0,
        description="POST /v1/files answers 429 while the ingest queue is deeper than this.",
    )
    trailers_file: Path | None = Field(
        default=None, description="Replaces the bundled list of subscribe trailers to strip."
    )
    extra_trailers: list[str] = Field(default_factory=list)

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        known = {name.lower() for name in dir(IsoCode639_1) if name.isupper() and len(name) == 2}
        unknown = [code for code in value if code.lower() not in known]
        if unknown:
            raise ValueError(f"unknown ISO 639-1 code(s) {unknown}")
        if len(value) < 2:
            raise ValueError("give at least two languages to choose between")
        return [code.lower() for code in value]

    @field_validator("api_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty ``NEWSFLOW_API_TOKEN=`` line means "no token", not "the empty token"."""
        return value if value is not None and value.get_secret_value() else None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("index_url")
    @classmethod
    def _index_scheme(cls, value: str) -> str:
        if "://" in value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("give a SQLite path (or sqlite:///path) or a postgresql:// URL")
        return value


class SettingsError(SystemExit):
    """Raised (as a process exit) when the environment holds an invalid setting."""


def format_settings_error(error: ValidationError) -> str:
    lines = ["newsflow: invalid settings:"]
    for item in error.errors():
        name = "NEWSFLOW_" + "_".join(str(part) for part in item["loc"][:1]).upper()
        lines.append(f"  {name}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process's settings; exits with a readable message when one is invalid."""
    try:
        return Settings()
    except ValidationError as error:
        print(format_settings_error(error), file=sys.stderr)
        raise SettingsError(2) from None
    except SourceError as error:  # a value that is not even parseable (e.g. bad JSON list)
        print(f"newsflow: invalid settings: {error}", file=sys.stderr)
        raise SettingsError(2) from None
