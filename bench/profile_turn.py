"""Where one turn's time goes (issue 14): a profile per stage, measured, nothing asserted.

    nice python bench/profile_turn.py [--rounds N] [--out bench/results/profile.json]

Plays the conversations of ``bench/run.py`` (imported, not copied) ``--rounds`` times
in each mode below and prints one table of median and p95 per message:

1. NLU alone: ``Agent.parse_message`` on every message;
2. the whole turn in-process (``Agent.handle_message``), the real action server
   (``scripts/action_server.py``, started through ``scripts.stack.Stack`` on a free
   port in 19000-19999) and Rasa's in-memory tracker store;
3. the same with MesoGuide's tracker store (``records.tracker_store.MesoTrackerStore``,
   SQLite in a throwaway ``MESOGUIDE_DATA_DIR``);
4. over HTTP through the REST channel: ``actions`` and ``rasa`` started as
   ``python -m scripts.stack run --only actions rasa`` does (``Stack.start_all``), on
   free ports in 19000-19999, ``MESOGUIDE_MODEL`` the copy, rate limits off as in
   ``tests/fixtures/stack.py``, sender ids from ``channels.client.new_sender``.

A turn without any action server (the floor without actions) is not run: the domain's
custom slot mappings, forms and flows are custom actions, so stubbing them would change
which actions run and no longer be the same conversation. Instead the table gives
"turn minus action calls" from mode 3's per-turn breakdown.

Within the in-process turns, simple wrappers (``time.perf_counter``, monkeypatched in
this process only) time: NLU inside the turn (``MessageProcessor.parse_message``),
policy prediction (``MessageProcessor._predict_next_with_tracker``), each custom-action
call (``RemoteAction.run``: the tracker's serialisation, the POST, the action server,
applying the events; counted per action name), tracker retrieve and save (the store's
``retrieve``/``save``) and redaction (``records.tracker_store``'s ``redact``,
``clinic_contacts`` and ``contact_answers``, inside save). Clinic-record writes happen
in the action server: for modes 2 and 3 it is started through this file
(``--serve-actions``, which wraps the public functions of ``records.store`` and then
runs ``scripts.action_server.main``) and appends each write's duration to a file read
after each turn. Mode 4 uses the unmodified action server.

The model is copied to a temporary folder first and only the copy is loaded;
nothing under ``models/`` or ``var/`` is written. Results: the table, and
``bench/results/profile.json`` (ignored by git).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RECORDS_LOG_ENV = "MESOGUIDE_PROFILE_RECORDS_LOG"
RATE_OFF = {"MESOGUIDE_RATE_PER_IP": "0", "MESOGUIDE_RATE_SESSIONS_PER_IP": "0", "MESOGUIDE_RATE_PER_SENDER": "0"}
RECORD_FUNCTIONS = ("save_screening", "save_triage", "save_consultation", "log_safety_event",
                    "forget_sender", "set_consultation_status")


# --- the action server with timed record writes (a subprocess) -------------------------
def serve_actions(port: int) -> int:
    """Runs scripts/action_server.py with ``records.store``'s writes timed into a file."""
    from records import store

    path = os.environ[RECORDS_LOG_ENV]

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with open(path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"fn": name, "ms": (time.perf_counter() - start) * 1000}) + "\n")
        wrapper.__name__ = fn.__name__
        return wrapper

    for name in RECORD_FUNCTIONS:
        if hasattr(store, name):
            setattr(store, name, timed(name, getattr(store, name)))
    from scripts import action_server

    return action_server.main(["--port", str(port), "--log-level", "WARNING"])


# --- helpers ---------------------------------------------------------------------------
def free_port(low: int = 19000, high: int = 19999, exclude=()) -> int:
    for port in range(low + secrets.randbelow(high - low), high):
        if port in exclude:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 19000-19999")


def pct(values: List[float], q: float) -> float:
    """Nearest-rank percentile."""
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)] if values else float("nan")


def summary(values: List[float]) -> Dict[str, float]:
    return {"n": len(values), "median_ms": statistics.median(values) if values else float("nan"),
            "p95_ms": pct(values, 0.95), "mean_ms": statistics.fmean(values) if values else float("nan")}


