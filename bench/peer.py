"""`make bench`, part 2: MesoGuide side by side with Rasa's starter bot, in one run.

The starter bot is made here, in a temporary folder: ``rasa init --no-prompt`` (which
trains it; nothing is downloaded: its default pipeline has no pretrained models), then
started on its own port with its own endpoints (in-memory tracker store, no action
server). MesoGuide runs as ``make run`` runs it (scripts/stack.py: action server + Rasa,
SQLite tracker store) on other ports. Measured for both, one bot at a time:

- sequential median per message over REST (one client);
- throughput, p50/p95 with 10 concurrent clients (saturation);
- p50/p95/p99 at fixed arrival rates (5, 10, 20 msg/s of many visitors, open loop);
- training from scratch (``rasa train`` into a temporary folder with
  RASA_MAX_CACHE_SIZE=0; the starter bot: ``rasa init``, which is its training);
- start-up until the REST channel answers a message;
- resident memory of Rasa (and of MesoGuide's action server).

Then for MesoGuide only: turn 1 vs turn 200 of one conversation, and throughput with
10 clients through nginx in front of one vs two Rasa replicas (PostgreSQL tracker store,
Redis lock store: scripts/replicas.py; skipped with the reason when one is missing).

Prints one table, writes ``bench/results/latest.json`` and ``bench/results/latest.png``.
Nothing is asserted (2 shared cores make the figures noisy; the ratios of one run are
what counts); the issue-14 targets are printed next to the ratios.

Options: ``--skip-training`` (no training from scratch: saves minutes),
``--model PATH`` (MesoGuide's model, default MESOGUIDE_MODEL or models/mesoguide.tar.gz),
``--port-base`` (default 18400: everything started here uses ports from there on).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.client import new_sender, send  # noqa: E402
from scripts.replicas import Nginx, Replicas, find_nginx  # noqa: E402
from scripts.stack import Stack, stop_group  # noqa: E402

PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"
CLIENTS = 10
SEQUENTIAL_MESSAGES = int(os.environ.get("BENCH_PEER_SEQUENTIAL", "40"))
CONCURRENT_SECONDS = float(os.environ.get("BENCH_PEER_SECONDS", "20"))
LONG_TURNS = 200
TARGETS = {"sequential_median_ratio": ("<=", 1.5), "throughput_ratio": (">=", 0.8),
           "meso_train_s": ("<=", 180.0), "meso_startup_s": ("<=", 25.0), "meso_rasa_rss_mb": ("<=", 1228.8),
           "turn200_vs_turn1": ("<=", 1.2)}

MESO_SCRIPTS = [
    ["hello", "what is mesotherapy?", "is that proven?", "what's your source?", "thanks"],
    ["how many sessions are needed?", "does it stop hair loss?", "who should do it?", "thanks"],
    ["what is injected?", "is DHI non-invasive?", "what can't it do?", "bye"],
]
STARTER_SCRIPTS = [
    ["hello", "I am sad", "yes", "bye"],
    ["hi", "great", "are you a bot?", "goodbye"],
    ["good morning", "not good", "no", "see you"],
]
LONG_MESSAGES = ["what is mesotherapy?", "is that proven?", "how many sessions are needed?",
                 "what is injected?", "who should do it?", "thanks"]


# --- helpers ---------------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, MB."""
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                    text=True).stdout.split()]
    total = 0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def base_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="2",
               SQLALCHEMY_SILENCE_UBER_WARNING="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return env


class Bot:
    """How the bench talks to one bot: a new conversation id, and one message."""

    def __init__(self, name: str, url: str, scripts: List[List[str]], issued_ids: bool) -> None:
        self.name, self.url, self.scripts, self.issued_ids = name, url, scripts, issued_ids

    def new_conversation(self) -> str:
        return new_sender(self.url) if self.issued_ids else "bench-" + secrets.token_hex(8)

    def message(self, sender: str, text: str) -> float:
        start = time.perf_counter()
        replies = send(self.url, sender, text, timeout=120, retries=0)
        elapsed = time.perf_counter() - start
        if not replies:
            raise RuntimeError(f"{self.name}: no answer to {text!r}")
        return elapsed


