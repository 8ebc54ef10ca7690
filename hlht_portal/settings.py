"""Settings read from the environment (django-environ), with embedded defaults (SQLite, a filesystem broker)."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from hlht_portal import local_state

env = environ.Env()


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable, items stripped, empty ones dropped ("a, b," is ["a", "b"])."""
    raw = os.environ.get(name)
    return default if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret exactly as set: django-environ would read a leading "$" as a reference to another variable."""
    return os.environ.get(name, "")


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = local_state.var_dir()  # HLHT_VAR_DIR, else var/ beside manage.py
# Nothing is written here (tests, linters and type checkers import this module): `make var`
# (python -m hlht_portal.local_state) makes var/, a generated secret key and the embedded broker's folders.


def _secret_key() -> str:
    # Production sets SECRET_KEY; a single-machine install keeps a generated key in var/ so that
    # sessions and encrypted secrets survive restarts without anyone choosing a weak key by hand.
    if key := env_secret("SECRET_KEY") or local_state.stored_secret_key(VAR_DIR):
        return key
    raise ImproperlyConfigured(
        f"SECRET_KEY is not set and {VAR_DIR / local_state.SECRET_KEY_FILE} does not exist: set SECRET_KEY, or run "
        "`make var` (python -m hlht_portal.local_state) once to generate one."
    )


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The portal's own 9-character OperatorID (组织机构代码), used as envelope OperatorID when it calls operators.
HLHT_OPERATOR_ID = env.str("HLHT_OPERATOR_ID", default="MA01HLHT0")
if len(HLHT_OPERATOR_ID) != 9:
    raise ImproperlyConfigured("HLHT_OPERATOR_ID must be exactly 9 characters (T/CEC 102.4 §8).")

# Keys that encrypt secrets at rest (newest first; see apps/core/secretbox.py). Defaults to one derived from SECRET_KEY.
HLHT_SECRET_KEYS = [key.strip() for key in env_secret("HLHT_SECRET_KEYS").split(",") if key.strip()]

# --- The T/CEC 102 protocol server and client.
HLHT_PROTOCOL_PREFIX = env.str("HLHT_PROTOCOL_PREFIX", default="evcs/v1/")
# Served only to operators flagged as using a base URL without "v" (Beijing e充网's old /evcs/20160701/).
HLHT_PROTOCOL_LEGACY_PREFIX = env.str("HLHT_PROTOCOL_LEGACY_PREFIX", default="evcs/20160701/")
HLHT_TOKEN_LIFETIME = env.int("HLHT_TOKEN_LIFETIME", default=7200)  # seconds; the spec allows at most 7 days
if not 60 <= HLHT_TOKEN_LIFETIME <= 604800:
    raise ImproperlyConfigured("HLHT_TOKEN_LIFETIME must be between 60 s and 7 days (604800 s).")
# An operator holds at most this many live tokens: a new one retires the oldest beyond it (2,000 were issued in 8 s).
HLHT_MAX_LIVE_TOKENS = env.int("HLHT_MAX_LIVE_TOKENS", default=5)
# query_token answers per operator and minute that issue a token; more get SuccStat 1, FailReason 4 (请求过于频繁).
HLHT_TOKEN_RATE = env.int("HLHT_TOKEN_RATE", default=10)
if HLHT_MAX_LIVE_TOKENS < 1 or HLHT_TOKEN_RATE < 1:
    raise ImproperlyConfigured("HLHT_MAX_LIVE_TOKENS and HLHT_TOKEN_RATE must be at least 1.")
HLHT_CLOCK_SKEW = env.int("HLHT_CLOCK_SKEW", default=300)  # seconds a TimeStamp may differ from our clock
HLHT_MAX_BODY_BYTES = env.int("HLHT_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# check_charge_orders lists a day's orders: a million of them is about 100 MB on the wire.
HLHT_MAX_RECONCILIATION_BYTES = env.int("HLHT_MAX_RECONCILIATION_BYTES", default=160 * 1024 * 1024)
HLHT_KEY_OVERLAP = env.int("HLHT_KEY_OVERLAP", default=7 * 86400)  # old inbound keys live on after rotation
# Bounds on what one message may make the portal do: status items in one push (the standard sends one; some
# platforms send arrays), and statuses kept per operator for connectors its directory does not list yet.
HLHT_MAX_PUSH_ITEMS = env.int("HLHT_MAX_PUSH_ITEMS", default=500)
HLHT_MAX_PENDING_STATUSES = env.int("HLHT_MAX_PENDING_STATUSES", default=20_000)
HLHT_PENDING_STATUS_DAYS = env.int("HLHT_PENDING_STATUS_DAYS", default=7)  # then a pending status is forgotten
# How long a process may reuse an operator's key sets and dialect flags before reading them again.
HLHT_CALLER_CACHE_SECONDS = env.int("HLHT_CALLER_CACHE_SECONDS", default=30)
HLHT_JOURNAL_RETENTION_DAYS = env.int("HLHT_JOURNAL_RETENTION_DAYS", default=180)
# Days per interface where they differ from the default, "interface=days,…" (say notification_stationStatus=30:
# a status push's facts live on in the status history; the journal row only shows that the message came).
HLHT_JOURNAL_RETENTION = {
    name.strip(): int(days)
    for name, _, days in (item.partition("=") for item in env_list("HLHT_JOURNAL_RETENTION", []))
    if name.strip() and days.strip().isdigit()
}
# Interfaces whose bulk payloads (crawl pages, status sweeps, reconciliation lists) the journal keeps whole; every
# other bulk payload is journalled compact: its scalars, per list its length and SHA-256 (apps.interconnect.journal).
HLHT_JOURNAL_FULL_PAYLOAD = env_list("HLHT_JOURNAL_FULL_PAYLOAD", [])
# The status history keeps 13 months (a year, and the month it started); older months are dropped as partitions.
HLHT_STATUS_HISTORY_RETENTION_DAYS = env.int("HLHT_STATUS_HISTORY_RETENTION_DAYS", default=400)
HLHT_PARTITIONS_AHEAD = env.int("HLHT_PARTITIONS_AHEAD", default=3)  # months of partitions made ahead
HLHT_CLIENT_CONNECT_TIMEOUT = env.float("HLHT_CLIENT_CONNECT_TIMEOUT", default=5)
HLHT_CLIENT_READ_TIMEOUT = env.float("HLHT_CLIENT_READ_TIMEOUT", default=20)
HLHT_TOKEN_REFRESH_MARGIN = env.int("HLHT_TOKEN_REFRESH_MARGIN", default=120)
# Scheduled pulls: a transient failure is retried after base·2ⁿ seconds (capped, with jitter) up to N times; a
# running pull holds a lease it renews every page, so a crashed worker frees its pull after the lease runs out.
HLHT_PULL_RETRIES = env.int("HLHT_PULL_RETRIES", default=3)
HLHT_PULL_RETRY_BASE = env.float("HLHT_PULL_RETRY_BASE", default=30)
HLHT_PULL_RETRY_CAP = env.float("HLHT_PULL_RETRY_CAP", default=600)
HLHT_PULL_LEASE_SECONDS = env.int("HLHT_PULL_LEASE_SECONDS", default=180)
# A full crawl dispatched and not succeeded this long after (its message lost with the broker, its worker killed, its
# retries spent) is dispatched again, instead of the next day.
HLHT_PULL_REDISPATCH_SECONDS = env.int("HLHT_PULL_REDISPATCH_SECONDS", default=600)
HLHT_PULL_QUEUE = env.str("HLHT_PULL_QUEUE", default="pulls")  # workers for pulls consume this queue (see Makefile)
HLHT_PULL_TIME_LIMIT = env.int("HLHT_PULL_TIME_LIMIT", default=3600)  # seconds one pull may take at most
# Orders: how far an operator's figures may differ before they disagree (a dispute), and its money from energy ×
# the declared policy's prices (a price finding). Money in 元, energy in kWh, durations in seconds.
HLHT_ORDER_MONEY_TOLERANCE = env.str("HLHT_ORDER_MONEY_TOLERANCE", default="0.01")
HLHT_ORDER_METER_TOLERANCE = env.str("HLHT_ORDER_METER_TOLERANCE", default="0.01")
HLHT_ORDER_DURATION_TOLERANCE = env.int("HLHT_ORDER_DURATION_TOLERANCE", default=60)
HLHT_ORDER_POWER_MARGIN = env.str("HLHT_ORDER_POWER_MARGIN", default="1.10")
HLHT_PRICE_TOLERANCE = env.str("HLHT_PRICE_TOLERANCE", default="0.01")
# A portal session's charge may exceed its energy × the dearest declared price by this share (never its hold).
HLHT_CHARGE_BOUND_MARGIN = env.str("HLHT_CHARGE_BOUND_MARGIN", default="0.05")
# Operator health: a connected operator whose connector statuses (pushed or pulled) are older than this is stale.
HLHT_STALE_MINUTES = env.int("HLHT_STALE_MINUTES", default=30)
# Indicators (spec indicators.md): the portal's choices the spec marks as such.
# A connector with no report (its own, or a status sweep of its operator) for longer than this is unknown; empty:
# 2 × the operator's status-pull interval.
HLHT_STATUS_GAP = env.int("HLHT_STATUS_GAP", default=None)
HLHT_PUSH_GRACE = env.int("HLHT_PUSH_GRACE", default=60)  # seconds a status push may trail the change (T_STATUS)
HLHT_INDICATOR_LOOKBACK_DAYS = env.int("HLHT_INDICATOR_LOOKBACK_DAYS", default=3)  # days the nightly run recomputes
# Onboarding: a testing operator goes live only with a passing conformance report at most this many days old.
HLHT_CONFORMANCE_VALID_DAYS = env.int("HLHT_CONFORMANCE_VALID_DAYS", default=7)
# The public application form takes at most this many submissions per client address per hour (counted in the cache).
HLHT_APPLY_PER_HOUR = env.int("HLHT_APPLY_PER_HOUR", default=5)
# The conformance check calls the endpoint an applicant or manager typed: loopback and private addresses are refused
# unless allowed (the demo's and the tests' simulated platforms run on 127.0.0.1; `make run` sets DEBUG).
HLHT_ALLOW_PRIVATE_ENDPOINTS = env.bool("HLHT_ALLOW_PRIVATE_ENDPOINTS", default=DEBUG)
# The dashboard's figures are computed at most once per this many seconds per scope (the city, or one operator).
HLHT_DASHBOARD_CACHE_SECONDS = env.int("HLHT_DASHBOARD_CACHE_SECONDS", default=60)
# With a read replica (DATABASE_REPLICA_URL, below), the dashboard states "数据延迟 N 秒" when it trails more than this.
HLHT_REPLICA_LAG_WARN = env.float("HLHT_REPLICA_LAG_WARN", default=30.0)
# /healthz and /metrics (apps/ops): only these networks read them (others get 404); loopback by default.
HLHT_OPS_NETWORKS = env_list("HLHT_OPS_NETWORKS", ["127.0.0.0/8", "::1/128"])
HLHT_OPS_PROXIES = env_list("HLHT_OPS_PROXIES", [])  # reverse proxies whose X-Forwarded-For is believed
HLHT_OPS_CHECK_TIMEOUT = env.float("HLHT_OPS_CHECK_TIMEOUT", default=2.0)  # seconds each health check may take
HLHT_OPS_BEAT_STALE = env.int("HLHT_OPS_BEAT_STALE", default=180)  # s since beat's last tick (it ticks each minute)
HLHT_OPS_OUTBOX_STALE = env.int("HLHT_OPS_OUTBOX_STALE", default=600)  # s a due outbox command may wait
# The admin's theme (django-unfold): the site's title and icon, the portal's colours, the sidebar a regulator reads
# (built per request from what the person may open: hlht_portal.admin_site.sidebar_navigation).
UNFOLD = {
    "SITE_TITLE": "北京市充电设施公共服务管理平台",
    "SITE_HEADER": "北京市充电设施公共服务管理平台",
    "SITE_SYMBOL": "ev_station",
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": "hlht_portal.admin_site.favicon_url"}],
    "SITE_URL": None,
    "SHOW_VIEW_ON_SITE": False,
    "BORDER_RADIUS": "6px",
    "THEME": "light",  # one look, the one the portal's own panels and charts are drawn for
    "STYLES": ["hlht_portal.admin_site.workbench_css_url"],
    # The portal's blue (the header colour the workbench had), in Tailwind's 50–950 steps.
    "COLORS": {
        "primary": {
            "50": "#eff6ff",
            "100": "#dbeafe",
            "200": "#bfdbfe",
            "300": "#93c5fd",
            "400": "#60a5fa",
            "500": "#2f6fb2",
            "600": "#1f5f9f",
            "700": "#1a4f86",
            "800": "#17406b",
            "900": "#143555",
            "950": "#0d2238",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "hlht_portal.admin_site.sidebar_navigation",
    },
}
# A record's history is evidence: shown, never restored through the admin (apps.core.admin.AuditedAdmin).
SIMPLE_HISTORY_REVERT_DISABLED = True
# The people's pages; the protocol reads its bodies itself, bounded per interface (apps/interconnect/server.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

INSTALLED_APPS = [
    # django-unfold, the admin's theme (its templates come before Django's admin; see hlht_portal/admin_site.py)
    "unfold.apps.BasicAppConfig",  # not the default config, which would replace our HLHTAdminSite with its own
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "hlht_portal.admin_site.HLHTAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "apps.core",
    "apps.operators",
    "apps.stations",
    "apps.pricing",
    "apps.orders",
    "apps.settlement",
    "apps.drivers",
    "apps.charging",
    "apps.interconnect",
    "apps.onboarding",
    "apps.indicators",
    "apps.supervision",
    "apps.ops",
    "apps.demo",
    "apps.simulator",
    "hlht_portal.apps.PortalConfig",  # last: its ready() imports the apps' tasks
]

MIDDLEWARE = [
    # First: the protocol answers envelopes on every path under its prefixes, whatever the rest would say.
    "apps.interconnect.server.ProtocolMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.replica.ReplicaMiddleware",  # a person's GET of the admin or the API may read on the replica
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # history rows of admin changes name who made them
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hlht_portal.urls"
WSGI_APPLICATION = "hlht_portal.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hlht.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# Off by default: a check is one more round trip on every request (every status push). Without it a connection that
# died (a database restart) fails one request — the protocol answers Ret -1 and the peer retries — and is replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too: an in-memory shared-cache database locks whole tables across threads, which the
    # embedded deployment (a file in WAL mode) never does, so concurrency tests would test the wrong thing.
    # One file per test process, so two test runs at once never share (and corrupt) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_hlht_{os.getpid()}.sqlite3")}
# A streaming replica of the primary (empty: none). The admin's and the API's GET/HEAD read there; writes, the
# protocol, Celery tasks and everything inside a transaction stay on the primary (apps/core/replica.py).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
        "TEST": {"MIRROR": "default"},  # a test run has one database: the replica's reads read it
    }
# The router only with a replica: without one every query would still pay its call.
DATABASE_ROUTERS = ["apps.core.replica.ReplicaRouter"] if DATABASE_REPLICA_URL else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every process: the /apply/ limit and the dashboard's figures are shared by all gunicorn workers only
# when the cache is (Redis in production: CACHE_URL=redis://host:6379/1, Django's own RedisCache on redis-py, which
# the Celery broker already needs). The embedded default is per process, which is all `make run` needs.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
CACHES["default"].setdefault("KEY_PREFIX", "hlht")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Chinese only: the rules, their field names and the portal's users are Chinese, and a half-translated English admin
# (Django's own strings in English, the portal's in Chinese) served nobody. A complete `en` catalogue can be added
# with makemessages/compilemessages; until then no other language is offered.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))

LOGIN_URL = "admin:login"
# Where a login without `next` lands (the theme's login form, unlike Django's, sends none): the workbench.
LOGIN_REDIRECT_URL = "admin:index"

# --- Roaming charging (part 3 §3.1–3.8, §7): the driver's money, the outbox, the timers.
HLHT_DRIVER_MIN_BALANCE = env.str("HLHT_DRIVER_MIN_BALANCE", default="10.00")  # 元 needed to start (a Decimal)
HLHT_DRIVER_HOLD = env.str("HLHT_DRIVER_HOLD", default="100.00")  # 元 held while charging (at most the balance)
HLHT_COMMAND_ATTEMPTS = env.int("HLHT_COMMAND_ATTEMPTS", default=8)  # sends of a command on transient errors
HLHT_COMMAND_RETRY_MAX_DELAY = env.float("HLHT_COMMAND_RETRY_MAX_DELAY", default=300.0)
HLHT_START_RESULT_WAIT = env.float("HLHT_START_RESULT_WAIT", default=50.0)  # s: start result due, else poll
HLHT_STOP_RESULT_WAIT = env.float("HLHT_STOP_RESULT_WAIT", default=50.0)  # s: stop result due, else poll
HLHT_STATUS_PUSH_WAIT = env.float("HLHT_STATUS_PUSH_WAIT", default=120.0)  # s without a status push, then poll
HLHT_POLL_MIN_INTERVAL = env.float("HLHT_POLL_MIN_INTERVAL", default=120.0)  # s: never poll a session more often
HLHT_DRIVER_POLICY_CACHE = env.float("HLHT_DRIVER_POLICY_CACHE", default=600.0)  # s a connector's policy is reused
HLHT_DRIVER_POLICY_BACKOFF = env.float("HLHT_DRIVER_POLICY_BACKOFF", default=60.0)  # s an unreachable one is left
HLHT_SESSION_STUCK_HOURS = env.float("HLHT_SESSION_STUCK_HOURS", default=24.0)  # then closed and flagged

# --- Celery: an embedded filesystem broker by default, Redis/RabbitMQ when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folders are made by `make var` (hlht_portal.local_state.BROKER_FOLDERS); the control folder holds the
    # exchange tables (kombu's default is ./control in the cwd).
    _queue_dir, _processed_dir, _control_dir = (VAR_DIR / folder for folder in local_state.BROKER_FOLDERS)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        # The folders are polled; kombu's 1 s default puts up to a second between a task and a free worker thread.
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport with its crash on a connection lost mid-task worked around (see the module).
    CELERY_BROKER_TRANSPORT = "hlht_portal.broker:Transport"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker restart (Redis gone for seconds or minutes) must never end a worker or beat: they reconnect, however long
# it takes (Celery's default gives up after 100 attempts, and from 6.0 stops retrying at startup unless asked), and
# whatever the broker lost is found again from the rows by beat's sweeps. A refused publish on the web path is not
# affected: it is caught after the commit (apps/core/jobs.py) within task_publish_retry_policy's few tries.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # None: for ever
# A task under way when the connection drops (a command on the wire, a crawl) finishes and writes its outcome to its
# row rather than being cancelled half-way; its ack is lost with the connection, and a redelivery finds the row done.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's schedule is hlht_portal/beat.py (tasks named by import), installed by hlht_portal.apps.PortalConfig.
# How services hand work to the background (apps/core/jobs.py): Celery; `apps.core.jobs.discard_enqueue` starts none.
HLHT_ENQUEUE = env.str("HLHT_ENQUEUE", default="apps.core.jobs.celery_enqueue")

# --- REST API (read-only, for people and scripts)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a request without credentials is then answered 401 with `WWW-Authenticate: Token`.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A refusal (apps.core.exceptions.Refusal: a driver's start on a busy connector…) is answered with its status.
    "EXCEPTION_HANDLER": "apps.core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "北京市充电设施公共服务管理平台 API",
    # The description, the groups and the summaries in Chinese come from apps.core.api_docs (its hook below).
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar: nothing is loaded from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "docExpansion": "none", "filter": True, "deepLinking": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api_docs.chinese_summaries",
        "apps.core.api_docs.error_responses",
    ],
}

# --- django-import-export: explicit permission codes, formula escaping, atomic imports.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Security headers that cost nothing behind a TLS-terminating proxy.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG and env.bool("HLHT_HTTPS", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
