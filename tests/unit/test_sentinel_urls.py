"""One ``sentinel://`` URL for Redis behind Sentinel, read the same by the app-state client
(redis-py) and the broker (kombu): parsing, validation and the translation for each, with no
server. tests/integration/test_sentinel.py runs the workers through a Sentinel of its own."""

from __future__ import annotations

from urllib.parse import unquote

import fakeredis
import pytest
import redis
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError
from kombu.transport.redis import Channel as KombuRedisChannel
from pydantic import ValidationError
from redis.sentinel import SentinelConnectionPool

from newsflow.reconcile import OWN_MESSAGE_SECONDS, QueueHorizon
from services.api.app import create_app
from shared.celery_app import Publisher, make_celery, transport_options
from shared.redis_client import (
    FAILOVER_RETRIES,
    MasterConnection,
    MasterSSLConnection,
    connect,
    redis_client,
)
from shared.sentinel import DEFAULT_PORT, SentinelUrl, parse_sentinel_url
from shared.settings import Settings, format_settings_error

PASSWORD = "m%40ster%2Fpw"  # noqa: S105  # a test value; percent-encoded "m@ster/pw"
SENTINEL_PASSWORD = "s%26ntinel"  # noqa: S105  # a test value; "s&ntinel"
URL = (
    f"sentinel://default:{PASSWORD}@sentinel-a:26380,sentinel-b,[fd00::7]:26381/3"
    f"?master=news-master&sentinel_username=watcher&sentinel_password={SENTINEL_PASSWORD}"
)


def test_the_url_names_sentinels_master_database_and_both_credentials() -> None:
    parsed = parse_sentinel_url(URL)
    assert parsed == SentinelUrl(
        sentinels=(("sentinel-a", 26380), ("sentinel-b", DEFAULT_PORT), ("fd00::7", 26381)),
        master="news-master",
        db=3,
        username="default",
        password=unquote(PASSWORD),
        sentinel_username="watcher",
        sentinel_password=unquote(SENTINEL_PASSWORD),
        tls=None,
    )
    assert parsed.master_kwargs() == {
        "db": 3,
        "username": "default",
        "password": "m@ster/pw",
    }
    assert parsed.sentinel_kwargs() == {"username": "watcher", "password": "s&ntinel"}


def test_the_shortest_url_is_one_sentinel_and_a_master_name() -> None:
    parsed = parse_sentinel_url("sentinel://10.0.0.5?master=mymaster")
    assert parsed.sentinels == (("10.0.0.5", 26379),)
    assert (parsed.db, parsed.password, parsed.tls) == (0, None, None)
    assert parsed.sentinel_kwargs() == {}
    assert parsed.kombu_url() == "sentinel://10.0.0.5:26379/0"


def test_kombu_gets_one_url_per_sentinel_each_with_the_master_password_and_database() -> None:
    """kombu reads the credentials and database from whichever of its URLs it connects
    through, so each one carries them, percent-encoded again."""
    kombu = parse_sentinel_url(URL).kombu_url()
    assert kombu == ";".join(
        f"sentinel://default:{PASSWORD}@{host}/3"
        for host in ("sentinel-a:26380", "sentinel-b:26379", "[fd00::7]:26381")
    )
    connection = Connection(kombu)
    assert connection.transport_cls == "sentinel"
    assert (connection.userid, connection.password) == ("default", "m@ster/pw")
    assert connection.virtual_host == "3"
    assert len(connection.alt) == 3


def test_the_celery_app_uses_kombus_form_and_keeps_the_redis_transport_options() -> None:
    settings = Settings(_env_file=None, redis_url=URL)
    app = make_celery(settings)
    assert app.conf.broker_url == parse_sentinel_url(URL).kombu_url()
    options = app.conf.broker_transport_options
    assert options == transport_options(settings)
    assert options["master_name"] == "news-master"
    assert options["visibility_timeout"] == settings.effective_visibility_timeout
    assert options["socket_timeout"] == 15
    assert options["sentinel_kwargs"] == {
        "socket_timeout": 15,
        "socket_connect_timeout": 5,
        "username": "watcher",
        "password": "s&ntinel",
    }
    assert not app.conf.broker_use_ssl
    with app.connection_for_write() as connection:
        assert connection.transport_cls == "sentinel"
        assert connection.password == unquote(PASSWORD)


