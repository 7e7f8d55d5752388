"""The HTTP API's routes and statuses, in-process over fakeredis and an in-memory index.

These pin the contract (statuses, headers, bodies) quickly; tests/integration/test_api.py proves
the same against a real ``newsflow serve`` process, real Redis and real workers.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self

import fakeredis
import pytest
import redis
import structlog
from fastapi.testclient import TestClient

from services.api.app import AnonymousApiRefused, create_app
from services.api.metrics import HTTP_REQUESTS, REGISTRY
from services.index.backend import SearchHit, SearchQuery, SearchResult
from services.index.stories import StoriesQuery, StoryDetail, StorySummary
from services.ingest.intake import raw_file_message
from services.ingest.replay import NotReplayable
from shared.deadletters import DeadLetterStore
from shared.messages import DeadLetter, EnrichedDocument, RawFile, Source
from shared.receipts import record_status
from shared.settings import Settings

LIMIT = 1000
TOKEN = "s3cret"  # noqa: S105  # a test token, not a credential
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


STORY = StorySummary(
    id="s-1",
    size=2,
    languages={"de": 1, "ru": 1},
    first_seen=date(2025, 9, 29),
    last_seen=date(2025, 10, 11),
    titles={"ru": "Технопарк открыт", "de": "Technopark eröffnet"},
)


def make_doc(doc_id: str = "doc-1", title: str = "Технопарк открыт") -> EnrichedDocument:
    return EnrichedDocument(
        receipt="r-" + doc_id,
        source="cli",
        filename=f"{doc_id}.txt",
        received_at=datetime(2025, 10, 11, tzinfo=UTC),
        size=100,
        encoding="utf-8",
        id=doc_id,
        title=title,
        paragraphs=["Текст новости."],
        published=date(2025, 10, 11),
        language="ru",
        language_confidence=0.99,
        enrichers={"language": "1"},
    )


class FakeIndex:
    """An in-memory ``IndexBackend`` that records the searches it is asked."""

    def __init__(self, *docs: EnrichedDocument, broken: bool = False) -> None:
        self.docs = {doc.id: doc for doc in docs}
        self.queries: list[SearchQuery] = []
        self.story_queries: list[StoriesQuery] = []
        self.broken = broken

    def _check(self) -> None:
        if self.broken:
            raise sqlite3.OperationalError("unable to open database file")

    def upsert(self, doc: EnrichedDocument) -> bool:
        new = doc.id not in self.docs
        self.docs[doc.id] = doc
        return new

    def upsert_many(self, docs: Iterable[EnrichedDocument]) -> int:
        return sum(self.upsert(doc) for doc in docs)

    def get(self, doc_id: str) -> EnrichedDocument | None:
        self._check()
        return self.docs.get(doc_id)

    def count(self) -> int:
        return len(self.docs)

    def search(self, query: SearchQuery) -> SearchResult:
        self._check()
        self.queries.append(query)
        hits = [
            SearchHit(
                id=doc.id,
                title=doc.title,
                published=doc.published,
                language=doc.language,
                score=1.0,
                snippet=doc.body,
            )
            for doc in self.docs.values()
            if query.q.casefold() in doc.title.casefold()
        ]
        return SearchResult(total=len(hits), hits=hits[query.offset : query.offset + query.limit])

    def claim(self, doc_id: str, receipt: str) -> str:
        return receipt

    def stale(self, versions: dict[str, str]) -> Iterator[EnrichedDocument]:
        return iter(())

    def resolve_story(self, story_id: str) -> str:
        return "s-1" if story_id == "s-old" else story_id

    def stories(self, query: StoriesQuery) -> list[StorySummary]:
        self._check()
        self.story_queries.append(query)
        return [STORY]

    def story(self, story_id: str) -> StoryDetail | None:
        self._check()
        if self.resolve_story(story_id) != STORY.id:
            return None
        return StoryDetail(**STORY.model_dump(), merged_ids=["s-old"])

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeSubmit:
    """Stands in for ``submit_bytes``: records what would have been queued."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.calls: list[tuple[bytes | None, str, str]] = []

    def __call__(
        self,
        data: bytes | None,
        size: int,
        *,
        filename: str,
        source: Source,
        source_name: str | None = None,
    ) -> RawFile:
        self.client.ping()  # like the real one, it needs Redis
        self.calls.append((data, filename, source))
        return raw_file_message(
            data, size, filename=filename, source=source, origin_path=None, source_name=source_name
        )


