"""E-mail alerts (issue 16): new emergencies, red flags and consultation requests are
announced to staff through a real SMTP exchange with a local server (aiosmtpd) started
here; the e-mail holds counts and a console link, never a visitor's details."""

from __future__ import annotations

import datetime as dt
import email
import socket
import time

import pytest

from console import alerts, transcript
from tests.console.console_helpers import SQLITE_ONLY, Convo, store

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

NAME = "Priya Secretname"
CONTACT = "priya.secret@example.com"
MESSAGE = "my scalp is oozing since the injection"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Inbox()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def settings_for(smtp_server):
    _, port = smtp_server
    return alerts.AlertSettings.from_env(
        {
            "CONSOLE_ALERT_SMTP_HOST": "127.0.0.1",
            "CONSOLE_ALERT_SMTP_PORT": str(port),
            "CONSOLE_ALERT_SMTP_STARTTLS": "0",
            "CONSOLE_ALERT_FROM": "console@clinic.example",
            "CONSOLE_ALERT_TO": "team@clinic.example, doctor@clinic.example",
            "CONSOLE_PUBLIC_URL": "https://console.clinic.example/",
        }
    )


def emergency_with_request() -> Convo:
    c = Convo(time.time() - 60).turn(MESSAGE, "report_complication", action="action_report_complication")
    c.record("safety_event", kind="complication", detail="report_complication")
    c.record("safety_event", kind="red_flag", detail="scalp_infection")
    now = dt.datetime.now(dt.timezone.utc)
    c.record(
        "consultation_request", updated_at=now, kind="general", name=NAME, email=CONTACT, phone=None,
        time_window="mornings", consent_at=now, status="new", reason="red_flag",
    )
    return c


def test_settings_come_from_the_environment_and_alerts_are_off_without_them():
    assert alerts.AlertSettings.from_env({}) is None
    assert alerts.AlertSettings.from_env({"CONSOLE_ALERT_SMTP_HOST": "smtp.example"}) is None
    s = alerts.AlertSettings.from_env({"CONSOLE_ALERT_SMTP_HOST": "smtp.example", "CONSOLE_ALERT_TO": "a@x, b@y"})
    assert (s.host, s.port, s.starttls, s.recipients) == ("smtp.example", 587, True, ["a@x", "b@y"])


@SQLITE_ONLY
def test_new_items_are_announced_once_without_visitor_details(console_url, tmp_path, smtp_server, settings_for):
    handler, _ = smtp_server
    store(console_url, emergency_with_request())
    assert alerts.check(console_url, settings_for, tmp_path) is None  # first run: baseline only
    assert handler.messages == []

    visitor = emergency_with_request()
    store(console_url, visitor)
    sent = alerts.check(console_url, settings_for, tmp_path)
    assert sent == {"emergency": 1, "red_flag": 1, "consultation": 1}
    assert len(handler.messages) == 1
    sender, recipients, raw = handler.messages[0]
    assert sender == "console@clinic.example"
    assert recipients == ["team@clinic.example", "doctor@clinic.example"]
    mail = email.message_from_string(raw)
    body = mail.get_payload(decode=True).decode("utf-8")
    assert mail["Subject"] == "MesoGuide: 3 new items need attention"
    assert "1 emergency or complication, 1 red flag, 1 new consultation request" in body
    assert "https://console.clinic.example/" in body.splitlines()
    for secret in (NAME, "Secretname", CONTACT, MESSAGE, "oozing", visitor.sender_id, "scalp_infection", "mornings"):
        assert secret not in raw, secret

    assert alerts.check(console_url, settings_for, tmp_path) is None  # nothing new: nothing sent
    assert len(handler.messages) == 1


@SQLITE_ONLY
def test_test_conversations_and_quiet_kinds_are_not_announced(console_url, tmp_path, smtp_server, settings_for):
    handler, _ = smtp_server
    alerts.check(console_url, settings_for, tmp_path)
    testing = emergency_with_request()
    store(console_url, testing)
    transcript.add_tag(console_url, testing.sender_id, "test")
    handoff = Convo(time.time()).turn("can I talk to a person", "human_handoff")
    handoff.record("safety_event", kind="human_handoff", detail="")
    store(console_url, handoff)
    assert alerts.check(console_url, settings_for, tmp_path) is None
    assert handler.messages == []


@SQLITE_ONLY
def test_a_failed_send_is_retried(console_url, tmp_path, smtp_server, settings_for):
    handler, port = smtp_server
    alerts.check(console_url, settings_for, tmp_path)
    store(console_url, emergency_with_request())
    down = alerts.AlertSettings(**{**settings_for.__dict__, "port": _free_port()})
    with pytest.raises(OSError):
        alerts.check(console_url, down, tmp_path)
    assert alerts.check(console_url, settings_for, tmp_path) == {"emergency": 1, "red_flag": 1, "consultation": 1}
    assert len(handler.messages) == 1


@SQLITE_ONLY
def test_the_running_console_sends_alerts(settings, smtp_server, monkeypatch):
    from fastapi.testclient import TestClient

    from console.app import create_app

    handler, port = smtp_server
    for key, value in {
        "CONSOLE_ALERT_SMTP_HOST": "127.0.0.1",
        "CONSOLE_ALERT_SMTP_PORT": str(port),
        "CONSOLE_ALERT_SMTP_STARTTLS": "0",
        "CONSOLE_ALERT_TO": "team@clinic.example",
        "CONSOLE_ALERT_INTERVAL": "0.2",
    }.items():
        monkeypatch.setenv(key, value)
    with TestClient(create_app(settings=settings)):
        time.sleep(0.5)  # the first check records the baseline
        store(settings.db_url, emergency_with_request())
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(handler.messages) == 1 and "need attention" in handler.messages[0][2]
