"""Turn 1 vs turn 200 of one conversation, stage by stage (issue 14): measured, nothing asserted.

    nice python bench/turn_n.py [--turns 200] [--compared 10] [--out bench/results/turn_n.json]

In one process: Rasa's agent on a copy of ``models/mesoguide.tar.gz`` with
MesoGuide's tracker store (``records.tracker_store.MesoTrackerStore``, wrapped as
``rasa run`` wraps it) on a throwaway SQLite database, and the real action server
(``scripts.stack.Stack``, on a free port in 19000-19999). One conversation is played
to ``--turns`` - ``--compared`` turns with the messages of ``bench/peer.py``'s
long-conversation measure (imported); then its last ``--compared`` turns alternate
with the same messages sent as turns 2 to ``--compared`` + 1 of a fresh conversation,
so that both see the same machine load (the design of ``bench/peer.py``).

Per turn the timers of ``bench/profile_turn.py`` (imported) split the time into NLU,
policy prediction, custom-action calls, tracker retrieve and save; added here:
replaying the events into a tracker (``DialogueStateTracker.from_events``, inside
retrieve), building the action server's payload (``RemoteAction._action_call_format``)
and its size, and, outside the timed turn, what the action server's side costs for
that payload (JSON decoding and ``rasa_sdk``'s ``Tracker.from_dict``).

``--whole-session`` loads the whole session on every turn with Rasa's own
``SQLTrackerStore.retrieve`` (the behaviour before the window of
``records/tracker_window.py``), for a before/after comparison on the same machine.

Prints one table (median per turn, early vs late, and the ratio) with the issue-14
target for the whole turn (late / early <= 1.2), and writes ``bench/results/turn_n.json``
(ignored by git).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
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

from bench import profile_turn as profile  # noqa: E402
from bench.peer import LONG_MESSAGES, LONG_TURNS, TARGETS  # noqa: E402

STAGES = ("nlu", "policy", "action_calls", "payload_build", "tracker_retrieve", "boundary", "summary", "deserialise",
          "replay", "tracker_save")
LABELS = {
    "turn": "**whole turn**",
    "nlu": "NLU",
    "policy": "policy prediction (all calls)",
    "action_calls": "custom-action calls (all, round trip)",
    "payload_build": "  of which building the payload (tracker to JSON-ready dict)",
    "payload_kb": "  payload size per call (kB of JSON)",
    "sdk_parse": "  action server's side: decoding the payload (per turn, not in the turn)",
    "tracker_retrieve": "tracker retrieve",
    "boundary": "  of which choosing the window (`tracker_window.choose_boundary`)",
    "summary": "  of which summarising the earlier events (`tracker_window.prefix_events`)",
    "deserialise": "  of which deserialising the events",
    "replay": "  of which replaying the events (`from_events`)",
    "tracker_save": "tracker save (redaction included)",
    "events_loaded": "events in the retrieved tracker",
    "other": "rest of the turn (processor, channel, events applied)",
}


class PayloadLog:
    """The action-server payloads of the current turn (built by Rasa; sizes and bodies)."""

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []

    def install(self) -> None:
        from rasa.core.actions.action import RemoteAction

        profile.wrap_sync(RemoteAction, "_action_call_format", "payload_build")
        timed = RemoteAction._action_call_format
        log = self

        def keep(self_, tracker, domain):
            body = timed(self_, tracker, domain)
            log.bodies.append(body)
            return body

        RemoteAction._action_call_format = keep

    def take(self) -> List[Dict[str, Any]]:
        bodies, self.bodies = self.bodies, []
        return bodies


def sdk_side_ms(bodies: List[Dict[str, Any]]) -> float:
    """What rasa_sdk does with these payloads before an action runs: JSON decoding and
    ``Tracker.from_dict`` (the JSON encoding is timed on Rasa's side, in the POST)."""
    from rasa_sdk import Tracker

    total = 0.0
    for body in bodies:
        text = json.dumps(body)
        start = time.perf_counter()
        Tracker.from_dict(json.loads(text)["tracker"])
        total += time.perf_counter() - start
    return total * 1000


async def play(agent, turns: int, compared: int, payloads: PayloadLog) -> Dict[str, Any]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    T = profile.T
    rows: Dict[str, Dict[str, List[float]]] = {"early": defaultdict(list), "late": defaultdict(list)}

    async def turn(sender: str, text: str, where: Optional[str]) -> None:
        T.reset()
        payloads.take()
        out = CollectingOutputChannel()
        start = time.perf_counter()
        await agent.handle_message(UserMessage(text, out, sender, input_channel="rest"))
        total = (time.perf_counter() - start) * 1000
        if not out.messages:
            raise RuntimeError(f"no reply to {text!r}")
        if where is None:
            return
        row = rows[where]
        row["turn"].append(total)
        for stage in STAGES:
            row[stage].append(T.turn.get(stage, 0.0))
        row["other"].append(total - sum(T.turn.get(s, 0.0) for s in ("nlu", "policy", "action_calls",
                                                                     "tracker_retrieve", "tracker_save")))
        bodies = payloads.take()
        row["payload_kb"].append(statistics.fmean(len(json.dumps(b)) / 1024 for b in bodies) if bodies else 0.0)
        row["sdk_parse"].append(sdk_side_ms(bodies))
        tracker = await agent.tracker_store.retrieve(sender)
        row["events_loaded"].append(float(len(tracker.events)))

    long_sender = "turn-n-long-" + uuid.uuid4().hex
    for i in range(turns - compared):
        await turn(long_sender, LONG_MESSAGES[i % len(LONG_MESSAGES)], None)
    fresh_sender = "turn-n-fresh-" + uuid.uuid4().hex
    await turn(fresh_sender, "hello", None)
    for i in range(turns - compared, turns):
        text = LONG_MESSAGES[i % len(LONG_MESSAGES)]
        await turn(fresh_sender, text, "early")
        await turn(long_sender, text, "late")
    medians = {where: {k: statistics.median(v) for k, v in row.items()} for where, row in rows.items()}
    return {"median": medians, "samples": {w: dict(r) for w, r in rows.items()},
            "ratio": medians["late"]["turn"] / medians["early"]["turn"]}


async def measure(model: Path, work: Path, turns: int, compared: int, whole_session: bool) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from scripts.stack import Stack

    port = profile.free_port()
    env = dict(os.environ, ACTION_PORT=str(port), RASA_PORT=str(profile.free_port(exclude={port})),
               MESOGUIDE_DATA_DIR=str(work / "data"), MESOGUIDE_DB_URL=f"sqlite:///{work / 'turn_n.db'}")
    env.pop("MESOGUIDE_ACTION_SECRET", None)
    stack = Stack(env=env, log_dir=work / "logs")
    os.environ["MESOGUIDE_DATA_DIR"] = stack.env["MESOGUIDE_DATA_DIR"]
    os.environ["MESOGUIDE_DB_URL"] = stack.db_url
    try:
        stack.migrate()
        stack.start("actions")
        endpoint = EndpointConfig(url=f"http://localhost:{port}/webhook",
                                  headers={"X-MesoGuide-Action-Secret": stack.env["MESOGUIDE_ACTION_SECRET"]})
        profile.install_timers()
        payloads = PayloadLog()
        payloads.install()
        profile.wrap_sync(DialogueStateTracker, "from_events", "replay")
        from records import tracker_window

        profile.wrap_sync(tracker_window, "choose_boundary", "boundary")
        profile.wrap_sync(tracker_window, "prefix_events", "summary")
        profile.wrap_sync(tracker_window, "deserialise", "deserialise")
        agent = Agent.load(str(model), action_endpoint=endpoint)
        from records.tracker_store import MesoTrackerStore

        if whole_session:  # as before issue 14: Rasa's own retrieve of the whole session
            from rasa.core.tracker_store import SQLTrackerStore

            MesoTrackerStore._retrieve_window = SQLTrackerStore.retrieve

        # as rasa run wraps it (rasa.core.agent.load_agent, Agent._create_tracker_store)
        store = FailSafeTrackerStore(AwaitableTrackerStore.create(MesoTrackerStore(domain=agent.domain)))
        agent.tracker_store = store
        agent.processor.tracker_store = store
        profile.time_store(store)
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        for text in ("hello", *LONG_MESSAGES):  # warm-up, not counted
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "warm-up", input_channel="rest"))
        return await play(agent, turns, compared, payloads)
    finally:
        stack.stop_all()


