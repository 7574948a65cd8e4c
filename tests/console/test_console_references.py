"""Sender ids are credentials: staff see a conversation's reference, never its sender id.

Every page, redirect, CSV export, audit row and log line of a walk through the console
is searched for the sender id (and for any 12 characters of it); the reference opens
the right transcript, anything else is a 404, and "delete my data" pseudonymises the
audit rows that name the reference.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from console import db, references
from console.app import create_app
from records import retention, store as records
from tests.console.console_helpers import SQLITE_ONLY, Convo, conversation_path, ref_of, signed_in, store

AT = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=2)  # recent: on /improve too


def signed_sender() -> str:
    """A sender id shaped like the REST channel's (channels/senders.py)."""
    return f"mg1.{secrets.token_urlsafe(16)[:22]}.{secrets.token_urlsafe(32)[:43]}"


def visitor(text: str = "is mesotherapy safe when pregnant?") -> Convo:
    c = Convo(AT.timestamp(), sender_id=signed_sender())
    c.turn(text, "ask_side_effects").turn("sorry what", "nlu_fallback", confidence=0.3)
    c.record("screening_result", answers={"sc_pregnant": "yes"}, outcome="contraindication_reported",
             flagged_items=["sc_pregnant"], completed=True)
    c.record("consultation_request", updated_at=AT, kind="mesotherapy", name="Vera Visitor",
             email="vera@example.org", phone=None, time_window="mornings", consent_at=AT,
             status="new", reason="likely_aga")
    c.record("safety_event", kind="red_flag", detail="pregnant")
    return c


def audit_rows(url):
    log = db.tables().audit_log
    with db.session(url) as s:
        return s.execute(sa.select(log.c.action, log.c.target, log.c.detail).order_by(log.c.id)).all()


def request_id(url, sender_id) -> int:
    cr = db.tables().consultation_request
    with db.session(url) as s:
        return s.scalar(sa.select(cr.c.id).where(cr.c.sender_id == sender_id))


def leaks(sender_id: str, text: str) -> list:
    """Every 12-character piece of the sender id found in `text` (none may be)."""
    return sorted({sender_id[i : i + 12] for i in range(len(sender_id) - 11) if sender_id[i : i + 12] in text})


@pytest.fixture
def seeded(console_url):
    c = visitor()
    store(console_url, c, Convo(AT.timestamp() + 60).turn("hello", "greet"))
    return c


def test_the_sender_id_is_nowhere_staff_can_see(admin_client, seeded, console_url, caplog):
    caplog.set_level(logging.DEBUG)
    sender = seeded.sender_id
    seen = []

    def get(path):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        seen.append(path + "\n" + response.text)
        return response

    def post(path, **data):
        response = admin_client.post(path, data={"csrf_token": admin_client.csrf, **data})
        assert response.status_code == 303, path
        seen.append(path + "\n" + response.headers["location"] + "\n" + response.text)
        return response

    inbox = get("/inbox").text
    (ref,) = {r for r in re.findall(r'href="/conversations/([0-9a-f]{16})"', inbox) if r == ref_of(admin_client, sender)}
    path = f"/conversations/{ref}"
    for page in ("/", "/inbox?outcome=consultation&reviewed=no", f"/inbox?q={ref[:8]}", path, path + "?details=1",
                 "/followups", "/followups?status=new", "/improve", "/improve?view=sample", "/overview"):
        assert ref in get(page).text or page.startswith(("/overview", "/improve?view")), page
    bot = re.search(r'name="event_id" value="(\d+)"', get(path + "?details=1").text).group(1)
    post(f"{path}/tags", name="callback")
    post(f"{path}/notes", text="called back")
    post(f"{path}/flags", event_id=bot, reason="wrong answer")
    post(f"{path}/review", reviewed="1")
    post(f"/followups/{request_id(console_url, sender)}/status", status="contacted")
    exports = get("/followups/export.csv").text + get(f"{path}/export.csv").text
    assert ref in exports
    seen.append(exports)
    seen.append(get("/admin/audit").text)

    everything = "\n".join(seen)
    assert "Vera Visitor" in everything and "is mesotherapy safe" in everything  # the walk saw the conversation
    assert leaks(sender, everything) == []
    rows = audit_rows(console_url)
    assert {"transcript.view", "conversation.tag", "conversation.note", "message.flag", "conversation.review",
            "followup.status", "transcript.export"} <= {r.action for r in rows}
    assert leaks(sender, repr(rows)) == []
    assert all(r.target == f"conversation:ref:{ref}" for r in rows if (r.target or "").startswith("conversation:"))
    assert leaks(sender, caplog.text) == []
    # the follow-up list shows the status history from those audit rows
    assert "Contacted · alice" in get("/followups").text


