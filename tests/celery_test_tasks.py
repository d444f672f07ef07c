"""Tasks only the test workers know (tests/celery_worker_settings.py imports them): a task that takes a while, so
a broker restart finds one running."""

import time

from celery import shared_task


@shared_task(name="tests.sleep", ignore_result=True, acks_late=True)
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
