"""Settings for the test suite: the real PostgreSQL and Redis on this machine unless the environment says
otherwise, production hardening on (DEBUG off) except the HTTPS redirect, fast password hashing."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
# The simulated appliances listen on 127.0.0.0/8 (docs/security.md, outbound address policy).
os.environ.setdefault("OUTBOUND_ALLOW_LOOPBACK", "True")
os.environ.setdefault("PORTAL_VAR_DIR", str(Path(tempfile.gettempdir()) / "failover-portal-test-var"))

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The manifest storage needs collectstatic; tests serve the source files instead.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_AUTOREFRESH = True
# Many tests call the API in loops as one user, and xdist workers share one Redis (so user ids of their databases
# share counters): production rates would throttle unrelated tests. tests/portal/test_brute_force.py sets
# production-like rates where it checks the throttle.
API_THROTTLE_RATES = {"anon": "100000/minute", "user": "100000/minute"}
# xdist workers share one Redis database but each has its own PostgreSQL database, where ids repeat: a key per
# worker keeps one worker's counters and caches (API throttles, lockouts) from another's. Processes a test starts
# (Celery workers) inherit the variable, so they share their test's keys.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
# Tests about older behaviour read one message per alert at once; the grouping tests set their own timing.
ALERT_GROUP_WAIT_SECONDS = 0
ALERT_GROUP_INTERVAL_SECONDS = 0
METRICS_TOKEN = "test-metrics-token"
