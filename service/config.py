"""The one place for settings.

Defaults give the embedded mode (SQLite and a SQLite broker under ``var/``, mail written to
``var/mail``). Environment variables of the same name override them; in production every
setting comes from the environment and unsafe values refuse to start.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# The constant that once signed embedded sessions. It is public, so it is refused in every mode.
DEFAULT_SECRET_KEY = "embedded-mode-only-secret"
SECRET_KEY_FILE = "secret_key"  # under VAR_DIR: the secret generated on the first run without SECRET_KEY
MIN_SECRET_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 16


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.replace(" ", "").split(",") if part)


@dataclass
class Settings:
    # Core
    ENV: str = "embedded"  # embedded | production | test
    SECRET_KEY: str = ""  # empty outside production: a random one is generated once and kept in VAR_DIR/secret_key
    DEBUG: bool = False
    VAR_DIR: str = str(ROOT / "var")
    DATABASE_URL: str = ""  # default: sqlite under VAR_DIR
    BROKER_URL: str = ""  # default: kombu's SQLAlchemy transport on sqlite under VAR_DIR
    REDIS_URL: str = ""  # redbeat's schedule and lock in production
    BASE_URL: str = "http://127.0.0.1:5000"
    DEFAULT_LOCALE: str = "bg"
    SESSION_COOKIE_SECURE: bool = False
    # Reverse proxies in front of the app that add X-Forwarded-For/-Proto: 0 = none, the peer is the client.
    TRUSTED_PROXY_HOPS: int = 0
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    # Importing a plan: each bound refuses the file with its own code (part_too_large,
    # too_many_rows, too_slow); a file larger than IMPORT_BACKGROUND_BYTES is imported by the worker.
    IMPORT_MAX_PART_BYTES: int = 8 * 1024 * 1024  # decompressed size of each part of a DOCX or XLSX
    IMPORT_MAX_ROWS: int = 2000  # rows of the goals table
    IMPORT_MAX_SECONDS: int = 60  # reading and importing one file
    IMPORT_BACKGROUND_BYTES: int = 256 * 1024
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
    # Workflow timings (docs/workflows.md, "Timings")
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
    LOGIN_RATE_LIMIT: str = "10 per minute"  # failed sign-ins per address, and per account (service/auth/limits.py)
    TOKEN_DEFAULT_DAYS: int = 90
    FRESH_LOGIN_MINUTES: int = 15
    DEMO_PASSWORD: str = "haskovo2023"
    PASSWORD_HASH_TIME_COST: int = 3  # Argon2id, the library's defaults
    PASSWORD_HASH_MEMORY_KIB: int = 65536
    # Observability
    LOG_FORMAT: str = "text"  # text | json (one JSON object per line, with the request id)
    LOG_LEVEL: str = "INFO"
    METRICS_TOKEN: str = ""  # GET /metrics needs "Authorization: Bearer <token>"; required in production
    PROMETHEUS_MULTIPROC_DIR: str = ""  # prometheus-client reads it itself: one empty dir per service
    WORKER_METRICS_PORT: int = 0  # >0: each Celery worker serves its own /metrics on this port
    # Signatures (docs/signatures.md). The governor's КЕП: the qualified providers' CA certificates
    # (a folder of PEM files, or PEM files separated by commas), whether a certificate whose
    # revocation could not be checked (no OCSP or CRL answered) is accepted, and whether the report
    # may be approved only by uploading the signed PDF (no plain click).
    SIGNATURE_TRUST_ROOTS: str = ""
    SIGNATURE_ACCEPT_UNCHECKED_REVOCATION: bool = False
    REPORT_SIGNATURE_REQUIRED: bool = False
    # The administration's seal: a key on a PKCS#11 token and an RFC 3161 time-stamp authority.
    SEAL_PKCS11_MODULE: str = ""  # e.g. /usr/lib/softhsm/libsofthsm2.so or the HSM vendor's module
    SEAL_TOKEN_LABEL: str = ""
    SEAL_KEY_LABEL: str = ""  # the key's and its certificate's label on the token
    SEAL_PIN: str = ""
    SEAL_TRUST_ROOTS: str = ""  # the CA of the seal's certificate, to check seals (PEM files or a folder)
    TSA_URL: str = ""
    TSA_TIMEOUT_SECONDS: int = 20
    # Sealed audit checkpoints: written here as files too (default VAR_DIR/checkpoints), and daily.
    AUDIT_CHECKPOINT_DIR: str = ""
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: int = 86400
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
    def checkpoint_dir(self) -> str:
        return self.AUDIT_CHECKPOINT_DIR or str(Path(self.VAR_DIR) / "checkpoints")

    @property
    def seal_configured(self) -> bool:
        return bool(self.SEAL_PKCS11_MODULE and self.SEAL_KEY_LABEL)

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

    @property
    def secret_configured(self) -> bool:
        """SECRET_KEY was given, long enough, and is not the old public constant."""
        return len(self.SECRET_KEY) >= MIN_SECRET_LENGTH and self.SECRET_KEY != DEFAULT_SECRET_KEY

    def secret_key(self) -> str:
        """The key that signs sessions and CSRF tokens: the configured one, else the generated one."""
        if self.SECRET_KEY:
            return self.SECRET_KEY
        return load_or_create_secret(Path(self.VAR_DIR) / SECRET_KEY_FILE)

    def check_listen(self, hosts: Iterable[str]) -> None:
        """Refuse to serve anything but the loopback interface without a configured SECRET_KEY.

        A secret generated under VAR_DIR is good for one person's machine; an instance others can
        reach must have its key chosen by its operator (and kept with its backups).
        """
        exposed = [host for host in hosts if not is_loopback(host)]
        if exposed and not self.secret_configured:
            raise RuntimeError(
                f"Refusing to listen on {', '.join(exposed)} without a configured SECRET_KEY: set SECRET_KEY to "
                f"a random value of at least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -base64 48`), "
                "or listen on 127.0.0.1"
            )

    def check_safe(self) -> None:
        """Refuse to start with a setting that would be unsafe: a known or short secret in any mode,
        and everything production needs."""
        if self.ENV != "production":
            if self.SECRET_KEY and not self.secret_configured:
                raise RuntimeError(
                    f"Unsafe settings: SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters "
                    "(or empty, to have one generated under VAR_DIR)"
                )
            return
        problems = []
        if not self.secret_configured:
            problems.append(f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters")
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
        if self.REPORT_SIGNATURE_REQUIRED and not self.SIGNATURE_TRUST_ROOTS:
            problems.append("SIGNATURE_TRUST_ROOTS must name the qualified providers' CAs when REPORT_SIGNATURE_REQUIRED is on")
        if self.seal_configured and not self.TSA_URL:
            problems.append("TSA_URL must be set with the seal: every seal is time-stamped")
        if len(self.METRICS_TOKEN) < MIN_METRICS_TOKEN_LENGTH:
            problems.append(f"METRICS_TOKEN must be set to a random value of at least {MIN_METRICS_TOKEN_LENGTH} "
                            "characters: /metrics is public without it")
        if self.BEAT_LOCK_TIMEOUT_SECONDS < 3 * self.BEAT_MAX_INTERVAL_SECONDS:
            # a beat between two renewals of its lock must not look dead to a standby
            problems.append("BEAT_LOCK_TIMEOUT_SECONDS must be at least 3 x BEAT_MAX_INTERVAL_SECONDS")
        if problems:
            raise RuntimeError("Unsafe production settings: " + "; ".join(problems))

    def flask_config(self) -> dict:
        return {
            "SECRET_KEY": self.secret_key(),
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


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost"; any other name or address may be reachable from elsewhere."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_or_create_secret(path: Path) -> str:
    """The secret kept at `path`, made on first use: random, readable by this user only (0600).

    Several processes may start at once (gunicorn's workers, the Celery worker): the file is written
    under another name and linked into place, so each of them reads the one complete secret that won.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(temporary, path)
                log.info("generated a new secret key in %s", path)
            except FileExistsError:
                pass  # another process was first: use its secret
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: its mode is now 0600", path)
        os.chmod(path, 0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"{path} does not hold a usable secret: remove it to have a new one generated")
    return secret
