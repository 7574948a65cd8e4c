"""Request limits, checked before anything parses a request's body.

``BodySizeLimit`` is ASGI middleware: a request whose Content-Length is above the
limit gets 413 at once, without its body being read; a body sent without a length
(chunked) is counted while it is read and cut off with 413 as soon as it passes the
limit. Staff forms are a few kilobytes; the default limit is 256 KiB
(``CONSOLE_MAX_BODY_BYTES``). It also drops ``Range`` headers: the console serves
only small static files, and starlette < 0.49.1 answers some multi-range requests in
quadratic time (CVE-2025-62727; README "Dependency audit").

``RequestGuard`` (below) limits sign-in attempts and refuses every request that may
carry a body without a valid session, before the body is read.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Set, Tuple

logger = logging.getLogger(__name__)

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
        if any(name.lower() == b"range" for name, _ in scope.get("headers", [])):
            scope = {**scope, "headers": [(n, v) for n, v in scope["headers"] if n.lower() != b"range"]}
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


# --- sign-in limits and the session check before any body is read --------------------------

LOGIN_PATH = "/login"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginLimiter:
    """Sign-in attempts per client address and in total, and the failures behind a lock.

    - per address: at most ``per_ip`` attempts in ``ip_window`` seconds, and one at a
      time (a second attempt while the first is still being answered, failure delay
      included, is refused: parallel attempts cannot skip the delay);
    - in total: at most ``global_attempts`` in ``global_window`` seconds, and at most
      ``max_in_flight`` attempts being answered at once;
    - failures per (account, address): an account locked after repeated failures stays
      open to an address that has not failed on it, so nobody can keep ``admin`` locked
      out from one address (``console.accounts.authenticate``).

    State lives in memory in the one console process; a restart forgets it.
    """

    MAX_TRACKED = 10_000

    def __init__(
        self,
        per_ip: int = 20,
        ip_window: float = 900.0,
        global_attempts: int = 120,
        global_window: float = 60.0,
        max_in_flight: int = 4,
        failure_memory: float = 3600.0,
        clock=time.monotonic,
    ) -> None:
        self.per_ip, self.ip_window = per_ip, ip_window
        self.global_attempts, self.global_window = global_attempts, global_window
        self.max_in_flight = max_in_flight
        self.failure_memory = failure_memory
        self._clock = clock
        self._lock = threading.Lock()
        self._by_ip: Dict[str, Deque[float]] = {}
        self._all: Deque[float] = deque()
        self._in_flight: Set[str] = set()
        self._failures: Dict[Tuple[str, str], float] = {}

    @classmethod
    def from_settings(cls, settings) -> "LoginLimiter":
        return cls(
            per_ip=settings.login_ip_attempts,
            ip_window=settings.login_ip_window_seconds,
            global_attempts=settings.login_global_attempts,
            global_window=settings.login_global_window_seconds,
            max_in_flight=settings.login_max_in_flight,
        )

    @staticmethod
    def _trim(times: Deque[float], since: float) -> None:
        while times and times[0] <= since:
            times.popleft()

    def admit(self, ip: str) -> Optional[int]:
        """Start an attempt from ``ip``: None when admitted (call ``done`` after the
        answer), else the seconds to wait."""
        now = self._clock()
        with self._lock:
            self._trim(self._all, now - self.global_window)
            mine = self._by_ip.get(ip)
            if mine is not None:
                self._trim(mine, now - self.ip_window)
            if ip in self._in_flight:
                return 1
            if len(self._in_flight) >= self.max_in_flight:
                return 1
            if mine is not None and len(mine) >= self.per_ip:
                return max(1, int(mine[0] + self.ip_window - now) + 1)
            if len(self._all) >= self.global_attempts:
                return max(1, int(self._all[0] + self.global_window - now) + 1)
            if mine is None:
                if len(self._by_ip) >= self.MAX_TRACKED:
                    self._forget_idle(now)
                mine = self._by_ip[ip] = deque()
            mine.append(now)
            self._all.append(now)
            self._in_flight.add(ip)
            return None

    def done(self, ip: str) -> None:
        with self._lock:
            self._in_flight.discard(ip)

    def _forget_idle(self, now: float) -> None:
        for ip in [ip for ip, times in self._by_ip.items() if not times or times[-1] <= now - self.ip_window]:
            del self._by_ip[ip]
        for key in [key for key, at in self._failures.items() if at <= now - self.failure_memory]:
            del self._failures[key]

    def record_failure(self, username: str, ip: str) -> None:
        with self._lock:
            if len(self._failures) >= self.MAX_TRACKED:
                self._forget_idle(self._clock())
            self._failures[(username, ip)] = self._clock()

    def failed_recently(self, username: str, ip: str) -> bool:
        with self._lock:
            at = self._failures.get((username, ip))
            return at is not None and at > self._clock() - self.failure_memory

    def clear_failures(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((username, ip), None)


@dataclass(frozen=True)
class LoginContext:
    """The limiter and client address of the sign-in request being answered."""

    limiter: LoginLimiter
    ip: str

    def record_failure(self, username: str) -> None:
        self.limiter.record_failure(username, self.ip)

    def failed_recently(self, username: str) -> bool:
        return self.limiter.failed_recently(username, self.ip)

    def clear_failures(self, username: str) -> None:
        self.limiter.clear_failures(username, self.ip)


_login_context: ContextVar[Optional[LoginContext]] = ContextVar("console_login_context", default=None)


def current_login() -> Optional[LoginContext]:
    """The sign-in request being answered (None outside one, e.g. on the command line).
    Set by ``RequestGuard``; thread-pool calls inherit it."""
    return _login_context.get()


def _client_ip(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _plain(send, status: int, text: bytes, extra: Optional[List[Tuple[bytes, bytes]]] = None) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(text)).encode("ascii")),
    ] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


class RequestGuard:
    """What is checked before the console reads a request's body.

    - ``POST /login``: the ``LoginLimiter`` (429 with Retry-After when over a limit).
    - Every other request that may carry a body (not GET/HEAD/OPTIONS): a signed,
      unexpired, not signed-out session cookie of an active account with the current
      password; else 401 at once. FastAPI parses a route's form fields before its
      dependencies (the session check) run, so without this anybody could make the
      console parse multipart bodies.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        if scope["method"] == "POST" and scope["path"] == LOGIN_PATH:
            await self._login(state, scope, receive, send)
            return
        if not await self._signed_in(state, scope):
            await _plain(send, 401, b"<!doctype html><title>401</title><p>Sign in first.</p>")
            return
        await self.app(scope, receive, send)

    async def _login(self, state, scope, receive, send) -> None:
        limiter = getattr(state, "login_limiter", None)
        if limiter is None:
            limiter = state.login_limiter = LoginLimiter.from_settings(state.settings)
        ip = _client_ip(scope)
        wait = limiter.admit(ip)
        if wait is not None:
            logger.warning("console sign-in refused: too many attempts")
            await _plain(
                send,
                429,
                b"<!doctype html><title>429</title><p>Too many sign-in attempts. Wait a minute and try again.</p>",
                [(b"retry-after", str(wait).encode("ascii"))],
            )
            return
        token = _login_context.set(LoginContext(limiter, ip))
        try:
            await self.app(scope, receive, send)
        finally:
            _login_context.reset(token)
            limiter.done(ip)

    @staticmethod
    async def _signed_in(state, scope) -> bool:
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import HTTPConnection

        from console import accounts, security

        session = state.signer.read_session(HTTPConnection(scope).cookies.get(security.SESSION_COOKIE))
        if session is None:
            return False
        user = await run_in_threadpool(
            accounts.session_user, state.settings.db_url, session.user_id, security.session_digest(session.session_id)
        )
        return user is not None and security.tokens_match(
            security.password_version(user.password_hash), session.password_version
        )
