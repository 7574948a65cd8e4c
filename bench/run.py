"""`make bench`: speed and memory of the running assistant, then the console bench.

Starts actions + Rasa on bench ports (25105/25155) with a fresh SQLite database,
plays scripted conversations over the REST channel, and prints latency per message
(median, p95), throughput with one client, and the resident memory of the Rasa and
action-server processes. Exits non-zero when a target is missed:
median < 300 ms, p95 < 1000 ms, Rasa RSS < 2.5 GB. Then the input limits of issue 13:
a 1 MB body and a 60,000-character message must be answered or refused within 2 s,
a visitor writing while three clients flood the channel must keep p95 < 1000 ms, and
redaction must stay linear (a doubled adversarial text costs at most ~2.5x as much);
Rasa's memory after the flood is printed. Then runs bench/console_bench.py
(inbox and search with 10,000 conversations, target < 300 ms).
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels import client as channel_client  # noqa: E402
from channels.client import new_sender  # noqa: E402
from scripts.stack import Stack  # noqa: E402

CONVERSATIONS = [
    ["hello", "what is mesotherapy?", "is that proven?", "what's your source?", "thanks"],
    ["can I have mesotherapy?", "no", "no", "nope", "not that I know", "no", "no", "no"],
    ["my hair is thinning at the crown", "temples and crown", "gradually", "no", "no", "no", "no", "yes"],
    ["I'd like to book a consultation", "mesotherapy", "yes", "Sam Taylor", "mornings", "sam@example.com"],
    ["does it stop hair loss?", "does it reduce dandruff?", "is DHI non-invasive?", "how much does it cost?"],
]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
TARGETS = {"median_ms": 300.0, "p95_ms": 1000.0, "rasa_rss_mb": 2560.0}
LIMIT_TARGETS = {"refuse_1mb_body_ms": 2000.0, "answer_60k_message_ms": 2000.0,
                 "p95_during_flood_ms": 1000.0, "rasa_rss_after_flood_mb": 2560.0}
REDACTION_TARGETS = {"doubling_ratio": 2.5}


def rss_mb(pid: int) -> float:
    total = 0
    for child in [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def post(url: str, sender: str, text: str) -> float:
    start = time.perf_counter()
    replies = channel_client.send(url, sender, text, timeout=60, retries=0)
    elapsed = time.perf_counter() - start
    if not replies:
        raise RuntimeError(f"empty reply to {text!r}")
    return elapsed


def refuse_big_body(port: int, size: int = 1024 * 1024) -> float:
    """Sends a POST declaring ``size`` bytes; returns seconds until the status line."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: localhost\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n{{".encode())
        status = conn.recv(4096).split(b"\r\n", 1)[0]
    if b" 413 " not in status + b" ":
        raise RuntimeError(f"expected 413, got {status!r}")
    return time.perf_counter() - start


def limit_figures(stack: Stack) -> dict:
    """Issue 13: oversized input is refused fast and nobody else waits for it."""
    figures = {"refuse_1mb_body_ms": refuse_big_body(stack.ports["rasa"]) * 1000,
               "answer_60k_message_ms": post(stack.rasa_url, new_sender(stack.rasa_url), "x " * 30000) * 1000}
    stop = threading.Event()
    flooder = new_sender(stack.rasa_url)

    def flood() -> None:
        while not stop.is_set():
            refuse_big_body(stack.ports["rasa"])
            post(stack.rasa_url, flooder, "y" * 60000)

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        latencies = sorted(post(stack.rasa_url, new_sender(stack.rasa_url), "what is mesotherapy?") for _ in range(20))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    figures["p95_during_flood_ms"] = latencies[int(0.95 * (len(latencies) - 1))] * 1000
    figures["rasa_rss_after_flood_mb"] = rss_mb(stack.procs["rasa"].pid)
    return figures


def redaction_figures() -> dict:
    """Seconds to redact adversarial texts of 100k and 200k characters, and the ratio."""
    from records.redaction import redact_text

    shapes = ["1 ", "1-", "a", "a.", "a@", "a at ", "jane at example dot "]
    figures = {}
    for size in (100_000, 200_000):
        total = 0.0
        for shape in shapes:
            text = (shape * (size // len(shape) + 1))[:size]
            start = time.perf_counter()
            redact_text(text)
            total += time.perf_counter() - start
        figures[f"redact_{size // 1000}k_chars_ms"] = total * 1000
    figures["doubling_ratio"] = figures["redact_200k_chars_ms"] / max(figures["redact_100k_chars_ms"], 1e-9)
    return figures


def print_figures(title: str, figures: dict, targets: dict) -> bool:
    failed = False
    print(f"\n{title}")
    for key, value in figures.items():
        target = targets.get(key)
        verdict = "" if target is None else ("  ok" if value <= target else f"  OVER target {target:g}")
        failed |= target is not None and value > target
        print(f"  {key:24} {value:10.1f}{verdict}")
    return failed


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="mesoguide-bench-"))
    env = dict(os.environ, RASA_PORT="25105", ACTION_PORT="25155", WEB_PORT="25180", CONSOLE_PORT="25181",
               MESOGUIDE_DATA_DIR=str(data_dir), MESOGUIDE_DB_URL=f"sqlite:///{data_dir / 'bench.db'}")
    # Every client here is 127.0.0.1: the channel's rate limits (channels/ratelimit.py) are
    # off, so the figures show what the server itself costs (as before the limits).
    for name in ("MESOGUIDE_RATE_PER_SENDER", "MESOGUIDE_RATE_PER_IP", "MESOGUIDE_RATE_SESSIONS_PER_IP"):
        env[name] = "0"
    stack = Stack(env=env)
    failed = False
    started = time.perf_counter()
    try:
        stack.start_all(("actions", "rasa"))
        ready = time.perf_counter() - started
        latencies = []
        t0 = time.perf_counter()
        for _ in range(ROUNDS):
            for turns in CONVERSATIONS:
                sender = new_sender(stack.rasa_url)
                for text in turns:
                    latencies.append(post(stack.rasa_url, sender, text))
        wall = time.perf_counter() - t0
        lat = sorted(latencies)
        figures = {
            "messages": len(lat),
            "median_ms": statistics.median(lat) * 1000,
            "p95_ms": lat[int(0.95 * (len(lat) - 1))] * 1000,
            "messages_per_s": len(lat) / wall,
            "rasa_rss_mb": rss_mb(stack.procs["rasa"].pid),
            "actions_rss_mb": rss_mb(stack.procs["actions"].pid),
            "startup_s": ready,
        }
        print("\nAssistant (REST, one client, SQLite tracker store)")
        for key, value in figures.items():
            target = TARGETS.get(key)
            verdict = "" if target is None else ("  ok" if value <= target else f"  OVER target {target:g}")
            failed |= target is not None and value > target
            print(f"  {key:16} {value:10.1f}{verdict}")
        failed |= print_figures("Input limits (issue 13)", limit_figures(stack), LIMIT_TARGETS)
    finally:
        stack.stop_all()
    failed |= print_figures("Redaction on adversarial text (linear time)", redaction_figures(), REDACTION_TARGETS)
    console = subprocess.run([sys.executable, str(ROOT / "bench" / "console_bench.py")], cwd=ROOT)
    return 1 if failed or console.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