def table(res: Dict[str, Any], turns: int, compared: int) -> List[str]:
    early, late = res["median"]["early"], res["median"]["late"]
    rows = [f"| median per turn | turns 2-{compared + 1} (fresh) | turns {turns - compared + 1}-{turns} | late / early |",
            "| --- | --- | --- | --- |"]
    for key in ("turn", "nlu", "policy", "action_calls", "payload_build", "payload_kb", "sdk_parse",
                "tracker_retrieve", "boundary", "summary", "deserialise", "replay", "tracker_save", "other",
                "events_loaded"):
        a, b = early.get(key, 0.0), late.get(key, 0.0)
        ratio = f"{b / a:.2f}" if a else "-"
        unit = "" if key in ("payload_kb", "events_loaded") else " ms"
        rows.append(f"| {LABELS[key]} | {a:.1f}{unit} | {b:.1f}{unit} | {ratio} |")
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=LONG_TURNS)
    parser.add_argument("--compared", type=int, default=10)
    parser.add_argument("--model", default=os.environ.get("MESOGUIDE_MODEL") or str(ROOT / "models" / "mesoguide.tar.gz"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "turn_n.json"))
    parser.add_argument("--whole-session", action="store_true",
                        help="load the whole session on every turn (Rasa's SQLTrackerStore.retrieve), as before "
                             "the window: the figures before issue 14's change")
    args = parser.parse_args(argv)

    if not Path(args.model).is_file():
        parser.error(f"no model at {args.model} (make train, or --model)")
    work = Path(tempfile.mkdtemp(prefix="mesoguide-turn-n-"))
    model = work / "mesoguide.tar.gz"
    results: Dict[str, Any] = {"load_average_start": os.getloadavg(), "turns": args.turns, "compared": args.compared,
                               "whole_session": args.whole_session,
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        shutil.copy2(args.model, model)
        results.update(asyncio.run(measure(model, work, args.turns, args.compared, args.whole_session)))
        results["load_average_end"] = os.getloadavg()
    finally:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str))
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(table(results, args.turns, args.compared)))
    op, target = TARGETS["turn200_vs_turn1"]
    verdict = "met" if results["ratio"] <= target else "missed"
    print(f"turn {args.turns} / turn 1 (whole turn, in-process): x{results['ratio']:.2f} "
          f"(issue 14 target {op} {target}: {verdict})")
    print(f"load average: start {results['load_average_start']}, end {results.get('load_average_end')}")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
