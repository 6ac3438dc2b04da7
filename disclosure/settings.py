"""Settings of the disclosure platform: one flat module, every value from the environment.

The embedded default (nothing set) is a development instance: SQLite in var/, locmem cache,
console email and Celery tasks run in-process. Production sets DJANGO_DEBUG=0 and must then
provide DJANGO_SECRET_KEY; see README.md for every variable.
"""

import ipaddress
import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from disclosure.logs import development_logging, json_logging

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name, default=""):
    """An unset and an empty variable both mean "use the default" (compose passes empty ones)."""
    return os.environ.get(name) or default


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in TRUE_WORDS:
        return True
    if raw.strip().lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of {sorted(TRUE_WORDS | FALSE_WORDS)}, not {raw!r}"
    )


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_float(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


RATE = re.compile(r"^\d+/(\d+(\.\d+)?)?[smhd]/(ip|user)$")


def env_rates(name, default):
    """Rate limits as allauth reads them: "10/h/user,30/h/ip" (count/period/per)."""
    raw = env_str(name, default)
    if not all(RATE.match(part.strip()) for part in raw.split(",")):
        raise ImproperlyConfigured(
            f"{name} must be rates like 10/h/user,30/h/ip (count/period/user or ip), not {raw!r}"
        )
    return raw


def env_url(name, default):
    raw = env_str(name, default).rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL, not {raw!r}")
    return raw


def env_networks(name, default):
    """Comma-separated networks in CIDR notation ("10.0.0.0/8,2001:db8::/32"), checked."""
    networks = env_list(name, default)
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be networks like 10.0.0.0/8,2001:db8::/32, not {network!r}"
            ) from None
    return networks


# --- Core -------------------------------------------------------------------------------------

# Off unless asked for: a forgotten variable must not turn a production server into a debug one.
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    # Development only: sessions survive restarts; never used with DEBUG off.
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105
# Rotating the key (README "Rotating secrets"): the new one in DJANGO_SECRET_KEY, the old ones
# here (comma-separated) until the sessions and links signed with them have expired.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])

SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
SITE_NAME = env_str("SITE_NAME", "Disclosure")
# OSV ids are "<prefix>-<advisory identifier>". OSV.dev accepts only the prefixes registered with
# it, or "x_..." for a database that registered none: an operator who registers one sets it here.
OSV_ID_PREFIX = env_str("OSV_ID_PREFIX", "x_DISCLOSURE")
if not re.match(r"^[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]$", OSV_ID_PREFIX):
    raise ImproperlyConfigured(
        f"OSV_ID_PREFIX must be letters, digits, '_', '.' or '-' (e.g. x_EXAMPLE), "
        f"not {OSV_ID_PREFIX!r}"
    )
# The instance's own security contact (/.well-known/security.txt).
SECURITY_CONTACT_EMAIL = env_str(
    "SECURITY_CONTACT_EMAIL", f"security@{urlsplit(SITE_URL).hostname}"
)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "testserver"] if DEBUG else [urlsplit(SITE_URL).hostname],
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",  # allauth's security-key list uses it
    "django.forms",  # its widget templates, found by FORM_RENDERER below
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our static (no CDN)
    # The platform's apps, in floors (DESIGN §1); the glue wires them at start-up. The order
    # carries no meaning: each name (command, template, URL) has exactly one owner.
    "projects",
    "mailer",
    "reports",
    "advisories",
    "inbox",
    "api",
    "webhooks",
    "disclosure",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (and, from the view on, the user's).
    "disclosure.logs.RequestContext",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a cookie; NUL in paths and queries is refused in its process_view.
    "disclosure.middleware.RefuseNulBytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Members and staff reach nothing until their session passed a second factor.
    "disclosure.middleware.SecondFactorGate",
    "csp.middleware.CSPMiddleware",
]

if not DEBUG:
    # Production serves collected static files itself (gunicorn, no separate web server).
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "disclosure.urls"
WSGI_APPLICATION = "disclosure.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "disclosure.context_processors.site",
                "disclosure.context_processors.navigation",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that asks the connection's socket before the server
    # (disclosure/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "disclosure.postgresql"