def test_a_separate_sentinel_broker_url_is_translated_too() -> None:
    settings = Settings(
        _env_file=None,
        redis_url="redis://state:6379/0",
        broker_url="sentinel://:pw@s1:26379,s2:26379/1?master=broker",
    )
    app = make_celery(settings)
    assert app.conf.broker_url == "sentinel://:pw@s1:26379/1;sentinel://:pw@s2:26379/1"
    assert app.conf.broker_transport_options["master_name"] == "broker"


def test_the_state_client_is_a_master_client_found_through_the_sentinels() -> None:
    """No server needed: the client asks the sentinels only when it first connects."""
    client = redis_client(URL)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "news-master"
    assert pool.is_master
    # Reconnects ask the sentinels again, also in the middle of a command.
    assert pool.connection_class is MasterConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["username"], kwargs["password"]) == (3, "default", "m@ster/pw")
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (10, 5)
    # A failover is ridden out inside a call: connection errors are retried, and each retry
    # asks the sentinels for the master again.
    assert kwargs["retry"].get_retries() == FAILOVER_RETRIES
    assert redis.ConnectionError in kwargs["retry_on_error"]
    sentinels = pool.sentinel_manager.sentinels
    addresses = [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in sentinels
    ]
    assert addresses == [("sentinel-a", 26380), ("sentinel-b", 26379), ("fd00::7", 26381)]
    first = sentinels[0].connection_pool.connection_kwargs
    assert (first["username"], first["password"]) == ("watcher", "s&ntinel")
    assert first["socket_timeout"] == 10


def test_the_api_builds_its_own_sentinel_client_with_its_short_timeouts() -> None:
    settings = Settings(_env_file=None, redis_url=URL, api_allow_anonymous=True)
    pool = create_app(settings).state.api.redis.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.connection_kwargs["socket_timeout"] == 5
    assert pool.connection_kwargs["socket_connect_timeout"] == 2


def test_tls_applies_to_the_sentinels_and_the_master_on_both_clients() -> None:
    url = (
        "sentinel://:pw@s1:26379/0?master=m&ssl=true&ssl_ca_certs=/etc/newsflow/ca.pem"
        "&ssl_certfile=/etc/newsflow/client.pem&ssl_keyfile=/etc/newsflow/client.key"
    )
    tls = {
        "ssl_cert_reqs": "required",  # the default: verify unless told otherwise
        "ssl_ca_certs": "/etc/newsflow/ca.pem",
        "ssl_certfile": "/etc/newsflow/client.pem",
        "ssl_keyfile": "/etc/newsflow/client.key",
    }
    client = connect(url)
    pool = client.connection_pool
    assert pool.connection_class is MasterSSLConnection
    assert issubclass(MasterSSLConnection, redis.SSLConnection)
    assert {key: pool.connection_kwargs[key] for key in tls} == tls
    sentinel = pool.sentinel_manager.sentinels[0].connection_pool
    assert sentinel.connection_class is redis.SSLConnection
    assert {key: sentinel.connection_kwargs[key] for key in tls} == tls

    settings = Settings(_env_file=None, redis_url=url)
    app = make_celery(settings)
    assert app.conf.broker_use_ssl == tls  # kombu's connections to the master
    assert app.conf.broker_transport_options["sentinel_kwargs"]["ssl"] is True
    assert parse_sentinel_url(url.replace("ssl=true", "ssl=true&ssl_cert_reqs=none")).tls == (
        ("ssl_cert_reqs", "none"),
        *((key, value) for key, value in tls.items() if key != "ssl_cert_reqs"),
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sentinel://s1:26379,s2:26379/0", r"needs \?master=NAME"),
        ("sentinel://s1:26379/0?master=", r"needs \?master=NAME"),
        ("sentinel://s1:26379;sentinel://s2:26379?master=m", "comma-separated"),
        ("sentinel:///0?master=m", "at least one sentinel"),
        ("sentinel://s1:port/0?master=m", "sentinel address 1: the port"),
        ("sentinel://s1,:26379/0?master=m", "sentinel address 2 has no host"),
        ("sentinel://s1/zero?master=m", "database after the hosts must be a number"),
        ("sentinel://s1/0?master=m&service=x", "unknown parameter"),
        ("sentinel://s1/0?master=m&ssl_ca_certs=/ca.pem", "without ssl=true"),
        ("sentinel://s1/0?master=m&ssl=true&ssl_cert_reqs=maybe", "ssl_cert_reqs takes"),
        ("sentinel://s1/0?master=m&ssl=perhaps", "takes true or false"),
    ],
)
def test_a_malformed_sentinel_url_is_refused_at_start_with_the_reason(
    url: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sentinel_url(url)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, redis_url=url)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, broker_url=url)


