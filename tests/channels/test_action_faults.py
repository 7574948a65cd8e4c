"""channels/action_faults.py against real HTTP servers standing in for the action server:
down, slow, failing, rejecting and answering (the live versions: tests/test_faults_live.py)."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels import action_faults, content


class Behaviour(BaseHTTPRequestHandler):
    mode = "ok"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.mode == "slow":
            time.sleep(3)
        status, body = {
            "ok": (200, {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "fine"}]}),
            "slow": (200, {"events": [], "responses": []}),
            "error": (500, {"error": "internal error"}),
            "reject": (400, {"action_name": "action_x", "error": "declined"}),
            "garbage": (200, {"events": "not a list"}),
        }[self.server.mode]
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # Rasa stopped waiting (the slow case)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Behaviour)
    httpd.daemon_threads = True
    httpd.mode = "ok"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def guarded():
    action_faults.install(timeout=0.5)
    yield
    action_faults.uninstall()


def run(url, tracker=None, name="action_x"):
    action = RemoteAction(name, EndpointConfig(url))
    tracker = tracker or DialogueStateTracker.from_events("v", [UserUttered("sentinel text")])
    started = time.monotonic()
    events = asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, Domain.empty()))
    return events, time.monotonic() - started


def apology():
    return content.message("assistant_unavailable")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_down_action_server_gets_the_apology_at_once(guarded, caplog):
    events, took = run(f"http://127.0.0.1:{free_port()}/webhook")
    assert [e.text for e in events] == [apology()] and isinstance(events[0], BotUttered)
    assert took < 2 and "action_x failed" in caplog.text and "sentinel" not in caplog.text


def test_a_new_conversation_starts_with_the_disclosure_when_the_action_server_is_down(guarded, caplog):
    # no apology in its place: the session starts, and the visitor's first message is then
    # handled (an emergency gets the domain's fixed answer, tests/test_faults_live.py)
    events, took = run(f"http://127.0.0.1:{free_port()}/webhook", DialogueStateTracker.from_events("v", []),
                       name="action_session_start")
    assert [type(e) for e in events] == [BotUttered, SessionStarted, ActionExecuted]
    assert events[0].text == content.message("disclosure") and events[2].action_name == "action_listen"
    assert apology() not in [getattr(e, "text", None) for e in events]
    assert took < 2 and "session starts without it" in caplog.text


def test_a_slow_action_server_gets_the_apology_after_the_timeout(guarded, server):
    server.mode = "slow"
    events, took = run(f"http://127.0.0.1:{server.server_address[1]}/webhook")
    assert [e.text for e in events] == [apology()]
    assert 0.4 < took < 2  # not Rasa's 5 minutes, not the server's 3 s


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_a_failing_action_server_gets_the_apology(guarded, server, mode):
    server.mode = mode
    events, _ = run(f"http://127.0.0.1:{server.server_address[1]}/webhook")
    assert [e.text for e in events] == [apology()]


def test_answers_and_rejections_pass_through_unchanged(guarded, server):
    url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    events, _ = run(url)
    assert [type(e) for e in events] == [BotUttered, SlotSet] and events[0].text == "fine"
    server.mode = "reject"
    with pytest.raises(ActionExecutionRejection):
        run(url)


def test_one_apology_per_turn_and_no_second_wait(guarded, server):
    server.mode = "slow"
    url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    tracker = DialogueStateTracker.from_events("v", [UserUttered("hi"), action_faults.apology_event()])
    events, took = run(url, tracker)
    assert events == [] and took < 0.3  # the server failed earlier in this turn: not asked again
    url = f"http://127.0.0.1:{free_port()}/webhook"
    tracker.update(UserUttered("again"))
    assert [e.text for e in run(url, tracker)[0]] == [apology()]


def test_installing_twice_wraps_once_and_uninstall_restores_rasa():
    original = RemoteAction.run
    action_faults.install(timeout=1)
    action_faults.install(timeout=2)
    assert RemoteAction.run.__wrapped__ is original and RemoteAction.run.timeout == 2
    action_faults.uninstall()
    assert RemoteAction.run is original


def test_the_timeout_comes_from_the_environment():
    assert action_faults.action_timeout({}) == 5.0
    assert action_faults.action_timeout({"MESOGUIDE_ACTION_TIMEOUT": "2.5"}) == 2.5
    with pytest.raises(ValueError):
        action_faults.action_timeout({"MESOGUIDE_ACTION_TIMEOUT": "0"})


def test_a_retry_in_the_same_turn_is_not_waited_for_even_if_the_apology_was_discarded(guarded, server):
    server.mode = "slow"
    url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    message = UserUttered("no")
    first, took = run(url, DialogueStateTracker.from_events("turns", [message]))
    assert [e.text for e in first] == [apology()] and took > 0.4
    # a form that rejected itself: Rasa dropped the attempt's events and tries again
    again, took = run(url, DialogueStateTracker.from_events("turns", [message]))
    assert [e.text for e in again] == [apology()] and took < 0.3
    # the next message is a new turn: the action server is asked again
    server.mode = "ok"
    later, _ = run(url, DialogueStateTracker.from_events("turns", [message, UserUttered("yes")]))
    assert [type(e) for e in later] == [BotUttered, SlotSet] and later[0].text == "fine"
