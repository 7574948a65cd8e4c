"""E-mail alerts to staff: new emergencies, red flags and consultation requests.

Configured from the environment (nothing is sent unless host and recipients are set):

| variable | meaning |
| --- | --- |
| `CONSOLE_ALERT_SMTP_HOST` / `CONSOLE_ALERT_SMTP_PORT` | SMTP server (port default 587) |
| `CONSOLE_ALERT_SMTP_USER` / `CONSOLE_ALERT_SMTP_PASSWORD` | login, if the server needs one |
| `CONSOLE_ALERT_SMTP_STARTTLS` | `1` to upgrade the connection with STARTTLS (`0` for a local relay) |
| `CONSOLE_ALERT_FROM` / `CONSOLE_ALERT_TO` | sender; recipients, comma-separated |
| `CONSOLE_PUBLIC_URL` | the console's address as staff open it (the link in the e-mail) |
| `CONSOLE_ALERT_INTERVAL` | seconds between checks while the console runs (default 60) |

The e-mail says only how many new items of each kind there are and links to the
console's "Needs attention" page (sign-in required). It never carries a visitor's
name, contact, messages, answers or conversation id: those are health data.
Which records were already announced is kept in `<data dir>/alert_state.json`
(the highest record ids); the first check only records where it starts, so an
existing database does not flood the inbox. Test conversations are left out.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa

from console import db, inbox

log = logging.getLogger(__name__)
STATE_FILE = "alert_state.json"
ESCALATION = ("emergency", "complication")
KINDS = (
    ("emergency", "emergency or complication", "emergencies or complications"),
    ("red_flag", "red flag", "red flags"),
    ("consultation", "new consultation request", "new consultation requests"),
)


@dataclass
class AlertSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = ""
    recipients: List[str] = field(default_factory=list)
    public_url: str = "http://localhost:8081"
    interval: float = 60.0

    @classmethod
    def from_env(cls, env=None) -> Optional["AlertSettings"]:
        env = os.environ if env is None else env
        host = (env.get("CONSOLE_ALERT_SMTP_HOST") or "").strip()
        recipients = [r.strip() for r in (env.get("CONSOLE_ALERT_TO") or "").split(",") if r.strip()]
        if not host or not recipients:
            return None
        return cls(
            host=host,
            port=int((env.get("CONSOLE_ALERT_SMTP_PORT") or "587").strip()),
            user=(env.get("CONSOLE_ALERT_SMTP_USER") or "").strip(),
            password=env.get("CONSOLE_ALERT_SMTP_PASSWORD") or "",
            starttls=(env.get("CONSOLE_ALERT_SMTP_STARTTLS") or "1").strip().lower() not in ("0", "false", "no", "off"),
            sender=(env.get("CONSOLE_ALERT_FROM") or f"mesoguide-console@{host}").strip(),
            recipients=recipients,
            public_url=(env.get("CONSOLE_PUBLIC_URL") or "http://localhost:8081").strip().rstrip("/"),
            interval=float((env.get("CONSOLE_ALERT_INTERVAL") or "60").strip()),
        )


def _max_ids(session) -> Dict[str, int]:
    t = db.tables()
    return {
        "safety_event": session.scalar(sa.select(sa.func.max(t.safety_event.c.id))) or 0,
        "consultation_request": session.scalar(sa.select(sa.func.max(t.consultation_request.c.id))) or 0,
    }


def _load_state(path: Path) -> Optional[Dict[str, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: int(v) for k, v in data.items()} if isinstance(data, dict) else None


def _save_state(path: Path, state: Dict[str, int]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def new_counts(url: str, state: Dict[str, int]) -> Tuple[Dict[str, int], Dict[str, int]]:
    """Counts of new items per kind since `state`, and the state after them."""
    t = db.tables()
    se, cr = t.safety_event, t.consultation_request
    tests = inbox.test_senders(t)
    with db.session(url) as s:
        latest = _max_ids(s)
        safety = s.execute(
            sa.select(se.c.kind, sa.func.count(sa.distinct(se.c.sender_id)))
            .where(
                se.c.id > state.get("safety_event", 0),
                se.c.id <= latest["safety_event"],
                se.c.kind.in_(ESCALATION + ("red_flag",)),
                se.c.sender_id.not_in(tests),
            )
            .group_by(se.c.kind)
        ).all()
        requests = s.scalar(
            sa.select(sa.func.count()).where(
                cr.c.id > state.get("consultation_request", 0),
                cr.c.id <= latest["consultation_request"],
                cr.c.sender_id.not_in(tests),
            )
        )
    by_kind = dict(safety)
    counts = {
        "emergency": sum(by_kind.get(k, 0) for k in ESCALATION),
        "red_flag": by_kind.get("red_flag", 0),
        "consultation": requests or 0,
    }
    return counts, latest


def compose(settings: AlertSettings, counts: Dict[str, int]) -> EmailMessage:
    """The e-mail: counts and a link, nothing about any visitor."""
    parts = [f"{counts[key]} {one if counts[key] == 1 else many}" for key, one, many in KINDS if counts.get(key)]
    total = sum(counts.values())
    message = EmailMessage()
    message["Subject"] = f"MesoGuide: {total} new item{'s' if total != 1 else ''} need{'s' if total == 1 else ''} attention"
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(
        "New in the MesoGuide staff console: " + ", ".join(parts) + ".\n\n"
        f"Open the console to see them (sign-in required):\n{settings.public_url}/\n\n"
        "For the visitors' privacy this e-mail holds no names, contact details or messages.\n"
    )
    return message


def send(settings: AlertSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


def check(url: str, settings: AlertSettings, data_dir: Path) -> Optional[Dict[str, int]]:
    """One check: sends one e-mail when there is something new; returns the counts sent."""
    path = Path(data_dir) / STATE_FILE
    state = _load_state(path)
    if state is None:  # first run: start from now, do not announce the past
        with db.session(url) as s:
            _save_state(path, _max_ids(s))
        return None
    counts, latest = new_counts(url, state)
    if sum(counts.values()):
        send(settings, compose(settings, counts))
    _save_state(path, latest)  # only after a successful send: a failed one is retried
    return counts if sum(counts.values()) else None


def run_forever(url: str, settings: AlertSettings, data_dir: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            check(url, settings, data_dir)
        except Exception as exc:  # never crash the console; no message content in the log
            log.warning("alert check failed: %s", type(exc).__name__)
        stop.wait(settings.interval)


def start(url: str, data_dir: Path, env=None) -> Optional[threading.Event]:
    """Starts the alert thread when alerts are configured; returns its stop event."""
    settings = AlertSettings.from_env(env)
    if settings is None:
        return None
    stop = threading.Event()
    threading.Thread(
        target=run_forever, args=(url, settings, data_dir, stop), name="console-alerts", daemon=True
    ).start()
    return stop


def main() -> int:
    """`python -m console.alerts`: one check (for cron), with the console's settings."""
    from console.config import Settings

    settings = AlertSettings.from_env()
    if settings is None:
        print("Alerts are off: set CONSOLE_ALERT_SMTP_HOST and CONSOLE_ALERT_TO.")
        return 0
    app_settings = Settings.from_env()
    sent = check(app_settings.db_url, settings, app_settings.data_dir)
    print(f"Sent an alert: {sent}" if sent else "Nothing new to announce.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
