"""Test-wide fixtures: the real Redis (for integration tests) and paths to the seeds.

In CI (``CI=true``) a missing Redis is a failure, never a skip: the integration tests are the
proof that the pipeline works, so they must run there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from kombu import Connection
from psycopg import sql

from services.index.postgres import parse_index_url
from tests.support import DatabaseClaim, VirtualHost

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# The Redis server the tests use; each run claims a database of its own on it (tests.support),
# so two runs can share the machine and none touches a developer's newsflow data in db 0.
# NEWSFLOW_TEST_REDIS_URL names a database to use as it is, with no claim.
TEST_REDIS_SERVER = os.environ.get("NEWSFLOW_TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
TEST_REDIS_URL = os.environ.get("NEWSFLOW_TEST_REDIS_URL")
# RabbitMQ for the tests that run on both brokers: the server, on which each run makes a virtual
# host of its own, or NEWSFLOW_TEST_AMQP_URL naming a virtual host to use as it is.
TEST_AMQP_SERVER = os.environ.get("NEWSFLOW_TEST_AMQP_SERVER", "amqp://guest:guest@127.0.0.1:5672")
TEST_AMQP_URL = os.environ.get("NEWSFLOW_TEST_AMQP_URL")
TEST_POSTGRES_URL = os.environ.get(
    "NEWSFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

# Hypothesis: "ci" (the default) runs a bounded number of examples, derandomised so that every
# run tries the same ones and a failure reproduces; "explore" draws new ones each run
# (NEWSFLOW_HYPOTHESIS_PROFILE=explore). No example database: nothing is written into the tree.
# No deadline: an example's time depends on the machine; the pytest timeout bounds a test.
_HYPOTHESIS_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
hypothesis_settings.register_profile("ci", max_examples=200, derandomize=True, **_HYPOTHESIS_COMMON)
hypothesis_settings.register_profile("explore", max_examples=2000, **_HYPOTHESIS_COMMON)
hypothesis_settings.load_profile(os.environ.get("NEWSFLOW_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def seed_files() -> list[Path]:
    files = sorted(SEEDS.glob("*.txt"))
    assert len(files) == 5, "seeds/ must hold the five sample files"
    return files


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """This run's own Redis database, emptied at start and at the end; skip (fail in CI)
    without a Redis server."""
    server = TEST_REDIS_URL or TEST_REDIS_SERVER
    client = redis.Redis.from_url(server, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI and is not answering at {server}: {error}")
        pytest.skip(f"no Redis at {server} ({error}); start redis-server to run these")
    finally:
        client.close()
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    claim = DatabaseClaim(TEST_REDIS_SERVER)
    claim.start_heartbeat()
    database = redis.Redis.from_url(claim.url)
    database.flushdb()
    try:
        yield claim.url
    finally:
        database.flushdb()
        database.close()
        claim.release()


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[redis.Redis]:
    """The real test database, emptied before the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this run's own, deleted at the end; skip (fail in CI)
    without a RabbitMQ server."""
    server = TEST_AMQP_URL or TEST_AMQP_SERVER
    try:
        with Connection(server, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # noqa: BLE001  # any failure to reach it means "no RabbitMQ"
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ is required in CI and is not answering at {server}: {error}")
        pytest.skip(f"no RabbitMQ at {server} ({error})")
    if TEST_AMQP_URL:
        yield TEST_AMQP_URL
        return
    vhost = VirtualHost(TEST_AMQP_SERVER)
    try:
        yield vhost.url
    finally:
        vhost.delete()


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _require_postgres() -> str:
    conninfo, _ = parse_index_url(TEST_POSTGRES_URL)
    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not answering: {error}")
        pytest.skip(f"no PostgreSQL at {conninfo} ({error})")
    return conninfo


def _schema_url(conninfo: str) -> Iterator[str]:
    schema = f"newsflow_test_{secrets.token_hex(4)}"
    yield with_schema(TEST_POSTGRES_URL, schema)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A schema of this test run's own, dropped at the end; skip (fail in CI) without a server."""
    yield from _schema_url(_require_postgres())


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A schema of this test's own, dropped after it."""
    yield from _schema_url(_require_postgres())
