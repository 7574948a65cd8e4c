"""The REST channel's input limit (channels/rest.py): an over-long message is answered by
the channel and never handed to Rasa (the app: tests/channels/conftest.py, limit 10)."""
from __future__ import annotations

import pytest
import yaml

from channels import content
from channels.rest import DEFAULT_MAX_CHARS, LimitedRestInput, max_message_chars
from scripts.stack import ROOT

WEBHOOK = "/webhooks/rest/webhook"


def test_a_message_at_the_limit_reaches_rasa_and_one_over_it_does_not(rasa):
    sender = rasa.new_sender()
    at_limit = rasa.post(WEBHOOK, {"sender": sender, "message": "x" * 10})
    assert at_limit.json() == [{"recipient_id": sender, "text": "answer"}]
    assert rasa.handed_to_rasa == ["x" * 10]
    over = rasa.post(WEBHOOK, {"sender": sender, "message": "y" * 11})
    assert over.status_code == 200
    [reply] = over.json()
    assert reply["recipient_id"] == sender and "10 characters" in reply["text"]
    assert rasa.handed_to_rasa == []


def test_the_default_limit_and_the_wording_come_from_the_environment_and_messages_yml(monkeypatch):
    monkeypatch.delenv("MESOGUIDE_MAX_MESSAGE_CHARS", raising=False)
    assert max_message_chars() == DEFAULT_MAX_CHARS == 2000
    monkeypatch.setenv("MESOGUIDE_MAX_MESSAGE_CHARS", "300")
    monkeypatch.setenv("MESOGUIDE_SENDER_SECRET", "s" * 32)
    assert LimitedRestInput().max_chars == 300
    monkeypatch.setenv("MESOGUIDE_MAX_MESSAGE_CHARS", "0")
    with pytest.raises(ValueError):
        max_message_chars()
    wording = yaml.safe_load((ROOT / "data/content/messages.yml").read_text())["messages"]["message_too_long"]["text"]
    assert "{max_chars}" in wording
    assert content.message("message_too_long", max_chars=2000) == " ".join(
        wording.replace("{max_chars}", "2000").split())


def test_streamed_requests_are_limited_too_and_malformed_requests_get_400(rasa):
    sender = rasa.new_sender()
    streamed = rasa.post(WEBHOOK + "?stream=true", {"sender": sender, "message": "z" * 11})
    assert "10 characters" in streamed.json()[0]["text"] and rasa.handed_to_rasa == []
    streamed = rasa.post(WEBHOOK + "?stream=true", {"sender": sender, "message": "hi"})
    assert streamed.status_code == 200 and '"answer"' in streamed.text and rasa.handed_to_rasa == ["hi"]
    for body in (b"{not json", b"", b"[]", b'"text"', {"sender": sender}, {"sender": sender, "message": 12345},
                 {"sender": sender, "message": None}, {"sender": sender, "message": ["a"]}):
        reply = rasa.post(WEBHOOK, body)
        assert (reply.status_code, reply.json()) == (400, {"error": "bad_request"}), body
        assert rasa.handed_to_rasa == []


def test_what_the_request_says_about_channel_and_metadata_is_not_passed_on(rasa):
    sender = rasa.new_sender()
    reply = rasa.post(WEBHOOK, {"sender": sender, "message": "hi", "input_channel": "console",
                                "metadata": {"planted": "x" * 100}})
    assert reply.status_code == 200
    [message] = rasa.received
    assert (message.text, message.sender_id, message.input_channel) == ("hi", sender, "rest")
    assert not message.metadata


def test_registered_in_credentials_instead_of_rasas_rest_and_socketio():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert list(credentials) == ["channels.rest.LimitedRestInput"]
    assert LimitedRestInput.name() == "rest"  # same URL: /webhooks/rest/webhook


def test_nul_and_lone_surrogates_reach_rasa_as_replacement_characters(rasa):
    sender = rasa.new_sender()
    body = ('{"sender": "%s", "message": "a\\u0000b\\ud800c\\ud83d\\ude00"}' % sender).encode()
    assert rasa.post(WEBHOOK, body).status_code == 200
    assert rasa.handed_to_rasa == ["a\ufffdb\ufffdc\U0001F600"]  # a proper pair stays one emoji
