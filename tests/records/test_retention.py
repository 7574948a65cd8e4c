"""Retention (issue 13): `python -m records purge --older-than DAYS`, on SQLite and
PostgreSQL, and its schedule in deploy/ matching the privacy page's promise."""
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
import yaml

from records import copies, db, retention, spool, store
from tests.fixtures.rasa_events import rasa_events_table
from records.models import (
    AuditLog,
    ConsultationRequest,
    ConversationSummary,
    DeletionLog,
    Note,
    ScreeningResult,
    SafetyEvent,
)

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW, MIXED = "old-4b1c-conversation-0001", "new-4b1c-conversation-0002", "mixed-4b1c-conversation-3"
NOW = datetime.now(timezone.utc)
LONG_AGO = NOW - timedelta(days=400)
RECENTLY = NOW - timedelta(days=3)
OLD_TEXT = "my hair falls out in clumps since january"
NEW_TEXT = "how many sessions would i need for thinning"


def _events_table(metadata):
    return rasa_events_table(metadata)


def _fill():
    metadata = sa.MetaData()
    events = _events_table(metadata)
    metadata.create_all(db.get_engine())
    with db.get_engine().begin() as connection:
        for sender, moment, text in ((OLD, LONG_AGO, OLD_TEXT), (NEW, RECENTLY, NEW_TEXT), (MIXED, LONG_AGO, "hi there")):
            connection.execute(events.insert(), [
                {"sender_id": sender, "type_name": "user", "timestamp": moment.timestamp() + n,
                 "intent_name": "inform", "data": json.dumps({"event": "user", "text": text})}
                for n in range(2)
            ])
    with db.session_scope() as session:
        session.add_all([
            ScreeningResult(sender_id=OLD, answers={"pregnancy": "no"}, outcome="none_reported",
                            flagged_items=[], completed=True, created_at=LONG_AGO),
            ConsultationRequest(sender_id=OLD, kind="general", name="Old Visitor", email="old@example.org",
                                time_window="am", consent_at=LONG_AGO, created_at=LONG_AGO, updated_at=LONG_AGO),
            SafetyEvent(sender_id=NEW, kind="human_handoff", detail="", created_at=RECENTLY),
            # old messages, but a consultation request renewed lately: the conversation stays
            ConsultationRequest(sender_id=MIXED, kind="general", name="Mixed", phone="+44 7700 900555",
                                time_window="pm", consent_at=RECENTLY, created_at=LONG_AGO, updated_at=RECENTLY),
            # staff activity does not extend retention
            Note(sender_id=OLD, author="staff", text="called back", created_at=RECENTLY),
            ConversationSummary(sender_id=OLD, started_at=LONG_AGO.timestamp(), last_at=LONG_AGO.timestamp(),
                                last_event_id=2, search_text=OLD_TEXT),
            AuditLog(username="staff", action="transcript.view", target=store.conversation_target(OLD)),
            AuditLog(username="staff", action="transcript.view", target=store.conversation_target(NEW)),
        ])
    # copies outside the database
    inbox = copies.nlu_inbox_dir()
    inbox.mkdir(parents=True)
    (inbox / "ask_sessions.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: ask_sessions\n  examples: |\n    - {OLD_TEXT}\n    - {NEW_TEXT}\n',
        encoding="utf-8")
    stale = inbox / "greet.yml"
    stale.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello you\n', encoding="utf-8")
    os.utime(stale, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))
    spool.append("screening", {"sender_id": "someone-else-0001", "at": LONG_AGO.isoformat()})
    spool.append("screening", {"sender_id": "someone-else-0002", "at": RECENTLY.isoformat()})
    logs = copies.logs_dir()
    logs.mkdir(parents=True)
    stamp = lambda moment: moment.astimezone().strftime("%Y-%m-%d %H:%M:%S").encode()  # noqa: E731
    (logs / "rasa.log").write_bytes(
        stamp(LONG_AGO) + b" ERROR old line one\n  continued old traceback\n"
        + stamp(LONG_AGO) + b" INFO old line two\n"
        + stamp(RECENTLY) + b" INFO recent line\nrecent continuation\n")
    old_log = logs / "console.log.1"
    old_log.write_bytes(b"INFO: GET /conversations/something\n")
    os.utime(old_log, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))


def _senders(model):
    with db.session_scope() as session:
        return sorted(set(session.execute(sa.select(model.sender_id)).scalars()))


def _event_senders():
    with db.get_engine().connect() as connection:
        return sorted(set(connection.execute(sa.text("select sender_id from events")).scalars()))


def test_dry_run_counts_and_changes_nothing(db_url):
    _fill()
    logs_before = (copies.logs_dir() / "rasa.log").read_bytes()

    counts = retention.purge(365, dry_run=True)

    assert counts["conversations"] == 1
    assert counts["events"] == 2 and counts["screening_result"] == 1 and counts["note"] == 1
    assert counts["spool_lines"] == 1 and counts["nlu_inbox_examples"] == 1
    assert counts["nlu_inbox_files"] == 1 and counts["log_files"] == 2
    assert _event_senders() == sorted([OLD, NEW, MIXED])
    assert _senders(ScreeningResult) == [OLD]
    with db.session_scope() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(DeletionLog)).scalar() == 0
    assert (copies.logs_dir() / "rasa.log").read_bytes() == logs_before
    assert (copies.logs_dir() / "console.log.1").exists()
    assert OLD_TEXT in (copies.nlu_inbox_dir() / "ask_sessions.yml").read_text()
    assert len(spool.entries(spool.SPOOL_FILE)) == 2