def sequential(bot: Bot, messages: int = SEQUENTIAL_MESSAGES) -> Dict[str, float]:
    latencies: List[float] = []
    while len(latencies) < messages:
        for script in bot.scripts:
            sender = bot.new_conversation()
            for text in script:
                latencies.append(bot.message(sender, text))
    return {"median_ms": statistics.median(latencies) * 1000, "p95_ms": percentile(latencies, 0.95) * 1000,
            "messages": len(latencies)}


def concurrent(bot: Bot, clients: int = CLIENTS, seconds: float = CONCURRENT_SECONDS) -> Dict[str, float]:
    """``clients`` threads play conversations without pause for ``seconds``."""
    latencies: List[float] = []
    errors: List[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        turn = index
        while time.perf_counter() < deadline:
            script = bot.scripts[turn % len(bot.scripts)]
            turn += 1
            try:
                sender = bot.new_conversation()
                for text in script:
                    elapsed = bot.message(sender, text)
                    with lock:
                        latencies.append(elapsed)
                    if time.perf_counter() >= deadline:
                        return
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(type(exc).__name__)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"messages_per_s": len(latencies) / wall, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000, "messages": len(latencies), "errors": len(errors)}


ARRIVAL_RATES = (5.0, 10.0, 20.0)
ARRIVAL_SECONDS = float(os.environ.get("BENCH_PEER_ARRIVAL_SECONDS", "12"))


def fixed_rate(bot: Bot, rate: float, seconds: float = ARRIVAL_SECONDS) -> Dict[str, float]:
    """Open-loop load: messages arrive at ``rate`` per second whatever the answers take,
    each from a visitor who is not waiting for an answer (a new visitor when all are):
    visitors go through their scripts with think time given by the arrival rate.
    Returns p50/p95/p99 and how many messages were answered."""
    from concurrent.futures import ThreadPoolExecutor

    idle: List[List[object]] = []  # [sender, script, position]
    lock = threading.Lock()
    latencies: List[float] = []
    errors: List[str] = []
    made = [0]

    def one(visitor: List[object]) -> None:
        sender, script, position = visitor
        try:
            if sender is None:
                sender = visitor[0] = bot.new_conversation()
            elapsed = bot.message(sender, script[position])
            with lock:
                latencies.append(elapsed)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(type(exc).__name__)
        visitor[2] = position + 1
        if visitor[2] < len(script):
            with lock:
                idle.append(visitor)

    total = int(rate * seconds)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=256) as pool:
        for index in range(total):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with lock:
                visitor = idle.pop(0) if idle else None
            if visitor is None:
                made[0] += 1
                visitor = [None, bot.scripts[made[0] % len(bot.scripts)], 0]
            pool.submit(one, visitor)
    wall = time.perf_counter() - start
    if not latencies:
        return {"rate": rate, "answered": 0, "errors": len(errors)}
    return {"rate": rate, "answered_per_s": len(latencies) / wall, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
            "answered": len(latencies), "errors": len(errors), "visitors": made[0]}


