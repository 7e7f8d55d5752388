"""TLS and passwords in the Redis and PostgreSQL URLs reach the clients intact (no server needed).

tests/integration/test_tls.py connects for real to a TLS Redis of its own.
"""

from __future__ import annotations

import ssl
from urllib.parse import unquote

import pytest
import redis
from kombu import Connection
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from services.api.app import create_app
from services.index.postgres import parse_index_url
from shared.redact import redact_url
from shared.redis_client import redis_client
from shared.settings import Settings

PASSWORD = "s3cr%40t-pw"  # noqa: S105  # a test value (percent-encoded DECODED)
DECODED = unquote(PASSWORD)
REDISS = (
    f"rediss://default:{PASSWORD}@cache.internal:6380/2"
    "?ssl_cert_reqs=required&ssl_ca_certs=/etc/newsflow/ca.pem"
)
POSTGRES = (
    f"postgresql://newsflow:{PASSWORD}@db.internal:5432/newsflow"
    "?sslmode=require&sslrootcert=/etc/newsflow/ca.pem&schema=news"
)


def test_a_rediss_url_with_a_password_is_accepted_and_builds_an_ssl_client() -> None:
    settings = Settings(_env_file=None, redis_url=REDISS)
    client = redis_client(settings.redis_url)  # the workers' client for app state
    pool = client.connection_pool
    assert pool.connection_class is redis.SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("default", DECODED)
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.internal", 6380, 2)
    assert kwargs["ssl_cert_reqs"] == "required"
    assert kwargs["ssl_ca_certs"] == "/etc/newsflow/ca.pem"


def test_the_api_and_the_broker_use_tls_with_the_same_url() -> None:
    settings = Settings(_env_file=None, redis_url=REDISS, api_allow_anonymous=True)
    api = create_app(settings)
    assert api.state.api.redis.connection_pool.connection_class is redis.SSLConnection
    broker = Connection(settings.redis_url)  # how Celery's Redis transport reads the URL
    assert broker.transport_cls == "rediss"
    assert broker.password == DECODED
    assert broker.ssl == {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_ca_certs": "/etc/newsflow/ca.pem",
    }


@pytest.mark.parametrize(
    "url",
    [
        f"rediss://:{PASSWORD}@cache:6380/0",  # Celery would skip verifying the certificate
        f"rediss://:{PASSWORD}@cache:6380/0?ssl_cert_reqs=maybe",
    ],
)
def test_a_rediss_url_must_say_how_to_check_the_certificate(url: str) -> None:
    with pytest.raises(ValidationError, match="ssl_cert_reqs=required"):
        Settings(_env_file=None, redis_url=url)


def test_a_postgresql_url_keeps_its_password_and_sslmode_for_libpq() -> None:
    settings = Settings(_env_file=None, index_url=POSTGRES)
    conninfo, schema = parse_index_url(settings.index_url)
    assert schema == "news"
    parsed = conninfo_to_dict(conninfo)
    assert parsed["password"] == DECODED
    assert parsed["sslmode"] == "require"
    assert parsed["sslrootcert"] == "/etc/newsflow/ca.pem"
    assert (parsed["host"], parsed["user"], parsed["dbname"]) == (
        "db.internal",
        "newsflow",
        "newsflow",
    )
    assert "s3cr" not in redact_url(settings.index_url)
