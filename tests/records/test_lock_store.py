"""The Redis lock store keeps one conversation's turns apart across processes.

Each Rasa replica has its own Redis connection, so two ``AtomicRedisLockStore``
objects here stand for two replicas. The interleavings that lose a turn with Rasa's
own ``RedisLockStore`` are forced step by step (another replica's write falls between
a read and the write that follows it), first on Rasa's class, to show the failure is
real, then on ours. A stress test then races threads with their own stores and
connections through ``lock()`` and counts who is inside at once.
"""
import asyncio
import json
import threading
import time
import uuid

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore

from records.lock_store import AtomicRedisLockStore
from tests.fixtures.services import redis_client

DB = 5


@pytest.fixture
def prefix():
    client = redis_client(DB)
    prefix = "locktest" + uuid.uuid4().hex[:10]
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _stores(cls, prefix, n=2):
    return [cls(host="127.0.0.1", port=6379, db=DB, key_prefix=prefix) for _ in range(n)]


def _between(monkeypatch, target, name, other_step):
    """Run ``other_step`` once, just before the first call of ``target.name``."""
    original = getattr(target, name)
    done = []

    def hooked(*args, **kwargs):
        if not done:
            done.append(True)
            other_step()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, hooked)


def _issue_both(cls, prefix, monkeypatch):
    """Replica B issues its ticket while replica A, having read "no lock", creates one."""
    a, b = _stores(cls, prefix)
    conversation = "c-" + uuid.uuid4().hex
    tickets = {}
    _between(monkeypatch, a, "create_lock", lambda: tickets.update(b=b.issue_ticket(conversation)))
    tickets["a"] = a.issue_ticket(conversation)
    return tickets, a.get_lock(conversation)


def test_rasas_store_gives_two_replicas_the_same_ticket(prefix, monkeypatch):
    tickets, lock = _issue_both(RedisLockStore, prefix, monkeypatch)
    # both are served at once: the failure this module's store exists for
    assert tickets == {"a": 0, "b": 0}
    assert [t.number for t in lock.tickets] == [0]


def test_two_replicas_get_different_tickets_and_queue(prefix, monkeypatch):
    tickets, lock = _issue_both(AtomicRedisLockStore, prefix, monkeypatch)
    assert sorted(tickets.values()) == [0, 1]
    assert [t.number for t in lock.tickets] == [0, 1]
    # the one that came second waits for the first
    assert not lock.is_locked(tickets["b"]) and lock.is_locked(tickets["a"])


def _finish_while_other_queues(cls, prefix, monkeypatch):
    """Replica A finishes its turn; replica B queues a ticket between A's read of the
    lock and A's write (or deletion) of it."""
    a, b = _stores(cls, prefix)
    conversation = "c-" + uuid.uuid4().hex
    first = a.issue_ticket(conversation)
    queued = {}
    _between(monkeypatch, TicketLock, "remove_ticket_for",
             lambda: queued.update(b=b.issue_ticket(conversation)))
    a.cleanup(conversation, first)
    return queued["b"], b.get_lock(conversation)


def test_rasas_store_loses_a_ticket_queued_during_the_clean_up(prefix, monkeypatch):
    ticket, lock = _finish_while_other_queues(RedisLockStore, prefix, monkeypatch)
    assert ticket == 1
    assert lock is None  # B's ticket went with the lock: its message fails with LockError


def test_a_ticket_queued_during_the_clean_up_is_kept(prefix, monkeypatch):
    ticket, lock = _finish_while_other_queues(AtomicRedisLockStore, prefix, monkeypatch)
    assert ticket == 1
    assert lock is not None and [t.number for t in lock.tickets] == [1]
    assert not lock.is_locked(ticket)  # and it is B's turn now


def test_the_lock_goes_when_the_last_ticket_is_finished(prefix):
    (store,) = _stores(AtomicRedisLockStore, prefix, 1)

    async def turn():
        async with store.lock("alone", wait_time_in_seconds=0.01):
            return store.get_lock("alone")

    held = asyncio.run(turn())
    assert [t.number for t in held.tickets] == [0]
    assert store.get_lock("alone") is None
    assert not store.red.exists(store.key_prefix + "alone")


def test_expired_tickets_are_dropped_atomically(prefix):
    (store,) = _stores(AtomicRedisLockStore, prefix, 1)
    fresh = store.issue_ticket("stale", lock_lifetime=60)
    stale = store.issue_ticket("stale", lock_lifetime=-1)  # already expired
    raw = TicketLock.from_dict(json.loads(store.red.get(store.key_prefix + "stale")))
    assert [t.number for t in raw.tickets] == [fresh, stale]  # stored until dropped
    store.update_lock("stale")
    raw = TicketLock.from_dict(json.loads(store.red.get(store.key_prefix + "stale")))
    assert [t.number for t in raw.tickets] == [fresh]
    store.update_lock("gone")  # no lock: nothing is created
    assert store.get_lock("gone") is None


def test_a_redis_failure_is_a_lock_error():
    store = AtomicRedisLockStore(host="127.0.0.1", port=1, db=DB, socket_timeout=0.2)
    with pytest.raises(LockError):
        store.issue_ticket("unreachable")


def test_built_from_an_endpoints_entry(prefix):
    from rasa.utils.endpoints import EndpointConfig
    from rasa.core.lock_store import LockStore

    config = EndpointConfig(url="127.0.0.1", type="records.lock_store.AtomicRedisLockStore",
                            port="6379", db=str(DB), key_prefix=prefix)
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["db"] == DB
    assert store.key_prefix.startswith(prefix + ":")


def test_many_replicas_never_hold_one_conversation_at_once(prefix):
    """8 threads, each its own store and connection (a replica), 10 turns each on
    the same conversation, holding the lock for a few ms: one holder at a time, every
    turn served in ticket order, no LockError, no lock left behind."""
    stores = _stores(AtomicRedisLockStore, prefix, 8)
    conversation = "busy-" + uuid.uuid4().hex
    guard = threading.Lock()
    inside, most_inside, served, errors = [0], [0], [], []

    start = threading.Barrier(8)

    def replica(store, name):
        async def turns():
            start.wait(timeout=60)  # all replicas queue at once
            for turn in range(10):
                async with store.lock(conversation, wait_time_in_seconds=0.002) as lock:
                    with guard:
                        inside[0] += 1
                        most_inside[0] = max(most_inside[0], inside[0])
                        served.append((name, turn, lock.now_serving))
                    time.sleep(0.002)  # the turn's work, blocking like Rasa's Redis calls
                    with guard:
                        inside[0] -= 1

        try:
            asyncio.run(turns())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=replica, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert most_inside[0] == 1
    assert len(served) == 80
    numbers = [number for _, _, number in served]
    # first come, first served: tickets served in increasing order. When every queued
    # turn is done the lock is deleted and the next ticket is 0 again (Rasa's
    # TicketLock), which a slow machine can reach between two replicas' turns
    runs = [[]]
    for number in numbers:
        if number == 0 and runs[-1]:
            runs.append([])
        runs[-1].append(number)
    assert all(run == sorted(run) and len(set(run)) == len(run) and run[0] == 0 for run in runs), numbers
    assert stores[0].get_lock(conversation) is None