def test_purge_deletes_old_conversations_everywhere_and_keeps_the_rest(db_url):
    _fill()

    counts = retention.purge(365)

    assert counts["conversations"] == 1
    assert _event_senders() == sorted([NEW, MIXED])
    for model in (ScreeningResult, Note, ConversationSummary):
        assert OLD not in _senders(model)
    assert _senders(ConsultationRequest) == [MIXED]
    assert _senders(SafetyEvent) == [NEW]
    with db.session_scope() as session:
        targets = set(session.execute(sa.select(AuditLog.target)).scalars())
        (log,) = session.execute(sa.select(DeletionLog)).scalars().all()
    assert store.conversation_target(OLD) not in targets
    assert store.conversation_target("sha256:" + store.sender_hash(OLD)) in targets
    assert store.conversation_target(NEW) in targets
    assert log.sender_hash == store.sender_hash(OLD) and log.deleted_counts["retention_days"] == 365
    inbox = (copies.nlu_inbox_dir() / "ask_sessions.yml").read_text()
    assert OLD_TEXT not in inbox and NEW_TEXT in inbox
    assert not (copies.nlu_inbox_dir() / "greet.yml").exists()
    assert [e["record"]["sender_id"] for e in spool.entries(spool.SPOOL_FILE)] == ["someone-else-0002"]
    assert (copies.logs_dir() / "rasa.log").read_bytes().endswith(b" INFO recent line\nrecent continuation\n")
    assert b"old" not in (copies.logs_dir() / "rasa.log").read_bytes()
    assert not (copies.logs_dir() / "console.log.1").exists()

    again = retention.purge(365)
    assert again["conversations"] == 0 and again.get("events", 0) == 0


def test_expired_sign_outs_are_forgotten(sqlite_url):
    from records.models import ConsoleSessionRevocation

    with db.session_scope() as session:
        session.add_all([
            ConsoleSessionRevocation(session_digest="a" * 32, expires_at=NOW - timedelta(hours=1)),
            ConsoleSessionRevocation(session_digest="b" * 32, expires_at=NOW + timedelta(hours=1)),
        ])
    assert retention.purge(365)["console_session_revocation"] == 1
    with db.session_scope() as session:
        assert session.execute(sa.select(ConsoleSessionRevocation.session_digest)).scalars().all() == ["b" * 32]


def test_command_line(sqlite_url):
    _fill()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dry = subprocess.run([sys.executable, "-m", "records", "purge", "--older-than", "365", "--dry-run"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "would delete what is older than 365 days" in dry.stdout and "conversations: 1" in dry.stdout
    assert OLD not in dry.stdout and OLD_TEXT not in dry.stdout
    assert OLD in _event_senders()
    real = subprocess.run([sys.executable, "-m", "records", "purge", "--older-than", "365"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert real.returncode == 0 and "deleted what is older" in real.stdout
    assert OLD not in _event_senders()
    bad = subprocess.run([sys.executable, "-m", "records", "purge", "--older-than", "0"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert bad.returncode == 2


def _months(text: str) -> int:
    number, unit = re.fullmatch(r"\s*(\d+)\s*(months?|years?)\s*", text).groups()
    return int(number) * (12 if unit.startswith("year") else 1)


def test_the_schedule_in_deploy_matches_the_privacy_promise():
    clinic = yaml.safe_load((ROOT / "data" / "content" / "clinic.yml").read_text(encoding="utf-8"))
    months = _months(clinic["retention"])
    service = (ROOT / "deploy" / "systemd" / "mesoguide-purge.service").read_text()
    days = int(re.search(r"RETENTION_DAYS=(\d+)", service).group(1))
    assert "purge --older-than ${RETENTION_DAYS}" in service
    assert round(days / 30.4375) == months and days >= months * 30
    timer = (ROOT / "deploy" / "systemd" / "mesoguide-purge.timer").read_text()
    assert "OnCalendar=*-*-* " in timer and "Persistent=true" in timer  # daily, catches up
    cron = (ROOT / "deploy" / "crontab.example").read_text()
    assert f"purge --older-than {days}" in cron
    privacy = (ROOT / "web" / "templates" / "privacy.html").read_text(encoding="utf-8")
    assert "Conversation logs are kept for {{ clinic.retention }} after your last message, then deleted" in privacy


def test_log_lines_are_dropped_by_time_stamp_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path))
    logs = copies.logs_dir()
    logs.mkdir()
    cutoff = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    local = lambda d: d.astimezone().strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    unstamped = logs / "web.log"
    unstamped.write_text("GET / 200\nGET /widget 200\n")
    all_new = logs / "actions.log"
    all_new.write_text(f"[{local(cutoff + timedelta(days=1))}] started\nmore\n")
    all_old = logs / "stack.log"
    all_old.write_text(f"{local(cutoff - timedelta(days=2))} a\ncontinued\n{local(cutoff - timedelta(days=1))} b\n")
    assert copies.purge_logs_before(cutoff) == 1
    assert unstamped.read_text() == "GET / 200\nGET /widget 200\n"
    assert all_new.read_text().endswith("started\nmore\n")
    assert all_old.read_text() == ""