def test_the_reference_opens_its_own_transcript_and_anything_else_is_a_404(admin_client, console_url):
    one, two = visitor("first visitor asks about pain"), visitor("second visitor asks about price")
    store(console_url, one, two)
    for mine, other, words, not_mine in ((one, two, "about pain", "about price"), (two, one, "about price", "about pain")):
        page = admin_client.get(conversation_path(admin_client, mine.sender_id)).text
        assert words in page and not_mine not in page
    ref = ref_of(admin_client, one.sender_id)
    assert re.fullmatch(r"[0-9a-f]{16}", ref) and ref != ref_of(admin_client, two.sender_id)
    garbled = [
        "0" * 16, ref[:-1] + ("0" if ref[-1] != "0" else "1"), ref.upper(), ref[:8], ref + "0", "x" * 16,
        one.sender_id,  # the sender id itself opens nothing
        "%2e%2e", "",
    ]
    for bad in garbled:
        assert admin_client.get(f"/conversations/{bad}").status_code == 404, bad
        response = admin_client.post(f"/conversations/{bad}/notes", data={"csrf_token": admin_client.csrf, "text": "x"})
        assert response.status_code in (404, 405), bad
    assert admin_client.get(f"/conversations/{ref}").status_code == 200


def test_visitors_deletion_pseudonymises_the_audit_rows_naming_the_reference(admin_client, seeded, console_url):
    sender = seeded.sender_id
    path = conversation_path(admin_client, sender)
    ref = path.rsplit("/", 1)[1]
    admin_client.get(path)
    admin_client.post(f"{path}/tags", data={"csrf_token": admin_client.csrf, "name": "callback"})
    admin_client.post(f"/followups/{request_id(console_url, sender)}/status",
                      data={"csrf_token": admin_client.csrf, "status": "contacted"})
    admin_client.get("/inbox")  # the other conversation gets its reference too
    named = [r for r in audit_rows(console_url) if r.target == f"conversation:ref:{ref}"]
    assert len(named) == 3

    counts = records.forget_sender(sender, url=console_url)  # what the assistant does on "delete my data"

    assert counts["audit_log_pseudonymised"] == 3
    targets = [r.target for r in audit_rows(console_url)]
    assert not [t for t in targets if t and ref in t]
    assert targets.count(f"conversation:sha256:{records.sender_hash(sender)}") == 3
    assert admin_client.get(path).status_code == 404
    t = db.tables().conversation_reference
    with db.session(console_url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.sender_id == sender)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(t)) == 1  # the other conversation keeps its own


@SQLITE_ONLY
def test_retention_pseudonymises_them_too(admin_client, seeded, console_url):
    path = conversation_path(admin_client, seeded.sender_id)
    admin_client.get(path)
    retention.purge(30, url=console_url, now=AT + dt.timedelta(days=365))
    targets = [r.target for r in audit_rows(console_url)]
    assert f"conversation:ref:{path[-16:]}" not in targets
    assert f"conversation:sha256:{records.sender_hash(seeded.sender_id)}" in targets


@SQLITE_ONLY
def test_references_are_keyed_stored_and_survive_a_new_secret(settings, seeded, console_url):
    first = references.References(console_url, "k" * 40)
    ref = first.one(seeded.sender_id)
    assert ref == first.compute(seeded.sender_id) != references.References(console_url, "z" * 40).compute(seeded.sender_id)
    assert ref not in seeded.sender_id and seeded.sender_id[:8] != ref[:8]
    assert references.References(console_url, "z" * 40).one(seeded.sender_id) == ref  # stored: links keep working
    assert references.References(console_url, "z" * 40).resolve(ref) == seeded.sender_id


def test_audit_rows_written_before_references_are_renamed_at_start(settings, seeded, console_url, admin):
    log = db.tables().audit_log
    with db.session(console_url) as s:
        for action, detail in (("transcript.view", ""), ("followup.status", "booked")):
            s.execute(sa.insert(log).values(at=AT, created_at=AT, username="olga", action=action,
                                            target=f"conversation:{seeded.sender_id}", detail=detail))
        for odd in ("conversation:", "conversation:" + "x" * 300):  # nothing a sender id could be: left alone
            s.execute(sa.insert(log).values(at=AT, created_at=AT, username="olga", action="probe", target=odd, detail=""))
    with TestClient(create_app(settings=settings), follow_redirects=False) as client:
        signed_in(client, admin.username)
        ref = ref_of(client, seeded.sender_id)
        assert "Booked · olga" in client.get("/followups").text  # the history still finds them
        assert ">Opened<" in client.get(f"/inbox?q={ref}").text
    rows = audit_rows(console_url)
    assert leaks(seeded.sender_id, repr(rows)) == []
    assert [r.target for r in rows if r.action in ("transcript.view", "followup.status")] == [f"conversation:ref:{ref}"] * 2
    assert [r.target for r in rows if r.action == "probe"] == ["conversation:", "conversation:" + "x" * 300]
    # idempotent: a second start finds nothing to rename
    assert references.References(console_url, settings.secret_key).upgrade_audit_targets() == 0
