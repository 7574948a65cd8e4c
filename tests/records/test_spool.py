"""The records spool: nothing a visitor gave is lost while the database is down."""
import json
import logging
import multiprocessing
import os
import stat
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from records import db, spool, store
from records.models import ConsultationRequest, SafetyEvent, ScreeningResult, TriageOutcome

SENDER = "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f"
OTHER = "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a"
NAME, EMAIL, PHONE = "Jo Patient", "jo.patient@example.org", "+44 7700 900123"
DETAIL = "swelling after injections"


def _unreachable_url(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/no/such/dir/mesoguide.db"
    return "postgresql://postgres@127.0.0.1:1/mesoguide"


def _spool_everything():
    return [
        store.save_screening(SENDER, {"pregnancy": "yes"}, "contraindication_reported", ["pregnancy"], True),
        store.save_triage(SENDER, {"pattern": "patchy"}, "red_flag"),
        store.save_consultation(SENDER, "general", "Old Name", EMAIL, None, "mornings"),
        store.save_consultation(SENDER, "mesotherapy", NAME, EMAIL, PHONE, "evenings", "likely_aga"),
        store.log_safety_event(SENDER, "complication", DETAIL),
    ]


def _spool_lines():
    return spool.spool_path().read_bytes().splitlines()


def _rows(model):
    with db.session_scope() as session:
        return session.execute(sa.select(model).order_by(model.id)).scalars().all()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_unreachable_database_spools_privately_and_returns_none(
    backend, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("MESOGUIDE_DB_URL", _unreachable_url(backend, tmp_path))
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path / "data"))
    caplog.set_level(logging.INFO, logger="records")

    try:
        results = _spool_everything()
    finally:
        db.dispose_engine()

    assert results == [None] * 5
    entries = [json.loads(line) for line in _spool_lines()]
    assert [entry["op"] for entry in entries] == [
        "screening",
        "triage",
        "consultation",
        "consultation",
        "safety_event",
    ]
    assert entries[3]["record"]["phone"] == PHONE
    assert stat.S_IMODE(spool.spool_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.spool_path().parent.stat().st_mode) == 0o700
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    logged = caplog.text
    for personal in (SENDER, NAME, EMAIL, PHONE, DETAIL, "pregnancy"):
        assert personal not in logged


