"""The Celery application, built by a factory: importing this module connects to nothing.

``make_celery(settings)`` builds the app that a worker, the API, the watcher and the command
line each make for themselves from their own settings; whoever sends messages gets a
``Publisher`` over it. Tests and the API can therefore point at another broker by passing other
settings, with no environment tricks and no app built at import.

JSON is the only accepted content type, so a pickle message is refused (and dead-lettered by
``shared.consumer``) instead of being executed. Each stage has its own queue and dotted task
name. Tasks acknowledge late and are re-queued if their worker dies mid-task; every write
downstream is idempotent, so running twice is harmless, and the receipt ledger
(``shared.receipts``) drives again whatever a broker loses at its edges.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as BrokerError

from shared.sentinel import is_sentinel_url, parse_sentinel_url
from shared.settings import Settings
from shared.stages import STAGES, TASK_NAMES, Stage

# Publishing retries for about half a minute (0.5 s steps up to 2 s): a broker restart takes
# seconds, and a producer that gives up sooner turns a blip into an error for its caller.
PUBLISH_RETRY_POLICY = {
    "max_retries": 20,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 2,
}
# The header every newsflow message carries with the time it was published; the reconciler
# compares it with a receipt's last change to tell a message still waiting in its queue from
# one the broker lost.
SENT_AT_HEADER = "newsflow_sent_at"


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://"))


def kombu_broker_url(url: str) -> str:
    """The broker URL as kombu reads it. A ``sentinel://`` URL in newsflow's form (one URL,
    sentinels comma-separated, ``?master=``; see ``shared.sentinel``) becomes kombu's: one
    ``sentinel://`` URL per sentinel joined by ``;``, the master's name and the sentinels'
    credentials going into the transport options instead. Any other URL is kombu's already."""
    return parse_sentinel_url(url).kombu_url() if is_sentinel_url(url) else url


def stage_queues(settings: Settings) -> list[Queue]:
    """One durable queue per stage.

    On RabbitMQ they are quorum queues: replicated across the cluster's nodes by Raft, so a
    node lost does not lose a message. Quorum queues have no global QoS (Celery detects them
    and uses per-consumer QoS) and no per-message TTL, so Celery sends a retry's countdown
    through RabbitMQ's native delayed delivery (the ``celery_delayed_*`` exchanges), which
    routes only to queues bound to a topic exchange: the stages share one, ``newsflow``, with
    the stage as routing key.
    """
    if is_amqp(settings.broker):
        exchange = Exchange("newsflow", type="topic", durable=True)
        return [
            Queue(
                stage,
                exchange,
                routing_key=stage,
                durable=True,
                queue_arguments={"x-queue-type": "quorum"},
            )
            for stage in STAGES
        ]
    return [Queue(stage, routing_key=stage, durable=True) for stage in STAGES]


def transport_options(settings: Settings) -> dict[str, Any]:
    if is_amqp(settings.broker):
        # Publisher confirms: send_task returns only once RabbitMQ has the message (for a
        # quorum queue: once a majority of its replicas have it).
        return {"confirm_publish": True}
    options: dict[str, Any] = {
        "visibility_timeout": settings.effective_visibility_timeout,
        # Look for messages abandoned by a dead worker every 10 s, not every 100 s (kombu's
        # default sweep is its interval times its throttle); the sweep is one ZRANGEBYSCORE.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        # A broker that vanishes without closing the socket must not hang a publish forever.
        "socket_timeout": 15,
        "socket_connect_timeout": 5,
        "health_check_interval": 10,
    }
    if is_sentinel_url(settings.broker):
        # kombu's Sentinel transport is its Redis transport with the master found through the
        # sentinels: the options above hold for the master. The sentinels get the same socket
        # timeouts (an unreachable one must not hang the lookup) and their own credentials.
        sentinel = parse_sentinel_url(settings.broker).kombu_transport_options()
        sentinel["sentinel_kwargs"] = {
            "socket_timeout": options["socket_timeout"],
            "socket_connect_timeout": options["socket_connect_timeout"],
            **sentinel["sentinel_kwargs"],
        }
        options.update(sentinel)
    return options


def broker_ssl(settings: Settings) -> dict[str, str] | None:
    """TLS options for the broker's connections that its URL cannot carry to kombu: those of a
    ``sentinel://`` URL with ``ssl=true`` (a ``rediss://`` or ``amqps://`` URL carries its own)."""
    if is_sentinel_url(settings.broker):
        return parse_sentinel_url(settings.broker).kombu_ssl()
    return None


