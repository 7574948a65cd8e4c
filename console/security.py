"""Passwords, signed session cookies, CSRF tokens and security headers."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SESSION_COOKIE = "mg_console_session"
LOGIN_CSRF_COOKIE = "mg_console_login"
CSRF_FIELD = "csrf_token"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MAX_PASSWORD_CHECKS_ENV = "CONSOLE_MAX_PASSWORD_CHECKS"


def _max_password_checks() -> int:
    value = os.environ.get(MAX_PASSWORD_CHECKS_ENV, "").strip()
    return max(1, int(value)) if value else 2


_password_checks = threading.BoundedSemaphore(_max_password_checks())
"""Each argon2 hash or check takes 64 MiB and a core for a moment: at most this many
run at once in the process (``CONSOLE_MAX_PASSWORD_CHECKS``, default 2); the rest wait."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class PasswordPolicyError(ValueError):
    pass


def check_password_policy(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.")
    if username and password.strip().lower() == username.strip().lower():
        raise PasswordPolicyError("The password must differ from the user name.")


def hash_password(password: str) -> str:
    with _password_checks:
        return _hasher.hash(password)


def verify_password(password_hash: Optional[str], password: str) -> bool:
    """Constant-work check; an unknown account still costs one argon2 verification.
    At most ``CONSOLE_MAX_PASSWORD_CHECKS`` run at once."""
    with _password_checks:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def password_version(password_hash: str) -> str:
    """Short fingerprint of the stored hash: a password change ends every session."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()[:32]


@dataclass(frozen=True)
class SessionData:
    user_id: int
    session_id: str
    csrf: str
    issued_at: float
    password_version: str


class Signer:
    """Signs the session cookie and the pre-login CSRF cookie with the secret key."""

    def __init__(self, secret_key: str, max_age_seconds: float):
        self._sessions = URLSafeTimedSerializer(secret_key, salt="mesoguide-console-session")
        self._login = URLSafeTimedSerializer(secret_key, salt="mesoguide-console-login")
        self.max_age = int(max_age_seconds)

    def new_session(self, user_id: int, password_hash: str) -> tuple:
        data = SessionData(
            user_id,
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(32),
            time.time(),
            password_version(password_hash),
        )
        token = self._sessions.dumps(
            {
                "u": data.user_id,
                "s": data.session_id,
                "c": data.csrf,
                "t": data.issued_at,
                "p": data.password_version,
            }
        )
        return token, data

    def read_session(self, token: Optional[str]) -> Optional[SessionData]:
        if not token:
            return None
        try:
            raw = self._sessions.loads(token, max_age=self.max_age)
            return SessionData(int(raw["u"]), str(raw["s"]), str(raw["c"]), float(raw["t"]), str(raw["p"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def new_login_token(self) -> tuple:
        value = secrets.token_urlsafe(32)
        return self._login.dumps(value), value

    def read_login_token(self, token: Optional[str]) -> Optional[str]:
        if not token:
            return None
        try:
            value = self._login.loads(token, max_age=3600)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def tokens_match(expected: Optional[str], given: Optional[str]) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def safe_next(path: Optional[str]) -> str:
    """Only same-site absolute paths are followed after login."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/inbox"
    if any(ord(ch) < 32 for ch in path):
        return "/inbox"
    return path


ACCESS_LOGGER = "uvicorn.access"
_CONVERSATION_PATH = re.compile(r"^(/conversations/)[^/?]+")


def access_log_path(path: str) -> str:
    """A request path as the access log may show it: no conversation id (it is the
    visitor's only credential) and no query string (a search may quote a visitor)."""
    path, _, query = str(path).partition("?")
    path = _CONVERSATION_PATH.sub(r"\1[id]", path)
    return path + ("?[query]" if query else "")


class AccessLogFilter(logging.Filter):
    """Rewrites uvicorn's access log lines with ``access_log_path``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3:
            record.args = args[:2] + (access_log_path(args[2]),) + args[3:]
        return True


def redact_access_log() -> None:
    """Install ``AccessLogFilter`` on uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogFilter) for f in logger.filters):
        logger.addFilter(AccessLogFilter())