def test_the_settings_error_for_a_sentinel_url_names_the_variable_not_the_passwords() -> None:
    secret, sentinel_secret = "Zq9-master-secret", "Zq9-sentinel-secret"
    url = f"sentinel://:{secret}@s1:26379,s2:26379/0?sentinel_password={sentinel_secret}"
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, redis_url=url)
    message = format_settings_error(error.value)
    assert "NEWSFLOW_REDIS_URL" in message
    assert "?master=NAME" in message
    assert secret not in message
    assert sentinel_secret not in message


@pytest.mark.parametrize("password", ["Zq9/xyzzy", "Zq9?xyzzy", "Zq9#xyzzy"])
def test_an_unencoded_password_is_refused_without_being_echoed(password: str) -> None:
    url = f"sentinel://:{password}@s1:26379/0?master=m"
    with pytest.raises(ValueError, match="percent-encode") as error:
        parse_sentinel_url(url)
    assert "Zq9" not in str(error.value)
    assert "xyzzy" not in str(error.value)


def test_the_reconciler_peeks_at_the_queue_list_through_the_sentinel_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind Sentinel the broker is still Redis: the reconciler reads the oldest message's
    publish time from the list, rather than only the queue's depth."""
    fake = fakeredis.FakeRedis()
    fake.rpush("enrich", b'{"headers": {"newsflow_sent_at": 1000.0}}')
    asked: list[str] = []

    def client_for(url: str) -> fakeredis.FakeRedis:
        asked.append(url)
        return fake

    monkeypatch.setattr("newsflow.reconcile.redis_client", client_for)
    settings = Settings(_env_file=None, redis_url=URL)
    horizon = QueueHorizon(make_celery(settings), settings.broker)
    assert not horizon.passed("enrich", 1500.0)  # a message from before is still queued
    # Published well after the receipt's last change (beyond the margin for its own message).
    assert horizon.passed("enrich", 1000.0 - OWN_MESSAGE_SECONDS - 1)
    assert horizon.passed("index", 1500.0)  # an empty queue
    assert asked == [URL, URL]


def test_a_publish_on_a_channel_kombu_closed_is_a_broker_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kombu can publish on a Redis channel it closed while reconnecting (seen during a
    failover): that is the broker failing, so callers get the broker error they retry, not an
    AttributeError that would dead-letter the document as a bug; the pooled connections are
    dropped so the next publish starts afresh."""
    closed = KombuRedisChannel.__new__(KombuRedisChannel)
    closed.connection = None  # what kombu leaves on a channel it has closed

    def publish_on_closed_channel(*_: object, **__: object) -> None:
        closed._connparams()

    app = make_celery(Settings(_env_file=None, redis_url=URL))
    dropped: list[bool] = []

    def force_close_all(close_pool: bool) -> None:
        dropped.append(close_pool)

    monkeypatch.setattr(app.pool, "force_close_all", force_close_all)
    monkeypatch.setattr(app, "send_task", publish_on_closed_channel)
    with pytest.raises(BrokerError, match="has no attribute 'client'"):
        Publisher(app).send("index", {"receipt": "r1"})
    assert dropped == [False]  # closed, and the pool still usable

    def our_own_bug(*_: object, **__: object) -> None:
        raise AttributeError("a bug of ours")

    monkeypatch.setattr(app, "send_task", our_own_bug)
    with pytest.raises(AttributeError, match="a bug of ours"):
        Publisher(app).send("index", {"receipt": "r2"})
    assert dropped == [False]
