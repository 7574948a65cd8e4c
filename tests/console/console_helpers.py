"""Helpers shared by the console tests (imported as tests.console.console_helpers)."""

from __future__ import annotations

import random
import re
from typing import Dict, Iterable, Optional

import pytest
from fastapi.testclient import TestClient

from console.seeding import Conversation, write

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)}
    )


def signed_in(client: TestClient, username: str) -> str:
    """Sign in and return the session's CSRF token."""
    response = login(client, username)
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/inbox").text)


REPLY_ACTION = "action_answer_knowledge"  # a real action of domain.yml (test_console_names.py)


class Convo:
    """Builds one conversation with the seeding builder, deterministic times."""

    _counter = 0

    def __init__(
        self, start: float = 1_700_000_000.0, channel: str = "rest", sender_id: Optional[str] = None
    ):
        Convo._counter += 1
        self.c = Conversation(
            sender_id=sender_id or f"{Convo._counter:04d}" + "a" * 28,
            t=start,
            channel=channel,
            rng=random.Random(Convo._counter),
        )
        self.c.start()

    @property
    def sender_id(self) -> str:
        return self.c.sender_id

    def turn(
        self,
        text: str,
        intent: str,
        reply: str = "ok",
        confidence: Optional[float] = None,
        action: Optional[str] = None,
        entities: Iterable[dict] = (),
        slots: Optional[Dict] = None,
    ):
        self.c.user(text, intent, confidence=confidence, entities=entities)
        self.c.reply(reply, REPLY_ACTION, action=action)
        for name, value in (slots or {}).items():
            self.c.slot(name, value)
        self.c.listen()
        return self

    def record(self, table: str, **values):
        self.c.record(table, **values)
        return self


POLICY = "policy_0_SafetyRoutingPolicy"  # how Rasa 3.6 names the policy in an action event


def policy_turn(
    c: Convo, text: str, intent: str, action: str, reply: str = "…", confidence: Optional[float] = None
) -> Convo:
    """A turn the routing policy (components/routing_policy.py) or a rule takes without
    answering, as Rasa logs it: the message, the action, its message (a response names
    itself in `utter_action`, a custom action's message names none), `action_listen`."""
    c.c.user(text, intent, confidence=confidence)
    c.c.action(action, policy=POLICY)
    c.c.bot(reply, action if action.startswith("utter_") else None)
    c.c.listen()
    return c


def store(url: str, *convos: Convo) -> None:
    write(url, [c.c for c in convos])


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For tests of the HTTP layer, where the SQL dialect plays no part."""


def ref_of(client: TestClient, sender_id: str) -> str:
    """The reference the console names a conversation by (console/references.py)."""
    return client.app.state.references.one(sender_id)


def conversation_path(client: TestClient, sender_id: str) -> str:
    return "/conversations/" + ref_of(client, sender_id)


def sender_of(client: TestClient, ref: str) -> Optional[str]:
    return client.app.state.references.resolve(ref)
