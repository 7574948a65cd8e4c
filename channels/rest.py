"""MesoGuide's REST channel (Rasa's ``rest`` channel, same URLs), with what a public
chat endpoint needs. Registered in credentials.yml as ``channels.rest.LimitedRestInput``.

Routes (prefix ``/webhooks/rest``; CORS as Rasa's ``--cors`` allows, like every route):

``POST /session``
    ``{"sender": "<id>"}``: a new signed sender id (channels/senders.py). The widget
    calls it when it has no stored id.
``POST /webhook`` ``{"sender": "<id>", "message": "<text>"}``
    the bot's replies, a JSON list of ``{"recipient_id", "text"?, "buttons"?, ...}``,
    as Rasa's REST channel answers. Refusals, each before NLU and the tracker store:

    - 400 ``{"error": "bad_request"}``: the body is not a JSON object, or ``message``
      is not a string;
    - 403 ``{"error": "unknown_session"}``: the sender id was not issued by this
      server (the widget then asks ``/session`` for a new id and sends once more);
    - 429, header ``Retry-After`` (seconds): too many messages from this sender id or
      this address (channels/ratelimit.py); the body is a reply list with the
      ``rate_limited`` text of data/content/messages.yml;
    - 200 with the ``message_too_long`` text: a message over
      ``MESOGUIDE_MAX_MESSAGE_CHARS`` characters (default 2000).

    Anything the visitor's request says about ``input_channel`` or ``metadata`` is
    ignored (it would be stored in the conversation as it is); NUL characters and lone
    surrogates in the message become U+FFFD. If handling a message
    fails, the reply is the ``assistant_unavailable`` text, and the log names the
    kind of error only: Rasa's own channel logs the message text on errors.
``GET /``
    ``{"status": "ok"}`` (health).

Request bodies are capped before this by Sanic (``SANIC_REQUEST_MAX_SIZE``, set by
``scripts/stack.py``). Loading the channel also installs the action-server fault
handling (channels/action_faults.py) and two speed-ups of Rasa's own hot paths
(channels/rasa_hot_paths.py).
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request

from channels import action_faults, content, rasa_hot_paths
from channels.ratelimit import RateLimiter, limit_from_env
from channels.senders import SECRET_ENV, SenderIds, secret_from_env

logger = logging.getLogger(__name__)

MAX_CHARS_ENV = "MESOGUIDE_MAX_MESSAGE_CHARS"
DEFAULT_MAX_CHARS = 2000
TOO_LONG_KEY = "message_too_long"
RATE_LIMITED_KEY = "rate_limited"
UNAVAILABLE_KEY = action_faults.APOLOGY_KEY
UNKNOWN_SESSION = {"error": "unknown_session"}
BAD_REQUEST = {"error": "bad_request"}
NO_STORE = {"Cache-Control": "no-store"}
REFUSAL_LOG_INTERVAL = 60.0


def max_message_chars(env: Optional[Dict[str, str]] = None) -> int:
    env = os.environ if env is None else env
    value = (env.get(MAX_CHARS_ENV) or "").strip()
    if not value:
        return DEFAULT_MAX_CHARS
    limit = int(value)
    if limit < 1:
        raise ValueError(f"{MAX_CHARS_ENV} must be a positive number of characters")
    return limit


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with NUL and lone surrogates (valid JSON, not valid text) replaced by
    U+FFFD: the NLU pipeline fails on lone surrogates and PostgreSQL refuses NUL."""
    return _UNSTORABLE.sub("\ufffd", text)


def is_too_long(text: Any, max_chars: int) -> bool:
    return isinstance(text, str) and len(text) > max_chars


def sender_ids_from_env() -> SenderIds:
    secret, generated = secret_from_env()
    if generated:
        logger.warning(
            "%s is not set: sender ids are signed with a random secret for this process only, so "
            "conversations cannot continue after a restart (scripts/stack.py keeps one in the data directory)",
            SECRET_ENV,
        )
    return SenderIds(secret)


def client_address(request: Request) -> str:
    """The client's address: Sanic's ``remote_addr`` (from proxy headers when
    ``SANIC_PROXIES_COUNT``/``SANIC_REAL_IP_HEADER`` are set), else the peer."""
    return request.remote_addr or request.ip or "unknown"


