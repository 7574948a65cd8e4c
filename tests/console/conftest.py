"""Fixtures for the staff console tests.

Databases come from tests/fixtures/db.py (`db_url`: SQLite and PostgreSQL, each
migrated to head); `console_url` adds Rasa's `events` table with Rasa's layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from console import accounts, db, security
from console import events as ev
from console.app import create_app
from console.config import Settings
from tests.console.console_helpers import PASSWORD, signed_in

DOMAIN_INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "ask_what_is",
    "ask_price",
    "ask_side_effects",
    "ask_claim",
    "book_consultation",
    "nlu_fallback",
)


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch):
    """Cheap argon2 parameters for speed; test_console_auth checks the production ones."""
    monkeypatch.setattr(security, "_hasher", FAST_HASHER)


@pytest.fixture
def console_url(db_url) -> str:
    ev.create_for_tests(db.engine(db_url))
    return db_url


@pytest.fixture
def domain_file(tmp_path) -> Path:
    path = tmp_path / "domain.yml"
    listed = "\n".join(f"  - {name}" for name in DOMAIN_INTENTS)
    path.write_text(f'version: "3.1"\nintents:\n{listed}\n', encoding="utf-8")
    return path


@pytest.fixture
def settings(console_url, tmp_path, domain_file) -> Settings:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return Settings(
        db_url=console_url,
        data_dir=data,
        secret_key="s" * 48,
        login_failure_delay=0.0,
        domain_path=domain_file,
    )


@pytest.fixture
def app(settings):
    return create_app(settings=settings)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def admin(console_url) -> accounts.Staff:
    return accounts.create_user(console_url, "alice", PASSWORD, "admin")


@pytest.fixture
def reviewer(console_url) -> accounts.Staff:
    return accounts.create_user(console_url, "rita", PASSWORD, "reviewer")


@pytest.fixture
def admin_client(client, admin):
    client.csrf = signed_in(client, admin.username)
    return client


@pytest.fixture
def reviewer_client(client, reviewer):
    client.csrf = signed_in(client, reviewer.username)
    return client
