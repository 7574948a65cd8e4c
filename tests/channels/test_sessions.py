"""Issue 13: sender ids issued and signed by the server, per-client rate limits, CORS on
the new route, and no visitor text in the log when handling fails (channels/rest.py,
channels/senders.py, channels/ratelimit.py; the app: tests/channels/conftest.py)."""
from __future__ import annotations

import logging
import os
import re
import stat
import uuid

import pytest

from channels import content
from channels.ratelimit import Limit, RateLimiter, limit_from_env
from channels.rest import sender_ids_from_env
from channels.senders import MAX_ID_LENGTH, SenderIds, load_or_create_secret, secret_from_env
from tests.channels.conftest import ORIGIN, SECRET

SESSION = "/webhooks/rest/session"
WEBHOOK = "/webhooks/rest/webhook"
ID_FORMAT = re.compile(r"[A-Za-z0-9._-]{1,128}")


def test_the_session_route_issues_distinct_ids_that_the_webhook_accepts(rasa):
    ids = {rasa.new_sender() for _ in range(50)}
    assert len(ids) == 50
    for sender in ids:
        assert ID_FORMAT.fullmatch(sender) and len(sender) <= MAX_ID_LENGTH
    reply = rasa.post(SESSION)
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["cache-control"] == "no-store"
    sender = reply.json()["sender"]
    answer = rasa.post(WEBHOOK, {"sender": sender, "message": "hello"})
    assert answer.status_code == 200 and answer.json() == [{"recipient_id": sender, "text": "answer"}]
    assert rasa.handed_to_rasa == ["hello"]


def _forgeries(issued: str):
    prefix, nonce, signature = issued.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        None, 42, ["x"], {"id": issued}, "", "alice", "user:alice", uuid.uuid4().hex, str(uuid.uuid4()),
        f"{prefix}.{nonce}.{flipped}",                      # tampered signature
        f"{prefix}.{nonce[:-1]}x.{signature}",              # tampered random part
        f"{prefix}.{nonce}",                                # signature left off
        issued + ".extra",
        SenderIds("another-clinic-secret-0123456789").issue(),  # signed with another secret
        issued + "x" * (MAX_ID_LENGTH + 1 - len(issued)),   # too long
        issued.replace(".", "\u2024"), " " + issued, issued + "\n",
    ]


def test_a_sender_id_the_server_did_not_issue_gets_403_and_never_reaches_rasa(rasa):
    issued = rasa.new_sender()
    for forged in _forgeries(issued):
        body = {"message": "delete my data"} if forged is None else {"sender": forged, "message": "delete my data"}
        reply = rasa.post(WEBHOOK, body)
        assert (reply.status_code, reply.json()) == (403, {"error": "unknown_session"}), forged
        assert rasa.handed_to_rasa == []
    assert rasa.post(WEBHOOK, {"sender": issued, "message": "hi"}).status_code == 200


def test_ids_are_checked_by_signature_only(monkeypatch):
    ids = SenderIds(SECRET)
    issued = ids.issue()
    assert ids.verify(issued) and SenderIds(SECRET).verify(issued)  # same secret: survives a restart
    assert not SenderIds("a-different-secret-0123456789").verify(issued)
    with pytest.raises(ValueError):
        SenderIds("short")


