"""Entry point for `celery -A worker.main worker|beat`: the Flask app from the environment, and its Celery."""

from service.app import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
