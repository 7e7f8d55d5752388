"""Back pressure that holds under concurrency: a file is queued only if the queue has room for it.

Reading the ingest queue's length and then queueing are two steps; between them every other
request reads the same short length, so thirty concurrent uploads against a limit of five were
all accepted. Here the decision and the claim on the room are one step: a Lua script reads the
queue's length *and* the files admitted but not yet visible in it (reservations), and reserves
room for the request's files only if ``depth + reserved + files <= limit``. The files are then
published as always, and their reservations released: from then on the queue's own length
counts them.

Why this shape, and not one of the others:

* Not a script that pushes the task message itself (check and ``LPUSH`` in one): that means
  writing Celery's message envelope by hand, tying the API to Celery and kombu internals. The
  script only reserves; the normal publisher sends.
* Not a counter of "admitted but not yet consumed", incremented here and decremented by the
  ingest worker: every crash between the two, and every message another producer queues
  (``newsflow submit``, the watcher), makes such a counter drift for good. The queue's length
  is always true; reservations only cover the milliseconds until a message shows in it.
* Not a token bucket: that bounds a rate of uploads, but the limit is a depth (how far ingest
  is behind), which depends on how fast the workers drain, not on how fast files arrive.

A reservation expires after ``RESERVATION_TTL_MS`` (Redis's clock, so every API replica
agrees): an API process killed between reserving and publishing holds its room only that long.
While a published file's reservation is being released it is counted twice, so admission errs
on the side of refusing, never of admitting past the limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from shared.keys import admission_key

# Far longer than publishing a batch takes (milliseconds), far shorter than a client's patience.
RESERVATION_TTL_MS = 30_000

# KEYS[1] the queue (a list), KEYS[2] its reservations (a sorted set: member -> expiry, ms).
# ARGV[1] limit, ARGV[2] files wanted, ARGV[3] reservation TTL in ms, ARGV[4] a unique id,
# ARGV[5] "1" to reserve, "0" only to ask, ARGV[6] the queue's depth as read from a broker other
# than this Redis ('' = the list KEYS[1] here). Returns {admitted (0/1), depth, reserved}.
_ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local depth = ARGV[6] ~= '' and tonumber(ARGV[6]) or redis.call('LLEN', KEYS[1])
local reserved = redis.call('ZCARD', KEYS[2])
local wanted = tonumber(ARGV[2])
if depth + reserved + wanted > tonumber(ARGV[1]) then
  return {0, depth, reserved}
end
if ARGV[5] == '1' then
  local ttl = tonumber(ARGV[3])
  for i = 1, wanted do
    redis.call('ZADD', KEYS[2], now + ttl, ARGV[4] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, depth, reserved}
"""


@dataclass(frozen=True)
class Admission:
    """The answer for one request: admitted or not, and what the queue held when asked."""

    admitted: bool
    depth: int
    reserved: int


class AdmissionControl:
    """Admits files to one queue up to ``limit`` waiting (queued plus reserved).

    ``broker_depth`` reads the queue's depth when the queue is not a list in this Redis (on
    RabbitMQ, or a broker Redis of its own); the reservations that make concurrent requests
    add up stay in this Redis and are still checked and taken in one step, so requests racing
    each other cannot all be admitted on the same reading.
    """

    def __init__(
        self,
        client: redis.Redis,
        queue: str,
        limit: int,
        reservation_ttl_ms: int = RESERVATION_TTL_MS,
        broker_depth: Callable[[], int] | None = None,
    ) -> None:
        self._client = client
        self._broker_depth = broker_depth
        self._queue = queue
        self._reservations = admission_key(queue)
        self.limit = limit
        self._ttl_ms = reservation_ttl_ms
        self._script = client.register_script(_ADMIT)

    def _run(self, files: int, token: str, *, reserve: bool) -> Admission:
        admitted, depth, reserved = self._script(
            keys=[self._queue, self._reservations],
            args=[
                self.limit,
                files,
                self._ttl_ms,
                token,
                "1" if reserve else "0",
                "" if self._broker_depth is None else self._broker_depth(),
            ],
        )
        return Admission(bool(admitted), int(depth), int(reserved))

    def peek(self, files: int = 1) -> Admission:
        """Would ``files`` be admitted now? Reserves nothing: a cheap early refusal, before a
        body is read, that ``admit`` then decides for real."""
        return self._run(files, "", reserve=False)

    @contextmanager
    def admit(self, files: int) -> Iterator[Admission]:
        """Reserve room for ``files`` for the duration of the block, in which the caller
        publishes them (only if ``admitted``); the room is released on leaving, published or
        not."""
        if files < 1:
            msg = f"admit at least one file, not {files}"
            raise ValueError(msg)
        token = uuid.uuid4().hex
        admission = self._run(files, token, reserve=True)
        try:
            yield admission
        finally:
            if admission.admitted:
                members = [f"{token}:{i}" for i in range(1, files + 1)]
                self._client.zrem(self._reservations, *members)
