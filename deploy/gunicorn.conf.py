"""gunicorn's settings for `web` (docker-compose.yml): logs in the application's format, and
prometheus-client's multiprocess files tidied when a worker process exits.

Workers: WEB_CONCURRENCY (gunicorn reads it itself); the bind address is on the command line.
"""

from service.config import Settings
from service.observability import gunicorn_logconfig

_settings = Settings.from_env()

logconfig_dict = gunicorn_logconfig(_settings)
# The app is built once in the master and forked: half the start-up time and memory of building it
# in each worker, and a refused setting (Settings.check_safe) stops the master itself at once.
# Nothing opens a database or broker connection while building it, so none is shared by the forks.
preload_app = True
timeout = 60
graceful_timeout = 30
control_socket_disable = True  # no runtime control interface: one less socket, no clash between instances
forwarded_allow_ips = "*"  # behind the proxy that ends TLS; it sets X-Forwarded-Proto


def on_starting(server):
    # Only the loopback interface may be served with a secret nobody configured (Settings.check_listen).
    _settings.check_listen(address[0] if isinstance(address, tuple) else "localhost" for address in server.cfg.address)


def child_exit(server, worker):
    if _settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _settings.PROMETHEUS_MULTIPROC_DIR)
