"""A cap on request bodies, checked before anything parses them.

``BodySizeLimit`` is ASGI middleware: a request whose Content-Length is above the
limit gets 413 at once, without its body being read; a body sent without a length
(chunked) is counted while it is read and cut off with 413 as soon as it passes the
limit. Staff forms are a few kilobytes; the default limit is 256 KiB
(``CONSOLE_MAX_BODY_BYTES``).
"""
from __future__ import annotations

import os

DEFAULT_MAX_BODY_BYTES = 256 * 1024
MAX_BODY_ENV = "CONSOLE_MAX_BODY_BYTES"


def max_body_bytes() -> int:
    value = os.environ.get(MAX_BODY_ENV, "").strip()
    return int(value) if value else DEFAULT_MAX_BODY_BYTES


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a body without Content-Length grows past the limit."""


class BodySizeLimit:
    def __init__(self, app, max_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes or max_body_bytes()

    async def _refuse(self, send, status: int = 413, text: bytes = b"Request body too large.") -> None:
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(text)).encode("ascii")),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": text})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                declared = value
                break
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await self._refuse(send, 400, b"Bad Content-Length.")
                return
            if length > self.max_bytes:
                await self._refuse(send)
                return

        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)
