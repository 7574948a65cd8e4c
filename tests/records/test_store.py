"""The store API of docs/contracts.md on SQLite and PostgreSQL."""
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from records import db, spool, store
from tests.fixtures.rasa_events import rasa_events_table
from records.models import (
    AuditLog,
    ConsultationRequest,
    ConversationReview,
    ConversationSummary,
    ConversationTag,
    DeletionLog,
    MessageFlag,
    Note,
    SafetyEvent,
    ScreeningResult,
    Tag,
    TriageOutcome,
)

SENDER = "3f2b8c1e-5d4a-4e6b-9c7d-0a1b2c3d4e5f"
OTHER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _rows(model, **filters):
    with db.session_scope() as session:
        return session.execute(sa.select(model).filter_by(**filters)).scalars().all()


def test_save_screening_stores_every_field(db_url):
    before = datetime.now(timezone.utc)
    answers = {"pregnancy": "no", "blood_thinners": "yes", "allergy": "unsure"}

    row_id = store.save_screening(
        SENDER, answers, "contraindication_reported", ["blood_thinners"], False
    )

    (row,) = _rows(ScreeningResult)
    assert row.id == row_id
    assert (row.sender_id, row.answers, row.outcome) == (
        SENDER,
        answers,
        "contraindication_reported",
    )
    assert row.flagged_items == ["blood_thinners"]
    assert row.completed is False
    assert row.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= row.created_at <= datetime.now(timezone.utc)


def test_save_triage_stores_answers_and_outcome(db_url):
    answers = {"pattern": "crown", "sudden": False, "duration_months": 14}

    row_id = store.save_triage(SENDER, answers, "likely_aga")

    (row,) = _rows(TriageOutcome)
    assert (row.id, row.sender_id, row.answers, row.outcome) == (
        row_id,
        SENDER,
        answers,
        "likely_aga",
    )


def test_log_safety_event_stores_kind_and_detail(db_url):
    first = store.log_safety_event(SENDER, "emergency", "chest pain after treatment")
    second = store.log_safety_event(SENDER, "human_handoff")

    rows = sorted(_rows(SafetyEvent, sender_id=SENDER), key=lambda row: row.id)
    assert [row.id for row in rows] == [first, second]
    assert [(row.kind, row.detail) for row in rows] == [
        ("emergency", "chest pain after treatment"),
        ("human_handoff", ""),
    ]


def test_save_consultation_creates_a_new_request(db_url):
    row_id = store.save_consultation(
        SENDER, "mesotherapy", "Ann Example", "ann@example.org", None, "weekday mornings"
    )

    (row,) = _rows(ConsultationRequest)
    assert row.id == row_id
    assert (row.kind, row.name, row.email, row.phone) == (
        "mesotherapy",
        "Ann Example",
        "ann@example.org",
        None,
    )
    assert (row.time_window, row.status, row.reason) == ("weekday mornings", "new", None)
    assert row.consent_at == row.created_at == row.updated_at


def test_second_consultation_request_updates_the_only_row(db_url):
    first = store.save_consultation(SENDER, "general", "Ann", "ann@example.org", None, "mornings")
    with db.session_scope() as session:
        session.execute(
            sa.update(ConsultationRequest)
            .where(ConsultationRequest.id == first)
            .values(status="contacted")
        )
    (original,) = _rows(ConsultationRequest)

    second = store.save_consultation(
        SENDER, "transplant", "Ann B", None, "+44 20 7946 0000", "evenings", reason="likely_aga"
    )
    store.save_consultation(OTHER, "general", "Bob", "bob@example.org", None, "any time")

    assert second == first
    (row,) = _rows(ConsultationRequest, sender_id=SENDER)
    assert (row.kind, row.name, row.email, row.phone, row.time_window, row.reason) == (
        "transplant",
        "Ann B",
        None,
        "+44 20 7946 0000",
        "evenings",
        "likely_aga",
    )
    assert row.status == "new"
    assert row.created_at == original.created_at
    assert row.updated_at > original.updated_at
    assert row.consent_at == row.updated_at
    assert len(_rows(ConsultationRequest)) == 2


def test_database_enforces_one_consultation_request_per_sender(db_url):
    store.save_consultation(SENDER, "general", "Ann", "ann@example.org", None, "mornings")
    now = datetime.now(timezone.utc)
    with pytest.raises(sa.exc.IntegrityError):
        with db.session_scope() as session:
            session.add(
                ConsultationRequest(
                    sender_id=SENDER,
                    kind="general",
                    name="Dup",
                    email="d@example.org",
                    time_window="x",
                    consent_at=now,
                )
            )