def test_next_successful_call_replays_the_spool_first(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DB_URL", _unreachable_url("sqlite", tmp_path))
    assert _spool_everything() == [None] * 5
    spooled_at = datetime.now(timezone.utc)
    monkeypatch.setenv("MESOGUIDE_DB_URL", db_url)

    new_id = store.save_triage(OTHER, {"pattern": "crown"}, "likely_aga")

    assert isinstance(new_id, int)
    assert spool.spool_path().stat().st_size == 0
    (screening,) = _rows(ScreeningResult)
    assert (screening.sender_id, screening.flagged_items) == (SENDER, ["pregnancy"])
    assert screening.created_at <= spooled_at
    triages = _rows(TriageOutcome)
    assert [(t.sender_id, t.outcome) for t in triages] == [
        (SENDER, "red_flag"),
        (OTHER, "likely_aga"),
    ]
    assert triages[0].created_at < triages[1].created_at
    (consultation,) = _rows(ConsultationRequest)
    assert (consultation.name, consultation.phone, consultation.kind, consultation.reason) == (
        NAME,
        PHONE,
        "mesotherapy",
        "likely_aga",
    )
    (event,) = _rows(SafetyEvent)
    assert (event.kind, event.detail) == ("complication", DETAIL)

    store.log_safety_event(OTHER, "human_handoff")
    assert len(_rows(ScreeningResult)) == 1
    assert [e.sender_id for e in _rows(SafetyEvent)] == [SENDER, OTHER]


def test_forget_sender_also_forgets_spooled_records(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DB_URL", _unreachable_url("sqlite", tmp_path))
    _spool_everything()
    monkeypatch.setenv("MESOGUIDE_DB_URL", sqlite_url)

    counts = store.forget_sender(SENDER)

    assert (counts["screening_result"], counts["consultation_request"]) == (1, 1)
    assert not spool.pending()
    assert _rows(ConsultationRequest) == []


def test_older_spooled_consultation_never_overwrites_a_newer_one(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DB_URL", _unreachable_url("sqlite", tmp_path))
    store.save_consultation(SENDER, "general", "Stale", EMAIL, None, "mornings")
    monkeypatch.setenv("MESOGUIDE_DB_URL", sqlite_url)
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    with db.session_scope() as session:
        session.add(
            ConsultationRequest(
                sender_id=SENDER,
                kind="transplant",
                name="Fresh",
                phone=PHONE,
                time_window="evenings",
                consent_at=later,
                created_at=later,
                updated_at=later,
            )
        )

    assert store.replay_spool() == 1
    assert store.replay_spool() == 0

    (row,) = _rows(ConsultationRequest)
    assert (row.name, row.kind) == ("Fresh", "transplant")


def test_unusable_lines_are_set_aside_and_the_rest_replayed(sqlite_url, caplog):
    spool.append("triage", {"sender_id": SENDER, "answers": {}, "outcome": "unclear",
                            "at": datetime.now(timezone.utc).isoformat()})
    with open(spool.spool_path(), "ab") as handle:
        handle.write(b'{"op": "triage", "record": {"sender_id": \n')
    spool.append("no_such_op", {"sender_id": SENDER})
    spool.append("safety_event", {"sender_id": SENDER, "kind": "emergency", "detail": "",
                                  "at": datetime.now(timezone.utc).isoformat()})

    assert store.replay_spool() == 2

    assert len(_rows(TriageOutcome)) == 1
    assert len(_rows(SafetyEvent)) == 1
    assert spool.spool_path().stat().st_size == 0
    rejected_path = spool.spool_path().with_name(spool.REJECTED_FILE)
    rejected = rejected_path.read_bytes().splitlines()
    assert rejected[0].startswith(b'{"op": "triage"')
    assert json.loads(rejected[1])["op"] == "no_such_op"
    assert stat.S_IMODE(rejected_path.stat().st_mode) == 0o600
    assert SENDER not in caplog.text


class _DatabaseGone(Exception):
    pass


def test_replay_keeps_unapplied_lines_when_the_database_goes_away(tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path))
    for n in range(4):
        spool.append("triage", {"n": n})
    applied = []

    def apply(op, record):
        if record["n"] == 2:
            raise _DatabaseGone()
        applied.append(record["n"])

    with pytest.raises(_DatabaseGone):
        spool.replay(apply, lambda exc: isinstance(exc, _DatabaseGone))

    assert applied == [0, 1]
    assert [json.loads(line)["record"]["n"] for line in _spool_lines()] == [2, 3]


def _replay_and_die_after(data_dir, last):
    """Replays, and kills the process outright (no cleanup runs) once record ``last``
    has been applied, as a power cut or SIGKILL would."""
    os.environ["MESOGUIDE_DATA_DIR"] = data_dir

    def apply(op, record):
        if record["n"] == "bad":
            raise ValueError("rejected by the database")
        if record["n"] == last:
            os._exit(9)

    spool.replay(apply, lambda exc: False)


def test_a_crash_mid_replay_repeats_at_most_the_record_being_applied(tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path))
    spool.append("triage", {"n": 0})
    spool.append("triage", {"n": "bad"})
    for n in range(1, 4):
        spool.append("triage", {"n": n})
    child = multiprocessing.get_context("fork").Process(target=_replay_and_die_after, args=(str(tmp_path), 2))
    child.start()
    child.join(60)
    assert child.exitcode == 9

    # 0, the rejected line and 1 left the spool as they were handled; only 2, which
    # the database may have committed just before the crash, can be applied twice.
    assert [json.loads(line)["record"]["n"] for line in _spool_lines()] == [2, 3]
    rejected = spool.spool_path().with_name(spool.REJECTED_FILE).read_bytes().splitlines()
    assert [json.loads(line)["record"]["n"] for line in rejected] == ["bad"]
    applied = []
    assert spool.replay(lambda op, record: applied.append(record["n"]), lambda exc: False) == 2
    assert applied == [2, 3] and not spool.pending()


def test_database_down_and_spool_unwritable_raises_instead_of_dropping(tmp_path, monkeypatch):
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("")
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(not_a_dir))
    monkeypatch.setenv("MESOGUIDE_DB_URL", _unreachable_url("sqlite", tmp_path))

    with pytest.raises(sa.exc.OperationalError):
        store.log_safety_event(SENDER, "emergency")
    db.dispose_engine()


def test_append_waits_for_the_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path))
    path = spool.spool_path()
    writer = threading.Thread(target=spool.append, args=("triage", {"n": 1}))

    with spool.locked(path, os.O_RDWR):
        writer.start()
        writer.join(0.3)
        assert writer.is_alive()
        assert path.stat().st_size == 0
    writer.join(5)

    assert not writer.is_alive()
    assert len(_spool_lines()) == 1


def _append_many(data_dir, count):
    os.environ["MESOGUIDE_DATA_DIR"] = data_dir
    for n in range(count):
        spool.append("triage", {"n": n})


def _replay_until_writers_finish(data_dir, writers_done, results):
    os.environ["MESOGUIDE_DATA_DIR"] = data_dir
    total = 0
    while not writers_done.is_set():
        total += spool.replay(lambda op, record: None, lambda exc: False)
    results.put(total)


def test_concurrent_processes_neither_lose_nor_duplicate_lines(tmp_path):
    context = multiprocessing.get_context("fork")
    results, writers_done = context.Queue(), context.Event()
    writers = [
        context.Process(target=_append_many, args=(str(tmp_path), 150)) for _ in range(2)
    ]
    reader = context.Process(
        target=_replay_until_writers_finish, args=(str(tmp_path), writers_done, results)
    )
    for process in (reader, *writers):
        process.start()
    for process in writers:
        process.join(60)
        assert process.exitcode == 0
    writers_done.set()
    replayed = results.get(timeout=60)
    reader.join(60)
    assert reader.exitcode == 0

    left = (tmp_path / "spool" / spool.SPOOL_FILE).read_bytes().splitlines()
    assert all(json.loads(line)["op"] == "triage" for line in left)
    assert replayed > 0
    assert replayed + len(left) == 300