if DATABASES["default"]["ENGINE"] == "disclosure.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # The queries every signed-in page runs, written once per process (projects/precompiled.py),
    # are prepared on each connection: PostgreSQL plans them once rather than per request. Any
    # threshold lets psycopg prepare what asks for it; Django's cursors (client-side binding)
    # never do, so nothing else is prepared. Off behind a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        # Django's, reusing its Redis client (disclosure/cache.py).
        "default": {"BACKEND": "disclosure.cache.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions are read from the cache and written through to the database: a signed-in request
# reads no session row once its session is cached (a cache miss or eviction reads the row, so
# nobody is signed out by a cache restart). Signing out (flush) deletes both. Nothing here
# deletes session rows behind Django's back: a changed password ends other sessions by the
# session hash every request checks, a deactivated account by the auth backend's is_active.
# disclosure/sessions.py: cached_db, refusing cookie values that are no key Django issues.
SESSION_ENGINE = "disclosure.sessions"

# --- Celery (DESIGN §5) -----------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# No broker configured: run tasks in-process so a bare machine needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 5)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Acknowledge after the task ran: a worker that dies mid-task leaves the message to be redelivered
# (all tasks are idempotent). Redis redelivers an unacknowledged message after the visibility
# timeout, which must exceed the longest task (time limit below); we use no ETA/countdown tasks,
# which the visibility timeout would otherwise duplicate.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"mailer.tasks.deliver_outbox": {"queue": "notifications"}}
# Production: worker and beat log through LOGGING (JSON lines, disclosure.logs) like web, instead
# of Celery's own format on a root logger it takes over.
CELERY_WORKER_HIJACK_ROOT_LOGGER = DEBUG
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    # Every registered reminder: SLA clocks, disclosure dates, end of support (reports.sweep).
    "sweep-reminders": {
        "task": "reports.tasks.sweep_reminders",
        "schedule": REMINDER_SWEEP_SECONDS,
    },
    "score-unscored": {"task": "reports.tasks.score_unscored", "schedule": 300},
    # Retries what could not be delivered right after commit (mail server down, worker lost).
    "deliver-outbox": {"task": "mailer.tasks.deliver_outbox", "schedule": 60},
    # Raw inbound messages whose retention period ended (inbox.tasks).
    "purge-raw-messages": {"task": "inbox.tasks.purge_raw_messages", "schedule": 24 * 3600},
    # The heartbeat /health/ reads: beat sends it with the sweeps, a worker of their queue runs it.
    "beat-heartbeat": {"task": "disclosure.tasks.beat_heartbeat", "schedule": 60},
}
# Warn this fraction of a clock's window before its deadline (24 h to acknowledge: 6 h before).
REMINDER_LEAD_FRACTION = env_float("REMINDER_LEAD_FRACTION", 0.25)
if not 0 < REMINDER_LEAD_FRACTION < 1:
    raise ImproperlyConfigured("REMINDER_LEAD_FRACTION must be between 0 and 1")
REMINDER_BATCH_SIZE = env_int("REMINDER_BATCH_SIZE", 500)
# Members hear of a series' end of support this many days before it.
END_OF_SUPPORT_NOTICE_DAYS = env_int("END_OF_SUPPORT_NOTICE_DAYS", 30)

# /health/ answers 503 when the last beat heartbeat (every minute) or the oldest email still
# waiting for delivery (retried every minute) is older than this many seconds.
HEALTH_BEAT_MAX_AGE = env_int("HEALTH_BEAT_MAX_AGE", 15 * 60)
HEALTH_OUTBOX_MAX_AGE = env_int("HEALTH_OUTBOX_MAX_AGE", 15 * 60)
if HEALTH_BEAT_MAX_AGE < 120 or HEALTH_OUTBOX_MAX_AGE < 120:
    raise ImproperlyConfigured(
        "HEALTH_BEAT_MAX_AGE and HEALTH_OUTBOX_MAX_AGE must be at least 120 seconds (both are "
        "refreshed every minute)"
    )

# --- Accounts (allauth, guardian) --------------------------------------------------------------

