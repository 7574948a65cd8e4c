"""Opaque conversation references: how staff name a conversation instead of its sender id.

The visitor's sender id is the credential of a chat conversation (the REST channel
signs it): whoever holds it can go on with the conversation or have it deleted. So
pages, URLs, CSV exports, audit targets and logs name a conversation by its
reference, the first 16 hex characters of HMAC-SHA256 of the sender id under a key
derived from the console's secret (``CONSOLE_SECRET_KEY`` or ``<data dir>/console_secret``).
Short labels are the reference's first 8 characters.

``conversation_reference`` (records migration 0005) maps references back to sender
ids (unique indexes both ways). A reference is stored the first time the console
shows or audits the conversation and is read from there afterwards, so it stays the
same even if the secret changes. "Delete my data" (``records.store.forget_sender``)
and retention pseudonymise the audit targets naming the reference and delete the row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from console import db
from console.accounts import utcnow
from records.models import CONVERSATION_REFERENCE_TARGET, SENDER_ID_LENGTH
from records.store import conversation_target

REF_LENGTH = 16
LABEL_LENGTH = 8
REF_RE = re.compile(r"^[0-9a-f]{16}$")
KEY_CONTEXT = b"mesoguide-console conversation-reference v1"
CHUNK = 500
TARGET_PREFIX = conversation_target(CONVERSATION_REFERENCE_TARGET)
"""Every audit target naming a conversation starts with this (then the reference)."""


def derive_key(secret: str) -> bytes:
    """A key of its own for references, so they reveal nothing about the cookie key."""
    return hmac.new(secret.encode("utf-8"), KEY_CONTEXT, hashlib.sha256).digest()


def audit_target(ref: str) -> str:
    """The audit target of an action on the conversation with this reference."""
    return TARGET_PREFIX + ref


def label(ref: str) -> str:
    return ref[:LABEL_LENGTH]


def _chunks(items: List[str], size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class References:
    """References of one console (one database, one key)."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self._key = derive_key(secret)

    def compute(self, sender_id: str, attempt: int = 0) -> str:
        message = sender_id if attempt == 0 else f"{sender_id}\x00{attempt}"
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:REF_LENGTH]

    def of(self, senders: Iterable[str]) -> Dict[str, str]:
        """sender id -> reference, stored ones first; the missing ones are stored now."""
        wanted = list(dict.fromkeys(s for s in senders if s))
        found = self._stored(wanted)
        missing = [s for s in wanted if s not in found]
        if missing:
            self._store(missing)
            found.update(self._stored(missing))
        return found

    def one(self, sender_id: str) -> str:
        return self.of([sender_id])[sender_id]

    def target(self, sender_id: str) -> str:
        """The audit target naming this conversation (stores its reference if new)."""
        return audit_target(self.one(sender_id))

    def resolve(self, ref: str) -> Optional[str]:
        """The sender id of a reference, or None for an unknown or malformed one."""
        if not isinstance(ref, str) or not REF_RE.match(ref):
            return None
        t = db.tables().conversation_reference
        with db.session(self.url) as s:
            return s.scalar(sa.select(t.c.sender_id).where(t.c.ref == ref))

    def _stored(self, senders: List[str]) -> Dict[str, str]:
        t = db.tables().conversation_reference
        out: Dict[str, str] = {}
        with db.session(self.url) as s:
            for chunk in _chunks(senders):
                out.update(s.execute(sa.select(t.c.sender_id, t.c.ref).where(t.c.sender_id.in_(chunk))).all())
        return out

    def _store(self, senders: List[str]) -> None:
        t = db.tables().conversation_reference
        rows = [{"sender_id": s, "ref": self.compute(s), "created_at": utcnow()} for s in senders]
        try:
            with db.session(self.url) as s:
                s.execute(sa.insert(t), rows)
            return
        except IntegrityError:  # another request stored some of them first (or, once in 2^64, a clash)
            pass
        for row in rows:
            for attempt in range(1, 4):
                try:
                    with db.session(self.url) as s:
                        s.execute(sa.insert(t).values(**row))
                    break
                except IntegrityError:
                    if self._stored([row["sender_id"]]):
                        break
                    row = {**row, "ref": self.compute(row["sender_id"], attempt)}

    def upgrade_audit_targets(self) -> int:
        """Audit rows written before references named the sender id
        (``conversation:<sender id>``): rename them to the reference. Returns the count."""
        a = db.tables().audit_log
        prefix = conversation_target("")
        with db.session(self.url) as s:
            old = s.scalars(
                sa.select(a.c.target)
                .where(
                    a.c.target.like(prefix + "%"),
                    a.c.target.not_like(TARGET_PREFIX + "%"),
                    a.c.target.not_like(conversation_target("sha256:") + "%"),
                )
                .distinct()
            ).all()
        # only what could be a sender id (records.store checks the same length)
        old = [target for target in old if 0 < len(target) - len(prefix) <= SENDER_ID_LENGTH]
        if not old:
            return 0
        refs = self.of([target[len(prefix) :] for target in old])
        count = 0
        with db.session(self.url) as s:
            for target in old:
                count += s.execute(
                    sa.update(a).where(a.c.target == target).values(target=audit_target(refs[target[len(prefix) :]]))
                ).rowcount
        return count
