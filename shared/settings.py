"""The one settings class, read from ``NEWSFLOW_*`` environment variables (and ``.env``).

Settings fail fast: ``load_settings()`` turns a validation error into a clear message and stops
the process at start, rather than letting a bad value surface at the first message.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from shared.redact import redact_text, redact_url
from shared.sentinel import SSL_CERT_REQS, is_sentinel_url, parse_sentinel_url

MIB = 1024 * 1024
DEFAULT_LANGUAGES = ("ru", "be", "uk", "de", "en", "pl", "kk")
DEFAULT_FULL_MODEL_LANGUAGES = ("ru", "be", "uk")
# The ISO 639-1 codes lingua (the language detector) knows. Written out so that reading settings
# does not import lingua: the ingest and index workers never detect a language, and a test
# keeps this list equal to lingua's.
# A string split, not a 75-line literal: the codes read as the list they are.
_LINGUA_CODES = """
af ar az be bg bn bs ca cs cy da de el en eo es et eu fa fi fr ga gu he hi hr hu hy id is it ja
ka kk ko la lg lt lv mi mk mn mr ms nb nl nn pa pl pt ro ru sk sl sn so sq sr st sv sw ta te th
tl tn tr ts uk ur vi xh yo zh zu
"""
DETECTABLE_LANGUAGES = frozenset(_LINGUA_CODES.split())


def _known_codes(codes: list[str]) -> list[str]:
    """``codes`` in lower case, or a ValueError naming those lingua does not know."""
    unknown = [code for code in codes if code.lower() not in DETECTABLE_LANGUAGES]
    if unknown:
        raise ValueError(f"unknown ISO 639-1 code(s) {unknown}")
    return [code.lower() for code in codes]


BROKER_SCHEMES = ("redis://", "rediss://", "sentinel://", "amqp://", "amqps://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Broker, dead letters, dedupe claims: redis://, rediss://, unix:// or, for "
        "a Redis behind Sentinel, sentinel://HOST:26379[,HOST:26379]/DB?master=NAME.",
    )
    index_url: str = Field(
        default="./newsflow.db",
        description="The index: a SQLite file path (or sqlite:///path) or a postgresql:// URL.",
    )
    # The workers keep exact-duplicate claims in Redis; `newsflow run` (no servers) in a SQLite
    # file, so a second run knows what the first took.
    local_claims_path: str = Field(
        default="",
        description="Where `newsflow run` keeps exact-duplicate claims (a SQLite file); empty: "
        "beside a SQLite index as <index>-claims, ./newsflow-claims.db beside PostgreSQL.",
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
    dead_letter_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="How long a dead letter (and its claim-checked blob) is kept for replay.",
    )
    dead_letter_max_bytes: int = Field(
        default=128 * MIB,
        gt=0,
        description="The most the dead letters (with their blobs) may take in Redis; beyond, "
        "the oldest are evicted.",
    )
    # Comma-separated absolute paths in the environment (NEWSFLOW_DROP_DIRS=/srv/drop,/srv/in).
    drop_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="The only folders whose files dlq replay re-reads for a message (and in "
        "which newsflow watch may run); empty: replay re-reads no file.",
    )
    # Comma-separated in the environment (NEWSFLOW_LANGUAGES=ru,be,de), not JSON.
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES)
    )
    # Comma-separated too. lingua's full models, ~22 MB each in an enrich worker, judge lines of
    # a few words; the other languages are told apart on trigrams (services/enrich/language.py).
    language_full_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_FULL_MODEL_LANGUAGES),
        description="Languages lingua judges short lines in with all its models; the others "
        "of NEWSFLOW_LANGUAGES are recognised on trigrams only, which saves ~22 MB of memory a "
        "language and labels lines of two or three words less often.",
    )
    language_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    language_min_letters: int = Field(
        default=12,
        ge=1,
        description="Texts with fewer letters than this are 'und' unless they have two words "
        "and lingua is confident among the languages whose alphabets can write them; "
        "paragraphs with fewer do not count in a document's language shares.",
    )
    # NER and money cost far more per character than the rest of enrich, and NER's memory grows
    # with the text: they read a document's first 100 000 characters (news runs to ~10 000).
    enrich_max_chars: int = Field(
        default=100_000, gt=0, description="Entities and money read at most this many characters."
    )
    # Stories (services/enrich/stories): see the README's "Stories" for what the numbers mean.
    story_window_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="A document is compared with the stories within this many days of its "
        "published date (of any day of its month when it is known only to the month; without "
        "one, or known only to the year, of when it was received).",
    )
    story_threshold: float = Field(
        default=0.25, gt=0.0, le=1.0, description="Similarity a document needs to join a story."
    )
    story_merge_threshold: float = Field(
        default=0.25,
        gt=0.0,
        le=1.0,
        description="Similarity a document needs with two stories for them to merge.",
    )
    display_language: str = Field(
        default="en",
        pattern="^[a-z]{2,3}$",
        description="The language search facets label entities in (ISO 639-1), with their ids.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console renderer on a terminal, JSON otherwise."
    )
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 disables /metrics.")
    broker_url: str | None = Field(
        default=None,
        description="The message broker between the stages; unset: the Redis of redis_url. "
        "amqp:// selects RabbitMQ (quorum queues, publisher confirms); sentinel:// a Redis "
        "behind Sentinel, in the form of redis_url.",
    )
    # Per-stage time limits. At the soft limit the task is interrupted and its document
    # dead-lettered as `timeout`; the hard limit kills the child process for work that cannot
    # be interrupted (a C extension that never returns to Python). A news file takes
    # milliseconds to a second in every stage, so these only ever catch pathological input.
    ingest_soft_time_limit: float = Field(default=30.0, gt=0)
    ingest_time_limit: float = Field(default=45.0, gt=0)
    enrich_soft_time_limit: float = Field(default=60.0, gt=0)
    enrich_time_limit: float = Field(default=90.0, gt=0)
    index_soft_time_limit: float = Field(default=30.0, gt=0)
    index_time_limit: float = Field(default=45.0, gt=0)
    # Batch consumption (``shared.batches``): each stage's worker hands a free child up to
    # ``<stage>_batch_size`` messages at once, or fewer once the oldest has waited
    # ``<stage>_batch_wait_ms`` (0: whatever has arrived), so NER runs over several texts
    # together, the index writes them in one transaction, and ingest (whose own work is a
    # millisecond a file) pays Celery's per-message hand-over to its child and the delivery
    # bookkeeping once a batch; each document still gets its own outcome, dead letter or retry.
    # 1 is the one-message path (no batching). With a wait of 0 batches grow only under load, so
    # an idle pipeline's latency is unchanged.
    ingest_batch_size: int = Field(
        default=16, ge=1, le=256, description="Messages an ingest child takes at once (1: one)."
    )
    ingest_batch_wait_ms: int = Field(
        default=0, ge=0, le=10_000, description="How long a partial ingest batch waits, ms."
    )
    enrich_batch_size: int = Field(
        default=16, ge=1, le=256, description="Messages an enrich child takes at once (1: one)."
    )
    enrich_batch_wait_ms: int = Field(
        default=0, ge=0, le=10_000, description="How long a partial enrich batch waits, ms."
    )
    index_batch_size: int = Field(
        default=16, ge=1, le=256, description="Messages an index child writes at once (1: one)."
    )
    index_batch_wait_ms: int = Field(
        default=0, ge=0, le=10_000, description="How long a partial index batch waits, ms."
    )
    # Redis redelivers a message that was taken but not acknowledged after this many seconds
    # (tasks ack late, after their work is done). Unset, it is derived from the time limits
    # (see ``min_visibility_timeout``): long enough that a message a worker holds is never
    # handed out twice while it is alive, short enough that a killed worker's messages come
    # back within minutes. A value below that minimum is refused.
    visibility_timeout: int | None = Field(default=None, ge=60)
    # Transient errors (Redis or the index unreachable) are retried with capped exponential
    # backoff for up to retry_for_seconds after the first failure, then dead-lettered. A small
    # cap means a stage resumes within seconds of its database coming back; the window (not a
    # count) says how long an outage may last before documents go to the dead letters.
    task_max_retries: int = Field(
        default=1000, ge=0, description="Retries per message, on top of the time window."
    )
    retry_backoff_max: int = Field(default=8, ge=1, description="Cap of the retry countdown, s.")
    retry_for_seconds: int = Field(
        default=1800, ge=0, description="How long transient errors are retried, s."
    )
    # A message whose task started this often without finishing (its process was killed each
    # time: out of memory, a hard time limit, a crash in C code) is dead-lettered as
    # `worker_lost` instead of killing worker after worker.
    max_deliveries: int = Field(default=5, ge=1)
    # The reconciler (`newsflow reconcile`) drives again any receipt that has not moved for this
    # long and whose stage queue holds nothing older than it; after reconcile_max_attempts such
    # re-drives it is dead-lettered as `stalled`.
    reconcile_after_seconds: int = Field(default=300, ge=1)
    reconcile_max_attempts: int = Field(default=5, ge=1)
    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token the /v1 API requires; the API will not start "
        "without one unless api_allow_anonymous is set.",
    )
    api_allow_anonymous: bool = Field(
        default=False,
        description="Serve the API without a token (only when NEWSFLOW_API_TOKEN is unset): "
        "an explicit choice, never the default.",
    )
    max_request_bytes: int = Field(
        default=32 * MIB,
        gt=0,
        description="The largest HTTP request body the API reads, all files together (413).",
    )
    max_files_per_request: int = Field(
        default=100, ge=1, description="The most files one multipart request may carry (422)."
    )
    max_queue_depth: int = Field(
        default=10_000,
        ge=1,
        description="POST /v1/files answers 429 unless the ingest queue, with the request's "
        "files, holds at most this many.",
    )
    trailers_file: Path | None = Field(
        default=None, description="Replaces the bundled list of subscribe trailers to strip."
    )
    extra_trailers: list[str] = Field(default_factory=list)

    @field_validator("languages", "language_full_models", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("give at least two languages to choose between")
        return _known_codes(value)

    @field_validator("language_full_models")
    @classmethod
    def _known_full_model_languages(cls, value: list[str]) -> list[str]:
        return _known_codes(value)

    @field_validator("drop_dirs", mode="before")
    @classmethod
    def _split_drop_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("drop_dirs")
    @classmethod
    def _absolute_drop_dirs(cls, value: list[Path]) -> list[Path]:
        # Relative paths would mean a different folder for every working directory, and "/"
        # would let a message name any file on the machine.
        for folder in value:
            if not folder.is_absolute():
                raise ValueError(f"{str(folder)!r} is not an absolute path")
            if folder == Path(folder.anchor):
                raise ValueError("the root folder would allow every file; name the drop folders")
        return value

    @field_validator("api_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty ``NEWSFLOW_API_TOKEN=`` line means "no token", not "the empty token"."""
        return value if value is not None and value.get_secret_value() else None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if is_sentinel_url(value):
            parse_sentinel_url(value)  # a ValueError says what is missing (e.g. ?master=)
            return value
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss://, unix:// or sentinel://")
        if value.startswith("rediss://"):
            # Without it, Celery's Redis transport does not verify the server's certificate
            # (redis-py does): one URL, two security levels. So the operator says which.
            given = parse_qs(urlsplit(value).query).get("ssl_cert_reqs", [])
            if not given or given[-1] not in SSL_CERT_REQS:
                raise ValueError(
                    "a rediss:// URL needs ?ssl_cert_reqs=required (or optional, none), and "
                    "&ssl_ca_certs=/path/ca.pem for a private CA"
                )
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(BROKER_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(BROKER_SCHEMES)}")
        if is_sentinel_url(value):
            parse_sentinel_url(value)  # newsflow's form, translated for kombu by celery_app
        return value

    @model_validator(mode="after")
    def _limits_are_consistent(self) -> Settings:
        for stage in ("ingest", "enrich", "index"):
            soft = getattr(self, f"{stage}_soft_time_limit")
            hard = getattr(self, f"{stage}_time_limit")
            if soft >= hard:
                raise ValueError(
                    f"NEWSFLOW_{stage.upper()}_SOFT_TIME_LIMIT ({soft}) must be below "
                    f"NEWSFLOW_{stage.upper()}_TIME_LIMIT ({hard})"
                )
        if self.story_merge_threshold < self.story_threshold:
            raise ValueError(
                f"NEWSFLOW_STORY_MERGE_THRESHOLD ({self.story_merge_threshold}) must be at least "
                f"NEWSFLOW_STORY_THRESHOLD ({self.story_threshold})"
            )
        if self.visibility_timeout is not None and (
            self.visibility_timeout < self.min_visibility_timeout
        ):
            raise ValueError(
                f"NEWSFLOW_VISIBILITY_TIMEOUT ({self.visibility_timeout}) must be at least "
                f"{self.min_visibility_timeout} s with these time limits and retry cap"
            )
        return self

    @property
    def broker(self) -> str:
        """The broker URL the stages talk over: the Redis of ``redis_url`` unless set apart."""
        return self.broker_url or self.redis_url

    def time_limits(self, stage: str) -> tuple[float, float]:
        """(soft, hard) time limit of a stage's task, in seconds."""
        return getattr(self, f"{stage}_soft_time_limit"), getattr(self, f"{stage}_time_limit")

    def batching(self, stage: str) -> tuple[int, float]:
        """(batch size, longest wait of a partial batch in seconds) of a stage's worker."""
        return getattr(self, f"{stage}_batch_size"), getattr(self, f"{stage}_batch_wait_ms") / 1000

    @property
    def min_visibility_timeout(self) -> int:
        """The shortest safe visibility timeout. A worker holds a message unacknowledged while
        it waits for a free child (at most one task run, since each child prefetches one), while
        the task runs (at most the hard limit) and while a retry waits for its countdown (at most
        the backoff cap); twice the longest hard limit plus the cap and a minute of slack
        covers all three, so a live worker's message is never handed to a second one. A batching
        worker also holds a message while its batch fills (at most the batch wait; a batch goes
        to a child only when one is free, so it too waits at most one run)."""
        longest = max(self.time_limits(stage)[1] for stage in ("ingest", "enrich", "index"))
        filling = max(self.batching(stage)[1] for stage in ("ingest", "enrich", "index"))
        return int(2 * longest + self.retry_backoff_max + 60 + filling)

    @property
    def effective_visibility_timeout(self) -> int:
        return self.visibility_timeout or self.min_visibility_timeout

    @field_validator("index_url")
    @classmethod
    def _index_scheme(cls, value: str) -> str:
        if "://" in value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("give a SQLite path (or sqlite:///path) or a postgresql:// URL")
        return value


