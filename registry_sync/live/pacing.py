"""How fast apply writes: an adaptive gate every request passes through (AIMD).

The gate allows ``window`` requests in flight and, once the registry has rate limited
a request (or with ``max_rps``), starts them no faster than ``rate`` per second.

* It starts at the full parallelism and no rate cap (or ``max_rps``).
* A 429 cuts both multiplicatively: the window halves, the rate drops to a share of
  the cap in force (the first time, of what was sent in the last second). Only a
  request sent after the last cut can cut again: a burst of 429s answered to one
  overshoot counts once.
* Every success probes upwards additively: the window by one per window's worth of
  successes, the rate by a small share of its value at the last cut per second, as
  long as the requests sent use most of it (a cap nobody reaches proves nothing).
* Neither ever exceeds the parallelism or ``max_rps``.

The throttled request itself waits for the server's ``Retry-After`` (the client does
that); the others go on at the new pace. Pure logic and a lock: no I/O, and a clock
and sleep that tests replace to check the schedule without waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Pacer", "RateMeter"]

# A 429 sets the rate to this share of the cap (at first: of the rate sent).
_DECREASE = 0.85
# The rate grows only while the requests sent use at least this share of it.
_USED = 0.8
# While writes succeed the rate grows by this share of its value at the last cut, per second.
_PROBE = 0.05
# Never slower than this (requests/s): a registry that keeps answering 429 still gets tries.
_MIN_RATE = 0.5
# The window the send and accept rates are measured over, in seconds.
_WINDOW = 1.0


class RateMeter:
    """Events per second over the last ``window`` seconds (or since the first event)."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._times: deque[float] = deque()
        self._first: float | None = None

    def add(self, when: float | None = None) -> None:
        now = self._clock() if when is None else when
        if self._first is None:
            self._first = now
        self._times.append(now)
        while self._times[0] < now - self.window:
            self._times.popleft()

    def rate(self, *, settled: bool = False) -> float | None:
        """The rate now; None before the first event or, with ``settled``, until a
        whole window has passed since it (a rate over a few milliseconds is noise)."""
        if self._first is None:
            return None
        now = self._clock()
        while self._times and self._times[0] < now - self.window:
            self._times.popleft()
        span = min(self.window, now - self._first)
        if settled and now - self._first < self.window:
            return None
        return len(self._times) / span if span > 0 else None


class Pacer:
    """The gate every request of one apply passes: :meth:`enter` before sending (it
    blocks until the request may start), :meth:`leave` once it was answered.

    Thread-safe. ``cuts`` counts the 429s that slowed it down.
    """

    def __init__(
        self,
        parallelism: int,
        *,
        max_rps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        if max_rps is not None and max_rps <= 0:
            raise ValueError("max_rps must be positive")
        self.parallelism = parallelism
        self.max_rps = max_rps
        self.cuts = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Condition()
        self._window = float(parallelism)
        self._rate = max_rps
        self._probe = 0.0
        self._in_flight = 0
        self._next_start = 0.0
        self._last_cut = -math.inf
        self._last_success: float | None = None
        self._sent = RateMeter(_WINDOW, clock)

    @property
    def limit(self) -> int:
        """How many requests may be in flight now."""
        with self._lock:
            return int(self._window)

    @property
    def rate(self) -> float | None:
        """The cap on requests started per second now; None when there is none."""
        with self._lock:
            return self._rate

    def enter(self) -> float:
        """Wait for a free slot in the window and this request's turn under the rate
        cap; returns the time it starts (pass it to :meth:`leave`)."""
        with self._lock:
            while self._in_flight >= int(self._window):
                self._lock.wait()
            self._in_flight += 1
            now = self._clock()
            start = now
            if self._rate is not None:
                start = max(now, self._next_start)
                self._next_start = start + 1.0 / self._rate
            self._sent.add(start)
        if start > now:
            self._sleep(start - now)
        return start

    def leave(self, started: float, *, throttled: bool) -> None:
        """Record the answer to a request that started at ``started``: ``throttled``
        when it was a 429, else any other answer (or none)."""
        with self._lock:
            self._in_flight -= 1
            now = self._clock()
            if throttled:
                if started > self._last_cut:
                    self._cut(now)
            else:
                self._grow(now)
            self._lock.notify_all()

    def _cut(self, now: float) -> None:
        self.cuts += 1
        self._last_cut = now
        self._window = max(1.0, self._window / 2)
        # Not the rate sent lately once there is a cap: requests waiting out a
        # Retry-After make it look low, and a cut from it would stall the run.
        basis = self._rate if self._rate is not None else self._sent.rate()
        self._rate = max(_MIN_RATE, _DECREASE * (basis or _MIN_RATE))
        self._probe = max(_MIN_RATE, _PROBE * self._rate)
        self._last_success = None

    def _grow(self, now: float) -> None:
        self._window = min(float(self.parallelism), self._window + 1.0 / self._window)
        if self._rate is None:
            return
        sent = self._sent.rate()
        if self._last_success is not None and sent is not None and sent >= _USED * self._rate:
            self._rate += self._probe * (now - self._last_success)
            if self.max_rps is not None:
                self._rate = min(self._rate, self.max_rps)
        self._last_success = now