SITE_ID = 1
AUTHENTICATION_BACKENDS = [
    # Reads a signed-in session's user with their project roles, in one query; signs no one in
    # (disclosure/auth.py). Sessions recorded for the two below stay valid.
    "disclosure.auth.SessionUserBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "disclosure.accounts.AccountAdapter"
# People are named by the display name they chose, never by the username allauth makes from
# the address's local part (projects.people).
ACCOUNT_USER_DISPLAY = "projects.people.user_display"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Sign-in by a code mailed to the address: how a reporter whose account the email gateway made
# (no password, address unverified) first signs in; entering the code verifies the address.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme
# Second factors: an authenticator app, a security key or passkey, and recovery codes. Project
# members and staff must pass one (disclosure.middleware.SecondFactorGate); reporters may.
# Rate limits (allauth's machinery: "count/period/per" with per user or ip; a POST over the limit
# is answered 429 and stores nothing). Sign-in limits are allauth's own; see disclosure.accounts.
RATE_LIMIT_REPORTS = env_rates("RATE_LIMIT_REPORTS", "10/h/user,30/h/ip")
RATE_LIMIT_INVITATIONS = env_rates("RATE_LIMIT_INVITATIONS", "20/h/user,50/h/ip")
RATE_LIMIT_COMMENTS = env_rates("RATE_LIMIT_COMMENTS", "60/h/user,200/h/ip")
RATE_LIMIT_UPLOADS = env_rates("RATE_LIMIT_UPLOADS", "30/h/user,100/h/ip")
# The Write / Preview tabs of Markdown fields render on the server (projects.views).
RATE_LIMIT_PREVIEWS = env_rates("RATE_LIMIT_PREVIEWS", "300/h/user,600/h/ip")
ACCOUNT_RATE_LIMITS = {
    "file_report": RATE_LIMIT_REPORTS,
    "invite": RATE_LIMIT_INVITATIONS,
    "comment": RATE_LIMIT_COMMENTS,
    "upload": RATE_LIMIT_UPLOADS,
    "markdown_preview": RATE_LIMIT_PREVIEWS,
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Only tests on http://localhost set this (WebAuthn otherwise requires an https origin).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous visitors see public pages only

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ------------------------------------------------------------------------------------

EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _email = dj_email_url.parse(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
else:
    EMAIL_BACKEND = env_str(
        "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
    )
    EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str(
    "DJANGO_DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@{urlsplit(SITE_URL).hostname}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Inbox: the email gateway (inbox app) -------------------------------------------------------
# Mail to a project's intake addresses, or to INBOX_ADDRESS plus the project's slug
# (security+stalwart@<host>), becomes a report; replies to INBOX_REPLY_ADDRESS plus a signed
# token (mailer.replies) become comments.
INBOX_ADDRESS = env_str("INBOX_ADDRESS", f"security@{urlsplit(SITE_URL).hostname}")
INBOX_REPLY_ADDRESS = env_str("INBOX_REPLY_ADDRESS", f"reply@{urlsplit(SITE_URL).hostname}")
# Larger messages are refused whole (no report, no reply).
INBOX_MAX_MESSAGE_BYTES = env_int("INBOX_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)
# Raw messages are kept compressed for audit this long, then dropped by the retention sweep.
INBOX_RAW_RETENTION_DAYS = env_int("INBOX_RAW_RETENTION_DAYS", 365)
# The authserv-id(s) of the platform's own MTA: only its Authentication-Results headers count
# (RFC 8601 §5: any other such header may be forged by the sender).
INBOX_TRUSTED_AUTHSERV_IDS = env_list("INBOX_TRUSTED_AUTHSERV_IDS", [])
# Intake: the retention sweep clears this many raw messages per transaction.
INBOX_RAW_PURGE_BATCH_SIZE = env_int("INBOX_RAW_PURGE_BATCH_SIZE", 500)
# Spam defences (inbox.limits). The platform's own relays: Received headers written by hosts in
# these networks are believed, and the first sending address outside them is the IP of origin
# (headers below it may be forged by the sender).
INBOX_TRUSTED_NETWORKS = env_networks("INBOX_TRUSTED_NETWORKS", ["127.0.0.0/8", "::1/128"])
# New reports by email (InboundEmail outcome "report") allowed in any hour, per sender address
# (over every project) and per IP of origin; the next one is refused and stored as refused.
INBOX_REPORTS_PER_SENDER_PER_HOUR = env_int("INBOX_REPORTS_PER_SENDER_PER_HOUR", 5)
INBOX_REPORTS_PER_IP_PER_HOUR = env_int("INBOX_REPORTS_PER_IP_PER_HOUR", 20)
if INBOX_REPORTS_PER_SENDER_PER_HOUR < 1 or INBOX_REPORTS_PER_IP_PER_HOUR < 1:
    raise ImproperlyConfigured(
        "INBOX_REPORTS_PER_SENDER_PER_HOUR and INBOX_REPORTS_PER_IP_PER_HOUR must be at least 1"
    )

# OpenPGP (mailer.openpgp): Debian's gpg, run on a fresh GNUPGHOME under OPENPGP_HOME_PARENT for
# each operation (keep that path short: gpg-agent's socket path is length-limited). A project's
# private key comes from OPENPGP_KEY_<SLUG> / OPENPGP_PASSPHRASE_<SLUG> (slug upper-cased, "-" as
# "_") or from <OPENPGP_KEY_DIR>/<slug>.asc and <slug>.pass; never from the database.
OPENPGP_GPG_BINARY = env_str("OPENPGP_GPG_BINARY", "/usr/bin/gpg")
OPENPGP_GPGCONF_BINARY = env_str("OPENPGP_GPGCONF_BINARY", "/usr/bin/gpgconf")
OPENPGP_HOME_PARENT = env_str("OPENPGP_HOME_PARENT", "/tmp")  # noqa: S108 - one mkdtemp per use
OPENPGP_KEY_DIR = env_str("OPENPGP_KEY_DIR", "")
# The instance's CSAF signing key (advisories.csaf_provider): CSAF_OPENPGP_KEY and
# CSAF_OPENPGP_PASSPHRASE from the environment (read when used), else these files.
CSAF_OPENPGP_KEY_FILE = env_str("CSAF_OPENPGP_KEY_FILE", "")
CSAF_OPENPGP_PASSPHRASE_FILE = env_str("CSAF_OPENPGP_PASSPHRASE_FILE", "")
# Decrypted inbound messages larger than this are refused (compressed data expands unbounded).
OPENPGP_MAX_PLAINTEXT_BYTES = env_int("OPENPGP_MAX_PLAINTEXT_BYTES", INBOX_MAX_MESSAGE_BYTES)

# IMAP polling (inbox.imap): a project's mailbox (admin, superusers) is read every
# INBOX_IMAP_POLL_SECONDS. Its app password comes from the environment, INBOX_IMAP_PASSWORD_<SLUG>
# (slug upper-cased, "-" as "_"), or from the file INBOX_IMAP_PASSWORD_DIR/<slug>; never the DB.
INBOX_IMAP_POLL_SECONDS = env_int("INBOX_IMAP_POLL_SECONDS", 60)
INBOX_IMAP_PASSWORD_DIR = env_str("INBOX_IMAP_PASSWORD_DIR")
# A CA bundle to verify the IMAP servers' certificates with (default: the system's). Verification
# is never turned off.
INBOX_IMAP_CA_FILE = env_str("INBOX_IMAP_CA_FILE")
# One poll stays short: at most this many messages, each server answer within the timeout.
INBOX_IMAP_MESSAGES_PER_POLL = env_int("INBOX_IMAP_MESSAGES_PER_POLL", 50)
INBOX_IMAP_TIMEOUT_SECONDS = env_int("INBOX_IMAP_TIMEOUT_SECONDS", 30)
CELERY_BEAT_SCHEDULE["poll-mailboxes"] = {
    "task": "inbox.tasks.poll_mailboxes",
    "schedule": INBOX_IMAP_POLL_SECONDS,
}

# --- Webhooks (webhooks app) ---------------------------------------------------------------------
# Beat turns new events into deliveries and sends the due ones this often (webhooks.sweep).
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 30)
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {
    "task": "webhooks.tasks.sweep_webhooks",
    "schedule": WEBHOOK_SWEEP_SECONDS,
}
# Targets (webhooks.targets): https only unless this is on (development, tests); internal
# addresses (loopback, private, link-local...) only if this is on (tests with a local receiver).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ALLOW_INTERNAL_TARGETS = env_bool("WEBHOOK_ALLOW_INTERNAL_TARGETS", False)
# Connect and read timeout of one attempt, and how much of the answer is read and kept.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_RESPONSE_EXCERPT_BYTES = env_int("WEBHOOK_RESPONSE_EXCERPT_BYTES", 1024)
# Retries: the wait doubles from the base up to the maximum; a delivery is given up after
# WEBHOOK_MAX_ATTEMPTS; a hook is disabled (its admins told) after WEBHOOK_MAX_FAILURES failed
# attempts in a row over all its deliveries.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10)
WEBHOOK_MAX_FAILURES = env_int("WEBHOOK_MAX_FAILURES", 20)
# Deliveries sent per locked batch (the sweep's transaction lasts at most this many timeouts).
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 10)
# Events older than this are taken as committed for good: the cursor moves past them (a younger
# one is read again by the next sweep; no delivery is stored twice).
WEBHOOK_EVENT_SETTLE_SECONDS = env_int("WEBHOOK_EVENT_SETTLE_SECONDS", 300)
WEBHOOK_DELIVERIES_PAGE_SIZE = env_int("WEBHOOK_DELIVERIES_PAGE_SIZE", 50)
if WEBHOOK_TIMEOUT_SECONDS <= 0 or WEBHOOK_RESPONSE_EXCERPT_BYTES < 0:
    raise ImproperlyConfigured(
        "WEBHOOK_TIMEOUT_SECONDS must be positive, WEBHOOK_RESPONSE_EXCERPT_BYTES at least 0"
    )
if min(WEBHOOK_MAX_ATTEMPTS, WEBHOOK_MAX_FAILURES, WEBHOOK_BATCH_SIZE) < 1:
    raise ImproperlyConfigured(
        "WEBHOOK_MAX_ATTEMPTS, WEBHOOK_MAX_FAILURES and WEBHOOK_BATCH_SIZE must be at least 1"
    )

# --- CVE export (advisories.exports.cve / cve_cna) ---------------------------------------------

# The CNA that assigns this platform's CVE IDs: its organization UUID and short name as CVE
# Services knows them. Both or neither: without them the CVE downloads say they need configuring
# (an invented org id would be accepted by the schema and rejected by CVE Services).
CVE_CNA_ORG_ID = env_str("CVE_CNA_ORG_ID")
CVE_CNA_SHORT_NAME = env_str("CVE_CNA_SHORT_NAME")
if CVE_CNA_ORG_ID:
    try:
        _org_uuid = uuid.UUID(CVE_CNA_ORG_ID)
    except ValueError:
        _org_uuid = None
    # CVE program org ids are random (version 4) UUIDs; the CVE schema accepts no other.
    if _org_uuid is None or _org_uuid.version != 4:
        raise ImproperlyConfigured(
            f"CVE_CNA_ORG_ID must be the CNA's organization UUID (version 4), not "
            f"{CVE_CNA_ORG_ID!r}"
        )
    CVE_CNA_ORG_ID = str(_org_uuid)
if CVE_CNA_SHORT_NAME and not re.fullmatch(r"\S{2,32}", CVE_CNA_SHORT_NAME):
    raise ImproperlyConfigured(
        f"CVE_CNA_SHORT_NAME must be the CNA's 2-32 character short name, not "
        f"{CVE_CNA_SHORT_NAME!r}"
    )
if bool(CVE_CNA_ORG_ID) != bool(CVE_CNA_SHORT_NAME):
    raise ImproperlyConfigured("Set both CVE_CNA_ORG_ID and CVE_CNA_SHORT_NAME, or neither.")

# --- Static files, i18n -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Widgets render through the site's template settings, so a widget of the site (the Markdown
# field's Write / Preview tabs, projects.forms.MarkdownTextarea) has its template in templates/.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Report attachments: private storage outside static/media, served only through a checked view.
ATTACHMENT_ROOT = Path(env_str("DJANGO_ATTACHMENT_ROOT", str(BASE_DIR / "var" / "attachments")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_FILES = env_int("ATTACHMENT_MAX_FILES", 5)
# Quotas: attachments on one report, and bytes one user may store over all reports.
ATTACHMENTS_PER_REPORT = env_int("ATTACHMENTS_PER_REPORT", 30)
ATTACHMENT_QUOTA_BYTES = env_int("ATTACHMENT_QUOTA_BYTES", 200 * 1024 * 1024)

# Invitations to follow a report can be accepted for this many days.
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 14)
if not 1 <= INVITATION_MAX_AGE_DAYS <= 90:
    raise ImproperlyConfigured("INVITATION_MAX_AGE_DAYS must be between 1 and 90")
# Invitations to join a project (and the security contact's claim of it) for this many days.
PROJECT_INVITATION_MAX_AGE_DAYS = env_int("PROJECT_INVITATION_MAX_AGE_DAYS", 14)
if not 1 <= PROJECT_INVITATION_MAX_AGE_DAYS <= 90:
    raise ImproperlyConfigured("PROJECT_INVITATION_MAX_AGE_DAYS must be between 1 and 90")

# Portal page size (keyset pagination).
REPORTS_PAGE_SIZE = env_int("REPORTS_PAGE_SIZE", 25)
# How long the queue's open/overdue counts per project are kept (reports.selectors.queue_counts):
# a filing or a change of state or deadlines recounts at once; "overdue" lags by at most this.
QUEUE_COUNTS_SECONDS = env_int("QUEUE_COUNTS_SECONDS", 60)

# How far ahead security.txt's Expires lies (RFC 9116 recommends less than a year).
SECURITY_TXT_EXPIRES_DAYS = env_int("SECURITY_TXT_EXPIRES_DAYS", 180)
if not 1 <= SECURITY_TXT_EXPIRES_DAYS <= 365:
    raise ImproperlyConfigured("SECURITY_TXT_EXPIRES_DAYS must be between 1 and 365")

# --- REST API (api app) -----------------------------------------------------------------------

# Personal access tokens live at most this many days (each is created with its own expiry).
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
if not 1 <= API_TOKEN_MAX_DAYS <= 3650:
    raise ImproperlyConfigured("API_TOKEN_MAX_DAYS must be between 1 and 3650")
# A token's last-used time is written at most once per this many seconds, not on every request.
API_TOKEN_LAST_USED_SECONDS = env_int("API_TOKEN_LAST_USED_SECONDS", 60)
# Requests per token, as the site's other rate limits read ("count/period/token").
RATE_LIMIT_API = env_str("RATE_LIMIT_API", "1000/h/token")
if not re.match(r"^\d+/[smhd]/token$", RATE_LIMIT_API):
    raise ImproperlyConfigured(
        f"RATE_LIMIT_API must be a rate like 1000/h/token (count/period/token), not "
        f"{RATE_LIMIT_API!r}"
    )
REST_FRAMEWORK = {
    # Tokens only: no session authentication, so no CSRF and no second path around the rules.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.TokenRateThrottle"],
    # JSON only: the browsable API's pages carry inline scripts the CSP refuses.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "DESCRIPTION": "Projects, policies and published advisories for everyone; reports, "
    "comments, attachments, transitions, members and advisory drafts with a personal access "
    "token (Authorization: Bearer <token>), under the same rules as the site.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models name a field "state" or "type": each enum its own name in the document.
    "ENUM_NAME_OVERRIDES": {
        "ReportStateEnum": "reports.models.State",
        "SeverityEnum": "reports.models.Severity",
        "AdvisoryStateEnum": "advisories.models.Advisory.State",
        "CreditTypeEnum": "advisories.models.Credit.Type",
        "TimelineEntryTypeEnum": ["event", "comment"],
    },
}

# --- Security headers -------------------------------------------------------------------------

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # The health check is probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        # Rate limits per client address (sign-in, second factor) read it from the proxy's
        # X-Forwarded-For; otherwise every visitor would share the proxy's address.
        ALLAUTH_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 1)

# Production: one JSON object per line on stdout, with the request id and user id, never a
# request's body (disclosure.logs). Development: plain lines; runserver logs one line per request.
LOGGING = (development_logging if DEBUG else json_logging)(env_str("DJANGO_LOG_LEVEL", "INFO"))