class LimitedRestInput(RestInput):
    """Rasa's REST channel with signed sender ids, rate limits and an input limit."""

    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and the same input_channel as Rasa's REST channel

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "LimitedRestInput":
        credentials = credentials or {}
        limit = credentials.get("max_message_chars")
        action_faults.install()  # Rasa's process: custom-action faults get the apology
        rasa_hot_paths.install()  # and two of Rasa's per-message costs are cut
        return cls(int(limit) if limit else None)

    def __init__(
        self,
        max_message_chars_: Optional[int] = None,
        sender_ids: Optional[SenderIds] = None,
        limiters: Optional[Dict[str, RateLimiter]] = None,
    ) -> None:
        self.max_chars = max_message_chars_ or max_message_chars()
        self.sender_ids = sender_ids or sender_ids_from_env()
        self.limiters = limiters or {kind: RateLimiter(limit_from_env(kind)) for kind in ("sender", "ip", "session")}
        self._refusals: Dict[str, int] = {}
        self._logged_at: Dict[str, float] = {}
        # fail at start-up if a wording is missing
        content.message(TOO_LONG_KEY, max_chars=self.max_chars)
        content.message(RATE_LIMITED_KEY)
        content.message(UNAVAILABLE_KEY)

    # --- replies --------------------------------------------------------------------------
    def _reply(self, sender_id: Optional[Text], key: str, status: int = 200, headers=None, **values: Any):
        body = [{"recipient_id": sender_id, "text": content.message(key, **values)}]
        return response.json(body, status=status, headers=headers)

    def too_long_reply(self, sender_id: Optional[Text]) -> List[Dict[Text, Any]]:
        return [{"recipient_id": sender_id, "text": content.message(TOO_LONG_KEY, max_chars=self.max_chars)}]

    def _note(self, what: str) -> None:
        """Logs refusals at most once a minute per kind, with the count (a flood of
        refused requests must not flood the log); never an id or an address."""
        now = time.monotonic()
        count = self._refusals.get(what, 0) + 1
        if now - self._logged_at.get(what, float("-inf")) >= REFUSAL_LOG_INTERVAL:
            logger.info("%s: %d request(s) refused since the last note", what, count)
            self._logged_at[what], count = now, 0
        self._refusals[what] = count

    def _limited(self, kind: str, key: str, sender_id: Optional[Text]) -> Optional[response.HTTPResponse]:
        wait = self.limiters[kind].take(key)
        if not wait:
            return None
        self._note(f"rate limit per {kind} (429)")
        retry_after = str(max(1, math.ceil(wait)))
        # Rasa's CORS set-up exposes only "filename" to pages; the widget must read the wait.
        headers = {"Retry-After": retry_after, "Access-Control-Expose-Headers": "Retry-After"}
        return self._reply(sender_id, RATE_LIMITED_KEY, status=429, headers=headers)

    # --- routes -------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/session", methods=["POST"])
        async def new_session(request: Request) -> response.HTTPResponse:
            refused = self._limited("session", "session:" + client_address(request), None)
            if refused is not None:
                return refused
            return response.json({"sender": self.sender_ids.issue()}, headers=NO_STORE)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            try:
                body = json.loads(request.body or b"")
            except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
                return response.json(BAD_REQUEST, status=400)
            if not isinstance(body, dict):
                return response.json(BAD_REQUEST, status=400)
            sender_id = body.get("sender")
            trusted = self.sender_ids.verify(sender_id)
            refused = self._limited("ip", "ip:" + client_address(request), sender_id if trusted else None)
            if refused is not None:
                return refused
            if not trusted:
                self._note("unknown sender id (403)")
                return response.json(UNKNOWN_SESSION, status=403)
            refused = self._limited("sender", "sender:" + sender_id, sender_id)
            if refused is not None:
                return refused
            text = body.get("message")
            if not isinstance(text, str):
                return response.json(BAD_REQUEST, status=400)
            if is_too_long(text, self.max_chars):
                # Only the length is logged: never what the visitor wrote.
                logger.info("message of %d characters refused (limit %d)", len(text), self.max_chars)
                return response.json(self.too_long_reply(sender_id))
            text = storable_text(text)
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender_id, self.name(), None),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name()))
            except CancelledError:
                logger.error("handling a message was cancelled (message withheld from the log)")
                return self._reply(sender_id, UNAVAILABLE_KEY)
            except Exception as exc:  # noqa: BLE001 - the visitor gets the apology, the log no text
                logger.error("handling a message failed: %s (message withheld from the log)", type(exc).__name__)
                return self._reply(sender_id, UNAVAILABLE_KEY)
            return response.json(collector.messages)

        return blueprint