@pytest.mark.parametrize(
    "call",
    [
        lambda: store.save_screening(SENDER, {"pregnancy": "no"}, "fine", [], True),
        lambda: store.save_screening(SENDER, {"pregnancy": "maybe"}, "none_reported", [], True),
        lambda: store.save_screening(SENDER, ["pregnancy"], "none_reported", [], True),
        lambda: store.save_screening(SENDER, {}, "none_reported", "pregnancy", True),
        lambda: store.save_triage(SENDER, {}, "bald"),
        lambda: store.save_triage(SENDER, {"when": object()}, "unclear"),
        lambda: store.save_consultation(SENDER, "botox", "Ann", "a@example.org", None, "am"),
        lambda: store.save_consultation(SENDER, "general", "Ann", None, None, "am"),
        lambda: store.save_consultation(SENDER, "general", "", "a@example.org", None, "am"),
        lambda: store.save_consultation(SENDER, "general", "Ann" * 100, "a@example.org", None, "am"),
        lambda: store.log_safety_event(SENDER, "panic"),
        lambda: store.log_safety_event("", "emergency"),
        lambda: store.log_safety_event("x" * 256, "emergency"),
        lambda: store.log_safety_event(None, "emergency"),
        lambda: store.forget_sender(""),
    ],
    ids=[
        "screening-outcome",
        "screening-answer",
        "screening-answers-not-mapping",
        "screening-flagged-string",
        "triage-outcome",
        "triage-answers-not-json",
        "consultation-kind",
        "consultation-no-contact",
        "consultation-empty-name",
        "consultation-name-too-long",
        "safety-kind",
        "empty-sender",
        "sender-too-long",
        "sender-none",
        "forget-empty-sender",
    ],
)
def test_invalid_values_are_rejected_and_nothing_is_written(sqlite_url, call):
    with pytest.raises(ValueError):
        call()

    for model in (ScreeningResult, TriageOutcome, ConsultationRequest, SafetyEvent, DeletionLog):
        assert _rows(model) == []
    assert not spool.pending()


def test_vocabularies_match_the_contract():
    assert store.SCREENING_OUTCOMES == (
        "none_reported",
        "contraindication_reported",
        "doctor_check",
    )
    assert store.TRIAGE_OUTCOMES == ("likely_aga", "red_flag", "see_doctor", "unclear")
    assert store.CONSULTATION_KINDS == ("transplant", "mesotherapy", "general")
    assert store.CONSULTATION_STATUSES == ("new", "contacted", "booked", "closed")
    assert store.SAFETY_KINDS == (
        "emergency",
        "complication",
        "red_flag",
        "medical_advice_declined",
        "human_handoff",
    )
    assert store.STAFF_ROLES == ("reviewer", "admin")


def _rasa_events_table(metadata):
    return rasa_events_table(metadata)


def _fill_everything_for(sender_id, events):
    store.save_screening(sender_id, {"pregnancy": "no"}, "none_reported", [], True)
    store.save_triage(sender_id, {"pattern": "diffuse"}, "see_doctor")
    store.save_consultation(sender_id, "general", "Ann", "ann@example.org", None, "am")
    store.log_safety_event(sender_id, "red_flag", "sudden patchy loss")
    store.log_safety_event(sender_id, "complication")
    with db.session_scope() as session:
        tag = session.execute(sa.select(Tag).filter_by(name="follow-up")).scalar_one_or_none()
        if tag is None:
            tag = Tag(name="follow-up")
            session.add(tag)
            session.flush()
        session.add_all(
            [
                ConversationReview(sender_id=sender_id, reviewed=True, reviewed_by="staff"),
                ConversationTag(sender_id=sender_id, tag_id=tag.id),
                Note(sender_id=sender_id, author="staff", text="called back"),
                Note(sender_id=sender_id, event_id=2, author="staff", text="check"),
                MessageFlag(sender_id=sender_id, event_id=2, author="staff", reason="wrong"),
                ConversationSummary(sender_id=sender_id, started_at=1.0, last_at=3.0,
                                    last_event_id=3, search_text="hello"),
                AuditLog(username="staff", action="view", target=sender_id),
                AuditLog(username="staff", action="tag", target=f"conversation:{sender_id}"),
            ]
        )
    with db.get_engine().begin() as connection:
        connection.execute(
            events.insert(),
            [
                {
                    "sender_id": sender_id,
                    "type_name": "user",
                    "timestamp": 1.0 + n,
                    "intent_name": "greet",
                    "data": json.dumps({"text": "hello"}),
                }
                for n in range(3)
            ],
        )