class Api:
    def __init__(self, index: FakeIndex, **settings: Any) -> None:
        self.server = fakeredis.FakeServer()
        self.redis = fakeredis.FakeRedis(server=self.server)
        self.index = index
        self.submit = FakeSubmit(self.redis)
        self.replayed: list[str] = []
        # Anonymous unless a test sets a token: the API refuses to start with neither.
        values = {
            "max_file_bytes": LIMIT,
            "max_queue_depth": 5,
            "api_allow_anonymous": "api_token" not in settings,
            **settings,
        }
        app = create_app(
            Settings(_env_file=None, **values),
            redis_client=self.redis,
            open_index=lambda: self.index,
            submit=self.submit,
            replay=self.replay,
        )
        self.client = TestClient(app)

    def replay(self, letter: DeadLetter) -> None:
        """Stands in for ``services.ingest.replay.replay``."""
        if letter.reason == "too_large":
            raise NotReplayable("its bytes were never stored and the original file is gone")
        self.replayed.append(letter.receipt)


@pytest.fixture
def api() -> Iterator[Api]:
    made = Api(FakeIndex(make_doc()))
    with made.client:
        yield made


@pytest.fixture
def secured() -> Iterator[Api]:
    made = Api(FakeIndex(make_doc()), api_token=TOKEN)
    with made.client:
        yield made


def test_healthz_answers_without_dependencies() -> None:
    made = Api(FakeIndex(broken=True))
    made.server.connected = False
    assert made.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_when_redis_and_index_answer(secured: Api) -> None:
    answer = secured.client.get("/readyz", headers=AUTH)
    assert answer.status_code == 200
    assert answer.json()["checks"] == {
        "redis": {"ok": True, "error": None},
        "index": {"ok": True, "error": None},
    }


def test_readyz_names_the_index_when_it_fails_to_a_caller_with_the_token() -> None:
    made = Api(FakeIndex(broken=True), api_token=TOKEN)
    answer = made.client.get("/readyz", headers=AUTH)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["index"]["ok"] is False
    assert "OperationalError" in checks["index"]["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_readyz_tells_anonymous_callers_only_ready_or_not(headers: dict[str, str]) -> None:
    """The errors name internal hosts and libraries: none of that for a caller without the
    token (a load balancer needs only the status)."""
    made = Api(FakeIndex(broken=True), api_token=TOKEN)
    answer = made.client.get("/readyz", headers=headers)
    assert (answer.status_code, answer.json()) == (503, {"ready": False})
    made.index.broken = False
    answer = made.client.get("/readyz", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"ready": True})


def test_readyz_of_an_anonymous_api_gives_no_details() -> None:
    """With no token configured nobody holds one, so nobody gets the details (they are logged)."""
    made = Api(FakeIndex(broken=True))
    with structlog.testing.capture_logs() as logs:
        answer = made.client.get("/readyz")
    assert (answer.status_code, answer.json()) == (503, {"ready": False})
    assert any(line["event"] == "not ready" and line["dependency"] == "index" for line in logs)


def test_the_api_refuses_to_start_without_a_token_unless_anonymous_is_chosen() -> None:
    """An API on 0.0.0.0 with no token is open to anyone: that must be a decision, not a
    default (the compose file used to do it by accident)."""
    with pytest.raises(AnonymousApiRefused) as refused:
        create_app(Settings(_env_file=None))
    assert "NEWSFLOW_API_TOKEN" in str(refused.value)
    assert "NEWSFLOW_API_ALLOW_ANONYMOUS=true" in str(refused.value)
    create_app(Settings(_env_file=None, api_allow_anonymous=True))
    create_app(Settings(_env_file=None, api_token=TOKEN))


