"""The REST channel with an input limit (channels/rest.py), driven through Sanic's ASGI
interface: an over-long message is answered by the channel and never handed to Rasa."""
from __future__ import annotations

import asyncio

import httpx
import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels import content
from channels.rest import DEFAULT_MAX_CHARS, LimitedRestInput, max_message_chars
from scripts.stack import ROOT

WEBHOOK = "/webhooks/rest/webhook"


class _Rasa:
    """One Sanic app (Sanic allows one lifespan per process in practice) with the channel
    (limit: 10 characters) mounted as Rasa mounts it; ``on_new_message`` records what
    would have reached Rasa."""

    def __init__(self):
        self.handed_to_rasa = []
        self.loop = asyncio.new_event_loop()
        self.app = Sanic("limit_test")
        self.app.blueprint(LimitedRestInput(10).blueprint(self.on_new_message), url_prefix="/webhooks/rest")
        self.loop.run_until_complete(self._start())

    async def on_new_message(self, message: UserMessage):
        self.handed_to_rasa.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "answer")

    async def _start(self):
        incoming, outgoing = asyncio.Queue(), asyncio.Queue()
        await incoming.put({"type": "lifespan.startup"})
        self.lifespan = asyncio.ensure_future(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, outgoing.put))
        assert (await asyncio.wait_for(outgoing.get(), 30))["type"] == "lifespan.startup.complete"
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://rasa")

    def post(self, path, body):
        self.handed_to_rasa.clear()
        if isinstance(body, bytes):
            call = self.client.post(path, content=body)
        else:
            call = self.client.post(path, json=body)
        return self.loop.run_until_complete(asyncio.wait_for(call, 30))

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.lifespan.cancel()
        self.loop.close()


@pytest.fixture(scope="module")
def rasa():
    app = _Rasa()
    yield app
    app.close()


def test_a_message_at_the_limit_reaches_rasa_and_one_over_it_does_not(rasa):
    at_limit = rasa.post(WEBHOOK, {"sender": "v1", "message": "x" * 10})
    assert at_limit.json() == [{"recipient_id": "v1", "text": "answer"}]
    assert rasa.handed_to_rasa == ["x" * 10]
    over = rasa.post(WEBHOOK, {"sender": "v1", "message": "y" * 11})
    assert over.status_code == 200
    [reply] = over.json()
    assert reply["recipient_id"] == "v1" and "10 characters" in reply["text"]
    assert rasa.handed_to_rasa == []


def test_the_default_limit_and_the_wording_come_from_the_environment_and_messages_yml(monkeypatch):
    monkeypatch.delenv("MESOGUIDE_MAX_MESSAGE_CHARS", raising=False)
    assert max_message_chars() == DEFAULT_MAX_CHARS == 2000
    monkeypatch.setenv("MESOGUIDE_MAX_MESSAGE_CHARS", "300")
    assert LimitedRestInput().max_chars == 300
    monkeypatch.setenv("MESOGUIDE_MAX_MESSAGE_CHARS", "0")
    with pytest.raises(ValueError):
        max_message_chars()
    wording = yaml.safe_load((ROOT / "data/content/messages.yml").read_text())["messages"]["message_too_long"]["text"]
    assert "{max_chars}" in wording
    assert content.message("message_too_long", max_chars=2000) == " ".join(
        wording.replace("{max_chars}", "2000").split())


def test_streamed_requests_are_limited_too_and_other_requests_behave_as_before(rasa):
    streamed = rasa.post(WEBHOOK + "?stream=true", {"sender": "v2", "message": "z" * 11})
    assert "10 characters" in streamed.json()[0]["text"] and rasa.handed_to_rasa == []
    assert rasa.post(WEBHOOK, b"{not json").status_code == 400
    assert rasa.post(WEBHOOK, {"sender": "v3"}).status_code == 200
    assert rasa.handed_to_rasa == [None]  # a message without text is Rasa's to handle, as before
    assert rasa.post(WEBHOOK, {"sender": "v3", "message": 12345678901}).status_code == 200


def test_registered_in_credentials_instead_of_rasas_rest_and_socketio():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert list(credentials) == ["channels.rest.LimitedRestInput"]
    assert LimitedRestInput.name() == "rest"  # same URL: /webhooks/rest/webhook