def messages(rounds: int):
    from bench.run import CONVERSATIONS

    for _ in range(rounds):
        for turns in CONVERSATIONS:
            yield turns


# --- in-process timers -----------------------------------------------------------------
class Timers:
    def __init__(self) -> None:
        self.turn: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)
        self.actions: Dict[str, List[float]] = defaultdict(list)

    def reset(self) -> None:
        self.turn = defaultdict(float)
        self.calls = defaultdict(int)

    def add(self, stage: str, seconds: float) -> None:
        self.turn[stage] += seconds * 1000
        self.calls[stage] += 1


T = Timers()


def wrap_async(owner: Any, name: str, stage: str, per_name=None) -> None:
    original = getattr(owner, name)

    async def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            T.add(stage, elapsed)
            if per_name is not None:
                T.actions[per_name(*args)].append(elapsed * 1000)

    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)


def wrap_sync(owner: Any, name: str, stage: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            T.add(stage, time.perf_counter() - start)

    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)


def install_timers() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    import records.tracker_store as meso_store
    from channels import action_faults, rasa_hot_paths
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` with LOG_LEVEL=INFO (scripts/stack.py): without this, structlog
    # prints every debug line in-process, which costs several ms per turn.
    configure_structlog(logging.INFO)
    logging.getLogger().setLevel(logging.INFO)
    for name in ("tensorflow", "absl", "matplotlib", "urllib3", "sqlalchemy", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)

    action_faults.install()  # as the REST channel does in Rasa's process
    rasa_hot_paths.install()  # likewise
    wrap_async(MessageProcessor, "parse_message", "nlu")
    wrap_sync(MessageProcessor, "_predict_next_with_tracker", "policy")
    wrap_async(RemoteAction, "run", "action_calls", per_name=lambda self, *a: self.name())
    for name in ("redact", "clinic_contacts", "contact_answers"):
        wrap_sync(meso_store, name, "redaction")


def time_store(awaitable_store: Any) -> None:
    """Times retrieve and save on the store the processor uses (instance attributes)."""
    wrap_async(awaitable_store, "retrieve", "tracker_retrieve")
    wrap_async(awaitable_store, "save", "tracker_save")


def read_records(path: Path, offset: int):
    if not path.exists():
        return 0.0, 0, offset
    with open(path, encoding="utf-8") as log:
        log.seek(offset)
        lines = log.readlines()
        offset = log.tell()
    return sum(json.loads(line)["ms"] for line in lines), len(lines), offset


async def play_in_process(agent, rounds: int, records_log: Path) -> Dict[str, Any]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    totals: List[float] = []
    stages: Dict[str, List[float]] = defaultdict(list)
    counts: Dict[str, List[int]] = defaultdict(list)
    offset = read_records(records_log, 0)[2]
    for turns in messages(rounds):
        sender = "profile-" + uuid.uuid4().hex
        for text in turns:
            T.reset()
            out = CollectingOutputChannel()
            start = time.perf_counter()
            await agent.handle_message(UserMessage(text, out, sender, input_channel="rest"))
            totals.append((time.perf_counter() - start) * 1000)
            if not out.messages:
                raise RuntimeError(f"no reply to {text!r}")
            rec_ms, rec_n, offset = read_records(records_log, offset)
            for stage in ("nlu", "policy", "action_calls", "tracker_retrieve", "tracker_save", "redaction"):
                stages[stage].append(T.turn.get(stage, 0.0))
                counts[stage].append(T.calls.get(stage, 0))
            stages["record_writes"].append(rec_ms)
            counts["record_writes"].append(rec_n)
            stages["turn_minus_action_calls"].append(totals[-1] - T.turn.get("action_calls", 0.0))
    return {"turn": summary(totals),
            "stages": {k: summary(v) for k, v in stages.items()},
            "calls_per_turn": {k: {"mean": statistics.fmean(v), "max": max(v), "min": min(v)} for k, v in counts.items()}}


async def in_process(model: Path, work: Path, rounds: int) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    from scripts.stack import PYTHON, Stack

    records_log = work / "record_writes.jsonl"
    port = free_port()

    class ProfiledActions(Stack):
        def command(self, part: str) -> List[str]:
            if part == "actions":
                return [PYTHON, str(Path(__file__).resolve()), "--serve-actions", str(self.ports["actions"])]
            return super().command(part)

    env = dict(os.environ, ACTION_PORT=str(port), RASA_PORT=str(free_port(exclude={port})),
               MESOGUIDE_DATA_DIR=str(work / "inproc"), MESOGUIDE_DB_URL=f"sqlite:///{work / 'inproc.db'}",
               **{RECORDS_LOG_ENV: str(records_log)})
    stack = ProfiledActions(env=env, log_dir=work / "logs-inproc")
    os.environ["MESOGUIDE_DATA_DIR"] = stack.env["MESOGUIDE_DATA_DIR"]
    os.environ["MESOGUIDE_DB_URL"] = stack.db_url
    results: Dict[str, Any] = {}
    try:
        stack.migrate()
        stack.start("actions")
        endpoint = EndpointConfig(url=f"http://localhost:{port}/webhook",
                                  headers={"X-MesoGuide-Action-Secret": stack.env["MESOGUIDE_ACTION_SECRET"]})
        install_timers()
        t0 = time.perf_counter()
        agent = Agent.load(str(model), tracker_store=InMemoryTrackerStore(None), action_endpoint=endpoint)
        results["model_load_s"] = time.perf_counter() - t0
        # warm-up: one conversation, not counted
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
        for text in next(messages(1)):
            await agent.parse_message(text)
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "warm-up", input_channel="rest"))

        nlu = []
        for turns in messages(rounds):
            for text in turns:
                start = time.perf_counter()
                await agent.parse_message(text)
                nlu.append((time.perf_counter() - start) * 1000)
        results["nlu_parse"] = summary(nlu)

        time_store(agent.tracker_store)
        results["in_memory"] = await play_in_process(agent, rounds, records_log)

        from records.tracker_store import MesoTrackerStore

        # as rasa run wraps it (rasa.core.agent.load_agent, Agent._create_tracker_store)
        sql = FailSafeTrackerStore(AwaitableTrackerStore.create(MesoTrackerStore(domain=agent.domain)))
        agent.tracker_store = sql
        agent.processor.tracker_store = sql
        time_store(sql)
        await agent.handle_message(UserMessage("hello", CollectingOutputChannel(), "warm-up-sql", input_channel="rest"))
        results["sqlite"] = await play_in_process(agent, rounds, records_log)
        action_ms = defaultdict(list)
        for name, values in T.actions.items():
            action_ms[name] = values
        results["per_action"] = {name: summary(v) for name, v in sorted(action_ms.items())}
    finally:
        stack.stop_all()
    return results


def over_http(model: Path, work: Path, rounds: int) -> Dict[str, Any]:
    from channels.client import new_sender, send
    from scripts.stack import Stack

    actions = free_port()
    rasa = free_port(exclude={actions})
    web = free_port(exclude={actions, rasa})
    console = free_port(exclude={actions, rasa, web})
    env = dict(os.environ, RASA_PORT=str(rasa), ACTION_PORT=str(actions), WEB_PORT=str(web),
               CONSOLE_PORT=str(console), MESOGUIDE_DATA_DIR=str(work / "http"),
               MESOGUIDE_DB_URL=f"sqlite:///{work / 'http.db'}", MESOGUIDE_MODEL=str(model), **RATE_OFF)
    env.pop(RECORDS_LOG_ENV, None)
    for key in ("RASA_URL", "WEB_ORIGIN", "MESOGUIDE_ACTION_SECRET"):
        env.pop(key, None)
    stack = Stack(env=env, log_dir=work / "logs-http")
    try:
        t0 = time.perf_counter()
        stack.start_all(("actions", "rasa"))
        startup = time.perf_counter() - t0
        url = stack.rasa_url
        for text in next(messages(1)):  # warm-up
            send(url, new_sender(url), text, retries=0)
        latencies = []
        for turns in messages(rounds):
            sender = new_sender(url)
            for text in turns:
                start = time.perf_counter()
                replies = send(url, sender, text, timeout=60, retries=0)
                latencies.append((time.perf_counter() - start) * 1000)
                if not replies:
                    raise RuntimeError(f"no reply to {text!r}")
        return {"turn": summary(latencies), "startup_s": startup, "ports": dict(stack.ports)}
    finally:
        stack.stop_all()


# --- the table -------------------------------------------------------------------------
def table(res: Dict[str, Any]) -> List[str]:
    rows = []

    def row(label, s, calls=None):
        if not s:
            return
        extra = "" if calls is None else f"{calls:.2f}"
        rows.append(f"| {label} | {s['median_ms']:.1f} | {s['p95_ms']:.1f} | {s['mean_ms']:.1f} | {extra} |")

    rows.append("| stage (per message) | median ms | p95 ms | mean ms | calls per turn (mean) |")
    rows.append("| --- | --- | --- | --- | --- |")
    row("NLU parse alone (`Agent.parse_message`)", res.get("nlu_parse"))
    for mode, label in (("in_memory", "in-process, in-memory tracker store"), ("sqlite", "in-process, MesoTrackerStore (SQLite)")):
        part = res.get(mode)
        if not part:
            continue
        row(f"**whole turn, {label}**", part["turn"])
        for stage, name in (("nlu", "NLU inside the turn"), ("policy", "policy prediction"),
                            ("action_calls", "custom-action calls (all)"), ("record_writes", "record writes (in the action server)"),
                            ("tracker_retrieve", "tracker retrieve"), ("tracker_save", "tracker save"),
                            ("redaction", "redaction (inside save)"), ("turn_minus_action_calls", "turn minus action calls")):
            if stage == "redaction" and mode == "in_memory":
                continue
            row(f"  {name}", part["stages"].get(stage), part["calls_per_turn"].get(stage, {}).get("mean"))
    if res.get("http"):
        row("**whole turn over HTTP (REST channel, SQLite)**", res["http"]["turn"])
    if res.get("per_action"):
        rows.append("")
        rows.append("| action call | calls | median ms | p95 ms |")
        rows.append("| --- | --- | --- | --- |")
        for name, s in sorted(res["per_action"].items(), key=lambda kv: -kv[1]["n"] * kv[1]["mean_ms"]):
            rows.append(f"| {name} | {s['n']} | {s['median_ms']:.1f} | {s['p95_ms']:.1f} |")
        rows.append("(action calls of both in-process modes together)")
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "4")))
    parser.add_argument("--model", default=os.environ.get("MESOGUIDE_MODEL") or str(ROOT / "models" / "mesoguide.tar.gz"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "profile.json"))
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--serve-actions", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_actions:
        return serve_actions(args.serve_actions)

    work = Path(tempfile.mkdtemp(prefix="mesoguide-profile-"))
    model = work / "mesoguide.tar.gz"
    shutil.copy2(args.model, model)
    results: Dict[str, Any] = {"load_average_start": os.getloadavg(), "rounds": args.rounds,
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "model": str(args.model), "model_copy": str(model), "work_dir": str(work)}
    try:
        results.update(asyncio.run(in_process(model, work, args.rounds)))
        results["load_average_after_in_process"] = os.getloadavg()
        if not args.skip_http:
            results["http"] = over_http(model, work, args.rounds)
        results["load_average_end"] = os.getloadavg()
        sql_turn = results["sqlite"]["turn"]["median_ms"]
        floor = results["sqlite"]["stages"]["turn_minus_action_calls"]["median_ms"]
        if results.get("http"):
            results["ratio_http_to_in_process_sqlite"] = results["http"]["turn"]["median_ms"] / sql_turn
            results["ratio_http_to_in_process_memory"] = results["http"]["turn"]["median_ms"] / results["in_memory"]["turn"]["median_ms"]
        results["ratio_in_process_sqlite_to_floor_without_actions"] = sql_turn / floor
    finally:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str))
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(table(results)))
    for key in ("ratio_http_to_in_process_sqlite", "ratio_http_to_in_process_memory",
                "ratio_in_process_sqlite_to_floor_without_actions"):
        if key in results:
            print(f"{key}: {results[key]:.2f}")
    print(f"load average: start {results['load_average_start']}, end {results.get('load_average_end')}")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
