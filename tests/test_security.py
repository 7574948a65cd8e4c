"""Issue 13 against the real processes (the ``live_stack`` fixture): the action server
answers only Rasa, the chat endpoint refuses oversized input without stalling anyone,
and neither shows anything the deployment does not need."""
from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import sqlalchemy as sa

from scripts.action_server import SECRET_HEADER
from tests.net_helpers import listening_addresses, only_loopback

WEBHOOK = "/webhooks/rest/webhook"


def post(url, body: bytes, headers=None, timeout=60):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def say(stack, sender, text):
    status, body = post(stack.rasa_url + WEBHOOK, json.dumps({"sender": sender, "message": text}).encode())
    assert status == 200, (status, body[:200])
    return json.loads(body or b"[]")


def event_texts(stack, sender):
    engine = sa.create_engine(stack.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select data from events where sender_id = :s"), {"s": sender}).fetchall()
    finally:
        engine.dispose()
    return [row[0] for row in rows]


def raw_post_status(port, path, declared_length, first_bytes=b"{"):
    """Sends the headers of a large POST and the start of its body, and returns the status
    line the server answers with (it must not wait for the rest)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared_length}\r\n\r\n".encode() + first_bytes
        )
        data = b""
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_the_action_server_refuses_calls_without_the_secret_and_deletes_nothing(live_stack):
    sender = uuid.uuid4().hex
    assert say(live_stack, sender, "hello")
    before = event_texts(live_stack, sender)
    assert before
    call = {
        "next_action": "action_forget_me",
        "sender_id": sender,
        "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": "delete my data", "intent": {}},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"},
        "domain": {},
        "version": "3.6.2",
    }
    body = json.dumps(call).encode()
    status, answer = post(live_stack.actions_url + "/webhook", body)
    assert status == 401 and sender.encode() not in answer
    status, answer = post(live_stack.actions_url + "/webhook", body, {SECRET_HEADER: "guessed-" + "x" * 30})
    assert status == 403 and sender.encode() not in answer
    assert event_texts(live_stack, sender) == before
    # Rasa itself has the secret: custom actions still answer.
    assert say(live_stack, sender, "what is mesotherapy?")


def test_the_action_server_and_rasa_listen_on_loopback_only(live_stack):
    for part in ("actions", "rasa"):
        addresses = listening_addresses(live_stack.ports[part])
        assert only_loopback(addresses), (part, addresses)


def test_rasa_http_api_and_socketio_are_off(live_stack):
    for path in ("/status", "/conversations/someone/tracker", "/socket.io/?EIO=4&transport=polling"):
        try:
            with urllib.request.urlopen(live_stack.rasa_url + path, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status in (401, 403, 404), (path, status)


def test_a_1_mb_body_is_refused_with_413_without_being_read(live_stack):
    assert raw_post_status(live_stack.ports["rasa"], WEBHOOK, 1024 * 1024).split()[1] == "413"
    big = json.dumps({"sender": uuid.uuid4().hex, "message": "x" * (1024 * 1024)}).encode()
    try:
        status, _ = post(live_stack.rasa_url + WEBHOOK, big)
    except (ConnectionError, urllib.error.URLError):
        status = 413  # the server answered and closed before the whole body was sent
    assert status == 413
    assert raw_post_status(live_stack.ports["console"], "/login", 1024 * 1024).split()[1] == "413"


def test_a_10000_character_message_gets_the_shorten_reply_and_is_not_stored(live_stack):
    sender = uuid.uuid4().hex
    marker = "longmessagemarker"
    text = (marker + " what is mesotherapy ") * (10000 // (len(marker) + 21) + 1)
    assert len(text) >= 10000
    [reply] = say(live_stack, sender, text)
    assert "shorten" in reply["text"] and "2000" in reply["text"]
    assert event_texts(live_stack, sender) == []  # never reached the tracker store
    assert say(live_stack, sender, "hello")  # the conversation goes on normally
    assert not any(marker in data for data in event_texts(live_stack, sender))


def test_a_visitor_gets_an_answer_while_someone_floods_the_channel(live_stack):
    errors, stop = [], threading.Event()

    def flood():
        while not stop.is_set():
            try:
                raw_post_status(live_stack.ports["rasa"], WEBHOOK, 1024 * 1024)
                say(live_stack, "flooder", "y" * 10000)
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=flood) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        answers = [say(live_stack, uuid.uuid4().hex, "what is mesotherapy?") for _ in range(3)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert errors == []
    for answer in answers:
        assert "mesotherapy" in " ".join(m.get("text") or "" for m in answer).lower()
