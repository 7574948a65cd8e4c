"""Several Rasa replicas behind nginx on one machine, for the scale-out test and the bench.

``Replicas`` starts one action server and ``n`` Rasa processes of the same model (each
through ``scripts.stack.Stack``, so with the same command line and environment as
``make run``), all with the same action secret and sender-id secret, the tracker store
on ``MESOGUIDE_DB_URL`` and the lock store chosen by ``MESOGUIDE_LOCK_STORE``, then
nginx from Debian's packages with a generated configuration on a free port, round
robin over the replicas. ``balancer_url`` is what clients talk to;
``upstream_counts()`` reads nginx's access log (which replica served each request).

    with Replicas(env, n=2, work_dir=tmp) as group:
        sender = new_sender(group.balancer_url)

``find_nginx()`` returns nginx's path, installing Debian's ``nginx-light`` once when it
is missing and we are root (as scripts/ensure_chromium.sh does for chromium), or None.
Everything listens on 127.0.0.1; every process started here is stopped by ``stop()``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from scripts.stack import Stack, stop_group

NGINX_PATHS = ("/usr/sbin/nginx", "/usr/bin/nginx")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_nginx(install: bool = True) -> Optional[str]:
    found = shutil.which("nginx") or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], env=env, capture_output=True, timeout=300)
        if not shutil.which("nginx"):
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=300)
            subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], env=env, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which("nginx") or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)


NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    log_format upstream '$request_uri $status $upstream_addr $request_time';
    access_log {prefix}/access.log upstream;
    client_max_body_size 64k;
    upstream rasa {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_read_timeout 120s;
            # a POST is never sent twice (a turn must not be handled by two replicas)
            proxy_next_upstream off;
        }}
    }}
}}
"""


def nginx_config(prefix: Path, port: int, upstream_ports: List[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
    return NGINX_CONF.format(prefix=prefix, port=port, servers=servers)


class Nginx:
    """nginx in the foreground with its own prefix directory (no system files touched)."""

    def __init__(self, binary: str, prefix: Path, upstream_ports: List[int], port: Optional[int] = None) -> None:
        self.binary, self.prefix = binary, Path(prefix)
        self.port = port or free_port()
        self.upstream_ports = list(upstream_ports)
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.prefix.mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(nginx_config(self.prefix, self.port, self.upstream_ports))
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(self.prefix / "stderr.log", "ab"), start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: "
                                   + (self.prefix / "stderr.log").read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/webhooks/rest/", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise TimeoutError("nginx did not answer")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_group(proc, 10)

    def upstream_counts(self, path_contains: str = "/webhook") -> Counter:
        """How many requests (whose URI contains ``path_contains``) each upstream served."""
        counts: Counter = Counter()
        log = self.prefix / "access.log"
        if log.exists():
            for line in log.read_text(errors="replace").splitlines():
                fields = line.split()
                if len(fields) >= 3 and path_contains in fields[0]:
                    counts[fields[2]] += 1
        return counts


class Replicas:
    """One action server, ``n`` Rasa replicas and nginx in front of them."""

    def __init__(self, env: Dict[str, str], n: int, work_dir: Path, nginx: Optional[str] = None,
                 start_timeout: float = 400.0) -> None:
        self.work_dir = Path(work_dir)
        self.n = n
        self.nginx_binary = nginx
        self.start_timeout = start_timeout
        env = dict(env)
        # One secret of each kind for every replica. An empty value counts as unset
        # (the Makefile exports MESOGUIDE_ACTION_SECRET empty): each Stack would then
        # make its own, and the second replica's calls to the one action server would
        # be refused.
        for name in ("MESOGUIDE_ACTION_SECRET", "MESOGUIDE_SENDER_SECRET"):
            if not env.get(name):
                env[name] = secrets.token_urlsafe(32)
        action_port = free_port()
        self.stacks: List[Stack] = []
        for index in range(n):
            data_dir = self.work_dir / f"replica{index}"
            replica_env = dict(env, RASA_PORT=str(free_port()), ACTION_PORT=str(action_port),
                               WEB_PORT=str(free_port()), CONSOLE_PORT=str(free_port()),
                               MESOGUIDE_DATA_DIR=str(data_dir))
            for key in ("RASA_URL", "WEB_ORIGIN"):
                replica_env.pop(key, None)
            self.stacks.append(Stack(env=replica_env, log_dir=data_dir / "logs"))
        self.nginx: Optional[Nginx] = None

    @property
    def rasa_ports(self) -> List[int]:
        return [stack.ports["rasa"] for stack in self.stacks]

    @property
    def balancer_url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def rasa_pids(self) -> List[int]:
        return [stack.procs["rasa"].pid for stack in self.stacks if "rasa" in stack.procs]

    def start(self) -> None:
        first = self.stacks[0]
        first.migrate()
        first.start("actions", timeout=self.start_timeout)
        errors: List[BaseException] = []

        def start_rasa(stack: Stack) -> None:
            try:
                stack.start("rasa", timeout=self.start_timeout)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=start_rasa, args=(stack,)) for stack in self.stacks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        if self.nginx_binary:
            self.nginx = Nginx(self.nginx_binary, self.work_dir / "nginx", self.rasa_ports)
            self.nginx.start()

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for stack in reversed(self.stacks):
            stack.stop_all()

    def log_tails(self, chars: int = 3000) -> str:
        out = []
        for stack in self.stacks:
            for log in sorted(stack.log_dir.glob("*.log")):
                out.append(f"--- {log} (tail) ---\n" + log.read_text(errors="replace")[-chars:])
        return "\n".join(out)

    def __enter__(self) -> "Replicas":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
