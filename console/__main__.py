"""`python -m console` serves the console; sub-commands manage accounts and the summary cache.

    python -m console                                  serve on CONSOLE_HOST:CONSOLE_PORT
    python -m console create-admin USERNAME            password prompted twice, or CONSOLE_ADMIN_PASSWORD
    python -m console create-user USERNAME --role reviewer   password prompted twice, or CONSOLE_USER_PASSWORD
    python -m console refresh-summary [--full]         bring conversation_summary up to date
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Optional, Sequence

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

PASSWORD_ENV = {"admin": "CONSOLE_ADMIN_PASSWORD", "reviewer": "CONSOLE_USER_PASSWORD"}


def _password(role: str) -> str:
    configured = os.environ.get(PASSWORD_ENV[role])
    if configured is not None:
        return configured
    if not sys.stdin.isatty():
        raise SystemExit(f"No terminal to prompt on: set {PASSWORD_ENV[role]}.")
    first = getpass.getpass("Password (at least 12 characters): ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("The two passwords differ.")
    return first


def create_account(username: str, role: str, db_url: Optional[str] = None) -> int:
    from console import accounts, db

    url = db.database_url(db_url)
    db.prepare(url)
    try:
        user = accounts.create_user(url, username, _password(role), role)
    except accounts.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from console import audit

    audit.record(url, None, "account.create", f"user:{user.username}", f"role={user.role} (command line)")
    print(f"Created {user.role} account {user.username!r}.")
    return 0


def serve(db_url: Optional[str] = None) -> int:
    import uvicorn

    from console import config, db, summary
    from console.app import create_app

    url = db.database_url(db_url)
    db.prepare(url)
    print("Updating conversation summaries...", flush=True)
    summary.refresh(url)
    host, port = config.listen_address()
    uvicorn.run(
        create_app(url), host=host, port=port, log_level="info", proxy_headers=True, server_header=False
    )
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="MesoGuide staff console")
    parser.add_argument("--db-url", help="SQLAlchemy URL (default: MESOGUIDE_DB_URL)")
    commands = parser.add_subparsers(dest="command")
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("username")
    user = commands.add_parser("create-user", help="create a staff account")
    user.add_argument("username")
    user.add_argument("--role", choices=("reviewer", "admin"), default="reviewer")
    refresh = commands.add_parser("refresh-summary", help="update the conversation summaries")
    refresh.add_argument("--full", action="store_true", help="recompute every conversation")
    args = parser.parse_args(argv)

    if args.command == "create-admin":
        return create_account(args.username, "admin", args.db_url)
    if args.command == "create-user":
        return create_account(args.username, args.role, args.db_url)
    if args.command == "refresh-summary":
        from console import db, summary

        url = db.database_url(args.db_url)
        db.prepare(url)
        print(f"{summary.refresh(url, full=args.full)} conversation(s) recomputed.")
        return 0
    return serve(args.db_url)


if __name__ == "__main__":
    sys.exit(main())