def celery_config(settings: Settings) -> dict[str, Any]:
    """The app's configuration: pure, so a unit test can read what a worker runs with."""
    config: dict[str, Any] = {
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,  # outcomes are recorded per receipt; no result backend
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A task that fails or times out was dead-lettered by the base task first, so the
        # message is done with; acknowledging it is what stops a redelivery loop.
        "task_acks_on_failure_or_timeout": True,
        # With late acks each child holds at most one message it has not started: a killed
        # worker strands at most `concurrency` messages besides the ones running.
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": transport_options(settings),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits out a broker restart
        "task_publish_retry": True,
        "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
        "task_queues": stage_queues(settings),
        "task_default_queue": "ingest",
        "task_routes": {
            name: {"queue": stage, "routing_key": stage} for stage, name in TASK_NAMES.items()
        },
        "task_create_missing_queues": False,
        "worker_hijack_root_logger": False,
        "worker_consumer": "shared.consumer:DeadLetteringConsumer",
        # Task events (received, started, succeeded, failed, retried) are what Flower and
        # celery-exporter show; they cost one small message per task state on the broker.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        # Children inherit the models their parent loaded before the fork; starting one costs
        # milliseconds, but keep a margin for a loaded machine.
        "worker_proc_alive_timeout": 30.0,
        "enable_utc": True,
    }
    ssl = broker_ssl(settings)
    if ssl is not None:
        config["broker_use_ssl"] = ssl
    return config


class NewsflowCelery(Celery):  # type: ignore[misc]  # Celery's classes are untyped
    """A Celery app that carries the settings it was built from, for its tasks to read."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("newsflow", broker=kombu_broker_url(settings.broker), set_as_current=False)
        self.settings = settings
        self.conf.update(celery_config(settings))


def make_celery(settings: Settings) -> NewsflowCelery:
    return NewsflowCelery(settings)


class Publisher:
    """Sends a message to a stage's queue by task name: no import of the stage's code."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def send(
        self,
        stage: Stage,
        payload: dict[str, Any],
        *,
        countdown: float | None = None,
        task_id: str | None = None,
        retries: int = 0,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish ``payload`` (a message model dumped as JSON) to ``stage``; ``task_id``,
        ``retries`` and ``headers`` send a message again as the same delivery (a batch sends a
        message to run alone so).

        ``argsrepr`` replaces the payload in Celery's own log lines: a whole document (or a
        file's base64 bytes) per log line would swamp the logs and copy article text into them.
        """
        summary = " ".join(
            f"{key}={payload[key]}" for key in ("receipt", "id", "filename") if payload.get(key)
        )
        try:
            self.app.send_task(
                TASK_NAMES[stage],
                args=[payload],
                queue=stage,
                routing_key=stage,
                argsrepr=summary,
                kwargsrepr="{}",
                countdown=countdown,
                task_id=task_id,
                retries=retries,
                headers={**(headers or {}), SENT_AT_HEADER: time.time()},
            )
        except AttributeError as error:
            if not raised_in_kombu(error):
                raise
            # kombu 5.7 can publish on a Redis channel it has closed while reconnecting: seen
            # in a worker's child during a Sentinel failover ("'NoneType' object has no
            # attribute 'client'" in the channel's connection parameters). The broker is what
            # failed, not the message: drop the pooled connections, so the next publish starts
            # on a new one, and say so as the broker error every caller already retries.
            self.app.pool.force_close_all(close_pool=False)
            msg = f"the broker connection broke while publishing: {error!r}"
            raise BrokerError(msg) from error

    def close(self) -> None:
        self.app.close()


def raised_in_kombu(error: BaseException) -> bool:
    """Whether ``error`` was raised by kombu's own code (its innermost frame is kombu's)."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and str(frame.tb_frame.f_globals.get("__name__", "")).startswith(
        "kombu."
    )


def queue_depth(app: Celery, queue: str) -> int:
    """Messages waiting in a stage's queue, on any broker (a passive declare reports the
    count on RabbitMQ and, summed over its priority lists, on Redis)."""
    with app.connection_for_read() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:
            return 0  # on Redis an empty queue's list does not exist
        return int(declared.message_count)