def wait_answering(bot: Bot, proc: subprocess.Popen, timeout: float = 600.0) -> None:
    """Returns when the bot answers a message (not only its health route)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{bot.name} exited with {proc.returncode}")
        try:
            if bot.message(bot.new_conversation(), "hello") >= 0:
                return
        except (urllib.error.URLError, OSError, ValueError, RuntimeError):
            time.sleep(0.25)
    raise TimeoutError(f"{bot.name} did not answer within {timeout:.0f} s")


def timed(command: List[str], cwd: Path, env: Dict[str, str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "ab") as out:
        subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start


# --- the two bots ------------------------------------------------------------------------------
def make_starter(folder: Path, env: Dict[str, str]) -> float:
    """``rasa init --no-prompt`` (copies the starter project and trains it); seconds."""
    return timed([PYTHON, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)], folder, env,
                 folder.parent / "starter-init.log")


def start_starter(folder: Path, port: int, env: Dict[str, str]) -> subprocess.Popen:
    log = open(folder.parent / "starter-run.log", "ab")
    return subprocess.Popen(
        [PYTHON, "-m", "rasa", "run", "--model", str(folder / "models"), "--interface", "127.0.0.1",
         "--port", str(port), "--credentials", str(folder / "credentials.yml"),
         "--endpoints", str(folder / "endpoints.yml")],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def train_mesoguide(out: Path, env: Dict[str, str]) -> float:
    return timed([PYTHON, "-m", "rasa", "train", "--fixed-model-name", "bench", "--out", str(out)],
                 ROOT, env, out / "train.log")


def mesoguide_env(port_base: int, data_dir: Path, model: Path) -> Dict[str, str]:
    env = base_env()
    env.update(RASA_PORT=str(port_base + 5), ACTION_PORT=str(port_base + 55), WEB_PORT=str(port_base + 80),
               CONSOLE_PORT=str(port_base + 81), MESOGUIDE_DATA_DIR=str(data_dir),
               MESOGUIDE_DB_URL=f"sqlite:///{data_dir / 'bench.db'}", MESOGUIDE_MODEL=str(model),
               MESOGUIDE_RATE_PER_IP="0", MESOGUIDE_RATE_SESSIONS_PER_IP="0", MESOGUIDE_RATE_PER_SENDER="0",
               MESOGUIDE_LOCK_STORE="in_memory", RASA_LOG_LEVEL="WARNING")
    for key in ("RASA_URL", "WEB_ORIGIN"):
        env.pop(key, None)
    return env


def long_conversation(bot: Bot, turns: int = LONG_TURNS, compared: int = 10) -> Dict[str, float]:
    """Latency of the last ``compared`` turns of a ``turns``-turn conversation against
    the same messages at the start of fresh conversations (turns 2 to ``compared``+1,
    after a greeting), sent alternately so that both see the same machine load."""
    long_sender = bot.new_conversation()
    for i in range(turns - compared):
        bot.message(long_sender, LONG_MESSAGES[i % len(LONG_MESSAGES)])
    fresh_sender = bot.new_conversation()
    bot.message(fresh_sender, "hello")
    early, late = [], []
    for i in range(turns - compared, turns):
        text = LONG_MESSAGES[i % len(LONG_MESSAGES)]
        early.append(bot.message(fresh_sender, text))
        late.append(bot.message(long_sender, text))
    first = statistics.median(early) * 1000
    last = statistics.median(late) * 1000
    return {"turn1_ms": first, "turn200_ms": last, "ratio": last / first,
            "what": f"median of turns {turns - compared + 1}-{turns} vs the same messages as turns 2-{compared + 1} "
                    "of a fresh conversation, sent alternately"}


# --- one replica vs two ---------------------------------------------------------------------
def replica_figures(model: Path, work: Path) -> Dict[str, object]:
    import socket

    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    nginx = find_nginx()
    if not nginx:
        return {"skipped": "nginx is not installed"}
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 6379)) != 0:
            return {"skipped": "Redis is not reachable on 127.0.0.1:6379"}
    admin_url = os.environ.get("MESOGUIDE_TEST_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    name = "mesoguide_bench_" + secrets.token_hex(6)
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                                 connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - reported as the reason
        return {"skipped": f"PostgreSQL unreachable ({type(exc).__name__})"}
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    env = base_env()
    env.update(MESOGUIDE_DB_URL=url, MESOGUIDE_MODEL=str(model), MESOGUIDE_LOCK_STORE="redis",
               MESOGUIDE_REDIS_HOST="127.0.0.1", MESOGUIDE_REDIS_PORT="6379", MESOGUIDE_REDIS_DB="8",
               MESOGUIDE_REDIS_KEY_PREFIX="bench" + secrets.token_hex(4),
               MESOGUIDE_RATE_PER_IP="0", MESOGUIDE_RATE_SESSIONS_PER_IP="0", MESOGUIDE_RATE_PER_SENDER="0",
               RASA_LOG_LEVEL="WARNING")
    group = Replicas(env, n=2, work_dir=work / "replicas", nginx=nginx)
    single: Optional[Nginx] = None
    try:
        group.start()
        single = Nginx(nginx, work / "nginx-one", group.rasa_ports[:1])
        single.start()
        one = concurrent(Bot("one replica", single.url, MESO_SCRIPTS, True))
        two = concurrent(Bot("two replicas", group.balancer_url, MESO_SCRIPTS, True))
        return {"one_replica": one, "two_replicas": two,
                "throughput_ratio": two["messages_per_s"] / max(one["messages_per_s"], 1e-9)}
    finally:
        if single is not None:
            single.stop()
        group.stop()
        from records import db

        db.dispose_engine(url)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- output --------------------------------------------------------------------------------------
def verdict(key: str, value: Optional[float]) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, limit = TARGETS[key]
    met = value <= limit if op == "<=" else value >= limit
    return f"target {op} {limit:g}: {'met' if met else 'MISSED'}"


def table(results: Dict[str, object]) -> str:
    meso, starter = results["mesoguide"], results["starter"]

    def fmt(value, unit=""):
        return "-" if value is None else f"{value:,.1f}{unit}"

    def ratio(a, b):
        return None if a is None or b in (None, 0) else a / b

    rows = [
        ("sequential median per message", meso["sequential"]["median_ms"], starter["sequential"]["median_ms"], " ms",
         "sequential_median_ratio"),
        (f"{CLIENTS} clients: throughput", meso["concurrent"]["messages_per_s"],
         starter["concurrent"]["messages_per_s"], " msg/s", "throughput_ratio"),
        (f"{CLIENTS} clients: p50", meso["concurrent"]["p50_ms"], starter["concurrent"]["p50_ms"], " ms", None),
        (f"{CLIENTS} clients: p95", meso["concurrent"]["p95_ms"], starter["concurrent"]["p95_ms"], " ms", None),
        ("training from scratch", meso.get("train_s"), starter.get("train_s"), " s", None),
        ("start-up until it answers", meso["startup_s"], starter["startup_s"], " s", None),
        ("Rasa resident memory", meso["rasa_rss_mb"], starter["rasa_rss_mb"], " MB", None),
        ("action server resident memory", meso["actions_rss_mb"], None, " MB", None),
    ]
    lines = [f"{'':34} {'MesoGuide':>14} {'starter bot':>14} {'ratio':>7}",
             "-" * 74]
    for label, a, b, unit, key in rows:
        r = ratio(a, b)
        lines.append(f"{label:34} {fmt(a, unit):>14} {fmt(b, unit):>14} {fmt(r):>7}  {verdict(key, r) if key else ''}")
    for m_rate, s_rate in zip(meso.get("fixed_rates") or [], starter.get("fixed_rates") or []):
        lines.append(f"{m_rate['rate']:>4.0f} msg/s arriving: p50/p95/p99 "
                     f"MesoGuide {m_rate.get('p50_ms', 0):,.0f}/{m_rate.get('p95_ms', 0):,.0f}/{m_rate.get('p99_ms', 0):,.0f} ms, "
                     f"starter {s_rate.get('p50_ms', 0):,.0f}/{s_rate.get('p95_ms', 0):,.0f}/{s_rate.get('p99_ms', 0):,.0f} ms")
    lines.append(f"saturation ({CLIENTS} clients without pause): MesoGuide {meso['concurrent']['messages_per_s']:.1f} msg/s, "
                 f"starter {starter['concurrent']['messages_per_s']:.1f} msg/s")
    lines.append("-" * 74)
    long = meso.get("long_conversation") or {}
    if long:
        lines.append(f"MesoGuide early turns vs turns {LONG_TURNS - 9}-{LONG_TURNS} of one conversation: "
                     f"{long['turn1_ms']:.0f} ms vs {long['turn200_ms']:.0f} ms "
                     f"(x{long['ratio']:.2f})  {verdict('turn200_vs_turn1', long['ratio'])}")
    replicas = results.get("replicas") or {}
    if "skipped" in replicas:
        lines.append(f"one vs two replicas: skipped ({replicas['skipped']})")
    elif replicas:
        one, two = replicas["one_replica"], replicas["two_replicas"]
        lines.append(f"MesoGuide behind nginx, PostgreSQL + Redis, {CLIENTS} clients: one replica "
                     f"{one['messages_per_s']:.1f} msg/s (p95 {one['p95_ms']:.0f} ms), two replicas "
                     f"{two['messages_per_s']:.1f} msg/s (p95 {two['p95_ms']:.0f} ms): x{replicas['throughput_ratio']:.2f}")
    for key in ("meso_train_s", "meso_startup_s", "meso_rasa_rss_mb"):
        value = {"meso_train_s": meso.get("train_s"), "meso_startup_s": meso["startup_s"],
                 "meso_rasa_rss_mb": meso["rasa_rss_mb"]}[key]
        if value is not None:
            lines.append(f"MesoGuide {key[5:]}: {value:.1f}  {verdict(key, value)}")
    return "\n".join(lines)


def chart(results: Dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meso, starter = results["mesoguide"], results["starter"]
    panels = [
        ("sequential median (ms)", meso["sequential"]["median_ms"], starter["sequential"]["median_ms"]),
        (f"throughput, {CLIENTS} clients (msg/s)", meso["concurrent"]["messages_per_s"],
         starter["concurrent"]["messages_per_s"]),
        (f"p95, {CLIENTS} clients (ms)", meso["concurrent"]["p95_ms"], starter["concurrent"]["p95_ms"]),
        ("start-up (s)", meso["startup_s"], starter["startup_s"]),
        ("Rasa memory (MB)", meso["rasa_rss_mb"], starter["rasa_rss_mb"]),
    ]
    if meso.get("train_s") is not None and starter.get("train_s") is not None:
        panels.append(("training (s)", meso["train_s"], starter["train_s"]))
    figure, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.4))
    for axis, (title, a, b) in zip(axes, panels):
        axis.bar(["MesoGuide", "starter"], [a, b], color=["#2f6f8f", "#b0b0b0"])
        axis.set_title(title, fontsize=9)
        axis.tick_params(labelsize=8)
    figure.suptitle(f"MesoGuide vs Rasa's starter bot, one run ({results['when']})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# --- main -------------------------------------------------------------------------------------------
def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-training", action="store_true", help="do not time training from scratch")
    parser.add_argument("--skip-replicas", action="store_true", help="do not measure one vs two replicas")
    parser.add_argument("--model", default=os.environ.get("MESOGUIDE_MODEL") or str(ROOT / "models" / "mesoguide.tar.gz"))
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("BENCH_PEER_PORT_BASE", "18400")))
    args = parser.parse_args(argv)
    model = Path(args.model)
    work = Path(tempfile.mkdtemp(prefix="mesoguide-peer-"))
    env = base_env()
    env["RASA_MAX_CACHE_SIZE"] = "0"
    results: Dict[str, object] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                  "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0],
                                  "mesoguide": {}, "starter": {}}
    meso: Dict[str, object] = results["mesoguide"]  # type: ignore[assignment]
    starter: Dict[str, object] = results["starter"]  # type: ignore[assignment]
    starter_proc: Optional[subprocess.Popen] = None
    stack: Optional[Stack] = None
    try:
        # the starter bot: create and train, start, measure, stop
        folder = work / "starter"
        folder.mkdir()
        print("==> starter bot: rasa init --no-prompt (creates and trains it)", flush=True)
        starter["train_s"] = make_starter(folder, env)
        starter_bot = Bot("starter bot", f"http://127.0.0.1:{args.port_base + 1}", STARTER_SCRIPTS, False)
        started = time.perf_counter()
        starter_proc = start_starter(folder, args.port_base + 1, env)
        wait_answering(starter_bot, starter_proc)
        starter["startup_s"] = time.perf_counter() - started
        print("==> starter bot: measuring", flush=True)
        starter["sequential"] = sequential(starter_bot)
        starter["concurrent"] = concurrent(starter_bot)
        starter["fixed_rates"] = [fixed_rate(starter_bot, rate) for rate in ARRIVAL_RATES]
        starter["rasa_rss_mb"] = rss_mb(starter_proc.pid)
        stop_group(starter_proc)
        starter_proc = None

        # MesoGuide as make run starts it
        print("==> MesoGuide: starting (action server, then Rasa)", flush=True)
        data_dir = work / "mesoguide"
        data_dir.mkdir()
        stack = Stack(env=mesoguide_env(args.port_base, data_dir, model), log_dir=data_dir / "logs")
        stack.migrate()
        stack.start("actions")
        meso_bot = Bot("MesoGuide", stack.rasa_url, MESO_SCRIPTS, True)
        started = time.perf_counter()
        stack.start("rasa", timeout=600)
        wait_answering(meso_bot, stack.procs["rasa"])
        meso["startup_s"] = time.perf_counter() - started
        print("==> MesoGuide: measuring", flush=True)
        meso["sequential"] = sequential(meso_bot)
        meso["concurrent"] = concurrent(meso_bot)
        meso["fixed_rates"] = [fixed_rate(meso_bot, rate) for rate in ARRIVAL_RATES]
        meso["rasa_rss_mb"] = rss_mb(stack.procs["rasa"].pid)
        meso["actions_rss_mb"] = rss_mb(stack.procs["actions"].pid)
        print(f"==> MesoGuide: one conversation of {LONG_TURNS} turns", flush=True)
        meso["long_conversation"] = long_conversation(meso_bot)
        stack.stop_all()
        stack = None

        if not args.skip_replicas:
            print("==> MesoGuide: one replica vs two behind nginx (PostgreSQL, Redis)", flush=True)
            results["replicas"] = replica_figures(model, work)

        meso["train_s"] = None
        if not args.skip_training:
            print("==> MesoGuide: rasa train from scratch (RASA_MAX_CACHE_SIZE=0)", flush=True)
            out = work / "train"
            out.mkdir()
            try:
                meso["train_s"] = train_mesoguide(out, env)
            except subprocess.CalledProcessError as exc:
                meso["train_error"] = f"rasa train exited with {exc.returncode} (see {out / 'train.log'})"
                print(meso["train_error"], file=sys.stderr)
    finally:
        stop_group(starter_proc)
        if stack is not None:
            stack.stop_all()

    results["ratios"] = {
        "sequential_median_ratio": meso["sequential"]["median_ms"] / starter["sequential"]["median_ms"],
        "throughput_ratio": meso["concurrent"]["messages_per_s"] / starter["concurrent"]["messages_per_s"],
        "p95_ratio": meso["concurrent"]["p95_ms"] / starter["concurrent"]["p95_ms"],
        "startup_ratio": meso["startup_s"] / starter["startup_s"],
        "memory_ratio": meso["rasa_rss_mb"] / starter["rasa_rss_mb"],
    }
    if meso.get("train_s") is not None:
        results["ratios"]["training_ratio"] = meso["train_s"] / starter["train_s"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, RESULTS / "latest.png")
    print("\nMesoGuide vs Rasa's starter bot (same machine, one run; "
          f"load average at start {results['load_average_at_start']:.1f} on {results['cpus']} CPUs)")
    print(table(results))
    print(f"\nwritten: {RESULTS / 'latest.json'}, {RESULTS / 'latest.png'}")
    if meso.get("train_error"):
        print(f"kept for the training log: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
