"""endpoints.yml switches tracker and lock store by environment variables, no edits."""
import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import read_endpoints_from_path

from records.lock_store import (
    AtomicRedisLockStore,
    create_lock_store,
    lock_store_kind,
    redis_settings,
)
from tests.fixtures.services import need_port

ROOT = Path(__file__).resolve().parent.parent


def _endpoints(monkeypatch):
    monkeypatch.setenv("ACTION_PORT", "18055")
    monkeypatch.setenv("MESOGUIDE_ACTION_SECRET", "")
    return read_endpoints_from_path(ROOT / "endpoints.yml")


def test_lock_store_defaults_to_memory_without_any_variable(monkeypatch):
    monkeypatch.delenv("MESOGUIDE_LOCK_STORE", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    store = LockStore.create(_endpoints(monkeypatch).lock_store)
    assert type(store) is InMemoryLockStore


def test_lock_store_redis_from_environment(monkeypatch):
    need_port(6379, "Redis")
    monkeypatch.setenv("MESOGUIDE_LOCK_STORE", "redis")
    monkeypatch.setenv("MESOGUIDE_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("MESOGUIDE_REDIS_PORT", "6379")
    monkeypatch.setenv("MESOGUIDE_REDIS_DB", "3")
    store = LockStore.create(_endpoints(monkeypatch).lock_store)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["db"] == 3
    conversation = "endpoints-env-" + uuid.uuid4().hex

    async def hold():
        async with store.lock(conversation):
            return store.get_lock(conversation)

    lock = asyncio.run(hold())
    assert lock is not None and lock.conversation_id == conversation
    assert store.get_lock(conversation) is None


def test_unknown_lock_store_kind_stops_the_start(monkeypatch):
    monkeypatch.setenv("MESOGUIDE_LOCK_STORE", "memcached")
    with pytest.raises(ValueError, match="MESOGUIDE_LOCK_STORE"):
        LockStore.create(_endpoints(monkeypatch).lock_store)


def test_memory_lock_store_refuses_several_workers():
    with pytest.raises(ValueError, match="SANIC_WORKERS"):
        create_lock_store({"MESOGUIDE_LOCK_STORE": "in_memory", "SANIC_WORKERS": "2"})
    assert type(create_lock_store({"SANIC_WORKERS": "1"})) is InMemoryLockStore


def test_kind_and_redis_settings_parsing():
    assert lock_store_kind({}) == "in_memory"
    assert lock_store_kind({"MESOGUIDE_LOCK_STORE": " Redis "}) == "redis"
    assert lock_store_kind({"MESOGUIDE_LOCK_STORE": "in-memory"}) == "in_memory"
    settings = redis_settings({"MESOGUIDE_REDIS_HOST": "redis", "MESOGUIDE_REDIS_PASSWORD": "pw"})
    assert settings == {"host": "redis", "port": 6379, "db": 1, "use_ssl": False,
                        "key_prefix": "mesoguide", "password": "pw"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tracker_store_database_follows_the_environment(monkeypatch, request, backend):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    store = TrackerStore.create(_endpoints(monkeypatch).tracker_store)
    try:
        assert store.engine.url.get_backend_name() == backend
        assert str(store.engine.url.database) in url
    finally:
        store.stop_retrying()
