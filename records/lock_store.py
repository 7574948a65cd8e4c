"""Rasa's lock store chosen from the environment: in-memory (one Rasa process) or Redis
(several Rasa processes or replicas sharing conversations).

``endpoints.yml`` names this class, and Rasa cannot branch on a variable inside that
file (an unset ``${VAR}`` there is an error), so the choice is made here::

    lock_store:
      type: records.lock_store.EnvLockStore

Variables (all optional; nothing has to be exported for one local Rasa):

``MESOGUIDE_LOCK_STORE``
    ``in_memory`` (default, also when empty) or ``redis``. Anything else stops the
    start-up with an error rather than silently using memory.
``MESOGUIDE_REDIS_HOST`` [``localhost``], ``MESOGUIDE_REDIS_PORT`` [6379],
``MESOGUIDE_REDIS_DB`` [1], ``MESOGUIDE_REDIS_PASSWORD`` [none],
``MESOGUIDE_REDIS_USE_SSL`` [false], ``MESOGUIDE_REDIS_KEY_PREFIX`` [``mesoguide``]
    the Redis server, used only when the lock store is ``redis``.

Rasa calls ``EnvLockStore(endpoint_config=...)``; the call returns Rasa's own
``InMemoryLockStore`` or ``RedisLockStore``, so Rasa's checks that look at the lock
store's class (e.g. whether several Sanic workers are allowed) see the real one.
With the in-memory store and ``SANIC_WORKERS`` above 1 the start-up stops: two
workers with separate memories would handle one conversation at the same time.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping, Optional

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

logger = logging.getLogger(__name__)

KIND_ENV = "MESOGUIDE_LOCK_STORE"
KINDS = ("in_memory", "redis")
DEFAULT_KEY_PREFIX = "mesoguide"


def lock_store_kind(env: Optional[Mapping[str, str]] = None) -> str:
    """``in_memory`` or ``redis`` from ``MESOGUIDE_LOCK_STORE`` (empty: ``in_memory``)."""
    env = os.environ if env is None else env
    kind = (env.get(KIND_ENV) or "").strip().lower().replace("-", "_") or "in_memory"
    if kind == "memory":
        kind = "in_memory"
    if kind not in KINDS:
        raise ValueError(f"{KIND_ENV} must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def _flag(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def redis_settings(env: Optional[Mapping[str, str]] = None) -> dict:
    """Keyword arguments for Rasa's ``RedisLockStore`` from the environment."""
    env = os.environ if env is None else env
    settings: dict = {
        "host": (env.get("MESOGUIDE_REDIS_HOST") or "").strip() or "localhost",
        "port": int((env.get("MESOGUIDE_REDIS_PORT") or "").strip() or 6379),
        "db": int((env.get("MESOGUIDE_REDIS_DB") or "").strip() or 1),
        "use_ssl": _flag(env.get("MESOGUIDE_REDIS_USE_SSL")),
        "key_prefix": (env.get("MESOGUIDE_REDIS_KEY_PREFIX") or "").strip() or DEFAULT_KEY_PREFIX,
    }
    password = env.get("MESOGUIDE_REDIS_PASSWORD")
    if password:
        settings["password"] = password
    return settings


def create_lock_store(env: Optional[Mapping[str, str]] = None) -> LockStore:
    """The lock store the environment asks for."""
    env = os.environ if env is None else env
    kind = lock_store_kind(env)
    if kind == "redis":
        settings = redis_settings(env)
        logger.info(
            "lock store: Redis at %s:%s db %s", settings["host"], settings["port"], settings["db"]
        )
        return RedisLockStore(**settings)
    workers = int((env.get("SANIC_WORKERS") or "").strip() or 1)
    if workers > 1:
        raise ValueError(
            f"SANIC_WORKERS={workers} needs a shared lock store: set {KIND_ENV}=redis"
        )
    return InMemoryLockStore()


class EnvLockStore(LockStore):
    """What ``endpoints.yml`` names; constructing it returns the lock store chosen by
    :func:`create_lock_store` (Rasa's own classes, never an instance of this one)."""

    def __new__(cls, endpoint_config: Any = None, **_: Any) -> LockStore:  # type: ignore[misc]
        return create_lock_store()
