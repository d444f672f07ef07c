"""Scaled time: every simulated duration is multiplied by ``time_scale`` so tests can run a
multi-hour data sync in a fraction of a second while wall-clock timestamps stay real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Clock:
    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale

    @staticmethod
    def now() -> float:
        return time.time()

    def real(self, simulated_seconds: float) -> float:
        return max(0.0, simulated_seconds * self.time_scale)

    async def sleep(self, simulated_seconds: float) -> None:
        await asyncio.sleep(self.real(simulated_seconds))

    def call_later(self, simulated_seconds: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(self.real(simulated_seconds), callback)
