"""The production scheduler: `celery -A worker.main beat --scheduler worker.beat.Scheduler`.

RedBeat keeps the schedule and a lock in Redis, so that of several beats exactly one schedules
and the others stand by. This subclass makes it ride out Redis outages and say that it is alive:

- A Redis error in a pass of beat's loop is logged and the pass retried with backoff (1 s, then
  doubling, at most BEAT_MAX_INTERVAL_SECONDS), as the workers reconnect by themselves; RedBeat
  alone raised it and ended the process.
- After an outage the static schedule (worker/schedule.py) is written again, since a Redis that
  restarted without its data has lost it, and the lock is taken again, or waited for if another
  beat took it meanwhile. A beat that finds its lock gone or taken stands by.
- The lock's holder renews the scheduler heartbeat (service/health.py) on every pass.

Takeover: every pass renews the lock for BEAT_LOCK_TIMEOUT_SECONDS, and passes are at most
BEAT_MAX_INTERVAL_SECONDS apart; a standby tries for the lock every BEAT_MAX_INTERVAL_SECONDS. A
beat that dies is therefore replaced within BEAT_LOCK_TIMEOUT_SECONDS + BEAT_MAX_INTERVAL_SECONDS
(70 s with the defaults).
"""

from __future__ import annotations

import redis
from celery.utils.log import get_logger
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, RedBeatScheduler, get_redis

from service.health import beat_identity, write_scheduler_heartbeat

log = get_logger("celery.beat")

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
FIRST_RETRY = 1.0  # seconds


class Scheduler(RedBeatScheduler):
    def __init__(self, *args, **kwargs) -> None:
        self._retry_in = FIRST_RETRY
        self._resync = False
        self.identity = beat_identity()
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        try:
            super().setup_schedule()
        except REDIS_ERRORS as exc:  # Redis is down at start: the first pass that reaches it does this
            log.warning("beat: Redis unavailable while storing the schedule (%s); will store it later", exc)
            self._resync = True

    def tick(self, *args, **kwargs) -> float:
        try:
            if not self._hold_lock():
                return self.max_interval  # standing by: try again next time
            if self._resync:  # the holder stores the schedule again after an outage
                super().setup_schedule()
                self._resync = False
            interval = super().tick(*args, **kwargs)
            write_scheduler_heartbeat(get_redis(self.app), self.identity)
        except REDIS_ERRORS as exc:
            wait, self._retry_in = self._retry_in, min(self._retry_in * 2, self.max_interval)
            log.warning("beat: Redis unavailable (%s: %s); retrying in %.0f s", type(exc).__name__, exc, wait)
            self._resync = True
            return wait
        except redis.exceptions.LockError as exc:  # our lock ran out, or another beat holds it now
            log.warning("beat: Lost the lock (%s)", exc)
            self.lock = None
            return 0  # at once: take it again if it is free, else stand by
        if self._retry_in != FIRST_RETRY:
            log.info("beat: Redis is back")
            self._retry_in = FIRST_RETRY
        return interval

    def _hold_lock(self) -> bool:
        """Whether this beat holds the lock, trying once (without waiting) to take it if not."""
        if not self.lock_key:
            return True
        if self.lock is not None:
            return True
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)  # as RedBeat does: renew to the full timeout
        if not lock.acquire(blocking=False):
            return False
        log.info("beat: Acquired lock")
        self.lock = lock
        return True

    def close(self) -> None:
        try:
            super().close()
        except (*REDIS_ERRORS, redis.exceptions.LockError) as exc:  # the lock lapses by itself
            log.warning("beat: Could not release the lock (%s)", exc)
