"""'Delete my data' covers every server-side copy (issue 13): the tables, the record and
event spools (also their rejected files), the NLU inbox and the log files; and the
console's access log carries no conversation id or search text."""
import json
import logging

import sqlalchemy as sa

from console import improve
from console.security import AccessLogFilter, access_log_path
from records import copies, db, spool, store
from tests.fixtures.rasa_events import rasa_events_table

SENDER = "5c4b3a29-1807-4f6e-9d5c-4b3a29180700"
OTHER = "6d5c4b3a-2918-4a7f-8e6d-5c4b3a291801"
TEXT = "my scalp has been burning since tuesday"
OTHER_TEXT = "how long does each session take"


def _events(url):
    metadata = sa.MetaData()
    events = rasa_events_table(metadata)
    metadata.create_all(db.get_engine(url))
    rows = [(SENDER, TEXT), (SENDER, "yes"), (OTHER, OTHER_TEXT)]
    with db.get_engine(url).begin() as connection:
        connection.execute(events.insert(), [
            {"sender_id": s, "type_name": "user", "timestamp": 1.0 + n, "data": json.dumps({"event": "user", "text": t})}
            for n, (s, t) in enumerate(rows)
        ])


def test_forget_me_reaches_the_spools_the_nlu_inbox_and_the_logs(db_url):
    _events(db_url)
    inbox = copies.nlu_inbox_dir()
    improve.add_examples(inbox, "ask_side_effects", [TEXT, OTHER_TEXT, "  My  scalp has been BURNING since tuesday "])
    improve.add_examples(inbox, "affirm", ["yes"])
    spool.append("screening", {"sender_id": SENDER, "answers": {}})
    spool.append("screening", {"sender_id": OTHER, "answers": {}})
    spool.append("screening", {"sender_id": SENDER, "bad": True}, spool.REJECTED_FILE)
    spool.append("events", {"sender_id": SENDER, "events": [{"event": "user", "text": TEXT}]}, spool.EVENTS_FILE)
    spool.spool_path(spool.EVENTS_REJECTED_FILE).write_bytes(f"corrupt {SENDER} line\n".encode())
    logs = copies.logs_dir()
    logs.mkdir(parents=True)
    (logs / "rasa.log").write_text(
        f"2026-01-01 10:00:00 ERROR could not parse {TEXT!r} from {SENDER}\n"
        f"2026-01-01 10:00:01 INFO yes\n"
        f"2026-01-01 10:00:02 INFO {OTHER_TEXT} ({OTHER})\n",
        encoding="utf-8",
    )
    (logs / "rasa.log.1").write_text(f"old line {SENDER}\n", encoding="utf-8")

    counts = store.forget_sender(SENDER)

    assert counts["events"] == 2
    assert counts["nlu_inbox_examples"] == 2  # both spellings of her message
    assert counts["spool_lines"] == 4
    assert counts["log_lines"] == 2
    examples = improve.read_examples(improve.inbox_file(inbox, "ask_side_effects"))
    assert [e.lower() for e in examples] == [OTHER_TEXT]
    assert improve.read_examples(improve.inbox_file(inbox, "affirm")) == ["yes"]  # too short to be hers alone
    remaining = [store.spooled_sender(e) for name in spool.ALL_FILES for e in spool.entries(name)]
    assert remaining == [OTHER]
    assert SENDER.encode() not in spool.spool_path(spool.EVENTS_REJECTED_FILE).read_bytes()
    log = (logs / "rasa.log").read_text(encoding="utf-8")
    assert TEXT not in log and SENDER not in log
    assert log.count("\n") == 3 and "could not parse" in log  # lines kept, the words replaced
    assert OTHER_TEXT in log and OTHER in log
    assert SENDER not in (logs / "rasa.log.1").read_text()
    with db.session_scope() as session:
        (logged,) = session.execute(sa.text("select deleted_counts from deletion_log")).scalars().all()
    assert SENDER not in json.dumps(logged) and TEXT not in json.dumps(logged)


def test_a_visitor_cannot_erase_other_log_lines_by_choosing_the_id(db_url, tmp_path):
    logs = copies.logs_dir()
    logs.mkdir(parents=True)
    (logs / "stack.log").write_text("2026-01-01 10:00:00 ERROR Traceback (most recent call last)\n")
    store.forget_sender("Traceback (most recent call last)")
    store.forget_sender("ERROR")
    text = (logs / "stack.log").read_text()
    assert text.startswith("2026-01-01 10:00:00 ERROR ") and text.count("\n") == 1


def test_the_console_access_log_has_no_conversation_id_or_search_text():
    assert access_log_path(f"/conversations/{SENDER}/notes") == "/conversations/[id]/notes"
    assert access_log_path("/inbox?q=jane%20doe&page=2") == "/inbox?[query]"
    assert access_log_path("/static/console.css") == "/static/console.css"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/conversations/{SENDER}?x=1", "1.1", 200), None)
    assert AccessLogFilter().filter(record)
    assert SENDER not in record.getMessage() and "/conversations/[id]?[query]" in record.getMessage()
