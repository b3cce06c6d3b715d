"""The local registry's rate limit: a token bucket, as API gateways enforce one.

``rate`` tokens per second drip into a bucket that holds at most ``burst``; each
request takes one, and a request that finds the bucket empty is refused with 429
and a ``Retry-After`` in whole seconds (HTTP's delta-seconds), at least 1.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe. ``burst`` defaults to a tenth of a second's worth (at least 1)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = rate
        self.burst = max(1.0, rate / 10) if burst is None else burst
        if self.burst < 1:
            raise ValueError("a burst must hold at least one request")
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()
        self.refused = 0

    def take(self) -> str | None:
        """Take a token for one request: None when allowed, else the Retry-After value."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            self.refused += 1
            wait = (1 - self._tokens) / self.rate
            return str(max(1, math.ceil(wait)))
