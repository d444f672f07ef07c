"""The one way services hand work to Celery: by task name, after the transaction commits.

Services never import ``tasks.py`` (tasks are the top layer: they import services). A rolled-back caller
enqueues nothing, and a worker never picks up a message for a row it cannot see yet. Routing (e.g. the
``probes`` queue) applies by name through ``CELERY_TASK_ROUTES``.
"""

from django.db import transaction

from .celery import app


def enqueue_on_commit(task_name: str, *args, **options) -> None:
    """``options`` are Celery's ``apply_async`` options (``queue``, ``countdown``, ``expires``...)."""
    transaction.on_commit(lambda: app.send_task(task_name, args=args, **options))
