"""Request bodies are capped before anything parses them (console.limits)."""
from __future__ import annotations

import asyncio

from console.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit


def test_a_large_login_body_is_refused_before_parsing(client):
    big = b"username=admin&password=" + b"x" * (DEFAULT_MAX_BODY_BYTES + 1)
    response = client.post("/login", content=big, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.headers.get("x-content-type-options") == "nosniff"  # still wrapped by the headers


def test_a_normal_login_body_still_reaches_the_form(client):
    response = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert response.status_code != 413


class _Reader:
    """An app that reads the whole body, and records whether it got to the end."""

    def __init__(self):
        self.read = 0
        self.finished = False

    async def __call__(self, scope, receive, send):
        while True:
            message = await receive()
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.finished = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _call(app, headers, chunks):
    sent = []
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], pending


def test_a_declared_length_over_the_limit_is_refused_without_reading():
    inner = _Reader()
    status, pending = _call(BodySizeLimit(inner, 100), [(b"content-length", b"101")], [b"x" * 101])
    assert status == 413 and inner.read == 0 and len(pending) == 1


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit():
    inner = _Reader()
    status, pending = _call(BodySizeLimit(inner, 100), [], [b"x" * 60] * 10)
    assert status == 413 and not inner.finished
    assert len(pending) == 8  # stopped reading at the second chunk


def test_bodies_within_the_limit_pass_and_bad_lengths_are_400():
    inner = _Reader()
    assert _call(BodySizeLimit(inner, 100), [(b"content-length", b"100")], [b"x" * 100])[0] == 200
    assert inner.finished
    assert _call(BodySizeLimit(_Reader(), 100), [(b"content-length", b"ten")], [b""])[0] == 400
