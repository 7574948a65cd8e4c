"""Two Rasa replicas behind nginx share PostgreSQL (tracker store) and Redis (lock store).

The real thing, on 127.0.0.1: a throwaway PostgreSQL database, Redis, nginx from
Debian's packages (installed once if missing and we are root), one action server and
two Rasa processes of the same model (scripts/replicas.py). 50 conversations run at
the same time through nginx's round robin; in each, two messages are sent at once,
so they reach different replicas and only the Redis lock keeps them apart. Then the
events table must hold every event of every conversation exactly once and in order:
one session start, each user message once, each followed by the replies the client
received and by ``action_listen`` before the next message.

Needs: PostgreSQL (``MESOGUIDE_TEST_PG_URL``), Redis on 6379, nginx and the trained
model (``MESOGUIDE_MODEL``, default models/mesoguide.tar.gz). Missing ones skip with
the reason, or fail when ``CI`` is set. About 2-3 minutes on 2 cores (two Rasa
start-ups dominate).
"""
import json
import os
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from channels.client import new_sender, send
from scripts.replicas import Replicas, find_nginx
from scripts.stack import ROOT
from tests.fixtures.services import redis_client, unavailable

CONVERSATIONS = 50
FIRST = "hello"
TOGETHER = ("what is mesotherapy?", "how many sessions are needed?")
"""Sent at the same moment in every conversation (different replicas, one lock)."""
LAST = "thanks"
REDIS_DB = 7


def _texts(messages):
    return [m.get("text") for m in messages if m.get("text")]


class LockWatcher(threading.Thread):
    """Samples Redis for the replicas' lock keys (proof the shared lock store is used)."""

    def __init__(self, client, prefix: str) -> None:
        super().__init__(daemon=True)
        self.client, self.pattern = client, f"{prefix}:lock:*"
        self.seen = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for key in self.client.scan_iter(match=self.pattern, count=1000):
                self.seen.add(key.decode())
            self.stop.wait(0.05)


@pytest.fixture
def replicas(pg_url, tmp_path):
    model = Path(os.environ.get("MESOGUIDE_MODEL") or ROOT / "models" / "mesoguide.tar.gz")
    if not model.exists():
        pytest.fail(f"No trained model at {model}: run `make train` first", pytrace=False)
    client = redis_client(REDIS_DB)
    nginx = find_nginx()
    if not nginx:
        unavailable("nginx is not installed and could not be installed (apt-get install nginx-light)")
    prefix = "scaleout" + uuid.uuid4().hex[:10]
    env = dict(os.environ)
    env.update(
        MESOGUIDE_DB_URL=pg_url,
        MESOGUIDE_MODEL=str(model),
        MESOGUIDE_LOCK_STORE="redis",
        MESOGUIDE_REDIS_HOST="127.0.0.1",
        MESOGUIDE_REDIS_PORT="6379",
        MESOGUIDE_REDIS_DB=str(REDIS_DB),
        MESOGUIDE_REDIS_KEY_PREFIX=prefix,
        # every client is 127.0.0.1 behind nginx: the channel's rate limits are off here
        MESOGUIDE_RATE_PER_IP="0",
        MESOGUIDE_RATE_SESSIONS_PER_IP="0",
        MESOGUIDE_RATE_PER_SENDER="0",
        RASA_LOG_LEVEL="WARNING",
    )
    group = Replicas(env, n=2, work_dir=tmp_path / "replicas", nginx=nginx)
    try:
        group.start()
    except Exception:
        print(group.log_tails())
        group.stop()
        raise
    group.redis = client
    group.lock_prefix = prefix
    yield group
    group.stop()
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _conversation(url: str, pool: ThreadPoolExecutor):
    sender = new_sender(url)
    turns = [(FIRST, send(url, sender, FIRST, timeout=180, retries=0))]
    together = [pool.submit(send, url, sender, text, 180, 0) for text in TOGETHER]
    turns += [(text, future.result()) for text, future in zip(TOGETHER, together)]
    turns.append((LAST, send(url, sender, LAST, timeout=180, retries=0)))
    return sender, turns