def test_newsflow_serve_without_a_token_exits_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [NEWSFLOW, "serve", "--port", "1"],  # never bound: it stops before
        env={"PATH": "/usr/bin:/bin", "NEWSFLOW_INDEX_URL": str(tmp_path / "i.db")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "NEWSFLOW_API_TOKEN" in lines[0]
    assert "NEWSFLOW_API_ALLOW_ANONYMOUS" in lines[0]


def test_raw_body_is_queued_with_its_name(api: Api) -> None:
    answer = api.client.post("/v1/files", params={"name": "a.txt"}, content=b"hello")
    assert answer.status_code == 202
    body = answer.json()
    assert body["status_url"] == f"/v1/files/{body['receipt']}"
    assert answer.headers["location"] == body["status_url"]
    assert (body["filename"], body["size"]) == ("a.txt", 5)
    assert api.submit.calls == [(b"hello", "a.txt", "http")]


def test_raw_body_name_may_come_from_a_header(api: Api) -> None:
    api.client.post(
        "/v1/files",
        content=b"x",
        headers={"X-Filename": "%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8.txt"},
    )
    api.client.post(
        "/v1/files", content=b"y", headers={"Content-Disposition": 'attachment; filename="b.txt"'}
    )
    api.client.post("/v1/files", params={"name": "../../etc/passwd"}, content=b"z")
    assert [name for _, name, _ in api.submit.calls] == ["новости.txt", "b.txt", "passwd"]


def test_multipart_queues_every_file(api: Api) -> None:
    answer = api.client.post(
        "/v1/files",
        files=[("files", ("a.txt", b"first")), ("files", ("b.txt", b"second"))],
        data={"source": "belta-scraper"},
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["source"] == "belta-scraper"
    assert [(item["filename"], item["size"]) for item in body["receipts"]] == [
        ("a.txt", 5),
        ("b.txt", 6),
    ]
    assert len({item["receipt"] for item in body["receipts"]}) == 2
    assert api.submit.calls == [(b"first", "a.txt", "http"), (b"second", "b.txt", "http")]


def test_declared_length_over_the_limit_is_refused_unread(api: Api) -> None:
    answer = api.client.post("/v1/files", content=b"x" * (LIMIT + 1))
    assert answer.status_code == 413
    assert api.submit.calls == []


def test_streamed_body_over_the_limit_is_refused(api: Api) -> None:
    """Without a Content-Length (chunked), the limit is enforced while reading."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 100

    answer = api.client.post("/v1/files", content=chunks())
    assert answer.status_code == 413
    assert api.submit.calls == []


def test_multipart_file_over_the_limit_is_refused_and_nothing_queued(api: Api) -> None:
    answer = api.client.post(
        "/v1/files",
        files=[("files", ("ok.txt", b"ok")), ("files", ("big.txt", b"x" * (LIMIT + 1)))],
    )
    assert answer.status_code == 413
    assert "big.txt" in answer.json()["detail"]
    assert api.submit.calls == []


def test_a_request_over_the_whole_request_limit_is_413_though_each_file_fits() -> None:
    """Many files under the per-file limit still make one bounded request, not a gigabyte."""
    made = Api(FakeIndex(), max_request_bytes=2500)
    files = [("files", (f"{n}.txt", b"x" * (LIMIT - 10))) for n in range(3)]
    answer = made.client.post("/v1/files", files=files)
    assert answer.status_code == 413
    assert "request body" in answer.json()["detail"]
    assert made.submit.calls == []
    # A raw body is one file: the smaller of the two limits applies.
    small = Api(FakeIndex(), max_request_bytes=100)
    assert small.client.post("/v1/files", content=b"x" * 101).status_code == 413
    assert small.submit.calls == []


def test_more_files_than_allowed_in_one_request_are_refused() -> None:
    made = Api(FakeIndex(), max_files_per_request=2)
    files = [("files", (f"{n}.txt", b"x")) for n in range(3)]
    answer = made.client.post("/v1/files", files=files)
    assert answer.status_code == 422
    assert "NEWSFLOW_MAX_FILES_PER_REQUEST" in answer.json()["detail"]
    assert made.submit.calls == []


@pytest.mark.parametrize(
    ("request_kwargs"),
    [
        {"params": {"source": "not a name!"}, "content": b"x"},
        {"files": [("files", ("a.txt", b"a"))], "data": {"source": "a b"}},
        {"data": {"source": "only-a-field"}, "files": [("other", ("", b""))]},
    ],
)
def test_bad_upload_parameters_are_422(api: Api, request_kwargs: dict[str, Any]) -> None:
    assert api.client.post("/v1/files", **request_kwargs).status_code == 422
    assert api.submit.calls == []


def test_deep_ingest_queue_answers_429_with_retry_after(api: Api) -> None:
    """Back pressure: scrapers are told to wait instead of piling files onto a backlog."""
    api.redis.rpush("ingest", *[b"message"] * 4)
    assert api.client.post("/v1/files", content=b"x").status_code == 202  # it makes 5: fine
    api.redis.rpush("ingest", b"the fifth")
    answer = api.client.post("/v1/files", content=b"x")
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "holds 5 files" in answer.json()["detail"]
    assert len(api.submit.calls) == 1


def test_a_batch_is_admitted_whole_or_not_at_all(api: Api) -> None:
    """Three files do not fit where two do: none of them is queued, not the first two."""
    api.redis.rpush("ingest", *[b"message"] * 3)
    three = [("files", (f"{n}.txt", b"x")) for n in range(3)]
    assert api.client.post("/v1/files", files=three).status_code == 429
    assert api.submit.calls == []
    assert api.client.post("/v1/files", files=three[:2]).status_code == 202
    assert len(api.submit.calls) == 2


def test_a_batch_larger_than_the_queue_limit_is_422_not_429(api: Api) -> None:
    """Retrying could never help it, so the client is not told to retry."""
    six = [("files", (f"{n}.txt", b"x")) for n in range(6)]
    answer = api.client.post("/v1/files", files=six)
    assert answer.status_code == 422
    assert "NEWSFLOW_MAX_QUEUE_DEPTH" in answer.json()["detail"]
    assert api.submit.calls == []


def test_unreachable_redis_answers_503_on_upload(api: Api) -> None:
    api.server.connected = False
    answer = api.client.post("/v1/files", content=b"x")
    assert answer.status_code == 503
    assert "retry-after" in answer.headers
    assert api.client.get("/readyz").status_code == 503


def test_token_is_required_on_v1_when_set(secured: Api) -> None:
    client = secured.client
    missing = client.post("/v1/files", content=b"x")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = {"Authorization": f"Bearer {TOKEN.upper()}"}
    assert client.post("/v1/files", content=b"x", headers=wrong).status_code == 401
    assert client.get("/v1/documents/doc-1", headers=wrong).status_code == 401
    assert client.get("/v1/search", params={"q": "x"}).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/files", content=b"x", headers=right).status_code == 202
    assert client.get("/v1/documents/doc-1", headers=right).status_code == 200


def test_probes_and_metrics_need_no_token(secured: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert secured.client.get(path).status_code == 200, path


def test_token_is_checked_before_the_body_is_read(secured: Api) -> None:
    answer = secured.client.post("/v1/files", content=b"x" * (LIMIT + 1))
    assert answer.status_code == 401


def test_file_status_shows_where_the_file_is(api: Api) -> None:
    record_status(api.redis, 60, "r1", "indexed", filename="a.txt", doc_id="doc-1", stage="index")
    record_status(
        api.redis, 60, "r2", "dead_letter", filename="b.txt", stage="ingest", reason="binary"
    )
    record_status(api.redis, 60, "r3", "duplicate", doc_id="doc-1", duplicate_of="doc-1")
    indexed = api.client.get("/v1/files/r1").json()
    assert (indexed["state"], indexed["doc_id"]) == ("indexed", "doc-1")
    assert indexed["document_url"] == "/v1/documents/doc-1"
    dead = api.client.get("/v1/files/r2").json()
    assert (dead["state"], dead["stage"], dead["reason"]) == ("dead_letter", "ingest", "binary")
    assert dead["document_url"] is None
    duplicate = api.client.get("/v1/files/r3").json()
    assert (duplicate["state"], duplicate["duplicate_of"]) == ("duplicate", "doc-1")


def test_unknown_receipt_and_document_are_404(api: Api) -> None:
    assert api.client.get("/v1/files/nope").status_code == 404
    assert api.client.get("/v1/documents/nope").status_code == 404


def test_document_is_returned_in_full(api: Api) -> None:
    answer = api.client.get("/v1/documents/doc-1")
    assert answer.status_code == 200
    assert EnrichedDocument.model_validate(answer.json()) == make_doc()


def test_search_passes_every_parameter_to_the_index(api: Api) -> None:
    answer = api.client.get(
        "/v1/search",
        params={
            "q": "технопарк",
            "lang": "ru",
            "entity": "BY",
            "type": "ORG",
            "currency": "BYN",
            "rate": "usd/byn",
            "since": "2025-01-01",
            "until": "2025-12-31",
            "collapse": "false",
            "facets": "true",
            "limit": "5",
            "offset": "1",
        },
    )
    assert answer.status_code == 200
    assert SearchResult.model_validate(answer.json()).total == 1
    assert api.index.queries == [
        SearchQuery(
            q="технопарк",
            lang="ru",
            entity="BY",
            type="ORG",
            currency="BYN",
            rate="USD/BYN",
            since=date(2025, 1, 1),
            until=date(2025, 12, 31),
            collapse=False,
            facets=True,
            label_language="en",  # the display language setting, as none was asked for
            limit=5,
            offset=1,
        )
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "5000"},
        {"q": "x", "offset": "-1"},
        {"q": "x", "type": "THING"},
        {"q": "x", "since": "yesterday"},
        {"q": "x", "collapse": "maybe"},
        {"q": "x", "since": "2025-02-01", "until": "2025-01-01"},
        {"q": "x", "lnag": "ru"},
        {"q": "x", "rate": "USD"},
    ],
)
def test_bad_search_parameters_are_422(api: Api, params: dict[str, str]) -> None:
    assert api.client.get("/v1/search", params=params).status_code == 422
    assert api.index.queries == []


def test_unreachable_index_answers_503() -> None:
    made = Api(FakeIndex(broken=True))
    assert made.client.get("/v1/search", params={"q": "x"}).status_code == 503
    assert made.client.get("/v1/documents/doc-1").status_code == 503


def _count(route: str, method: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "newsflow_http_requests_total", {"route": route, "method": method, "status": status}
    )
    return value or 0.0


def test_metrics_label_requests_by_route_template(api: Api) -> None:
    """Ids in paths would make a label per document; the template keeps the set bounded."""
    before = _count("/v1/files/{receipt}", "GET", "404")
    api.client.get("/v1/files/first-unknown")
    api.client.get("/v1/files/second-unknown")
    assert _count("/v1/files/{receipt}", "GET", "404") == before + 2
    unmatched = _count("unmatched", "GET", "404")
    api.client.get("/no/such/path")
    assert _count("unmatched", "GET", "404") == unmatched + 1
    text = api.client.get("/metrics").text
    assert "newsflow_http_request_duration_seconds_bucket" in text
    assert "first-unknown" not in text
    routes = {sample.labels["route"] for sample in next(iter(HTTP_REQUESTS.collect())).samples}
    assert not any("unknown" in route for route in routes)


def test_one_log_line_per_request(api: Api) -> None:
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        answer = api.client.post("/v1/files", params={"name": "a.txt"}, content=b"hello")
    lines = [line for line in logs if line["event"] == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["route"], line["method"], line["status"]) == ("/v1/files", "POST", 202)
    assert line["receipts"] == [answer.json()["receipt"]]
    assert answer.headers["x-request-id"]


def test_stories_pass_every_parameter_to_the_index(api: Api) -> None:
    answer = api.client.get(
        "/v1/stories", params={"since": "2025-09-01", "lang": "de", "min_size": "2", "limit": "3"}
    )
    assert answer.status_code == 200
    assert [StorySummary.model_validate(item) for item in answer.json()] == [STORY]
    assert api.index.story_queries == [
        StoriesQuery(since=date(2025, 9, 1), lang="de", min_size=2, limit=3)
    ]
    assert api.client.get("/v1/stories", params={"min_size": "0"}).status_code == 422


def test_a_story_by_its_id_or_a_merged_id_and_404_for_none(api: Api) -> None:
    for story_id in ("s-1", "s-old"):
        answer = api.client.get(f"/v1/stories/{story_id}")
        assert answer.status_code == 200
        assert StoryDetail.model_validate(answer.json()).id == "s-1"
    assert api.client.get("/v1/stories/s-none").status_code == 404


def test_search_takes_the_story_filter_and_one_hit_per_story(api: Api) -> None:
    answer = api.client.get("/v1/search", params={"story": "s-1", "collapse_story": "true"})
    assert answer.status_code == 200
    assert api.index.queries == [SearchQuery(story="s-1", collapse_story=True, label_language="en")]


def test_openapi_documents_every_route(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/files",
        "/v1/files/{receipt}",
        "/v1/search",
        "/v1/documents/{doc_id}",
        "/v1/stories",
        "/v1/stories/{story_id}",
    } <= set(paths)
    assert api.client.get("/docs").status_code == 200


def test_an_empty_body_is_refused_at_the_door(api: Api) -> None:
    """The client hears 400 now, instead of a dead letter it would have to go and find."""
    answer = api.client.post("/v1/files", params={"name": "a.txt"}, content=b"")
    assert answer.status_code == 400
    assert "empty" in answer.json()["detail"]
    assert api.submit.calls == []


def test_an_empty_file_in_a_multipart_upload_refuses_the_request(api: Api) -> None:
    answer = api.client.post(
        "/v1/files", files=[("file", ("a.txt", b"news")), ("file", ("b.txt", b""))]
    )
    assert answer.status_code == 400
    assert "b.txt" in answer.json()["detail"]
    assert api.submit.calls == []


def _letter(receipt: str, reason: str, stage: str = "ingest") -> DeadLetter:
    return DeadLetter(
        stage=stage,
        receipt=receipt,
        reason=reason,
        error=f"{reason} error",
        failed_at=datetime(2026, 1, 1, tzinfo=UTC),
        task_name="ingest.receive",
        payload={"receipt": receipt, "filename": f"{receipt}.txt", "content_b64": "c2VjcmV0"},
    )


def test_dead_letters_are_listed_without_their_payload(api: Api) -> None:
    store = DeadLetterStore(api.redis, ttl_seconds=3600, max_bytes=10**6)
    store.add(_letter("r1", "binary"))
    store.add(_letter("r2", "empty"))
    answer = api.client.get("/v1/dead-letters", params={"reason": "binary"})
    assert answer.status_code == 200
    listed = answer.json()
    assert listed["total"] == 1
    assert listed["letters"][0]["receipt"] == "r1"
    assert listed["letters"][0]["filename"] == "r1.txt"
    assert "c2VjcmV0" not in answer.text, "a listing never carries the file's bytes"


def test_a_dead_letter_is_replayed_over_http(api: Api) -> None:
    store = DeadLetterStore(api.redis, ttl_seconds=3600, max_bytes=10**6)
    store.add(_letter("r1", "binary"))
    store.add(_letter("r2", "too_large"))
    answer = api.client.post("/v1/dead-letters/r1/replay")
    assert answer.status_code == 202
    assert answer.json() == {"receipt": "r1", "stage": "ingest", "status_url": "/v1/files/r1"}
    assert api.replayed == ["r1"]
    refused = api.client.post("/v1/dead-letters/r2/replay")
    assert refused.status_code == 409
    assert "original file is gone" in refused.json()["detail"]
    assert api.client.post("/v1/dead-letters/nope/replay").status_code == 404


def test_dead_letters_need_the_token(secured: Api) -> None:
    assert secured.client.get("/v1/dead-letters").status_code == 401
    assert secured.client.post("/v1/dead-letters/r1/replay").status_code == 401
