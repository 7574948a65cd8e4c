"""The production configuration works against the real PostgreSQL and Redis."""
import asyncio
from pathlib import Path

from rasa.core.lock_store import LockStore
from rasa.core.utils import read_endpoints_from_path

from records.lock_store import AtomicRedisLockStore
from tests.fixtures.services import need_port

ROOT = Path(__file__).resolve().parent.parent


def test_production_lock_store_is_redis_and_locks(monkeypatch):
    need_port(6379, "Redis")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://actions.internal:5055/webhook")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", "6379")
    monkeypatch.setenv("REDIS_DB", "0")
    monkeypatch.setenv("MESOGUIDE_ACTION_SECRET", "deploy-test-secret-" + "z" * 24)
    endpoints = read_endpoints_from_path(ROOT / "deploy" / "endpoints.production.yml")
    assert endpoints.action.url == "http://actions.internal:5055/webhook"
    assert endpoints.action.headers == {"X-MesoGuide-Action-Secret": "deploy-test-secret-" + "z" * 24}
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, AtomicRedisLockStore)

    async def hold():
        async with store.lock("deploy-test-conversation"):
            return store.get_lock("deploy-test-conversation")

    lock = asyncio.run(hold())
    assert lock is not None and lock.conversation_id == "deploy-test-conversation"
    assert store.get_lock("deploy-test-conversation") is None  # released


def test_tracker_store_on_postgresql(pg_url):
    from rasa.shared.core.events import SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from records.tracker_store import MesoTrackerStore

    store = MesoTrackerStore()
    tracker = DialogueStateTracker.from_events("pg-sender", [SessionStarted(), UserUttered("hello")])
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("pg-sender")).latest_message.text == "hello"
