"""How long the network may take and how failed requests are retried: plain values
the settings and the pipeline build before any client exists, kept apart from
:mod:`registry_sync.live.client` so that building them never imports httpx (a plan
against a saved registry file never needs it). The client re-exports both.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from registry_sync.settings.defaults import DEFAULT_RETRY_BUDGET, DEFAULT_TIMEOUT

__all__ = ["NetworkDeadline", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    The n-th retry waits ``initial_delay * factor ** (n - 1)`` seconds, at most
    ``max_delay``, plus up to ``jitter`` of that at random so parallel workers do
    not retry in step. A ``Retry-After`` header replaces the computed wait. No wait
    is started that would take the request past ``max_elapsed`` seconds in total,
    and no request is tried more than ``max_attempts`` times.
    """

    initial_delay: float = 0.5
    max_delay: float = 5.0
    factor: float = 1.5
    max_elapsed: float = DEFAULT_RETRY_BUDGET
    max_attempts: int = 6
    jitter: float = 0.1

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1-based), jitter included."""
        base = min(self.max_delay, self.initial_delay * self.factor ** (retry - 1))
        return base + random.uniform(0, base * self.jitter)


class NetworkDeadline:
    """The time one command may spend on the network, shared by its clients.

    Only time during which some request is in flight is counted (requests running
    in parallel count once), so loading files or waiting for approval costs none.
    """

    def __init__(self, seconds: float = DEFAULT_TIMEOUT) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._spent = 0.0
        self._active = 0
        self._since = 0.0

    def remaining(self) -> float:
        """Seconds left; 0 or less when the deadline has passed."""
        with self._lock:
            spent = self._spent + (time.monotonic() - self._since if self._active else 0.0)
        return self.seconds - spent

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Count the time spent inside the block."""
        with self._lock:
            if not self._active:
                self._since = time.monotonic()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if not self._active:
                    self._spent += time.monotonic() - self._since
