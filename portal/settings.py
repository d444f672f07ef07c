"""Settings read from the environment (twelve-factor, as in cookiecutter-django).

With no environment at all the portal runs on embedded defaults: SQLite in WAL mode, a filesystem Celery
transport under ``var/`` and console email. Setting ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``REDIS_URL``
switches it to PostgreSQL and Redis. ``DEBUG=False`` turns on the production hardening that
``manage.py check --deploy`` asks for.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# An insecure key is only acceptable for a local demo; production must set SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "insecure-demo-key-change-me")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "portal",
    "appliances",
    "certificates",
    "failover",
    "rma",
    "demo",
]

MIDDLEWARE = [
    # First: an oversized body is refused before any middleware (CSRF reads the form) or view reads it.
    "portal.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.CurrentOrganizationMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "portal.User"
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "portal.auth_backends.PlatformOperatorBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.organizations",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and locks ------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------------------
_celery_fs = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # portal.celery maps this scheme to portal.celery_transport (atomic writes; see there why).
    for sub in ("in", "processed", "control"):
        (_celery_fs / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_fs / "in"),
        "data_folder_out": str(_celery_fs / "in"),
        "processed_folder": str(_celery_fs / "processed"),
        # kombu's broadcast (control) exchanges; its default is ./control, i.e. wherever the process started.
        "control_folder": str(_celery_fs / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A broker restart or a dropped connection must never leave a worker connected to nothing (docs/install.md,
    # "Broker restarts"; tests/portal/test_broker_restart.py): keepalives and a periodic PING find a dead TCP
    # connection (a silent network cut sends no reset), and a socket timeout bounds every call on it, so the
    # consumer sees a connection error and reconnects instead of waiting on it for ever. The timeout stays well
    # above the consumer's 1 s BRPOP poll.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_keepalive": True,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        "health_check_interval": 25,
        "retry_on_timeout": True,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Reconnect for as long as the broker is away (Celery's default gives up after 100 attempts and stops the worker):
# a portal whose workers quit during a long broker outage stops probing and failing over when it comes back.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task whose late ack is lost with the connection is redelivered anyway: cancel it rather than let it finish
# a second time (what Celery 6 will do by default; it also silences its warning at every reconnect). Operations
# and probe batches are idempotent, so a cancelled one loses nothing.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Four queues, each served by its own worker(s) (docs/install.md): "ticks" for the probe dispatcher, which must
# never wait behind anything (detection); "evaluations" for the failover policy's passes, which start a mass
# outage's operations (a worker of its own, so that the dispatch never waits behind a pass nor a pass behind an
# operation); "probes" for the probe batches; the default "celery" for operations, alerts, backups and the pair
# watcher (its countdown, recovery and backup-down alerts for 1,000 pairs took minutes and held the dispatch up
# on "ticks"). Exact names win over the glob.
FAILOVER_EVALUATION_QUEUE = env.str("FAILOVER_EVALUATION_QUEUE", default="evaluations")
CELERY_TASK_ROUTES = {
    "failover.probe_dispatch": {"queue": "ticks"},
    "failover.evaluate_auto_failover": {"queue": FAILOVER_EVALUATION_QUEUE},
    "failover.probe_*": {"queue": "probes"},
}
# Beat schedule defined in code; the DatabaseScheduler loads it into django-celery-beat's tables.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Tunables -------------------------------------------------------------------------------------------
# Declared here once, with their defaults and units (docs/install.md, "Tunables"); the code reads settings.X.
# Probing (failover/probing): how many appliances at once, in which batches, how flaps are damped.
PROBE_CONCURRENCY = env.int("PROBE_CONCURRENCY", default=128)  # transfers at once per probe worker
PROBE_BATCH_SIZE = env.int("PROBE_BATCH_SIZE", default=500)  # appliances per probe task
PROBE_DISPATCH_LIMIT = env.int("PROBE_DISPATCH_LIMIT", default=50_000)  # appliances claimed per dispatcher tick
PROBE_CLAIM_LEASE_SECONDS = env.int("PROBE_CLAIM_LEASE_SECONDS", default=120)  # s before a lost batch is redone
PROBE_FAILURES_TO_DOWN = env.int("PROBE_FAILURES_TO_DOWN", default=3)  # consecutive failures to call it down
PROBE_SUCCESSES_TO_UP = env.int("PROBE_SUCCESSES_TO_UP", default=2)  # consecutive successes to call it up
# s to the next probe of an unconfirmed change, never more than the appliance's own interval
# (failover/probing/transitions.py, next_probe_delay)
PROBE_CONFIRM_INTERVAL = env.int("PROBE_CONFIRM_INTERVAL", default=10)
# Probe locations (failover/probing/locations.py): a location's queue is "<PROBE_QUEUE>.<name>" ("local": PROBE_QUEUE).
PROBE_QUEUE = env.str("PROBE_QUEUE", default="probes")  # the local location's queue, prefix of the others
PROBE_SOURCE_ADDRESS = env.str("PROBE_SOURCE_ADDRESS", default="")  # this worker's source IP for probes; "" = any
PROBE_LOCATION_STALE_SECONDS = env.int("PROBE_LOCATION_STALE_SECONDS", default=120)  # s a location's view counts
PROBE_ISOLATION_MIN_APPLIANCES = env.int("PROBE_ISOLATION_MIN_APPLIANCES", default=3)  # all down at once => isolated
PAIR_SWAP_WINDOW_SECONDS = env.int("PAIR_SWAP_WINDOW_SECONDS", default=120)  # s both may be backup during a swap
# Alerts (failover/services/watch.py): how often a persisting condition is repeated.
ALERT_COUNTDOWN_INTERVAL_SECONDS = env.int("ALERT_COUNTDOWN_INTERVAL_SECONDS", default=60)
ALERT_COUNTDOWN_LATE_INTERVAL_SECONDS = env.int("ALERT_COUNTDOWN_LATE_INTERVAL_SECONDS", default=3600)
ALERT_SYNC_STALE_REPEAT_SECONDS = env.int("ALERT_SYNC_STALE_REPEAT_SECONDS", default=6 * 3600)
# Notifications (portal/services/notifications.py, docs/notifications.md).
# Where people open the portal: every message links to the pair or appliance it is about.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# A route's timing when it does not set its own (Alertmanager's meaning): wait before a new group's first
# message, minimum gap before telling a group's new alerts, repeat of what still fires unacknowledged.
ALERT_GROUP_WAIT_SECONDS = env.int("ALERT_GROUP_WAIT_SECONDS", default=30)
ALERT_GROUP_INTERVAL_SECONDS = env.int("ALERT_GROUP_INTERVAL_SECONDS", default=60)
ALERT_REPEAT_INTERVAL_SECONDS = env.int("ALERT_REPEAT_INTERVAL_SECONDS", default=4 * 3600)
# The default route (no route matched) groups by kind: thirty pairs down make one "primary down" message.
ALERT_DEFAULT_GROUP_BY = env.list("ALERT_DEFAULT_GROUP_BY", default=["kind"])
ALERT_ACK_LINK_MAX_AGE_SECONDS = env.int("ALERT_ACK_LINK_MAX_AGE_SECONDS", default=7 * 86400)
# Delivery retries: backoff doubles from the base up to the cap; the row gives up after the attempts.
NOTIFY_RETRY_BASE_SECONDS = env.int("NOTIFY_RETRY_BASE_SECONDS", default=30)
NOTIFY_RETRY_MAX_SECONDS = env.int("NOTIFY_RETRY_MAX_SECONDS", default=1800)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=10)
SILENCE_MAX_SECONDS = env.int("SILENCE_MAX_SECONDS", default=30 * 86400)
# Operations (failover/operations).
FAILOVER_OPERATIONS_QUEUE = env.str("FAILOVER_OPERATIONS_QUEUE", default="") or None  # Celery queue, else default
FAILOVER_OPERATION_LOCK_TTL = env.int("FAILOVER_OPERATION_LOCK_TTL", default=60)  # s; > any single appliance call
FAILOVER_OPERATION_STALE_SECONDS = env.int("FAILOVER_OPERATION_STALE_SECONDS", default=120)  # s without heartbeat
FAILOVER_POLL_INTERVAL = env.float("FAILOVER_POLL_INTERVAL", default=0.25)  # s between polls of a waiting step
FAILOVER_SYNC_TIMEOUT = env.int("FAILOVER_SYNC_TIMEOUT", default=6 * 3600)  # s a data sync may take
FAILOVER_DNS_RESOLVER = env.str("FAILOVER_DNS_RESOLVER", default="")  # "ip:port" for conflict checks; "" = system
# Automatic failover and network swing (failover/swing).
FAILOVER_KNOCK_TIMEOUT = env.float("FAILOVER_KNOCK_TIMEOUT", default=2.0)  # s one knock waits for any answer
FAILOVER_CONNECTIVITY_TEST_PORT = env.int("FAILOVER_CONNECTIVITY_TEST_PORT", default=443)  # port knocked
# A refusal on the old primary's address serves nothing (off where firewalls REJECT the portal: only silence then).
FAILOVER_REFUSAL_MEANS_NOT_SERVING = env.bool("FAILOVER_REFUSAL_MEANS_NOT_SERVING", default=True)
# Certificates.
CERTIFICATE_MAX_UPLOAD_BYTES = env.int("CERTIFICATE_MAX_UPLOAD_BYTES", default=256 * 1024)  # bytes per import file
CERTIFICATE_EXPIRY_WARNING_DAYS = env.int("CERTIFICATE_EXPIRY_WARNING_DAYS", default=30)  # days before expiry
# Input limits (docs/security.md, "API input limits").
CERTIFICATE_PKCS12_MAX_ITERATIONS = env.int("CERTIFICATE_PKCS12_MAX_ITERATIONS", default=600_000)  # KDF rounds/part
CSV_IMPORT_MAX_ROWS = env.int("CSV_IMPORT_MAX_ROWS", default=5000)  # rows per appliance CSV import (one worker job)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)  # rows per REST page; a larger ?limit= is cut to it
INVITATION_TTL_HOURS = env.int("INVITATION_TTL_HOURS", default=72)  # h an invitation link stays valid (single use)
# Outbound address policy (portal/netpolicy.py): the networks appliance hosts, DNS servers and NAT devices may
# be in (an organisation's own list replaces this one), and the networks never connected to, whatever the lists.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=["0.0.0.0/0", "::/0"])
OUTBOUND_DENIED_NETWORKS = env.list("OUTBOUND_DENIED_NETWORKS", default=[
    "169.254.0.0/16",  # IPv4 link-local, AWS/GCP/Azure/OpenStack metadata (169.254.169.254)
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "168.63.129.16/32",  # Azure wire server
    "0.0.0.0/8", "::/128",  # "this host": connects to the portal's own machine
    "224.0.0.0/4", "ff00::/8",  # multicast
])
# Loopback (127.0.0.0/8, ::1) is refused in production: it is the portal's own machine (Redis, PostgreSQL).
# Development (DEBUG) and the tests allow it: their simulated appliances listen on loopback addresses.
OUTBOUND_ALLOW_LOOPBACK = env.bool("OUTBOUND_ALLOW_LOOPBACK", default=DEBUG)
# How long a resolved appliance/DNS/NAT host name is reused before the policy resolves it again (seconds).
OUTBOUND_DNS_CACHE_SECONDS = env.int("OUTBOUND_DNS_CACHE_SECONDS", default=60)

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="failover-portal@localhost")
# A hung mail server must not hold a worker: delivery is retried by its task.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Metrics (/metrics, docs/notifications.md#metrics) ---------------------------------------------------
# A scrape needs "Authorization: Bearer <METRICS_TOKEN>" or a client address in METRICS_ALLOWED_NETWORKS.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_REDIS_PREFIX = env.str("METRICS_REDIS_PREFIX", default="portal:metrics:")

# --- Secrets at rest ------------------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (MultiFernet rotation).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="] if DEBUG else [],
)
if not FIELD_ENCRYPTION_KEYS:
    raise environ.ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off")

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Clients behind proxies ----------------------------------------------------------------------------
# How many reverse proxies (each appending to X-Forwarded-For) stand between clients and gunicorn: 1 behind the
# Caddy front. 0 uses the connection's address. It names the client for sign-in lockouts and API throttles
# (portal.http.client_ip); a larger number than the real one would let a client choose its own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Sign-in lockout (django-axes): the web sign-in and the Django admin's ------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that username is refused from that
# address for the cool-off time, even with the right password (each attempt during the lockout restarts it).
# Every lockout is written to the audit log (portal.services.audit.record_lockout).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portal.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Successful sign-ins are already in the portal's audit log.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Request bodies and uploads -------------------------------------------------------------------------
# portal.middleware.RequestBodyLimitMiddleware refuses a request whose declared body (Content-Length) is larger
# than its route allows with 413, before anything reads it (a JSON error under /api/). Under WSGI a body without
# Content-Length is never read (Django reads Content-Length bytes and no more). The largest file upload a route
# takes sets its limit, plus room for the multipart envelope and the other fields.
MULTIPART_ENVELOPE_BYTES = 64 * 1024
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)
RMA_ATTACHMENT_MAX_BYTES = env.int("RMA_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=CSV_IMPORT_MAX_BYTES + 1024 * 1024)
# Routes (URL names) that take more than REQUEST_BODY_MAX_BYTES: the RMA step forms, which carry an attachment.
REQUEST_BODY_ROUTE_MAX_BYTES = {
    "rma:case_step": RMA_ATTACHMENT_MAX_BYTES + MULTIPART_ENVELOPE_BYTES,
    "rma-api:rmacase-record-step": RMA_ATTACHMENT_MAX_BYTES + MULTIPART_ENVELOPE_BYTES,
}
# Django's own caps, behind the middleware: form fields in memory, and files kept in memory before a temp file.
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST -----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "portal.filtersets.TenantFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Rates from API_THROTTLE_RATES below, read on each request (portal/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonymousRateThrottle",
        "portal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
}
# Requests per client to the API: anonymous ones per address, signed-in ones (token or session) per user.
API_THROTTLE_RATES = {
    "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    "user": env.str("API_THROTTLE_USER", default="1200/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Failover Portal API",
    "DESCRIPTION": "Fleet-wide failover for primary/backup appliance pairs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from the portal itself (no CDN: operators' networks and the tests have none).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind"; name each enum after its model's choices.
    "ENUM_NAME_OVERRIDES": {
        "AddressKindEnum": "appliances.models.AddressKind",
        "OperationKindEnum": "failover.models.OperationKind",
        "AlertKindEnum": "portal.alerts.ALERT_KIND_CHOICES",
        "OperationStatusEnum": "failover.models.OperationStatus",
        "EvacuationStatusEnum": "failover.models.EvacuationStatus",
        "EvacuationItemStatusEnum": "failover.models.EvacuationItemStatus",
        "WindowStateEnum": "failover.models.WindowState",
        "PairStateEnum": "failover.models.PairState",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {"tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
}

# The OpenAPI schema and Swagger UI answer signed-in users only, unless this opens them to anyone.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# --- Browser policies -----------------------------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts, styles, fonts and connections from the portal itself only, no
# inline script or style block, no eval; images also as data: URIs (Bootstrap's and Swagger UI's icons are).
# Templates carry no inline <script> or on* handler: behaviour lives in static files (portal/static/portal/portal.js).
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
# Permissions-Policy (django-permissions-policy): the portal uses no powerful browser feature.
PERMISSIONS_POLICY = {
    feature: []
    for feature in ("accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen",
                    "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment", "usb")
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Production hardening -------------------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise to browsers' built-in lists that is slow to take back: the operator opts in.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # check --deploy asks for preload (security.W021); off is the deliberate default here.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