def test_forget_sender_deletes_everything_about_one_sender(db_url):
    metadata = sa.MetaData()
    events = _rasa_events_table(metadata)
    metadata.create_all(db.get_engine())
    _fill_everything_for(SENDER, events)
    _fill_everything_for(OTHER, events)
    with db.session_scope() as session:
        session.add(AuditLog(username="admin", action="login", target=None))

    counts = store.forget_sender(SENDER)

    assert counts == {
        "screening_result": 1,
        "triage_outcome": 1,
        "consultation_request": 1,
        "safety_event": 2,
        "conversation_review": 1,
        "conversation_tag": 1,
        "note": 2,
        "message_flag": 1,
        "conversation_summary": 1,
        "events": 3,
        "audit_log_pseudonymised": 1,
        "spool_lines": 0,
        "nlu_inbox_examples": 0,
        "log_lines": 0,
    }
    for model in (
        ScreeningResult,
        TriageOutcome,
        ConsultationRequest,
        SafetyEvent,
        ConversationReview,
        ConversationTag,
        Note,
        MessageFlag,
        ConversationSummary,
    ):
        assert _rows(model, sender_id=SENDER) == []
        assert _rows(model, sender_id=OTHER) != []
    with db.get_engine().connect() as connection:
        remaining = connection.execute(sa.select(events.c.sender_id)).scalars().all()
    assert remaining == [OTHER] * 3
    assert len(_rows(Tag)) == 1

    digest = hashlib.sha256(SENDER.encode()).hexdigest()
    audit_targets = sorted(str(row.target) for row in _rows(AuditLog))
    assert audit_targets == sorted(
        # only the exact conversation target; a bare id is not a target the console writes
        [f"conversation:sha256:{digest}", SENDER, OTHER, f"conversation:{OTHER}", "None"]
    )

    (log,) = _rows(DeletionLog)
    assert log.sender_hash == digest
    assert log.deleted_counts == counts
    assert SENDER not in json.dumps({"hash": log.sender_hash, "counts": log.deleted_counts})


def test_forget_sender_without_rasa_events_table(db_url):
    store.save_triage(SENDER, {}, "unclear")
    assert not sa.inspect(db.get_engine()).has_table("events")

    counts = store.forget_sender(SENDER)

    assert counts["triage_outcome"] == 1
    assert counts["events"] == 0
    assert _rows(TriageOutcome) == []
    assert len(_rows(DeletionLog)) == 1


def test_forget_unknown_sender_logs_zero_counts(db_url):
    counts = store.forget_sender(OTHER)

    assert set(counts.values()) == {0}
    (log,) = _rows(DeletionLog)
    assert log.deleted_counts == counts


def test_set_consultation_status_moves_a_request_through_follow_up(db_url):
    request_id = store.save_consultation(SENDER, "general", "Ann", "ann@example.org", None, "am")
    (saved,) = _rows(ConsultationRequest)

    assert store.set_consultation_status(request_id, "contacted") is True
    assert store.set_consultation_status(request_id + 1000, "booked") is False
    with pytest.raises(ValueError):
        store.set_consultation_status(request_id, "lost")

    (row,) = _rows(ConsultationRequest)
    assert row.status == "contacted"
    assert row.updated_at > saved.updated_at
    assert (row.name, row.consent_at) == (saved.name, saved.consent_at)


def test_url_keyword_overrides_the_environment(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DB_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")

    ids = [
        store.save_screening(SENDER, {"pregnancy": "no"}, "none_reported", [], True, url=db_url),
        store.save_triage(SENDER, {}, "unclear", url=db_url),
        store.save_consultation(SENDER, "general", "Ann", "a@example.org", None, "am", url=db_url),
        store.log_safety_event(SENDER, "human_handoff", url=db_url),
    ]
    assert None not in ids
    assert store.set_consultation_status(ids[2], "booked", url=db_url) is True
    counts = store.forget_sender(SENDER, url=db_url)
    db.dispose_engine()

    assert not spool.pending()
    assert [counts[name] for name in (
        "screening_result", "triage_outcome", "consultation_request", "safety_event"
    )] == [1, 1, 1, 1]
    with db.session_scope(db_url) as session:
        assert session.execute(sa.select(DeletionLog.sender_hash)).scalars().all() == [
            store.sender_hash(SENDER)
        ]


def test_concurrent_consultation_requests_leave_exactly_one_row(db_url):
    def submit(n):
        return store.save_consultation(
            SENDER, "general", f"Ann {n}", "ann@example.org", None, "am", url=db_url
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(submit, range(12)))

    (row,) = _rows(ConsultationRequest)
    assert set(ids) == {row.id}
    assert row.name in {f"Ann {n}" for n in range(12)}
