"""Starts and stops MesoGuide's processes: action server, Rasa, chat page, console.

``python -m scripts.stack run`` (what ``make run`` calls) migrates the database,
starts everything, waits until each part answers, prints the addresses and stops
all of it cleanly on Ctrl-C. Tests use the ``Stack`` class to do the same on
their own ports and database, and to stop and restart single parts.

Configuration comes from the environment (defaults in brackets): RASA_PORT [5005],
ACTION_PORT [5055], WEB_PORT [8080], CONSOLE_PORT [8081], MESOGUIDE_DB_URL
[SQLite under MESOGUIDE_DATA_DIR, default var/], MESOGUIDE_MODEL [models/mesoguide.tar.gz],
RASA_HOST and ACTION_HOST [127.0.0.1: the interfaces Rasa and the action server
listen on], MESOGUIDE_ACTION_SECRET [a random one per start: the shared secret Rasa
sends to the action server], SANIC_REQUEST_MAX_SIZE [64 KiB: Rasa refuses larger
request bodies with 413], MESOGUIDE_SENDER_SECRET [kept in <data dir>/sender_secret,
mode 0600, created on first start: signs the sender ids Rasa's REST channel issues, so
they survive restarts], RASA_LOG_LEVEL [INFO; WARNING or ERROR allowed, never DEBUG,
which logs what visitors write]. Rasa's HTTP API is never enabled.

Rasa reads ``endpoints.yml`` as it is: the action server's port and the secret reach
it as environment variables (``${ACTION_PORT}``, ``${MESOGUIDE_ACTION_SECRET}``).
While ``run`` is going, a part that exits is restarted after a pause that doubles
with each consecutive failure (1 s up to 60 s), and each restart is logged.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Dict, List, Optional

from channels.senders import SECRET_ENV as SENDER_SECRET_ENV
from channels.senders import load_or_create_secret
from records.db import default_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PARTS = ("actions", "rasa", "web", "console")
RASA_REQUEST_MAX_SIZE = 64 * 1024
"""Bytes of a request body Rasa accepts (the widget sends at most a few kilobytes)."""
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 60.0
STABLE_AFTER = 60.0
"""A part that ran this many seconds after a restart counts as recovered (backoff resets)."""


def backoff_delay(failures: int, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> float:
    """Seconds to wait before restarting after ``failures`` consecutive failures (1, 2, 4, ... cap)."""
    return min(cap, first * 2 ** max(0, failures - 1))


RASA_LOG_LEVELS = ("INFO", "WARNING", "ERROR")
"""DEBUG is refused: Rasa then logs every message a visitor types (health data)."""
SECRETS_OF = {"MESOGUIDE_ACTION_SECRET": ("rasa", "actions"), SENDER_SECRET_ENV: ("rasa",)}
"""Which parts get each secret in their environment (the others do not need it)."""


def rasa_log_level(env: Dict[str, str]) -> str:
    level = (env.get("RASA_LOG_LEVEL") or "INFO").strip().upper()
    if level not in RASA_LOG_LEVELS:
        raise ValueError(f"RASA_LOG_LEVEL must be one of {', '.join(RASA_LOG_LEVELS)} (DEBUG logs visitors' messages)")
    return level


def _port(env: Dict[str, str], name: str, default: int) -> int:
    return int(env.get(name) or default)


def stop_group(proc: Optional[subprocess.Popen], grace: float = 15.0) -> None:
    """Stops a process started in its own process group (and its children): SIGTERM,
    then SIGKILL after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Stack:
    """The four processes, configured from ``env`` (a copy of os.environ by default)."""

    def __init__(self, env: Optional[Dict[str, str]] = None, log_dir: Optional[Path] = None, echo: bool = False) -> None:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("MESOGUIDE_DATA_DIR") or ROOT / "var")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.ports = {
            "rasa": _port(env, "RASA_PORT", 5005),
            "actions": _port(env, "ACTION_PORT", 5055),
            "web": _port(env, "WEB_PORT", 8080),
            "console": _port(env, "CONSOLE_PORT", 8081),
        }
        env.setdefault("MESOGUIDE_DATA_DIR", str(data_dir))
        env.setdefault("MESOGUIDE_DB_URL", default_url(data_dir))
        env.setdefault("RASA_URL", f"http://localhost:{self.ports['rasa']}")
        env.setdefault("WEB_ORIGIN", f"http://localhost:{self.ports['web']}")
        for name in ("RASA_HOST", "ACTION_HOST"):
            if not env.get(name):
                env[name] = "127.0.0.1"
        if not env.get("MESOGUIDE_ACTION_SECRET"):
            # Fresh for every start: only the two processes started here know it.
            env["MESOGUIDE_ACTION_SECRET"] = secrets.token_urlsafe(32)
        if not env.get("SANIC_REQUEST_MAX_SIZE"):
            env["SANIC_REQUEST_MAX_SIZE"] = str(RASA_REQUEST_MAX_SIZE)
        if not (env.get(SENDER_SECRET_ENV) or "").strip():
            # Kept in the data directory, so ids issued before a restart still verify.
            env[SENDER_SECRET_ENV] = load_or_create_secret(data_dir)
        env["RASA_LOG_LEVEL"] = rasa_log_level(env)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_INTRA_OP_PARALLELISM_THREADS=env.get("TF_INTRA_OP_PARALLELISM_THREADS", "2"),
            TF_INTER_OP_PARALLELISM_THREADS=env.get("TF_INTER_OP_PARALLELISM_THREADS", "2"),
            RASA_PORT=str(self.ports["rasa"]),
            ACTION_PORT=str(self.ports["actions"]),
            WEB_PORT=str(self.ports["web"]),
            CONSOLE_PORT=str(self.ports["console"]),
        )
        self.env = env
        self.data_dir = data_dir
        self.db_url = env["MESOGUIDE_DB_URL"]
        self.model = Path(env.get("MESOGUIDE_MODEL") or ROOT / "models" / "mesoguide.tar.gz")
        self.log_dir = Path(log_dir or data_dir / "logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.procs: Dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self.failures: Dict[str, int] = {}
        self.retry_at: Dict[str, float] = {}
        self.started_at: Dict[str, float] = {}
        self.restarts: List[str] = []

    # --- addresses ---------------------------------------------------------------
    def url(self, part: str) -> str:
        return f"http://localhost:{self.ports[part]}"

    rasa_url = property(lambda self: self.url("rasa"))
    web_url = property(lambda self: self.url("web"))
    console_url = property(lambda self: self.url("console"))
    actions_url = property(lambda self: self.url("actions"))

    def command(self, part: str) -> List[str]:
        if part == "actions":
            return [PYTHON, "-m", "scripts.action_server", "--port", str(self.ports["actions"])]
        if part == "rasa":
            # No --enable-api: Rasa's HTTP API stays off (it would need --jwt-secret).
            # LOG_LEVEL (the environment, env_for) is Rasa's own; never DEBUG.
            return [
                PYTHON, "-m", "rasa", "run",
                "--model", str(self.model),
                "--interface", self.env["RASA_HOST"],
                "--port", str(self.ports["rasa"]),
                "--credentials", str(ROOT / "credentials.yml"),
                "--endpoints", str(ROOT / "endpoints.yml"),
                "--cors", self.env["WEB_ORIGIN"],
            ]
        if part == "web":
            return [PYTHON, "-m", "web"]
        if part == "console":
            return [PYTHON, "-m", "console"]
        raise ValueError(part)

    def env_for(self, part: str) -> Dict[str, str]:
        """The environment of one part: the request-size cap and the log level are Rasa's
        only (the action server receives whole trackers and sets its own limit), and each
        secret goes only to the parts that use it."""
        env = dict(self.env)
        if part != "rasa":
            env.pop("SANIC_REQUEST_MAX_SIZE", None)
        else:
            env["LOG_LEVEL"] = env["RASA_LOG_LEVEL"]
            env["LOG_LEVEL_LIBRARIES"] = "ERROR"
        for name, parts in SECRETS_OF.items():
            if part not in parts:
                env.pop(name, None)
        return env

    def health_url(self, part: str) -> str:
        path = {"actions": "/health", "rasa": "/webhooks/rest/", "web": "/", "console": "/login"}[part]
        return self.url(part) + path

    # --- control -----------------------------------------------------------------------
    def migrate(self) -> None:
        subprocess.run([PYTHON, "-m", "records", "upgrade"], cwd=ROOT, env=self.env, check=True)

    def _pump(self, part: str, stream: IO[bytes], log: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            log.write(line)
            log.flush()
            if self.echo:
                sys.stdout.write(f"[{part}] {line.decode(errors='replace')}")
                sys.stdout.flush()

    def port_in_use(self, part: str) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            return sock.connect_ex(("127.0.0.1", self.ports[part])) == 0

    def start(self, part: str, timeout: float = 240.0) -> None:
        """Starts ``part`` and returns when it answers (raises if it dies or times out)."""
        if part in self.procs and self.procs[part].poll() is None:
            return
        if self.port_in_use(part):
            raise RuntimeError(
                f"port {self.ports[part]} for {part} is already in use (is MesoGuide already running?); "
                f"stop that process or choose another port"
            )
        log = open(self.log_dir / f"{part}.log", "ab")
        proc = subprocess.Popen(
            self.command(part), cwd=ROOT, env=self.env_for(part), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(part, proc.stdout, log), daemon=True).start()
        self.procs[part] = proc
        self.started_at[part] = time.monotonic()
        self.wait_ready(part, timeout)

    def wait_ready(self, part: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stopping.is_set():
                raise RuntimeError(f"stopping while {part} was starting")
            proc = self.procs.get(part)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{part} exited with {proc.returncode}; see {self.log_dir / (part + '.log')}")
            try:
                with urllib.request.urlopen(self.health_url(part), timeout=2) as resp:
                    if resp.status < 500:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{part} not ready after {timeout:.0f} s; see {self.log_dir / (part + '.log')}")

    def stop(self, part: str, timeout: float = 15.0) -> None:
        stop_group(self.procs.pop(part, None), timeout)

    def start_all(self, parts=PARTS) -> None:
        self.migrate()
        for part in parts:
            self.start(part)

    def stop_all(self) -> None:
        for part in reversed(list(self.procs)):
            self.stop(part)

    # --- supervision (make run) --------------------------------------------------------
    def _log(self, message: str) -> None:
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + message
        print(line, flush=True)
        with open(self.log_dir / "stack.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def supervise_once(self, now: Optional[float] = None) -> None:
        """One round of supervision: notice parts that exited, restart those whose
        pause is over. A failed restart doubles the pause; a part that stays up for
        ``STABLE_AFTER`` seconds starts again from the first pause."""
        now = time.monotonic() if now is None else now
        for part, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                if self.failures.get(part) and now - self.started_at.get(part, now) >= STABLE_AFTER:
                    self.failures[part] = 0
                continue
            del self.procs[part]
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind
            except (ProcessLookupError, PermissionError):
                pass
            self._schedule_restart(part, f"{part} exited unexpectedly (exit {code})", now)
        for part, when in list(self.retry_at.items()):
            if self.stopping.is_set() or now < when:
                continue
            del self.retry_at[part]
            self._log(f"restarting {part} (attempt {self.failures[part]})")
            try:
                self.start(part)
            except (RuntimeError, TimeoutError) as exc:
                self.stop(part)
                if self.stopping.is_set():
                    return
                self._schedule_restart(part, f"{part} did not come back: {exc}", time.monotonic())
            else:
                self.restarts.append(part)
                self._log(f"{part} is running again")

    def _schedule_restart(self, part: str, reason: str, now: float) -> None:
        failures = self.failures.get(part, 0) + 1
        self.failures[part] = failures
        delay = backoff_delay(failures)
        self.retry_at[part] = now + delay
        self._log(f"{reason}; restarting in {delay:.0f} s")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--only", nargs="*", choices=PARTS, help="start only these parts")
    args = parser.parse_args(argv)
    stack = Stack(echo=True)
    stopping = stack.stopping

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start_all(args.only or PARTS)
        print(
            "\nMesoGuide is running:\n"
            f"  chat page and widget  {stack.web_url}/\n"
            f"  staff console         {stack.console_url}/\n"
            f"  Rasa (REST channel)   {stack.rasa_url}/webhooks/rest/webhook\n"
            f"  action server         {stack.actions_url}/webhook (Rasa only: shared secret)\n"
            f"  database              {stack.db_url}\n"
            f"  logs                  {stack.log_dir}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping.wait(1.0):
            stack.supervise_once()
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        print(f"Could not start MesoGuide: {exc}", file=sys.stderr)
        stack.stop_all()
        return 1
    print("Stopping...", flush=True)
    stack.stop_all()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
