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
``InMemoryLockStore`` or :class:`AtomicRedisLockStore` (a subclass of Rasa's
``RedisLockStore``), so Rasa's checks that look at the lock store's class (e.g.
whether several Sanic workers are allowed) see the real one.

Why not Rasa's ``RedisLockStore`` as it is: every change it makes to a conversation's
ticket lock is a read, a change in Python and a write of the whole lock
(``get_lock`` ... ``save_lock``), with nothing between two processes. Two replicas
that receive a message of the same conversation at the same moment can both read "no
lock", both issue ticket 0 and both save it: both are then served at once, and the
tracker store, which saves the events past the rows it has, drops one of the two
turns without an error (seen once in four runs of ``tests/test_scale_out.py``).
Finishing a ticket can likewise write back a lock read before another replica added
its ticket (that ticket is lost, its message waits until the lock expires), and the
clean-up can delete a lock someone has just queued on (that message fails with a
``LockError``). The known Rasa issue is RasaHQ/rasa#9213. :class:`AtomicRedisLockStore`
makes each of these read-change-write steps one optimistic Redis transaction
(``WATCH`` the key, read, change, ``MULTI``/``EXEC``, again from the read when another
client changed the key meanwhile), with Rasa's own ``TicketLock`` logic unchanged.
With the in-memory store and ``SANIC_WORKERS`` above 1 the start-up stops: two
workers with separate memories would handle one conversation at the same time.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable, Mapping, Optional, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)

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
        return AtomicRedisLockStore(**settings)
    workers = int((env.get("SANIC_WORKERS") or "").strip() or 1)
    if workers > 1:
        raise ValueError(
            f"SANIC_WORKERS={workers} needs a shared lock store: set {KIND_ENV}=redis"
        )
    return InMemoryLockStore()


T = TypeVar("T")

# attempts of one transaction before giving up; a conflict needs another client to
# change the same conversation's lock between our read and our write, so even a
# burst of messages to one conversation settles in a few
MAX_ATTEMPTS = 100


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock with every read-change-write step atomic (see the
    module's docstring). Same keys and the same stored form as ``RedisLockStore``.

    Constructed with ``RedisLockStore``'s keyword arguments, or by Rasa from an
    ``endpoints.yml`` entry ``type: records.lock_store.AtomicRedisLockStore`` with
    ``url`` (the host), ``port``, ``db``, ``password``, ``key_prefix``... as for
    ``type: redis`` (``deploy/endpoints.production.yml``)."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            settings = dict(endpoint_config.kwargs or {})
            if endpoint_config.url:
                settings.setdefault("host", endpoint_config.url)
            settings.update(kwargs)
            kwargs = settings
        super().__init__(**kwargs)

    def _transaction(
        self,
        conversation_id: str,
        change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]],
    ) -> T:
        """Apply ``change`` to the stored lock atomically. ``change`` gets the lock (or
        None) and returns the lock to store (None: delete the key) and a result."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
                finally:
                    pipe.reset()
        raise LockError(
            f"Could not change the lock of conversation '{conversation_id}' "
            f"after {MAX_ATTEMPTS} conflicting attempts."
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._transaction(conversation_id, change)
        except LockError:
            raise
        except Exception as error:  # as in Rasa: a Redis failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets; a lock that is gone stays gone (Rasa's loop then
        stops waiting)."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._transaction(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._transaction(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket and, in the same transaction, the lock when nobody else
        holds a ticket (Rasa does it in two steps, between which another replica can
        queue a ticket that the deletion then throws away)."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], bool]:
            if lock is None:
                return None, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return lock, False
            return None, True

        if self._transaction(conversation_id, change):
            self._log_deletion(conversation_id, True)


class EnvLockStore(LockStore):
    """What ``endpoints.yml`` names; constructing it returns the lock store chosen by
    :func:`create_lock_store` (Rasa's own classes, never an instance of this one)."""

    def __new__(cls, endpoint_config: Any = None, **_: Any) -> LockStore:  # type: ignore[misc]
        return create_lock_store()
