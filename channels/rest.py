"""Rasa's REST channel with an input limit, at the same URL (/webhooks/rest/webhook).

A message longer than ``MESOGUIDE_MAX_MESSAGE_CHARS`` characters (default 2000) is
answered at once with ``message_too_long`` from ``data/content/messages.yml``; it
never reaches NLU, the dialogue policies or the tracker store, so one huge message
cannot stall the server or fill the conversation log. Request bodies are capped
before this by Sanic (``SANIC_REQUEST_MAX_SIZE``, set by ``scripts/stack.py``).

Registered in credentials.yml as ``channels.rest.LimitedRestInput``.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from channels import content

logger = logging.getLogger(__name__)

MAX_CHARS_ENV = "MESOGUIDE_MAX_MESSAGE_CHARS"
DEFAULT_MAX_CHARS = 2000
TOO_LONG_KEY = "message_too_long"


def max_message_chars(env: Optional[Dict[str, str]] = None) -> int:
    env = os.environ if env is None else env
    value = (env.get(MAX_CHARS_ENV) or "").strip()
    if not value:
        return DEFAULT_MAX_CHARS
    limit = int(value)
    if limit < 1:
        raise ValueError(f"{MAX_CHARS_ENV} must be a positive number of characters")
    return limit


def is_too_long(text: Any, max_chars: int) -> bool:
    return isinstance(text, str) and len(text) > max_chars


class LimitedRestInput(RestInput):
    """``RestInput`` that answers over-long messages itself (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and the same input_channel as Rasa's REST channel

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "LimitedRestInput":
        credentials = credentials or {}
        limit = credentials.get("max_message_chars")
        return cls(int(limit) if limit else None)

    def __init__(self, max_message_chars_: Optional[int] = None) -> None:
        self.max_chars = max_message_chars_ or max_message_chars()
        content.message(TOO_LONG_KEY, max_chars=self.max_chars)  # fail at start-up if missing

    def too_long_reply(self, sender_id: Optional[Text]) -> List[Dict[Text, Any]]:
        return [{"recipient_id": sender_id, "text": content.message(TOO_LONG_KEY, max_chars=self.max_chars)}]

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.on_request
        async def refuse_long_messages(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            body = request.json  # Sanic answers 400 itself when this is not JSON
            if not isinstance(body, dict):
                return None
            text = body.get("message")
            if not is_too_long(text, self.max_chars):
                return None
            # Only the length is logged: never what the visitor wrote.
            logger.info("message of %d characters refused (limit %d)", len(text), self.max_chars)
            sender_id = body.get("sender")
            return response.json(self.too_long_reply(sender_id if isinstance(sender_id, str) else None))

        return blueprint
