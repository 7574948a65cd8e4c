"""Starts and stops MesoGuide's processes: action server, Rasa, chat page, console.

``python -m scripts.stack run`` (what ``make run`` calls) migrates the database,
starts everything, waits until each part answers, prints the addresses and stops
all of it cleanly on Ctrl-C. Tests use the ``Stack`` class to do the same on
their own ports and database, and to stop and restart single parts.

Configuration comes from the environment (defaults in brackets): RASA_PORT [5005],
ACTION_PORT [5055], WEB_PORT [8080], CONSOLE_PORT [8081], MESOGUIDE_DB_URL
[SQLite under MESOGUIDE_DATA_DIR, default var/], MESOGUIDE_MODEL [models/mesoguide.tar.gz].
"""
from __future__ import annotations

import argparse
import os
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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PARTS = ("actions", "rasa", "web", "console")


def _port(env: Dict[str, str], name: str, default: int) -> int:
    return int(env.get(name) or default)


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
        env.setdefault("MESOGUIDE_DB_URL", f"sqlite:///{data_dir / 'mesoguide.db'}")
        env.setdefault("RASA_URL", f"http://localhost:{self.ports['rasa']}")
        env.setdefault("WEB_ORIGIN", f"http://localhost:{self.ports['web']}")
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

    # --- addresses ---------------------------------------------------------------
    def url(self, part: str) -> str:
        return f"http://localhost:{self.ports[part]}"

    rasa_url = property(lambda self: self.url("rasa"))
    web_url = property(lambda self: self.url("web"))
    console_url = property(lambda self: self.url("console"))
    actions_url = property(lambda self: self.url("actions"))

    def _endpoints_file(self) -> Path:
        """endpoints.yml with the action server's port filled in."""
        text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
        text = text.replace("http://localhost:5055/webhook", f"http://localhost:{self.ports['actions']}/webhook")
        path = self.data_dir / "endpoints.runtime.yml"
        path.write_text(text, encoding="utf-8")
        return path

    def command(self, part: str) -> List[str]:
        if part == "actions":
            return [PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.ports["actions"])]
        if part == "rasa":
            return [
                PYTHON, "-m", "rasa", "run",
                "--model", str(self.model),
                "--port", str(self.ports["rasa"]),
                "--credentials", str(ROOT / "credentials.yml"),
                "--endpoints", str(self._endpoints_file()),
                "--cors", self.env["WEB_ORIGIN"],
            ]
        if part == "web":
            return [PYTHON, "-m", "web"]
        if part == "console":
            return [PYTHON, "-m", "console"]
        raise ValueError(part)

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
            self.command(part), cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(part, proc.stdout, log), daemon=True).start()
        self.procs[part] = proc
        self.wait_ready(part, timeout)

    def wait_ready(self, part: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
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
        proc = self.procs.pop(part, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def start_all(self, parts=PARTS) -> None:
        self.migrate()
        for part in parts:
            self.start(part)

    def stop_all(self) -> None:
        for part in reversed(list(self.procs)):
            self.stop(part)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--only", nargs="*", choices=PARTS, help="start only these parts")
    args = parser.parse_args(argv)
    stack = Stack(echo=True)
    stopping = threading.Event()

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
            f"  Rasa (REST, socket.io) {stack.rasa_url}/webhooks/rest/webhook\n"
            f"  action server         {stack.actions_url}/webhook\n"
            f"  database              {stack.db_url}\n"
            f"  logs                  {stack.log_dir}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping.wait(1.0):
            for part, proc in list(stack.procs.items()):
                if proc.poll() is not None:
                    print(f"{part} stopped unexpectedly (exit {proc.returncode}); stopping everything.", flush=True)
                    stopping.set()
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
