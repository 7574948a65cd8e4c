"""Command line: ``python -m records upgrade`` / ``current`` / ``purge --older-than DAYS``.

Each acts on the database named by ``MESOGUIDE_DB_URL`` (see ``records.db.database_url``)
and the data directory ``MESOGUIDE_DATA_DIR``. ``purge`` is the retention command
(``records.retention``; add ``--dry-run`` to see the counts without deleting).
"""
import argparse
import os
import sys
from typing import List, Optional

os.environ["RASA_TELEMETRY_ENABLED"] = "false"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m records", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="migrate the database to a revision")
    upgrade.add_argument("revision", nargs="?", default="head", help="default: head")
    current = commands.add_parser("current", help="print the database's revision")
    current.add_argument(
        "--check", action="store_true", help="exit with status 1 unless at the head revision"
    )
    purge = commands.add_parser(
        "purge", help="delete conversations, records, spool lines and logs older than DAYS days"
    )
    purge.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    args = parser.parse_args(argv)

    from records import db

    url = db.database_url()
    if args.command == "purge":
        from records import retention

        if args.older_than <= 0:
            parser.error("--older-than must be more than 0 days")
        counts = retention.purge(args.older_than, url=url, dry_run=args.dry_run)
        print(retention.report(counts, args.older_than, args.dry_run))
        return 0
    if args.command == "upgrade":
        db.upgrade(url, args.revision)
        print(f"{db.safe_url(url)}: at revision {db.current_revision(url)}")
        return 0
    revision = db.current_revision(url)
    head = db.head_revision()
    suffix = " (head)" if revision == head else f" (head is {head})"
    print(f"{revision or 'none'}{suffix}")
    return 0 if revision == head or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
