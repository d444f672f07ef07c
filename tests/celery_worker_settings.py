"""Settings of the real Celery worker the crash test starts: the test's database and a queue of its own (so it
never takes other tests' tasks), with short lock and staleness windows so a resume happens within seconds."""

import os

from portal.settings_test import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["FAILOVER_TEST_DB_NAME"]  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = os.environ["FAILOVER_TEST_QUEUE"]
FAILOVER_OPERATIONS_QUEUE = CELERY_TASK_DEFAULT_QUEUE
FAILOVER_POLL_INTERVAL = 0.05
# Short by default (the crash test); a test whose worker must simply run its operation on a loaded machine
# asks for the production windows (a 2 s pair lock can lapse between two heartbeats under load).
FAILOVER_OPERATION_LOCK_TTL = int(os.environ.get("FAILOVER_TEST_LOCK_TTL", "2"))
FAILOVER_OPERATION_STALE_SECONDS = int(os.environ.get("FAILOVER_TEST_STALE_SECONDS", "2"))
CELERY_IMPORTS = ("tests.celery_test_tasks",)
