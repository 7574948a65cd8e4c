"""When the action server is down or slow, the visitor gets a short apology at once.

Rasa 3.6 waits up to 5 minutes (``DEFAULT_REQUEST_TIMEOUT``) for a custom action,
and when the call fails it logs the error and answers nothing. ``install()`` (called
when the REST channel is loaded into Rasa's process) wraps ``RemoteAction.run`` so that

- a call that takes longer than ``MESOGUIDE_ACTION_TIMEOUT`` seconds (default 5) is
  abandoned;
- a call that fails or is abandoned returns the ``assistant_unavailable`` message of
  ``data/content/messages.yml`` (with the clinic's contact) as the action's only
  event, once per turn (later custom actions of the same turn, also a form's retry
  after it rejected itself, are skipped rather than waited for): the turn ends normally, the tracker is saved, and the next message is
  handled as usual (a questionnaire asks its question again);
- ``ActionExecutionRejection`` (an action declining to run, part of how forms work)
  passes through unchanged;
- the session start (``action_session_start``, the first action of every new
  conversation) is done here instead, with the same disclosure, so a visitor who
  starts a conversation while the action server is down still gets it, and the turn
  goes on: the emergency answer, a fixed response of the domain, still reaches
  someone whose first message is an emergency.

The warning names the action and the kind of failure only, never what the visitor
wrote.
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from typing import Any, List, Optional, Tuple

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from channels import content

logger = logging.getLogger(__name__)

TIMEOUT_ENV = "MESOGUIDE_ACTION_TIMEOUT"
DEFAULT_TIMEOUT = 5.0
APOLOGY_KEY = "assistant_unavailable"
DISCLOSURE_KEY = "disclosure"
MARK = "mesoguide_fault"
_GUARD_FLAG = "_mesoguide_guarded"


def action_timeout(env=None) -> float:
    env = os.environ if env is None else env
    raw = (env.get(TIMEOUT_ENV) or "").strip()
    value = float(raw) if raw else DEFAULT_TIMEOUT
    if not value > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds")
    return value


def apology_event() -> BotUttered:
    return BotUttered(content.message(APOLOGY_KEY), metadata={MARK: APOLOGY_KEY})


def session_start_events() -> List[Any]:
    """What actions/session.py's session start returns (the disclosure, a new session,
    then listening), made here when the action server cannot."""
    return [BotUttered(content.message(DISCLOSURE_KEY)), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


_failed_turns: "OrderedDict[Tuple[Any, Any], bool]" = OrderedDict()
"""Turns (sender id, time of the visitor's message) in which the action server failed.
Kept outside the tracker: a form that rejects its execution discards the events of
the attempt (the apology included) and Rasa tries again in the same turn."""
MAX_FAILED_TURNS = 10_000


def _turn(tracker: Any) -> Tuple[Any, Any]:
    for event in reversed(list(getattr(tracker, "events", []) or [])):
        if isinstance(event, UserUttered):
            return getattr(tracker, "sender_id", None), event.timestamp
    return getattr(tracker, "sender_id", None), None


def _apologised_this_turn(tracker: Any) -> bool:
    for event in reversed(list(getattr(tracker, "events", []) or [])):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(MARK):
            return True
    return False


def install(timeout: Optional[float] = None) -> None:
    """Wraps ``RemoteAction.run`` (once per process; a second call only sets the timeout)."""
    seconds = action_timeout() if timeout is None else float(timeout)
    content.message(APOLOGY_KEY)  # fail at start-up when the wording is missing
    current = RemoteAction.run
    if getattr(current, _GUARD_FLAG, False):
        current.timeout = seconds
        return
    original = current

    async def guarded_run(self, output_channel, nlg, tracker, domain) -> List[Any]:
        turn = _turn(tracker)
        if turn in _failed_turns or _apologised_this_turn(tracker):
            # the action server already failed in this turn: do not wait for it again
            logger.warning("custom action %s skipped: the action server failed earlier in this turn", self.name())
            return [] if _apologised_this_turn(tracker) else [apology_event()]
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), guarded_run.timeout)
        except ActionExecutionRejection:
            raise
        except asyncio.TimeoutError:
            kind = f"no answer within {guarded_run.timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure of the call gets the apology
            kind = f"failed ({type(exc).__name__})"
        if self.name() == ACTION_SESSION_START_NAME:
            # a new conversation: the disclosure and a new session without the action
            # server; the visitor's message is then handled (an emergency answered)
            logger.warning("custom action %s %s: the session starts without it", self.name(), kind)
            return session_start_events()
        logger.warning("custom action %s %s: the visitor gets the '%s' message", self.name(), kind, APOLOGY_KEY)
        _failed_turns[turn] = True
        while len(_failed_turns) > MAX_FAILED_TURNS:
            _failed_turns.popitem(last=False)
        return [apology_event()]

    guarded_run.timeout = seconds
    setattr(guarded_run, _GUARD_FLAG, True)
    guarded_run.__wrapped__ = original
    RemoteAction.run = guarded_run


def uninstall() -> None:
    """Restores Rasa's own ``RemoteAction.run`` (tests)."""
    current = RemoteAction.run
    if getattr(current, _GUARD_FLAG, False):
        RemoteAction.run = current.__wrapped__
