"""The Celery app, bound to the Flask app so that every task runs inside its app context.

`celery -A worker.main worker` builds the Flask app from the environment (the same settings
object as the web process) and takes its Celery instance.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    settings = app.config["GOALFLOW"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=settings.broker_url,
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Longer than any countdown we use, so an unacknowledged task is not redelivered early.
        broker_transport_options={"visibility_timeout": 3600},
        timezone=settings.TIMEZONE,
        enable_utc=True,
        include=["worker.tasks"],
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
