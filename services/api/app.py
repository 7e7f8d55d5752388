"""The FastAPI application: routes, the bearer token, back pressure and the error statuses.

``create_app(settings)`` builds it; ``newsflow serve`` runs it with uvicorn. Blocking work (Redis,
the index, queueing) runs in the thread pool, never on the event loop. Routes under ``/v1`` need
the bearer token ``NEWSFLOW_API_TOKEN``; without one the API refuses to start unless
``NEWSFLOW_API_ALLOW_ANONYMOUS=true`` says that anonymous access is intended. The probes and
``/metrics`` never need it, so orchestrators and Prometheus need no secret, and so they say
nothing an anonymous caller should not learn: ``/readyz`` names what failed (and how, which
names internal hosts) only to a caller with the token.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Protocol, TypeVar

import redis
import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from services.api import metrics
from services.api.admission import Admission, AdmissionControl
from services.api.middleware import RequestObserver
from services.api.pool import INDEX_UNAVAILABLE, BackendPool
from services.api.uploads import (
    BadUpload,
    UploadTooLarge,
    filename_from_disposition,
    filename_from_header,
    read_body,
    read_multipart,
    safe_filename,
)
from services.index.backend import IndexBackend, SearchQuery, SearchResult, open_backend
from services.index.stories import StoriesQuery, StoryDetail, StorySummary
from services.ingest.intake import Intake, submit_bytes
from services.ingest.replay import NotReplayable
from services.ingest.replay import replay as replay_letter
from shared.celery_app import Publisher, make_celery, queue_depth
from shared.deadletters import DeadLetterStore, select
from shared.messages import DeadLetter, EnrichedDocument, RawFile, Source
from shared.receipts import ReceiptStatus, read_status
from shared.redact import redact_text
from shared.redis_client import connect as connect_redis
from shared.settings import Settings
from shared.stages import Stage
from shared.tasks import TRANSIENT_ERRORS

log = structlog.get_logger("newsflow.api")

INGEST_QUEUE: Stage = "ingest"
# How long a client told to back off (429) or that met an unreachable Redis (503) should wait.
# The workers drain thousands of news files a minute, so a deep queue shrinks within seconds.
RETRY_AFTER_SECONDS = 10
# A submitter's own name for where files come from (a scraper, a feed): logged and echoed back.
SOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_RECEIPT_CHARS = 256
MAX_NAME_CHARS = 1024

T = TypeVar("T")


class Submit(Protocol):
    """``services.ingest.intake.submit_bytes`` bound to an intake; tests pass a stand-in."""

    def __call__(
        self,
        data: bytes | None,
        size: int,
        *,
        filename: str,
        source: Source,
        source_name: str | None = None,
    ) -> RawFile: ...


class Accepted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str
    status_url: str = Field(description="GET it to follow the file: /v1/files/<receipt>.")
    filename: str
    size: int
    source: str | None = None


class AcceptedBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipts: list[Accepted]
    source: str | None = None


class FileStatus(ReceiptStatus):
    document_url: str | None = Field(
        default=None, description="For an indexed file or a duplicate: the stored document."
    )


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    error: str | None = None


class Readiness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ready: bool
    checks: dict[str, Check] | None = Field(
        default=None, description="Each dependency's check: only for a caller with the token."
    )


class AnonymousApiRefused(RuntimeError):
    """The API was asked to start with no token and no explicit consent to anonymous access."""


ANONYMOUS_REFUSED = (
    "newsflow serve: NEWSFLOW_API_TOKEN is not set; set it, or set "
    "NEWSFLOW_API_ALLOW_ANONYMOUS=true to serve the API without authentication"
)


@dataclass
class ApiState:
    settings: Settings
    redis: redis.Redis
    backends: BackendPool
    submit: Submit
    admission: AdmissionControl
    replay: Callable[[DeadLetter], None]


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


StateDep = Annotated[ApiState, Depends(_state)]
_bearer = HTTPBearer(auto_error=False, description="NEWSFLOW_API_TOKEN.")
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _has_valid_token(state: ApiState, credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = state.settings.api_token
    if expected is None:
        return False
    given = credentials.credentials if credentials is not None else ""
    # compare_digest takes as long whatever the first wrong byte: no timing oracle on the token.
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def require_token(state: StateDep, credentials: CredentialsDep) -> None:
    if state.settings.api_token is None:
        return  # anonymous access, chosen explicitly (create_app refuses it otherwise)
    if not _has_valid_token(state, credentials):
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _unavailable(what: str, error: BaseException) -> HTTPException:
    log.warning("dependency unavailable", dependency=what, error=repr(error))
    return HTTPException(
        status_code=503,
        detail=f"{what} is unavailable; retry later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _redis_call(function: Callable[[], T]) -> T:
    try:
        return await run_in_threadpool(function)
    except TRANSIENT_ERRORS as error:
        raise _unavailable("redis", error) from error


async def _index_call(state: ApiState, function: Callable[[IndexBackend], T]) -> T:
    def call() -> T:
        with state.backends.use() as backend:
            return function(backend)

    try:
        return await run_in_threadpool(call)
    except INDEX_UNAVAILABLE as error:
        raise _unavailable("index", error) from error


def _too_large(error: UploadTooLarge) -> HTTPException:
    return HTTPException(status_code=413, detail=str(error))


def _status_url(receipt: str) -> str:
    return f"/v1/files/{receipt}"


def _check_source(source: str | None) -> str | None:
    if source is not None and not re.fullmatch(SOURCE_NAME_PATTERN, source):
        raise HTTPException(status_code=422, detail=f"source must match {SOURCE_NAME_PATTERN}")
    return source


v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One raw file as the whole body (any content type), or several as "
        "multipart/form-data (every part with a filename is a file; an optional `source` field).",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                        "source": {"type": "string", "pattern": SOURCE_NAME_PATTERN},
                    },
                    "required": ["files"],
                }
            },
        },
    }
}


@v1.post(
    "/files",
    status_code=202,
    response_model=Accepted | AcceptedBatch,
    openapi_extra=_UPLOAD_BODY,
    responses={
        401: {"description": "The bearer token is missing or wrong."},
        413: {
            "description": "A file is larger than NEWSFLOW_MAX_FILE_BYTES, or the request than "
            "NEWSFLOW_MAX_REQUEST_BYTES."
        },
        422: {
            "description": "A bad parameter, an unusable multipart body, or more files than "
            "NEWSFLOW_MAX_FILES_PER_REQUEST (or than NEWSFLOW_MAX_QUEUE_DEPTH)."
        },
        429: {
            "description": "The ingest queue has no room for the request's files (at most "
            "NEWSFLOW_MAX_QUEUE_DEPTH waiting); retry after Retry-After seconds."
        },
        503: {"description": "Redis is unreachable."},
    },
)
async def submit_files(
    request: Request,
    state: StateDep,
    name: Annotated[
        str | None,
        Query(max_length=MAX_NAME_CHARS, description="The file's name (a raw body only)."),
    ] = None,
    source: Annotated[
        str | None,
        Query(pattern=SOURCE_NAME_PATTERN, description="Who sends the files (e.g. a scraper)."),
    ] = None,
    x_filename: Annotated[
        str | None,
        Header(description="The file's name, percent-encoded UTF-8 (if no `name` is given)."),
    ] = None,
) -> Response:
    """Queue raw files for ingest; answers 202 with a receipt per file to follow it by."""
    settings = state.settings
    content_type = request.headers.get("content-type", "")
    multipart = content_type.lower().startswith("multipart/form-data")
    declared = request.headers.get("content-length", "")
    # Refuse a body declared too large before reading a byte of it: the whole request is
    # capped (a multipart body of many files under the per-file limit can still be huge), and
    # a raw body, one file, by the smaller of the two limits.
    if declared.isdigit():
        if int(declared) > settings.max_request_bytes:
            raise _too_large(UploadTooLarge(settings.max_request_bytes, request=True))
        if not multipart and int(declared) > settings.max_file_bytes:
            raise _too_large(UploadTooLarge(settings.max_file_bytes))
    await _check_back_pressure(state)
    if multipart:
        batch = await _submit_multipart(request, state, content_type, source)
        structlog.contextvars.bind_contextvars(
            receipts=[item.receipt for item in batch.receipts],
            files=len(batch.receipts),
            bytes=sum(item.size for item in batch.receipts),
            source_name=batch.source,
        )
        return JSONResponse(batch.model_dump(mode="json"), status_code=202)
    filename = safe_filename(
        name
        or filename_from_header(x_filename)
        or filename_from_disposition(request.headers.get("content-disposition"))
    )
    accepted = await _submit_raw(request, state, filename, source)
    structlog.contextvars.bind_contextvars(
        receipts=[accepted.receipt], files=1, bytes=accepted.size, source_name=source
    )
    return JSONResponse(
        accepted.model_dump(mode="json"), status_code=202, headers={"Location": accepted.status_url}
    )


def _accept(
    state: ApiState, data: bytes | Callable[[], bytes], filename: str, source: str | None
) -> Accepted:
    """Queue one file (blocking: Redis and the broker); run in the thread pool. ``data`` may
    be a reader, so that a batch holds one file's bytes in memory at a time."""
    if callable(data):
        data = data()
    raw = state.submit(
        data,
        len(data),
        filename=filename,
        source="http",
        source_name=source,
    )
    return Accepted(
        receipt=raw.receipt,
        status_url=_status_url(raw.receipt),
        filename=filename,
        size=len(data),
        source=source,
    )