class SettingsError(SystemExit):
    """Raised (as a process exit) when the environment holds an invalid setting."""


# Settings whose value is itself a secret: an error names them but never echoes the value.
SECRET_SETTINGS = frozenset({"api_token"})
# Settings holding a connection URL, which may carry a password even when it is malformed.
URL_SETTINGS = frozenset({"redis_url", "broker_url", "index_url"})


def _shown(field: str, value: object) -> str:
    if field in SECRET_SETTINGS:
        return "<hidden>"
    if field in URL_SETTINGS and isinstance(value, str):
        return repr(redact_url(value))
    return redact_text(repr(value))


def format_settings_error(error: ValidationError) -> str:
    """One line per bad variable, naming it and what was given, with passwords masked: the
    message goes to a terminal or a log, and a Redis or PostgreSQL URL may carry one."""
    lines = ["newsflow: invalid settings:"]
    for item in error.errors():
        if not item["loc"]:  # a rule across settings: its message names the variables
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"  {redact_text(message)}")
            continue
        field = "_".join(str(part) for part in item["loc"][:1])
        shown = _shown(field, item.get("input"))
        lines.append(f"  NEWSFLOW_{field.upper()}: {redact_text(item['msg'])} (got {shown})")
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
        print(f"newsflow: invalid settings: {redact_text(str(error))}", file=sys.stderr)
        raise SettingsError(2) from None
