"""Per-client rate limits of the REST channel: token buckets per sender id and per IP.

Each key (``sender:<id>``, ``ip:<address>``, ``session:<address>``) has a bucket of
``burst`` tokens refilled at ``per_minute`` tokens a minute; a request takes one token
or is refused with the seconds until the next one. Buckets live in memory (one Rasa
process); at most ``max_keys`` are kept, the least recently used going first, so a
flood of new keys cannot grow memory. Configuration (environment, 0 switches a limit
off):

- ``MESOGUIDE_RATE_PER_SENDER`` [30 a minute], ``MESOGUIDE_BURST_PER_SENDER`` [10]
- ``MESOGUIDE_RATE_PER_IP`` [120 a minute], ``MESOGUIDE_BURST_PER_IP`` [40]: all
  visitors behind one address (an office, a mobile carrier) share this one
- ``MESOGUIDE_RATE_SESSIONS_PER_IP`` [20 a minute], ``MESOGUIDE_BURST_SESSIONS_PER_IP`` [10]:
  new sender ids

Behind a reverse proxy, set Sanic's ``SANIC_PROXIES_COUNT`` (or
``SANIC_REAL_IP_HEADER``) so the client's address, not the proxy's, is used.
"""
from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

DEFAULTS = {
    "sender": (30.0, 10),
    "ip": (120.0, 40),
    "session": (20.0, 10),
}
ENV_NAMES = {
    "sender": ("MESOGUIDE_RATE_PER_SENDER", "MESOGUIDE_BURST_PER_SENDER"),
    "ip": ("MESOGUIDE_RATE_PER_IP", "MESOGUIDE_BURST_PER_IP"),
    "session": ("MESOGUIDE_RATE_SESSIONS_PER_IP", "MESOGUIDE_BURST_SESSIONS_PER_IP"),
}
MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    per_minute: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0 and self.burst > 0


def limit_from_env(kind: str, env: Optional[Mapping[str, str]] = None) -> Limit:
    env = os.environ if env is None else env
    rate_name, burst_name = ENV_NAMES[kind]
    rate, burst = DEFAULTS[kind]
    raw_rate, raw_burst = (env.get(rate_name) or "").strip(), (env.get(burst_name) or "").strip()
    try:
        rate = float(raw_rate) if raw_rate else rate
        burst = int(raw_burst) if raw_burst else burst
    except ValueError:
        raise ValueError(f"{rate_name} and {burst_name} must be numbers") from None
    if rate < 0 or burst < 0 or not math.isfinite(rate):
        raise ValueError(f"{rate_name} and {burst_name} must not be negative")
    return Limit(rate, burst)


class RateLimiter:
    """Token buckets for one kind of key (thread-safe; O(1) per call)."""

    def __init__(self, limit: Limit, max_keys: int = MAX_KEYS, clock=time.monotonic) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead, else the seconds until it may (> 0)."""
        if not self.limit.enabled:
            return 0.0
        now = self.clock()
        rate = self.limit.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - at) * rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = max((1.0 - tokens) / rate, 0.001)
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait
