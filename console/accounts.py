"""Staff accounts: creation, sign-in with lockout, administration."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from console import db, limits, security

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ROLES = ("reviewer", "admin")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str
    password_hash: str
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("User names are 2-64 characters: lower-case letters, digits, '.', '_' or '-'.")
    return name


def _staff(row) -> Staff:
    return Staff(row.id, row.username, row.role, row.password_hash, bool(row.active))


def create_user(url: str, username: str, password: str, role: str = "reviewer") -> Staff:
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    name = normalise_username(username)
    try:
        security.check_password_policy(password, name)
    except security.PasswordPolicyError as exc:
        raise AccountError(str(exc)) from exc
    t = db.tables().staff_user
    try:
        with db.session(url) as s:
            new_id = s.execute(
                sa.insert(t).values(
                    username=name,
                    password_hash=security.hash_password(password),
                    role=role,
                    active=True,
                    failed_logins=0,
                    created_at=utcnow(),
                )
            ).inserted_primary_key[0]
    except IntegrityError as exc:
        raise AccountError(f"The user name {name!r} is taken.") from exc
    return get_user(url, new_id)


def get_user(url: str, user_id: int) -> Optional[Staff]:
    t = db.tables().staff_user
    with db.session(url) as s:
        row = s.execute(sa.select(t).where(t.c.id == user_id)).first()
    return _staff(row) if row else None


def session_user(url: str, user_id: int, session_digest: str) -> Optional[Staff]:
    """The active account behind a session, unless the session was signed out."""
    t = db.tables()
    staff, revoked = t.staff_user, t.console_session_revocation
    with db.session(url) as s:
        row = s.execute(sa.select(staff).where(staff.c.id == user_id, staff.c.active.is_(True))).first()
        if row is None:
            return None
        signed_out = s.execute(
            sa.select(revoked.c.id).where(revoked.c.session_digest == session_digest).limit(1)
        ).first()
    return None if signed_out is not None else _staff(row)


def sign_out(url: str, username: str, session_digest: str, expires_at: float) -> None:
    """Revoke a session server-side (a copied cookie no longer works) and audit it.

    ``expires_at`` is when the cookie would expire anyway (epoch seconds); the
    revocation may be deleted after that (``python -m records purge``).
    """
    t = db.tables()
    now = utcnow()
    expiry = dt.datetime.fromtimestamp(expires_at, dt.timezone.utc)
    with db.session(url) as s:
        exists = s.execute(
            sa.select(t.console_session_revocation.c.id).where(
                t.console_session_revocation.c.session_digest == session_digest
            )
        ).first()
        if exists is None:
            s.execute(
                sa.insert(t.console_session_revocation).values(
                    created_at=now, session_digest=session_digest, expires_at=max(expiry, now)
                )
            )
        s.execute(
            sa.insert(t.audit_log).values(
                at=now, created_at=now, username=username, action="logout",
                target=f"session:{session_digest}", detail="",
            )
        )


def list_users(url: str) -> List[sa.engine.Row]:
    t = db.tables().staff_user
    with db.session(url) as s:
        return s.execute(sa.select(t).order_by(t.c.username)).all()


@dataclass(frozen=True)
class LoginResult:
    user: Optional[Staff]
    known_account: bool
    locked_now: bool = False


def authenticate(url: str, username: str, password: str, attempts: int, lock_minutes: int) -> LoginResult:
    """Check a password; `attempts` failures in a row lock the account for `lock_minutes`.

    During a sign-in request (``limits.current_login()``) a locked account stays open
    to a client address that has not failed on it recently: whoever locked ``admin``
    from one address cannot keep its owner out. Elsewhere (command line) a lock holds.
    """
    t = db.tables().staff_user
    name = (username or "").strip().lower()
    now = utcnow()
    client = limits.current_login()
    with db.session(url) as s:
        row = s.execute(sa.select(t).where(t.c.username == name)).first() if name else None
        if row is None:
            security.verify_password(None, password)
            if client is not None:
                client.record_failure(name)
            return LoginResult(None, False)
        locked_until = as_utc(row.locked_until)
        locked = locked_until is not None and locked_until > now
        if locked and (client is None or client.failed_recently(name)):
            security.verify_password(None, password)
            return LoginResult(None, True)
        if row.active and security.verify_password(row.password_hash, password):
            values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
            if security.needs_rehash(row.password_hash):
                values["password_hash"] = security.hash_password(password)
            s.execute(sa.update(t).where(t.c.id == row.id).values(**values))
            if client is not None:
                client.clear_failures(name)
            user = Staff(row.id, row.username, row.role, values.get("password_hash", row.password_hash), True)
            return LoginResult(user, True)
        if client is not None:
            client.record_failure(name)
        s.execute(sa.update(t).where(t.c.id == row.id).values(failed_logins=t.c.failed_logins + 1))
        failures = s.scalar(sa.select(t.c.failed_logins).where(t.c.id == row.id))
        if failures >= attempts:
            s.execute(
                sa.update(t)
                .where(t.c.id == row.id)
                .values(failed_logins=0, locked_until=now + dt.timedelta(minutes=lock_minutes))
            )
            return LoginResult(None, True, locked_now=True)
        return LoginResult(None, True)


def count_active_admins(url: str, excluding: Optional[int] = None) -> int:
    t = db.tables().staff_user
    query = sa.select(sa.func.count()).select_from(t).where(t.c.role == "admin", t.c.active.is_(True))
    if excluding is not None:
        query = query.where(t.c.id != excluding)
    with db.session(url) as s:
        return s.scalar(query)


def update_user(
    url: str,
    user_id: int,
    role: Optional[str] = None,
    active: Optional[bool] = None,
    password: Optional[str] = None,
    unlock: bool = False,
) -> Staff:
    """Change an account; refuses to leave the console without an active admin."""
    current = get_user(url, user_id)
    if current is None:
        raise AccountError("No such account.")
    values = {}
    if role is not None:
        if role not in ROLES:
            raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
        values["role"] = role
    if active is not None:
        values["active"] = active
    if password:
        try:
            security.check_password_policy(password, current.username)
        except security.PasswordPolicyError as exc:
            raise AccountError(str(exc)) from exc
        values["password_hash"] = security.hash_password(password)
    if unlock:
        values.update(failed_logins=0, locked_until=None)
    stays_admin = values.get("role", current.role) == "admin" and values.get("active", current.active)
    if current.is_admin and current.active and not stays_admin and count_active_admins(url, user_id) == 0:
        raise AccountError("This is the last active admin account; keep it an active admin.")
    if values:
        t = db.tables().staff_user
        with db.session(url) as s:
            s.execute(sa.update(t).where(t.c.id == user_id).values(**values))
    return get_user(url, user_id)
