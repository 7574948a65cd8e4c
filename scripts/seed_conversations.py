"""Seed synthetic conversations (Rasa `events` rows + clinic records) for demos and benchmarks.

    .venv/bin/python scripts/seed_conversations.py --count 10000 --db-url sqlite:///var/demo.db

The database is migrated first; Rasa's `events` table is created with Rasa's layout
when missing. The conversations are generated from the assistant's own files
(console/seeding.py: names from domain.yml, messages from data/nlu/, wording from
data/content/). Contact details are fictitious (example.com, Ofcom drama numbers).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console import db, seeding, summary  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="number of conversations (default 1000)")
    parser.add_argument("--db-url", help="SQLAlchemy URL (default: MESOGUIDE_DB_URL)")
    parser.add_argument("--days", type=int, default=45, help="spread start times over this many days")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be positive")

    url = db.database_url(args.db_url)
    db.prepare(url)
    started = time.perf_counter()
    counts = seeding.seed(url, args.count, days=args.days, seed_value=args.seed)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    summarised = summary.refresh(url)
    print(
        f"Seeded {args.count} conversations in {seeded:.1f} s: "
        + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if k != "conversations")
    )
    print(
        f"Summarised {summarised} conversations in {time.perf_counter() - started:.1f} s "
        f"into {db.engine(url).url.render_as_string(hide_password=True)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
