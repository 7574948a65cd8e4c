"""The seeding script writes rows shaped like Rasa 3.6's tracker store and the clinic records."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from console import db, seeding, summary

REPO = Path(__file__).resolve().parents[2]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def test_seed_writes_consistent_events_and_records(console_url):
    counts = seeding.seed(console_url, 60, seed_value=7)
    t = db.tables()
    with db.session(console_url) as s:
        rows = s.execute(sa.select(t.events)).all()
        requests = s.execute(sa.select(t.consultation_request)).all()
        senders = set(s.scalars(sa.select(t.events.c.sender_id).distinct()))
    assert counts["events"] == len(rows) and len(senders) == 60
    assert counts.get("consultation_request", 0) == len(requests) > 0
    for row in rows:
        data = json.loads(row.data)
        assert data["event"] == row.type_name and data["timestamp"] == row.timestamp
        if row.type_name == "user":
            assert row.intent_name == data["parse_data"]["intent"]["name"]
            assert data["input_channel"] == "rest"  # the assistant's only channel (channels/rest.py)
            assert not EMAIL.search(data["text"]), "contact details must be redacted in events"
        if row.type_name in ("action", "slot", "active_loop"):
            assert row.action_name == data.get("name")
    for request in requests:
        assert request.sender_id in senders and (request.email or request.phone)
        assert request.email is None or request.email.endswith("@example.com")
    assert summary.refresh(console_url) == 60


def test_seed_is_deterministic(console_url):
    first = seeding.make_conversation(random.Random(3), 1_700_000_000.0)
    second = seeding.make_conversation(random.Random(3), 1_700_000_000.0)
    assert first.rows == second.rows and first.records == second.records


def test_script_seeds_and_summarises(tmp_path):
    url = f"sqlite:///{tmp_path}/seed.db"
    env = {"PATH": "/usr/bin:/bin", "MESOGUIDE_DATA_DIR": str(tmp_path), "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seed_conversations.py"), "--count", "5", "--db-url", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Seeded 5 conversations" in done.stdout and "Summarised 5 conversations" in done.stdout
    s = db.tables().conversation_summary
    with db.session(url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(s)) == 5


def test_seeded_wording_comes_from_the_content_files():
    """Questions, buttons and answers are the assistant's own (not invented text)."""
    import contentfiles

    messages = contentfiles.load("messages")["messages"]
    rng = random.Random(11)
    bots, users = set(), []
    for _ in range(200):
        for row in seeding.make_conversation(rng, 1_700_000_000.0).rows:
            data = json.loads(row.get("data"))
            if row["type_name"] == "bot":
                bots.add(data["text"])
            elif row["type_name"] == "user":
                users.append(data["text"])
    for slot in ("sc_pregnancy", "tr_family", "cs_kind"):
        assert " ".join(messages[f"ask_{slot}"]["text"].split()) in bots, slot
    # button clicks are stored as Rasa stores them: the payload
    assert "/deny" in users and "/affirm" in users
