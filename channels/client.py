"""A small client of MesoGuide's REST channel (channels/rest.py), for the tests, the
probes, the evaluation and the bench: the same handshake the chat widget does.

    from channels.client import new_sender, send
    sender = new_sender("http://localhost:5005")         # POST /webhooks/rest/session
    messages = send("http://localhost:5005", sender, "hello")  # the bot's messages

``send`` waits and tries again when the channel answers 429 (``Retry-After``, at
most ``retries`` times), and raises ``ChannelError`` (with the HTTP status) for any
other answer that is not a JSON list of messages; a 403 means the sender id was not
issued by this server (``unknown_session``). Standard library only.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

SESSION_PATH = "/webhooks/rest/session"
WEBHOOK_PATH = "/webhooks/rest/webhook"
DEFAULT_TIMEOUT = 30.0
MAX_RETRY_WAIT = 60.0


class ChannelError(ValueError):
    """The channel answered something other than the bot's messages."""

    def __init__(self, status: int, body: bytes, what: str = "request") -> None:
        self.status, self.body = status, body
        super().__init__(f"{what}: HTTP {status}: {body[:200]!r}")


def post_json(url: str, payload: Optional[Any], timeout: float = DEFAULT_TIMEOUT,
              headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    """POSTs ``payload`` as JSON (``None``: an empty body); returns (status, headers, body)
    for any HTTP status. Connection errors propagate (``urllib.error.URLError``, ``OSError``)."""
    data = b"" if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


def new_sender(url: str, timeout: float = DEFAULT_TIMEOUT, retries: int = 3) -> str:
    """A sender id issued by the server at ``url`` (Rasa's base URL)."""
    for attempt in range(retries + 1):
        status, headers, body = post_json(url.rstrip("/") + SESSION_PATH, None, timeout)
        if status == 429 and attempt < retries:
            time.sleep(_retry_after(headers))
            continue
        if status != 200:
            raise ChannelError(status, body, "new session")
        sender = json.loads(body.decode("utf-8")).get("sender")
        if not isinstance(sender, str) or not sender:
            raise ChannelError(status, body, "new session")
        return sender
    raise AssertionError("unreachable")


def _retry_after(headers: Dict[str, str]) -> float:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "1")
    try:
        return min(MAX_RETRY_WAIT, max(0.0, float(value)))
    except ValueError:
        return 1.0


def send(url: str, sender: str, text: Any, timeout: float = DEFAULT_TIMEOUT, retries: int = 3) -> List[Dict[str, Any]]:
    """Sends one message; returns the bot's messages (a list of dicts)."""
    for attempt in range(retries + 1):
        status, headers, body = post_json(url.rstrip("/") + WEBHOOK_PATH, {"sender": sender, "message": text}, timeout)
        if status == 429 and attempt < retries:
            time.sleep(_retry_after(headers))
            continue
        if status != 200:
            raise ChannelError(status, body, "message")
        messages = json.loads(body.decode("utf-8")) if body.strip() else []
        if not isinstance(messages, list):
            raise ChannelError(status, body, "message (expected a JSON list)")
        return messages
    raise AssertionError("unreachable")