async def _submit_raw(
    request: Request, state: ApiState, filename: str, source: str | None
) -> Accepted:
    limit = min(state.settings.max_file_bytes, state.settings.max_request_bytes)
    try:
        data = await read_body(request.stream(), limit)
    except UploadTooLarge as error:
        raise _too_large(error) from error
    if not data:
        # Refused at the door, where the client can still hear it, not dead-lettered later.
        raise HTTPException(status_code=400, detail="the body is empty: send the file's bytes")
    [accepted] = await _admitted(state, [lambda: _accept(state, data, filename, source)])
    return accepted


async def _submit_multipart(
    request: Request, state: ApiState, content_type: str, source: str | None
) -> AcceptedBatch:
    """Every file is read and checked before any is queued: a 413, 422 or 429 queues nothing."""
    try:
        form = await read_multipart(
            request.stream(),
            content_type,
            file_limit=state.settings.max_file_bytes,
            body_limit=state.settings.max_request_bytes,
            max_files=state.settings.max_files_per_request,
        )
    except UploadTooLarge as error:
        raise _too_large(error) from error
    except BadUpload as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    empty = [upload.filename for upload in form.files if upload.size == 0]
    if empty:
        form.close()
        raise HTTPException(status_code=400, detail=f"empty file(s): {', '.join(empty)}")
    try:
        source = _check_source(source or form.fields.get("source"))
        # One file's bytes in memory at a time; the others wait in their spools.
        accepted = await _admitted(
            state,
            [
                partial(_accept, state, upload.read_bytes, upload.filename, source)
                for upload in form.files
            ],
        )
    finally:
        form.close()
    return AcceptedBatch(receipts=accepted, source=source)