def _stored(pg_url):
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, sender_id, type_name, timestamp, data FROM events ORDER BY id")).fetchall()
    finally:
        engine.dispose()
    events = defaultdict(list)
    for row in rows:
        events[row.sender_id].append((row.id, row.type_name, row.timestamp, json.loads(row.data)))
    return events


def _check_conversation(sender, turns, events):
    """The stored events of one conversation: each once, in order, each turn complete."""
    keys = [(t, ts, json.dumps(d, sort_keys=True)) for _id, t, ts, d in events]
    duplicates = [k for k, n in Counter(keys).items() if n > 1]
    assert not duplicates, f"{sender}: events stored twice: {duplicates[:3]}"
    stamps = [ts for _id, _t, ts, _d in events]
    assert stamps == sorted(stamps), f"{sender}: events out of order"
    types = [t for _id, t, _ts, _d in events]
    assert types.count("session_started") == 1, f"{sender}: {types.count('session_started')} session starts"
    users = [d.get("text") for _id, t, _ts, d in events if t == "user"]
    assert sorted(users) == sorted(text for text, _ in turns), f"{sender}: user messages stored {users}"
    assert users[0] == FIRST and users[-1] == LAST
    # split the stream at each user message: the turn's bot messages, then action_listen
    # (the session start's messages, e.g. the disclosure, come before the first
    # user event and are part of the first answer)
    opening = [d.get("text") for _id, t, _ts, d in events[:types.index("user")] if t == "bot"]
    segments = []
    for _id, type_name, _ts, data in events:
        if type_name == "user":
            segments.append({"text": data.get("text"), "bot": [], "listen": 0, "after_listen": []})
        elif segments:
            segment = segments[-1]
            if segment["listen"]:
                segment["after_listen"].append(type_name)
            if type_name == "bot":
                segment["bot"].append(data.get("text"))
            elif type_name == "action" and data.get("name") == "action_listen":
                segment["listen"] += 1
    replies = {text: _texts(messages) for text, messages in turns}
    segments[0]["bot"] = opening + segments[0]["bot"]
    for segment in segments:
        assert segment["listen"] == 1, f"{sender}: turn {segment['text']!r} ends with {segment['listen']} action_listen"
        assert not segment["after_listen"], f"{sender}: events after action_listen in {segment['text']!r}"
        assert segment["bot"] == replies[segment["text"]], (
            f"{sender}: stored replies of {segment['text']!r} differ from those answered")


def test_two_replicas_behind_nginx_share_conversations(replicas, pg_url):
    url = replicas.balancer_url
    watcher = LockWatcher(replicas.redis, replicas.lock_prefix)
    watcher.start()
    started = time.monotonic()
    with ThreadPoolExecutor(CONVERSATIONS * 2) as inner, ThreadPoolExecutor(CONVERSATIONS) as outer:
        results = list(outer.map(lambda _: _conversation(url, inner), range(CONVERSATIONS)))
    elapsed = time.monotonic() - started
    watcher.stop.set()
    watcher.join(5)
    turns_sent = sum(len(turns) for _, turns in results)
    print(f"\n{turns_sent} turns of {CONVERSATIONS} conversations through nginx in {elapsed:.1f} s")

    # every turn answered, none with the apology of a failed turn
    from channels import content

    apology = content.message("assistant_unavailable")
    for sender, turns in results:
        for text, messages in turns:
            assert _texts(messages), f"{sender}: no answer to {text!r}"
            assert apology not in _texts(messages), f"{sender}: {text!r} answered with the apology"

    # both replicas served turns, and most conversations were served by both
    counts = replicas.nginx.upstream_counts("/webhooks/rest/webhook")
    assert set(counts) == {f"127.0.0.1:{port}" for port in replicas.rasa_ports}, counts
    assert sum(counts.values()) == turns_sent
    assert min(counts.values()) >= turns_sent // 4, counts
    # the shared Redis lock store was used by the replicas
    assert watcher.seen, "no lock key of the replicas ever appeared in Redis"

    stored = _stored(pg_url)
    assert set(stored) == {sender for sender, _ in results}
    for sender, turns in results:
        _check_conversation(sender, turns, stored[sender])
