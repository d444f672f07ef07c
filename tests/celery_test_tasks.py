"""Tasks only the test workers know (tests/celery_worker_settings.py imports them): one that takes a while, so a
broker restart finds it running, and one that leaves a mark, so a test sees that a worker still runs tasks."""

import time

import redis
from celery import shared_task


@shared_task(name="tests.sleep", ignore_result=True, acks_late=True)
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@shared_task(name="tests.touch", ignore_result=True, acks_late=True)
def touch(redis_url: str, key: str) -> None:
    """Leave a mark the test can read: the task ran."""
    redis.Redis.from_url(redis_url).set(key, "ran", ex=600)
