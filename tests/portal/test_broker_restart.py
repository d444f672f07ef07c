"""A broker restart must never leave a worker connected to nothing, nor stop it: a real Celery worker, its own Redis as the
broker (never the machine's shared one, which other tests use), restarted under it, idle and mid-task, once and
twice in a row; after each restart the worker must run new tasks again. An earlier chaos run saw a worker wedge
for good after such a restart (docs/benchmarks.md); portal/settings.py sets the broker options that guard it."""

import contextlib
import socket
import subprocess
import time
import uuid

import pytest
import redis
from celery import Celery
from kombu import Connection, Exchange, Queue

from simulator.testing import free_port
from tests.celery_worker import Worker, wait_until

HOST = "127.0.0.2"  # a loopback address of its own: the machine's Redis listens on 127.0.0.1:6379


class PrivateRedis:
    def __init__(self, log, *, data_dir=None) -> None:
        """``data_dir``: keep the data across restarts there (append-only file), else lose it as a crash would."""
        self.port = free_port()
        self.log = log
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self) -> None:
        persistence = (["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir)]
                       if self.data_dir else ["--appendonly", "no"])
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", *persistence],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        client = redis.Redis(host=HOST, port=self.port)
        wait_until(lambda: self._answers(client), 30, "the private Redis to start")

    @staticmethod
    def _answers(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def restart(self, down: float = 0.0) -> None:
        self.kill()
        time.sleep(down)
        self.start()


def test_a_lost_connection_closes_cleanly_and_gives_back_the_message_in_flight(tmp_path):
    """Celery's own steps after a lost connection, with a message received and not acknowledged and the consumer
    waiting on Redis: collect the connection, close it. kombu's transport raised AttributeError ('hostname') at
    the close, which stopped the worker ("Unrecoverable error"); the portal's (portal/celery_redis.py) closes
    and, with a Redis that kept its data, puts the message back in its queue for the next worker."""
    broker = PrivateRedis(tmp_path / "redis.log", data_dir=tmp_path)
    broker.start()
    work = Queue("work", Exchange("work"), routing_key="work")
    control = Queue("control", Exchange("control", type="fanout"), auto_delete=True)  # as a worker's pidbox
    try:
        with Connection(broker.url(0)) as connection:
            connection.Producer().publish({"n": 1}, exchange=work.exchange, routing_key="work", declare=[work])
        connection = Connection(broker.url(0))
        assert type(connection.transport).__module__ == "portal.celery_redis"
        received = []
        connection.Consumer([work, control], callbacks=[lambda body, message: received.append(body)]).consume()
        connection.drain_events(timeout=5)
        assert received == [{"n": 1}]
        with contextlib.suppress(socket.timeout):
            connection.drain_events(timeout=0.2)  # nothing more: the consumer waits on Redis, as a worker does

        broker.kill()
        connection.collect()  # what Celery does first when the connection is lost
        broker.start()
        connection.close()  # then this: it raised AttributeError with kombu's transport

        assert redis.Redis.from_url(broker.url(0)).llen("work") == 1  # the message is back for the next worker
    finally:
        broker.kill()


@pytest.fixture(name="broker")
def broker_fixture(tmp_path):
    server = PrivateRedis(tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_tasks_again_after_its_broker_restarts(broker, tmp_path):
    queue = f"broker-restart-{uuid.uuid4().hex[:8]}"
    marks = broker.url(1)
    worker = Worker(queue, tmp_path / "worker.log", env={"CELERY_BROKER_URL": broker.url(0), "REDIS_URL": marks})
    app = Celery(set_as_current=False)  # the suite's own app stays the current one

    def runs_a_task(what: str) -> None:
        key = f"mark-{uuid.uuid4().hex}"
        # Sent until it lands: right after a restart the worker may not have declared its queue again, and a
        # message sent before the restart is lost with the broker's memory.
        def ran() -> bool:
            # An explicit connection: Celery prefers the environment's CELERY_BROKER_URL (the suite's shared
            # Redis) to the app's own broker setting.
            with Connection(broker.url(0)) as connection:
                app.send_task("tests.touch", args=(marks, key), queue=queue, connection=connection)
            return wait_for_mark(key)
        wait_until(ran, 90, f"the worker to run a task {what}")

    def wait_for_mark(key: str) -> bool:
        client = redis.Redis.from_url(marks)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                if client.get(key):
                    return True
            except redis.ConnectionError:
                return False
            time.sleep(0.1)
        return False

    try:
        runs_a_task("before any restart")

        broker.restart()
        runs_a_task("after a restart while idle")

        # Mid-task: the late ack of the running task fails with the connection.
        with Connection(broker.url(0)) as connection:
            app.send_task("tests.sleep", args=(2.0,), queue=queue, connection=connection)
        wait_until(lambda: "Task tests.sleep[" in (tmp_path / "worker.log").read_text(), 30, "the long task to start")
        broker.restart(down=0.5)
        runs_a_task("after a restart in the middle of a task")

        # Twice in a row, the second while the worker is reconnecting.
        broker.restart()
        time.sleep(0.3)
        broker.restart(down=1.0)
        runs_a_task("after two restarts in a row")
        assert worker.process.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.stop()
        app.close()
