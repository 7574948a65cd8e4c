"""`python -m console` sub-commands: first admin, more accounts, no default password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from console import __main__ as cli
from console import accounts, db, security

REPO = Path(__file__).resolve().parents[2]


def users(url: str):
    return {u.username: u for u in accounts.list_users(url)}


def test_create_admin_from_the_environment(console_url, monkeypatch, capsys):
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "a long admin passphrase")
    assert cli.main(["--db-url", console_url, "create-admin", "Boss"]) == 0
    boss = users(console_url)["boss"]
    assert boss.role == "admin" and security.verify_password(boss.password_hash, "a long admin passphrase")
    assert "Created admin account 'boss'" in capsys.readouterr().out
    log = db.tables().audit_log
    with db.session(console_url) as s:
        assert s.execute(sa.select(log.c.action, log.c.target)).all() == [("account.create", "user:boss")]


def test_short_password_is_refused(console_url, monkeypatch, capsys):
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "short")
    assert cli.main(["--db-url", console_url, "create-admin", "boss"]) == 1
    assert "12 characters" in capsys.readouterr().err
    assert users(console_url) == {}


def test_prompted_password_must_be_typed_twice(console_url, monkeypatch):
    monkeypatch.delenv("CONSOLE_USER_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["reviewer passphrase", "reviewer passphrase", "one passphrase", "another passphrase"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli.main(["--db-url", console_url, "create-user", "rev", "--role", "reviewer"]) == 0
    assert users(console_url)["rev"].role == "reviewer"
    with pytest.raises(SystemExit, match="differ"):
        cli.main(["--db-url", console_url, "create-user", "rev2"])
    assert "rev2" not in users(console_url)


def test_no_terminal_and_no_variable_means_no_account(console_url, monkeypatch):
    monkeypatch.delenv("CONSOLE_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    with pytest.raises(SystemExit, match="CONSOLE_ADMIN_PASSWORD"):
        cli.main(["--db-url", console_url, "create-admin", "boss"])
    assert users(console_url) == {}


def test_duplicate_username_is_an_error(console_url, monkeypatch, capsys):
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "a long admin passphrase")
    assert cli.main(["--db-url", console_url, "create-admin", "boss"]) == 0
    assert cli.main(["--db-url", console_url, "create-admin", "boss"]) == 1
    assert "taken" in capsys.readouterr().err


def test_module_entry_point_runs_as_a_process(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    env = {
        **os.environ,
        "CONSOLE_ADMIN_PASSWORD": "a long admin passphrase",
        "MESOGUIDE_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "console", "--db-url", url, "create-admin", "first"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert users(url)["first"].role == "admin"
