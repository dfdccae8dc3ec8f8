"""The one place for settings.

Defaults give the embedded mode (SQLite and a SQLite broker under ``var/``, mail written to
``var/mail``). Environment variables of the same name override them; in production every
setting comes from the environment and unsafe values refuse to start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "embedded-mode-only-secret"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.replace(" ", "").split(",") if part)


@dataclass
class Settings:
    # Core
    ENV: str = "embedded"  # embedded | production | test
    SECRET_KEY: str = DEFAULT_SECRET_KEY
    DEBUG: bool = False
    VAR_DIR: str = str(ROOT / "var")
    DATABASE_URL: str = ""  # default: sqlite under VAR_DIR
    BROKER_URL: str = ""  # default: kombu's SQLAlchemy transport on sqlite under VAR_DIR
    REDIS_URL: str = ""  # rate-limit storage and redbeat lock in production
    BASE_URL: str = "http://127.0.0.1:5000"
    DEFAULT_LOCALE: str = "bg"
    SESSION_COOKIE_SECURE: bool = False
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    # Mail: MAIL_DIR set and MAIL_HOST empty means "write .eml files" (embedded mode)
    MAIL_DIR: str = ""
    MAIL_HOST: str = ""
    MAIL_PORT: int = 25
    MAIL_USE_TLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_USERNAME: str = ""
    MAIL_PASSWORD: str = ""
    MAIL_FROM: str = "goalflow <noreply@goalflow.local>"
    MAIL_MAX_ATTEMPTS: int = 5
    MAIL_TIMEOUT_SECONDS: int = 20  # one SMTP conversation
    MAIL_RETRY_BASE_SECONDS: int = 60  # backoff after a failed attempt: base * 2^(attempt-1), with jitter
    MAIL_RETRY_MAX_SECONDS: int = 3600
    # A worker's claim on a batch lasts this long and is renewed while the batch is being sent
    # (a third of it at a time); a worker that died leaves its messages for this long at most.
    MAIL_CLAIM_SECONDS: int = 30
    # Outbox delivery: beat runs it every OUTBOX_INTERVAL_SECONDS; a commit that queued mail also
    # nudges the worker at once (best effort) when OUTBOX_KICK is on.
    OUTBOX_INTERVAL_SECONDS: int = 30
    OUTBOX_BATCH_SIZE: int = 50
    OUTBOX_KICK: bool = True
    # Workflow timings (workflow.md defaults)
    DEADLINE_REMINDER_DAYS: tuple[int, ...] = (30, 14, 7, 1)
    OVERDUE_REMINDER_EVERY_DAYS: int = 7
    APPROVAL_REMINDER_WORKING_DAYS: int = 3
    APPROVAL_ESCALATION_WORKING_DAYS: int = 5
    CAMPAIGN_DUE_WORKING_DAYS: int = 10
    CAMPAIGN_REMINDER_DAYS_BEFORE: int = 3
    CAMPAIGN_OVERDUE_EVERY_WORKING_DAYS: int = 2
    CAMPAIGN_CLOSE_AFTER_WORKING_DAYS: int = 6  # an open campaign closes itself this long after its due date
    SWEEP_INTERVAL_SECONDS: int = 300
    # The scheduler (beat, RedBeat): it wakes at least every BEAT_MAX_INTERVAL_SECONDS, renewing its
    # lock and heartbeat; the lock lapses BEAT_LOCK_TIMEOUT_SECONDS after its last renewal, and a
    # standby beat, trying every BEAT_MAX_INTERVAL_SECONDS, takes over: within the sum of the two.
    BEAT_MAX_INTERVAL_SECONDS: int = 10
    BEAT_LOCK_TIMEOUT_SECONDS: int = 60
    # /healthz/scheduler answers 503 when the heartbeat is older than this.
    SCHEDULER_STALE_SECONDS: int = 30
    TIMEZONE: str = "Europe/Sofia"
    # Security
    LOGIN_RATE_LIMIT: str = "10 per minute"
    TOKEN_DEFAULT_DAYS: int = 90
    FRESH_LOGIN_MINUTES: int = 15
    DEMO_PASSWORD: str = "haskovo2023"
    PASSWORD_HASH_TIME_COST: int = 3  # Argon2id, the library's defaults
    PASSWORD_HASH_MEMORY_KIB: int = 65536
    # Observability
    LOG_FORMAT: str = "text"  # text | json (one JSON object per line, with the request id)
    LOG_LEVEL: str = "INFO"
    METRICS_TOKEN: str = ""  # when set, GET /metrics needs "Authorization: Bearer <token>"
    PROMETHEUS_MULTIPROC_DIR: str = ""  # prometheus-client reads it itself: one empty dir per service
    WORKER_METRICS_PORT: int = 0  # >0: each Celery worker serves its own /metrics on this port
    extra: dict = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.DATABASE_URL or f"sqlite:///{Path(self.VAR_DIR) / 'goalflow.db'}"

    @property
    def broker_url(self) -> str:
        return self.BROKER_URL or f"sqla+sqlite:///{Path(self.VAR_DIR) / 'broker.db'}"

    @property
    def mail_dir(self) -> str:
        return self.MAIL_DIR or str(Path(self.VAR_DIR) / "mail")

    @property
    def embedded(self) -> bool:
        return self.ENV != "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        environ = os.environ if environ is None else environ
        settings = cls()
        for f in fields(cls):
            if f.name == "extra" or f.name not in environ:
                continue
            raw = environ[f.name]
            current = getattr(settings, f.name)
            if isinstance(current, bool):
                value = _bool(raw)
            elif isinstance(current, int):
                value = int(raw)
            elif isinstance(current, tuple):
                value = _int_list(raw)
            else:
                value = raw
            setattr(settings, f.name, value)
        for key, value in overrides.items():
            setattr(settings, key, value)
        return settings

    def check_safe(self) -> None:
        """Refuse to run production with a setting that would be unsafe."""
        if self.ENV != "production":
            return
        problems = []
        if self.SECRET_KEY in ("", DEFAULT_SECRET_KEY) or len(self.SECRET_KEY) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.DEBUG:
            problems.append("DEBUG must be off in production")
        if not self.SESSION_COOKIE_SECURE:
            problems.append("SESSION_COOKIE_SECURE must be on in production")
        if self.SESSION_COOKIE_SECURE and not self.BASE_URL.startswith("https://"):
            problems.append("BASE_URL must be https:// when cookies are Secure")
        if not self.DATABASE_URL.startswith("postgresql"):
            problems.append("DATABASE_URL must point to PostgreSQL in production")
        if not self.BROKER_URL:
            problems.append("BROKER_URL must point to the shared broker (Redis) in production")
        if self.BEAT_LOCK_TIMEOUT_SECONDS < 3 * self.BEAT_MAX_INTERVAL_SECONDS:
            # a beat between two renewals of its lock must not look dead to a standby
            problems.append("BEAT_LOCK_TIMEOUT_SECONDS must be at least 3 x BEAT_MAX_INTERVAL_SECONDS")
        if problems:
            raise RuntimeError("Unsafe production settings: " + "; ".join(problems))

    def flask_config(self) -> dict:
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "DEBUG": self.DEBUG,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "SESSION_COOKIE_SECURE": self.SESSION_COOKIE_SECURE,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.SESSION_COOKIE_SECURE,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "BABEL_DEFAULT_LOCALE": self.DEFAULT_LOCALE,
            "BABEL_DEFAULT_TIMEZONE": self.TIMEZONE,
            "GOALFLOW": self,
        }