def test_cors_answers_on_the_session_route_and_on_refusals_like_on_the_webhook(rasa):
    for path in (SESSION, WEBHOOK):
        preflight = rasa.request("OPTIONS", path, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code < 300, path
        assert preflight.headers.get("access-control-allow-origin") == ORIGIN, path
        assert "POST" in preflight.headers.get("access-control-allow-methods", ""), path
    origin = {"Origin": ORIGIN}
    issued = rasa.post(SESSION, headers=origin)
    assert issued.headers.get("access-control-allow-origin") == ORIGIN
    refused = rasa.post(WEBHOOK, {"sender": "made-up", "message": "hi"}, headers=origin)
    assert refused.status_code == 403 and refused.headers.get("access-control-allow-origin") == ORIGIN
    rasa.limit("sender", 60, 1)
    sender = issued.json()["sender"]
    rasa.post(WEBHOOK, {"sender": sender, "message": "one"}, headers=origin)
    limited = rasa.post(WEBHOOK, {"sender": sender, "message": "two"}, headers=origin)
    assert limited.status_code == 429 and limited.headers.get("access-control-allow-origin") == ORIGIN
    # the widget on the clinic's page can read how long to wait (CORS exposes the header)
    exposed = limited.headers.get("access-control-expose-headers", "").lower()
    assert "retry-after" in exposed and limited.headers.get("retry-after")
    # another site gets no CORS permission, on any route
    other = {"Origin": "https://attacker.example"}
    assert "access-control-allow-origin" not in rasa.post(SESSION, headers=other).headers


def test_a_sender_over_its_rate_gets_429_with_the_friendly_text_and_others_are_not_affected(rasa):
    rasa.limit("sender", 30, 3)
    sender, other = rasa.new_sender(), rasa.new_sender()
    for _ in range(3):
        assert rasa.post(WEBHOOK, {"sender": sender, "message": "hi"}).status_code == 200
    limited = rasa.post(WEBHOOK, {"sender": sender, "message": "hi"})
    assert limited.status_code == 429 and rasa.handed_to_rasa == []
    assert limited.json() == [{"recipient_id": sender, "text": content.message("rate_limited")}]
    assert int(limited.headers["retry-after"]) == 2  # 30 a minute: one more every 2 s
    assert rasa.post(WEBHOOK, {"sender": other, "message": "hi"}).status_code == 200
    # over-long messages count too (a flood of them is refused before it is read)
    assert rasa.post(WEBHOOK, {"sender": sender, "message": "x" * 50}).status_code == 429
    rasa.clock.now += 2.0
    assert rasa.post(WEBHOOK, {"sender": sender, "message": "hi"}).status_code == 200
    assert rasa.post(WEBHOOK, {"sender": sender, "message": "hi"}).status_code == 429


def test_one_address_is_limited_across_sender_ids_and_new_ids(rasa):
    rasa.limit("ip", 60, 4)
    senders = [rasa.new_sender() for _ in range(5)]
    statuses = [rasa.post(WEBHOOK, {"sender": s, "message": "hi"}).status_code for s in senders]
    assert statuses == [200, 200, 200, 200, 429]
    # unknown ids use up the address's allowance too, and are told to slow down first
    assert rasa.post(WEBHOOK, {"sender": "made-up", "message": "hi"}).status_code == 429
    rasa.limit("session", 60, 2)
    assert [rasa.post(SESSION).status_code for _ in range(3)] == [200, 200, 429]
    rasa.clock.now += 1.0
    assert rasa.post(SESSION).status_code == 200


def test_the_limiter_keeps_a_bounded_number_of_clients_and_reads_its_settings():
    clock = [0.0]
    limiter = RateLimiter(Limit(60, 2), max_keys=100, clock=lambda: clock[0])
    for i in range(10_000):
        assert limiter.take(f"sender:{i}") == 0.0
    assert len(limiter) == 100
    assert limiter.take("a") == 0.0 and limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(1.0)
    clock[0] = 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    assert RateLimiter(Limit(0, 0)).take("anyone") == 0.0  # switched off
    assert limit_from_env("sender", {}) == Limit(30, 10)
    assert limit_from_env("ip", {"MESOGUIDE_RATE_PER_IP": "600", "MESOGUIDE_BURST_PER_IP": "100"}) == Limit(600, 100)
    with pytest.raises(ValueError):
        limit_from_env("sender", {"MESOGUIDE_RATE_PER_SENDER": "lots"})
    with pytest.raises(ValueError):
        limit_from_env("sender", {"MESOGUIDE_BURST_PER_SENDER": "-1"})


def test_a_failure_while_handling_gets_the_apology_and_the_log_holds_no_visitor_text(rasa, caplog):
    sender = rasa.new_sender()
    rasa.mode = "fail"
    with caplog.at_level(logging.DEBUG):
        reply = rasa.post(WEBHOOK, {"sender": sender, "message": "snt3141"})
    assert reply.status_code == 200
    assert reply.json() == [{"recipient_id": sender, "text": content.message("assistant_unavailable")}]
    assert "RuntimeError" in caplog.text
    assert "snt3141" not in caplog.text and "secret visitor text" not in caplog.text
    rasa.mode = "answer"
    assert rasa.post(WEBHOOK, {"sender": sender, "message": "hi"}).json()[0]["text"] == "answer"


def test_the_apology_and_rate_messages_name_the_clinic_contact_from_the_content():
    from contentfiles import load

    clinic = load("clinic")
    apology = content.message("assistant_unavailable")
    assert str(clinic["phone"]) in apology and str(clinic["email"]) in apology and len(apology) < 400
    assert "{" not in content.message("rate_limited")


def test_without_a_configured_secret_the_process_gets_a_random_one_and_a_warning(monkeypatch, caplog):
    monkeypatch.delenv("MESOGUIDE_SENDER_SECRET", raising=False)
    with caplog.at_level(logging.WARNING):
        first, second = sender_ids_from_env(), sender_ids_from_env()
    assert "MESOGUIDE_SENDER_SECRET is not set" in caplog.text
    assert not second.verify(first.issue())  # never open, never a fixed default
    monkeypatch.setenv("MESOGUIDE_SENDER_SECRET", "short")
    with pytest.raises(ValueError):
        secret_from_env()
    monkeypatch.setenv("MESOGUIDE_SENDER_SECRET", SECRET)
    assert secret_from_env() == (SECRET, False)


def test_the_secret_file_is_created_private_and_reused(tmp_path):
    secret = load_or_create_secret(tmp_path)
    path = tmp_path / "sender_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(secret) >= 32
    assert load_or_create_secret(tmp_path) == secret
    os.chmod(path, 0o644)
    assert load_or_create_secret(tmp_path) == secret and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_address_comes_from_proxy_headers_only_when_sanic_is_told_to_trust_them(rasa):
    rasa.limit("ip", 60, 1)
    spoofed = [rasa.post(WEBHOOK, {"sender": rasa.new_sender(), "message": "hi"},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(2)]
    assert spoofed == [200, 429]  # the header is ignored: one address (a visitor cannot pick one)
    rasa.app.config.PROXIES_COUNT = 1  # SANIC_PROXIES_COUNT=1 behind one reverse proxy
    try:
        behind_proxy = [rasa.post(WEBHOOK, {"sender": rasa.new_sender(), "message": "hi"},
                                  headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in (7, 8, 7)]
    finally:
        rasa.app.config.PROXIES_COUNT = None
    assert behind_proxy == [200, 200, 429]


def test_refusals_are_logged_as_counts_at_most_once_a_minute_without_ids(rasa, caplog):
    rasa.channel._logged_at.clear()
    rasa.channel._refusals.clear()
    with caplog.at_level(logging.INFO, logger="channels.rest"):
        for _ in range(50):
            rasa.post(WEBHOOK, {"sender": "made-up-id-4711", "message": "hi"})
    notes = [r.getMessage() for r in caplog.records if "unknown sender id" in r.getMessage()]
    assert notes == ["unknown sender id (403): 1 request(s) refused since the last note"]
    assert "made-up-id-4711" not in caplog.text and "127.0.0.1" not in caplog.text
