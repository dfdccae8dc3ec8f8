"""The Celery app, bound to the Flask app so that every task runs inside its app context.

`celery -A worker.main worker` builds the Flask app from the environment (the same settings
object as the web process) and takes its Celery instance. The settings below keep work safe
when a worker dies: a task is acknowledged only after it ran (and given back if its process
was killed), each worker takes one task at a time, and the tasks themselves are idempotent.
"""

from __future__ import annotations

import multiprocessing
import weakref

from celery import Celery, Task
from celery.signals import worker_process_init, worker_shutting_down
from flask import Flask

from worker.schedule import beat_schedule

# Longer than any countdown or retry backoff we use (retry_backoff_max is 600 s), so the Redis
# transport never hands an unacknowledged task to a second worker while the first still runs it.
VISIBILITY_TIMEOUT = 3600
TASK_TIME_LIMIT = 900
# The scheduler's Redis client: a Redis that is down or unreachable fails a call within seconds,
# and worker/beat.py retries the pass with backoff.
REDBEAT_REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}


def _transport_options(broker_url: str) -> dict:
    if not broker_url.startswith(("redis://", "rediss://")):
        # kombu's SQLAlchemy transport hands its options to create_engine: none of these apply.
        return {}
    # A Redis that is down or unreachable answers within seconds, never hangs a caller.
    return {"visibility_timeout": VISIBILITY_TIMEOUT, "socket_connect_timeout": 2, "socket_timeout": 10}


def celery_init_app(app: Flask) -> Celery:
    settings = app.config["GOALFLOW"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker_url = settings.broker_url
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker_url,
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options=_transport_options(broker_url),
        beat_schedule=beat_schedule(settings),
        # With RedBeat (`beat --scheduler worker.beat.Scheduler`) only one beat runs: its lock is in
        # Redis. The loop interval and the lock's timeout bound the takeover by a standby beat.
        redbeat_redis_url=settings.REDIS_URL or (broker_url if broker_url.startswith("redis") else None),
        redbeat_redis_options=REDBEAT_REDIS_OPTIONS,
        redbeat_lock_timeout=settings.BEAT_LOCK_TIMEOUT_SECONDS,
        beat_max_loop_interval=settings.BEAT_MAX_INTERVAL_SECONDS,
        timezone=settings.TIMEZONE,
        enable_utc=True,
        include=["worker.tasks"],
    )
    celery.set_default()
    app.extensions["celery"] = celery

    _bound_apps.add(app)
    return celery


_bound_apps: weakref.WeakSet[Flask] = weakref.WeakSet()


@worker_process_init.connect
def _fresh_pool(**_kwargs) -> None:
    """A forked worker process must not share its parent's database connections."""
    from service.extensions import db

    for app in list(_bound_apps):
        with app.app_context():
            db.engine.dispose(close=False)


# Set in the worker's main process when it begins a warm shutdown (SIGTERM: `docker stop`, a
# deploy); its pool processes, forked after this was made, see it too. A batch being sent stops
# after the message in hand and hands the rest back (service.notifications.service.deliver_due),
# instead of holding its claims while the shutdown waits for it or until a SIGKILL ends it.
shutting_down = multiprocessing.Event()


@worker_shutting_down.connect
def _tell_the_pool(**_kwargs) -> None:
    shutting_down.set()
