"""Keeps the demo's processes running: a child that dies is restarted, and the operator is told.

Why: the demo runner used to stop the web server and everything else when one child (the Celery worker) died,
so one bad message ended the demo. A child that keeps dying (``max_restarts`` within ``window`` seconds) is
given up on, and said so, but the others, the web server above all, stay up.
"""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: deque = field(default_factory=deque)
    given_up: bool = False


class Supervisor:
    def __init__(self, children: list[Child], *, say: Callable[[str], None], env=None, cwd=None,
                 max_restarts: int = 5, window: float = 60.0, backoff: float = 1.0):
        self.children = children
        self.say = say
        self.env, self.cwd = env, cwd
        self.max_restarts, self.window, self.backoff = max_restarts, window, backoff

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        # Fixed argv of our own interpreter and commands, no shell.
        child.process = subprocess.Popen(child.argv, env=self.env, cwd=self.cwd)  # noqa: S603

    def check(self) -> None:
        """Restart every child that has exited; called by the runner's wait loop."""
        now = time.monotonic()
        for child in self.children:
            if child.given_up or child.process is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            while child.restarts and now - child.restarts[0] > self.window:
                child.restarts.popleft()
            if len(child.restarts) >= self.max_restarts:
                child.given_up = True
                self.say(f"{child.name} exited (code {code}) {self.max_restarts} times within {self.window:.0f} s; "
                         "not restarting it again. The other demo processes keep running.")
                continue
            child.restarts.append(now)
            self.say(f"{child.name} exited unexpectedly (code {code}); restarting it "
                     f"(restart {len(child.restarts)} in the last {self.window:.0f} s).")
            time.sleep(self.backoff * (len(child.restarts) - 1))
            self._spawn(child)

    def alive(self) -> list[str]:
        return [c.name for c in self.children if c.process is not None and c.process.poll() is None]

    def stop(self, timeout: float = 15.0) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
