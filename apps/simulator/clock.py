"""Simulated business time: the wall clock scaled by --speed plus explicit advances, so tests never sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from apps.protocol import CST, now


class SimClock:
    """Epoch seconds of the simulated world: start + speed × real seconds elapsed + everything advanced by hand.

    Speed 0 freezes time (tests drive it with `advance`); speed 1 follows the wall clock; speed 60 runs a day in
    24 minutes. A world faster than real time is given a `ceiling` (the wall clock) and a start in the past: it runs
    fast until it reaches the present and then keeps pace with it, so no business time it stamps lies in the future
    (the portal takes such times as an operator clock running ahead). It shifts its world, not its timestamps.
    """

    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        ceiling: Callable[[], float] | None = None,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must not be negative")
        self._start = (start or now()).timestamp()
        self._speed = speed
        self._monotonic = monotonic
        self._anchor = monotonic()
        self._offset = 0.0
        self._ceiling = ceiling
        self._lock = threading.Lock()

    def time(self) -> float:
        """Current simulated epoch seconds."""
        with self._lock:
            world = self._start + (self._monotonic() - self._anchor) * self._speed + self._offset
        return world if self._ceiling is None else min(world, self._ceiling())

    def now(self) -> datetime:
        """Current simulated time, aware, Asia/Shanghai."""
        return datetime.fromtimestamp(self.time(), CST)

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; returns the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds
        return self.time()
