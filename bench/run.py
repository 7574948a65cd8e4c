"""`make bench`: speed and memory of the running assistant, then the console bench.

Starts actions + Rasa on bench ports (25105/25155) with a fresh SQLite database,
plays scripted conversations over the REST channel, and prints latency per message
(median, p95), throughput with one client, and the resident memory of the Rasa and
action-server processes. Exits non-zero when a target is missed:
median < 300 ms, p95 < 1000 ms, Rasa RSS < 2.5 GB. Then runs bench/console_bench.py
(inbox and search with 10,000 conversations, target < 300 ms).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as resp:
        replies = json.loads(resp.read() or b"[]")
    elapsed = time.perf_counter() - start
    if not replies:
        raise RuntimeError(f"empty reply to {text!r}")
    return elapsed


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="mesoguide-bench-"))
    env = dict(os.environ, RASA_PORT="25105", ACTION_PORT="25155", WEB_PORT="25180", CONSOLE_PORT="25181",
               MESOGUIDE_DATA_DIR=str(data_dir), MESOGUIDE_DB_URL=f"sqlite:///{data_dir / 'bench.db'}")
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
                sender = uuid.uuid4().hex
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
    finally:
        stack.stop_all()
    console = subprocess.run([sys.executable, str(ROOT / "bench" / "console_bench.py")], cwd=ROOT)
    return 1 if failed or console.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
