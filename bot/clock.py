"""The bot's clock: real UTC time — or, for tests and benchmarks only, a fast one.

`RUNNER_BOT_TEST_CLOCK="<epoch>:<speed>"` (unix seconds, a factor) makes time run `speed` times
faster from `epoch`: now = epoch + (real now - epoch) × speed. Processes given the same value
share one clock, so a bot killed and restarted carries on at the same fast time, and a test can
compute exactly what the bot's clock reads. Waits (a reminder's job) are real seconds: the fast
clock's seconds divided by `speed`. Never set it in production.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

ENV = "RUNNER_BOT_TEST_CLOCK"


@dataclass(frozen=True, slots=True)
class Clock:
    epoch: float = 0.0
    speed: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Clock:
        """ "" (the real clock) or "<epoch>:<speed>"; raises ValueError."""
        if not text.strip():
            return cls()
        epoch, _, speed = text.partition(":")
        clock = cls(float(epoch), float(speed or 1))
        if not 0 < clock.speed <= 1_000_000:
            raise ValueError("the speed must be above 0")
        return clock

    def timestamp(self, real: float | None = None) -> float:
        real = time.time() if real is None else real
        return real if self.speed == 1.0 else self.epoch + (real - self.epoch) * self.speed

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    def real_seconds_until(self, moment: dt.datetime) -> float:
        """How many real seconds from now until the clock reads `moment` (0 if it has passed)."""
        return max(0.0, (moment - self.now()).total_seconds() / self.speed)