def _queue_full(state: ApiState, admission: Admission) -> HTTPException:
    structlog.contextvars.bind_contextvars(
        queue_depth=admission.depth, queue_reserved=admission.reserved
    )
    return HTTPException(
        status_code=429,
        detail=f"the ingest queue holds {admission.depth} files and {admission.reserved} more "
        f"are being queued (limit {state.admission.limit}); retry later",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _check_back_pressure(state: ApiState) -> None:
    """Refuse early, before a body is read, when not even one more file would fit. Only a
    hint: ``_admitted`` decides, atomically, once the files are read."""
    admission = await _redis_call(state.admission.peek)
    if not admission.admitted:
        raise _queue_full(state, admission)


async def _admitted(state: ApiState, sends: list[Callable[[], Accepted]]) -> list[Accepted]:
    """Run ``sends`` (each queues one file) if the ingest queue has room for all of them,
    reserved in one atomic step (see ``services.api.admission``); else 429 and none is sent."""
    if len(sends) > state.admission.limit:
        raise HTTPException(
            status_code=422,
            detail=f"{len(sends)} files in one request is more than the ingest queue may ever "
            f"hold (NEWSFLOW_MAX_QUEUE_DEPTH {state.admission.limit}); send fewer at a time",
        )

    def send_all() -> tuple[Admission, list[Accepted]]:
        with state.admission.admit(len(sends)) as admission:
            return admission, [send() for send in sends] if admission.admitted else []

    admission, accepted = await _redis_call(send_all)
    if not admission.admitted:
        raise _queue_full(state, admission)
    return accepted


@v1.get(
    "/files/{receipt}",
    response_model=FileStatus,
    responses={404: {"description": "No such receipt (or its status has expired)."}},
)
async def file_status(
    state: StateDep, receipt: Annotated[str, Path(max_length=MAX_RECEIPT_CHARS)]
) -> FileStatus:
    """Where a submitted file is now: queued, parsed, enriched, indexed, duplicate, dead letter."""
    found = await _redis_call(lambda: read_status(state.redis, receipt))
    if found is None:
        raise HTTPException(status_code=404, detail=f"no file with receipt {receipt!r}")
    target = found.duplicate_of or (found.doc_id if found.state == "indexed" else None)
    return FileStatus(
        **found.model_dump(), document_url=f"/v1/documents/{target}" if target else None
    )


@v1.get("/search", response_model=SearchResult)
async def search(state: StateDep, query: Annotated[SearchQuery, Query()]) -> SearchResult:
    """Search the index: words, "phrases", -exclusions and OR, with filters and facets."""
    if query.since and query.until and query.since > query.until:
        raise HTTPException(status_code=422, detail="since is after until")
    if query.label_language is None:
        query = query.model_copy(update={"label_language": state.settings.display_language})
    return await _index_call(state, lambda backend: backend.search(query))


@v1.get(
    "/documents/{doc_id}",
    response_model=EnrichedDocument,
    responses={404: {"description": "No document with this id."}},
)
async def document(
    state: StateDep, doc_id: Annotated[str, Path(max_length=MAX_RECEIPT_CHARS)]
) -> EnrichedDocument:
    """One stored document in full, as the index worker stored it."""
    found = await _index_call(state, lambda backend: backend.get(doc_id))
    if found is None:
        raise HTTPException(status_code=404, detail=f"no document {doc_id!r}")
    return found


@v1.get("/stories", response_model=list[StorySummary])
async def stories(state: StateDep, query: Annotated[StoriesQuery, Query()]) -> list[StorySummary]:
    """Stories (reports of one event, in any language), last seen first: size, languages, time
    span, top entities and one title per language."""
    return await _index_call(state, lambda backend: backend.stories(query))


@v1.get(
    "/stories/{story_id}",
    response_model=StoryDetail,
    responses={404: {"description": "No story with this id."}},
)
async def story(
    state: StateDep, story_id: Annotated[str, Path(max_length=MAX_RECEIPT_CHARS)]
) -> StoryDetail:
    """One story with its documents; an id merged into another story gives that story."""
    found = await _index_call(state, lambda backend: backend.story(story_id))
    if found is None:
        raise HTTPException(status_code=404, detail=f"no story {story_id!r}")
    return found


class DeadLetterSummary(BaseModel):
    """A dead letter without its payload (``newsflow dlq show`` has it whole)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str
    stage: str
    reason: str
    error: str
    failed_at: datetime
    filename: str | None = None
    doc_id: str | None = None


class DeadLetterList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    total: int
    letters: list[DeadLetterSummary]


class Replayed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str
    stage: str
    status_url: str


def _summary(letter: DeadLetter) -> DeadLetterSummary:
    filename = letter.payload.get("filename")
    return DeadLetterSummary(
        receipt=letter.receipt,
        stage=letter.stage,
        reason=letter.reason,
        error=letter.error[:500],
        failed_at=letter.failed_at,
        filename=filename if isinstance(filename, str) else None,
        doc_id=letter.doc_id,
    )


def _letters(state: ApiState) -> DeadLetterStore:
    return DeadLetterStore.for_settings(state.redis, state.settings)


@v1.get("/dead-letters", response_model=DeadLetterList)
async def dead_letters(
    state: StateDep,
    stage: Annotated[Stage | None, Query(description="Only this stage.")] = None,
    reason: Annotated[str | None, Query(max_length=64, description="Only this reason.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeadLetterList:
    """Dead letters, oldest first: what failed, where, why and when."""
    letters = await _redis_call(lambda: _letters(state).list(stage))
    chosen = select(letters, stage=stage, reason=reason)
    return DeadLetterList(
        total=len(chosen), letters=[_summary(letter) for letter in chosen[offset : offset + limit]]
    )


@v1.post(
    "/dead-letters/{receipt}/replay",
    status_code=202,
    response_model=Replayed,
    responses={
        404: {"description": "No dead letter with this receipt."},
        409: {"description": "The letter cannot be replayed (the reason says why)."},
    },
)
async def replay_dead_letter(
    state: StateDep, receipt: Annotated[str, Path(max_length=MAX_RECEIPT_CHARS)]
) -> Replayed:
    """Send a dead letter back to its stage (after its cause is fixed), as `newsflow dlq replay`
    does; its receipt's status then follows it again."""

    def replay() -> DeadLetter | None:
        letter = _letters(state).find(receipt)
        if letter is not None and letter.receipt == receipt:
            state.replay(letter)
            return letter
        return None

    try:
        letter = await _redis_call(replay)
    except NotReplayable as why:
        raise HTTPException(status_code=409, detail=f"cannot replay {receipt}: {why}") from why
    if letter is None:
        raise HTTPException(status_code=404, detail=f"no dead letter {receipt!r}")
    return Replayed(receipt=receipt, stage=letter.stage, status_url=_status_url(receipt))


probes = APIRouter()


@probes.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (and answering); says nothing of Redis or the index."""
    return {"status": "ok"}


@probes.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: StateDep, credentials: CredentialsDep) -> JSONResponse:
    """Ready when Redis answers a PING and the index answers a lookup; 503 otherwise.

    Only a caller with the bearer token learns which check failed and how (the errors name
    internal hosts); everyone else, load balancers included, gets ready or not. Failures are
    logged, so an operator of an anonymous API still sees them.
    """

    def probe_redis() -> None:
        state.redis.ping()

    def probe_index() -> None:
        with state.backends.use() as backend:
            # A lookup by primary key: touches the store without scanning it (count() would).
            backend.get("readyz-probe")

    checks = {}
    for name, probe in (("redis", probe_redis), ("index", probe_index)):
        try:
            await run_in_threadpool(probe)
            checks[name] = Check(ok=True)
        except Exception as error:  # noqa: BLE001  # readiness reports any failure, never raises
            text = redact_text(f"{type(error).__name__}: {error}")[:300]
            checks[name] = Check(ok=False, error=text)
            log.warning("not ready", dependency=name, error=text)
    ready = all(check.ok for check in checks.values())
    readiness = Readiness(
        ready=ready, checks=checks if _has_valid_token(state, credentials) else None
    )
    body = readiness.model_dump(mode="json", exclude=None if readiness.checks else {"checks"})
    return JSONResponse(body, status_code=200 if ready else 503)


@probes.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)


def create_app(
    settings: Settings,
    *,
    redis_client: redis.Redis | None = None,
    open_index: Callable[[], IndexBackend] | None = None,
    submit: Submit | None = None,
    replay: Callable[[DeadLetter], None] | None = None,
) -> FastAPI:
    """The API over these settings; tests may pass their own Redis, index and submitter.

    Raises ``AnonymousApiRefused`` when no token is set and anonymous access was not chosen.
    """
    if settings.api_token is None and not settings.api_allow_anonymous:
        raise AnonymousApiRefused(ANONYMOUS_REFUSED)
    client = redis_client or connect_redis(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    backends = BackendPool(open_index or (lambda: open_backend(settings.index_url)))
    celery = make_celery(settings)
    intake = Intake(client, settings, Publisher(celery))
    if submit is None:
        submit = partial(submit_bytes, intake)
    # The ingest queue is a list in the state Redis only when that Redis is the broker.
    broker_depth = (
        None
        if settings.broker == settings.redis_url
        else partial(queue_depth, celery, INGEST_QUEUE)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        backends.close()
        client.close()

    app = FastAPI(
        title="newsflow",
        summary="Submit scraped news files, follow them through the pipeline, search the index.",
        version="1",
        lifespan=lifespan,
    )
    app.state.api = ApiState(
        settings=settings,
        redis=client,
        backends=backends,
        submit=submit,
        admission=AdmissionControl(
            client, INGEST_QUEUE, settings.max_queue_depth, broker_depth=broker_depth
        ),
        replay=replay or partial(replay_letter, intake=intake),
    )
    app.include_router(v1)
    app.include_router(probes)
    app.add_middleware(RequestObserver)
    return app
