"""Console settings, read from the environment once per app."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

DEFAULT_PORT = 8081
DEFAULT_HOST = "127.0.0.1"
SECRET_FILE = "console_secret"
MIN_SECRET_LENGTH = 32


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def data_dir() -> Path:
    from records import db

    return db.data_dir()


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def load_secret(directory: Path) -> str:
    """CONSOLE_SECRET_KEY, else a key generated once into <data dir>/console_secret (0600)."""
    configured = os.environ.get("CONSOLE_SECRET_KEY", "").strip()
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise SystemExit(f"CONSOLE_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return configured
    path = directory / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


@dataclass
class Settings:
    db_url: str
    data_dir: Path
    secret_key: str
    secure_cookies: bool = False
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    domain_path: Path = field(default_factory=lambda: repo_root() / "domain.yml")
    page_size: int = 50
    session_hours: float = 12.0
    login_failure_delay: float = 0.5
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    # sign-in limits (console.limits.LoginLimiter), before any password is checked
    login_ip_attempts: int = 20
    login_ip_window_seconds: float = 900.0
    login_global_attempts: int = 120
    login_global_window_seconds: float = 60.0
    login_max_in_flight: int = 4

    @property
    def nlu_inbox(self) -> Path:
        return self.data_dir / "nlu_inbox"

    @classmethod
    def from_env(cls, db_url: Optional[str] = None) -> "Settings":
        from console import db

        directory = data_dir()
        return cls(
            db_url=db.database_url(db_url),
            data_dir=directory,
            secret_key=load_secret(directory),
            secure_cookies=_flag("CONSOLE_SECURE_COOKIES"),
            timezone=ZoneInfo(os.environ.get("CONSOLE_TIMEZONE", "").strip() or "UTC"),
        )


def listen_address() -> tuple:
    host = os.environ.get("CONSOLE_HOST", "").strip() or DEFAULT_HOST
    port = int(os.environ.get("CONSOLE_PORT", "").strip() or DEFAULT_PORT)
    return host, port
