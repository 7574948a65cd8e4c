"""One Sanic app for the channel tests, set up as ``rasa run`` sets up its app: the REST
channel's blueprint under /webhooks/rest and Rasa's own CORS configuration (one origin).
``on_new_message`` is a stand-in for Rasa that records what reached it and answers in
the shapes Rasa's REST channel uses (text, buttons). Driven through Sanic's ASGI
interface with httpx (no port, no network)."""
from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.server import configure_cors
from sanic import Sanic

from channels.ratelimit import Limit, RateLimiter
from channels.rest import LimitedRestInput
from channels.senders import SenderIds

ORIGIN = "http://localhost:8080"
SECRET = "channel-test-secret-0123456789"
_names = itertools.count()


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class ChannelApp:
    def __init__(self):
        self.handed_to_rasa = []
        self.received = []
        self.mode = "answer"
        self.clock = FakeClock()
        self.sender_ids = SenderIds(SECRET)
        self.channel = LimitedRestInput(10, sender_ids=self.sender_ids)
        self.unlimited()
        self.loop = asyncio.new_event_loop()
        self.app = Sanic(f"channel_test_{next(_names)}")
        configure_cors(self.app, ORIGIN)
        self.app.blueprint(self.channel.blueprint(self.on_new_message), url_prefix="/webhooks/rest")
        self.loop.run_until_complete(self._start())

    def unlimited(self):
        off = Limit(0, 0)
        self.channel.limiters = {kind: RateLimiter(off, clock=self.clock) for kind in ("sender", "ip", "session")}

    def limit(self, kind, per_minute, burst):
        self.channel.limiters[kind] = RateLimiter(Limit(per_minute, burst), clock=self.clock)

    async def on_new_message(self, message: UserMessage):
        self.handed_to_rasa.append(message.text)
        self.received.append(message)
        if self.mode == "fail":
            raise RuntimeError("secret visitor text " + str(message.text))
        out = message.output_channel
        if self.mode == "echo":  # what Rasa's replies can hold: the visitor's text, buttons
            await out.send_text_message(message.sender_id, f"You said: {message.text[:40]}")
            await out.send_text_with_buttons(message.sender_id, "pick", [{"title": message.text[:5], "payload": "/affirm"}])
            return
        await out.send_text_message(message.sender_id, "answer")
        if self.mode == "buttons":
            await out.send_text_with_buttons(message.sender_id, "pick", [{"title": "Yes", "payload": "/affirm"}])

    async def _start(self):
        incoming, outgoing = asyncio.Queue(), asyncio.Queue()
        await incoming.put({"type": "lifespan.startup"})
        self.lifespan = asyncio.ensure_future(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, outgoing.put))
        assert (await asyncio.wait_for(outgoing.get(), 30))["type"] == "lifespan.startup.complete"
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://rasa")

    def request(self, method, path, body=None, headers=None):
        self.handed_to_rasa.clear()
        self.received.clear()
        kwargs = {"headers": headers or {}}
        if isinstance(body, (bytes, str)):
            kwargs["content"] = body
        elif body is not None:
            kwargs["json"] = body
        return self.loop.run_until_complete(asyncio.wait_for(self.client.request(method, path, **kwargs), 30))

    def post(self, path, body=None, headers=None):
        return self.request("POST", path, body, headers)

    def new_sender(self):
        reply = self.post("/webhooks/rest/session")
        assert reply.status_code == 200, reply.text
        return reply.json()["sender"]

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.lifespan.cancel()
        self.loop.close()


@pytest.fixture(scope="session")
def channel_app():
    app = ChannelApp()
    yield app
    app.close()


@pytest.fixture
def rasa(channel_app):
    """The channel app, reset: no limits, answering normally."""
    channel_app.unlimited()
    channel_app.mode = "answer"
    yield channel_app
    channel_app.unlimited()
    channel_app.mode = "answer"
