"""Sender ids the server issues and can check: a random part and its HMAC signature.

``POST /webhooks/rest/session`` (channels/rest.py) hands out ids of the form
``mg1.<random>.<signature>``: 22 random URL-safe characters (128 bits) and the
HMAC-SHA256 of them under ``MESOGUIDE_SENDER_SECRET``, URL-safe base64 without
padding. The webhook accepts only ids whose signature verifies, so nobody can pick
someone else's id, an id that names a staff account (``alice``), or one shaped to
collide with other records. Ids use only ``[A-Za-z0-9._-]`` and are at most 128
characters; nothing else is looked at before the signature is checked.

The secret: ``scripts/stack.py`` creates one on first start and keeps it in the data
directory (``sender_secret``, mode 0600) so issued ids survive restarts. A Rasa
started by hand without the variable gets a random secret for that process only
(a WARNING says so): ids then stop verifying at the next start, and the widget
simply asks for a new one. Only the standard library is used (stack.py imports this).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

SECRET_ENV = "MESOGUIDE_SENDER_SECRET"
SECRET_FILE = "sender_secret"
MIN_SECRET_LENGTH = 16
PREFIX = "mg1"
MAX_ID_LENGTH = 128
ID_CHARS = re.compile(r"[A-Za-z0-9._-]{1,128}")
_NONCE_BYTES = 16  # 22 characters in URL-safe base64
_SIGNATURE_CONTEXT = b"mesoguide-sender-id:v1:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SenderIds:
    """Issues and verifies signed sender ids under one secret."""

    def __init__(self, secret: str) -> None:
        if len(secret or "") < MIN_SECRET_LENGTH:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
        self._key = secret.encode("utf-8")

    def _signature(self, nonce: str) -> str:
        return _b64(hmac.new(self._key, _SIGNATURE_CONTEXT + nonce.encode("ascii"), hashlib.sha256).digest())

    def issue(self) -> str:
        nonce = _b64(secrets.token_bytes(_NONCE_BYTES))
        sender = f"{PREFIX}.{nonce}.{self._signature(nonce)}"
        assert len(sender) <= MAX_ID_LENGTH and ID_CHARS.fullmatch(sender)
        return sender

    def verify(self, sender: Any) -> bool:
        """True only for an id this secret issued (any other value, of any type: False)."""
        if not isinstance(sender, str) or not ID_CHARS.fullmatch(sender):
            return False
        parts = sender.split(".")
        if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
            return False
        return hmac.compare_digest(parts[2].encode("ascii"), self._signature(parts[1]).encode("ascii"))


def secret_from_env(env: Optional[Mapping[str, str]] = None) -> Tuple[str, bool]:
    """``(secret, generated)``: the configured secret, or a random one for this process
    (``generated`` True; the caller logs a warning). A set but too short secret raises."""
    env = os.environ if env is None else env
    secret = (env.get(SECRET_ENV) or "").strip()
    if secret:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
        return secret, False
    return secrets.token_urlsafe(32), True


def load_or_create_secret(data_dir: os.PathLike) -> str:
    """The secret kept in ``<data_dir>/sender_secret`` (created with mode 0600 on first use)."""
    path = Path(data_dir) / SECRET_FILE
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        secret = ""
    if len(secret) >= MIN_SECRET_LENGTH:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return secret
    secret = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return secret
