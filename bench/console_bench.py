"""Staff console speed with 10,000 conversations (issue 5: under 300 ms per answer).

Seeds a fresh SQLite database (and a fresh PostgreSQL database when the server at
MESOGUIDE_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres, is
reachable), then times the console's answers through FastAPI's TestClient (the full
request path: session check, summary refresh check, queries, template rendering):
median and p95 over --runs runs each. Exits 1 when a p95 is over the limit.

    .venv/bin/python bench/console_bench.py [--count 10000] [--runs 20] [--limit-ms 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import List, Optional, Tuple

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

CASES = (
    ("inbox, first page", "/inbox"),
    ("consultation requested + text search", "/inbox?outcome=consultation&q=mornings"),
    ("text search only", "/inbox?q=dandruff"),
    ("fallback, not reviewed, page 3", "/inbox?fallback=1&reviewed=no&page=3"),
    ("intent ask_cost + date range", "/inbox?intent=ask_cost&date_from=2000-01-01&date_to=2100-01-01"),
)
INFO_CASES = (
    ("overview, last 30 days (not gated)", "/overview?days=30"),
    ("improve, last 30 days (not gated)", "/improve"),
    ("improve spot check, random sample (not gated)", "/improve?view=sample"),
    ("one transcript (not gated)", "/conversations/{ref}"),
)
PASSWORD = "bench-password-not-secret"


def _pg_admin_url() -> str:
    return os.environ.get("MESOGUIDE_BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_reachable(url: str) -> Optional[str]:
    try:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"{type(exc).__name__}"


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run_backend(
    name: str, url: str, data_dir: Path, count: int, runs: int
) -> List[Tuple[str, str, float, float, bool]]:
    from fastapi.testclient import TestClient

    from console import accounts, db, seeding, summary
    from console.app import create_app
    from console.config import Settings

    db.prepare(url)
    started = time.perf_counter()
    seeding.seed(url, count)
    print(f"[{name}] seeded {count} conversations in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    summary.refresh(url)
    print(f"[{name}] first summary build in {time.perf_counter() - started:.1f} s", flush=True)
    accounts.create_user(url, "bench", PASSWORD, "admin")
    settings = Settings(db_url=url, data_dir=data_dir, secret_key="b" * 48, login_failure_delay=0.0)
    results = []
    with TestClient(create_app(settings=settings), follow_redirects=False) as client:
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert (
            client.post(
                "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
            ).status_code
            == 303
        )
        summary_table = db.tables().conversation_summary
        with db.session(url) as s:
            sender = s.scalar(
                sa.select(summary_table.c.sender_id).order_by(summary_table.c.turns.desc()).limit(1)
            )
        cases = [(label, path, True) for label, path in CASES]
        ref = client.app.state.references.one(sender)  # transcripts open by reference (console/references.py)
        cases += [(label, path.format(ref=ref), False) for label, path in INFO_CASES]
        for label, path, gated in cases:
            assert client.get(path).status_code == 200
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            results.append((name, label, statistics.median(timings), percentile(timings, 0.95), gated))
    db.engine(url).dispose()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--limit-ms", type=float, default=300.0)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        os.environ["MESOGUIDE_DATA_DIR"] = str(data_dir)
        results += run_backend("sqlite", f"sqlite:///{tmp}/bench.db", data_dir, args.count, args.runs)
        admin_url = _pg_admin_url()
        problem = None if args.sqlite_only else _pg_reachable(admin_url)
        if args.sqlite_only or problem:
            print(f"[postgresql] skipped: {'--sqlite-only' if args.sqlite_only else problem}")
        else:
            admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            name = f"mesoguide_bench_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            try:
                results += run_backend("postgresql", url, data_dir, args.count, args.runs)
            finally:
                from records import db as records_db

                records_db.dispose_engine(url)
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    print()
    print(f"{'backend':<11} {'request':<48} {'median ms':>10} {'p95 ms':>8}  verdict")
    failed = False
    for backend, label, median, p95, gated in results:
        ok = p95 <= args.limit_ms
        failed |= gated and not ok
        verdict = ("ok" if ok else "OVER") if gated else "-"
        print(f"{backend:<11} {label:<48} {median:>10.1f} {p95:>8.1f}  {verdict}")
    print(f"\n{args.count} conversations, {args.runs} runs per request, limit {args.limit_ms:.0f} ms (p95)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
