"""The WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

import gunicorn.util

from service.app import create_app
from service.errors_http import gunicorn_error
from service.extensions import db
from service.health import warn_of_conflicting_roles

# gunicorn answers what never reaches the app (a request line over its limit: 414) with the one
# function gunicorn.util.write_error: ours makes that answer a problem document too.
gunicorn.util.write_error = gunicorn_error

app = create_app()

warn_of_conflicting_roles(app)

# gunicorn forks its workers from this process (preload_app): a pooled connection left open here
# would be shared by every worker, and their statements would interleave on one socket.
with app.app_context():
    db.engine.dispose()
