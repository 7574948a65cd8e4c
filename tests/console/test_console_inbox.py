"""The inbox: order, paging, columns, badges, every filter and the text search."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from console import db as console_db
from console import inbox, summary, transcript
from records import db as records_db
from tests.console.console_helpers import Convo, ref_of, sender_of, store

DAY = 86400.0
T0 = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.timezone.utc).timestamp()


def when(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def consultation(convo: Convo, status: str = "new") -> Convo:
    now = when(convo.c.t)
    return convo.record(
        "consultation_request",
        updated_at=now,
        kind="mesotherapy",
        name="Ann Example",
        email="ann@example.com",
        phone=None,
        time_window="mornings",
        consent_at=now,
        status=status,
        reason=None,
    )


@pytest.fixture
def world(console_url):
    """Six conversations, a day apart, each with one distinguishing outcome."""
    plain = Convo(T0).turn("what is mesotherapy", "ask_what_is", "It is injections.")
    booked = consultation(
        Convo(T0 + DAY)
        .turn("I'd like to book a consultation", "book_consultation", "Sure, when suits you?")
        .turn("mornings", "inform")
    )
    screened = Convo(T0 + 2 * DAY).turn("am I a candidate", "check_eligibility", slots={"sc_pregnancy": "yes"})
    screened.record(
        "screening_result",
        answers={"sc_pregnancy": "yes"},
        outcome="contraindication_reported",
        flagged_items=["sc_pregnancy"],
        completed=True,
    )
    triaged = Convo(T0 + 3 * DAY).turn("round bald patches appeared", "describe_hair_loss")
    triaged.record("triage_outcome", answers={"tr_pattern": "patches"}, outcome="red_flag")
    emergency = Convo(T0 + 4 * DAY).turn(
        "my throat is swelling", "emergency", "Call 112 now.", action="action_emergency"
    )
    emergency.record("safety_event", kind="emergency", detail="throat")
    lost = (
        Convo(T0 + 5 * DAY)
        .turn("blorp zzz", "nlu_fallback", "Sorry?", confidence=0.3)
        .turn("price of the other thing", "ask_price", "It varies.", confidence=0.41)
    )
    empty = Convo(T0 + 6 * DAY)
    store(console_url, plain, booked, screened, triaged, emergency, lost, empty)
    return {
        "plain": plain.sender_id,
        "booked": booked.sender_id,
        "screened": screened.sender_id,
        "triaged": triaged.sender_id,
        "emergency": emergency.sender_id,
        "lost": lost.sender_id,
        "empty": empty.sender_id,
    }


def listed(client, query: str = "") -> list:
    response = client.get(f"/inbox?{query}")
    assert response.status_code == 200
    return [sender_of(client, ref) for ref in re.findall(r'href="/conversations/([^"/]+)"', response.text)]


def test_newest_first_and_conversations_without_messages_left_out(reviewer_client, world):
    order = ["lost", "emergency", "triaged", "screened", "booked", "plain"]
    assert listed(reviewer_client) == [world[k] for k in order]
    assert "6 conversations" in reviewer_client.get("/inbox").text


def test_columns_and_badges(reviewer_client, world):
    page = reviewer_client.get("/inbox").text
    rows = {
        sender: row for row in page.split("<tr") for sender in world.values() if ref_of(reviewer_client, sender) in row
    }
    assert "2024-03-10 12:00" in rows[world["plain"]] and "Website chat" in rows[world["plain"]]
    assert re.search(r"<td>2</td>", rows[world["booked"]])
    assert "Consultation requested (new)" in rows[world["booked"]]
    assert "Screening: Contraindication reported" in rows[world["screened"]]
    assert "Hair loss: Red flag: see a doctor" in rows[world["triaged"]]
    assert ">Emergency<" in rows[world["emergency"]]
    assert "Not understood ×2" in rows[world["lost"]]
    assert "Not understood" not in rows[world["plain"]] and ">Unread<" in rows[world["plain"]]
    # no codes: no underscores, no intent names, no raw channel
    for row in rows.values():
        assert not re.search(r">[^<]*\b(?:contraindication_reported|red_flag|likely_aga|rest|socketio)\b[^<]*<", row)


def test_paging(app, reviewer_client, world, settings):
    settings.page_size = 4
    first, second = listed(reviewer_client), listed(reviewer_client, "page=2")
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
    assert "Page 1 of 2" in reviewer_client.get("/inbox").text
    assert 'href="/inbox?page=2"' in reviewer_client.get("/inbox").text
    assert listed(reviewer_client, "page=3") == []
    assert listed(reviewer_client, "page=notanumber") == first


OUTCOMES = {
    "consultation": ["booked"],
    "emergency": ["emergency"],
    "fallback": ["lost"],
    "screening:contraindication_reported": ["screened"],
    "screening:none_reported": [],
    "triage:red_flag": ["triaged"],
    "triage:likely_aga": [],
    "red_flag": ["triaged"],
    "contraindication": ["screened"],
    "questionnaire": ["triaged", "screened"],
}


def test_outcome_filter(reviewer_client, world):
    for outcome, expected in OUTCOMES.items():
        assert listed(reviewer_client, f"outcome={outcome}") == [world[k] for k in expected], outcome


def test_emergency_filter_also_uses_safety_records(reviewer_client, world, console_url):
    recorded_only = Convo(T0 + 8 * DAY).turn("the spots are hot and red", "report_complication")
    recorded_only.record("safety_event", kind="complication", detail="")
    store(console_url, recorded_only)
    assert listed(reviewer_client, "outcome=emergency") == [recorded_only.sender_id, world["emergency"]]


def test_unknown_filter_values_are_ignored(reviewer_client, world):
    assert len(listed(reviewer_client, "outcome=bogus&reviewed=maybe&date_from=yesterday")) == 6


def test_date_range_is_inclusive_by_day(reviewer_client, world):
    assert listed(reviewer_client, "date_from=2024-03-11&date_to=2024-03-12") == [
        world["screened"],
        world["booked"],
    ]
    assert listed(reviewer_client, "date_from=2024-03-15") == [world["lost"]]
    assert listed(reviewer_client, "date_to=2024-03-10") == [world["plain"]]


def test_intent_and_fallback_filters(reviewer_client, world):
    assert listed(reviewer_client, "intent=book_consultation") == [world["booked"]]
    assert listed(reviewer_client, "intent=ask_price") == [world["lost"]]
    assert listed(reviewer_client, "fallback=1") == [world["lost"]]
    assert listed(reviewer_client, "fallback=1&intent=ask_what_is") == []


def test_reviewed_and_tag_filters(reviewer_client, world, console_url):
    transcript.set_reviewed(console_url, world["booked"], True, "rita")
    transcript.set_reviewed(console_url, world["plain"], False, "rita")
    transcript.add_tag(console_url, world["screened"], "follow up")
    assert listed(reviewer_client, "reviewed=yes") == [world["booked"]]
    assert world["booked"] not in listed(reviewer_client, "reviewed=no")
    assert len(listed(reviewer_client, "reviewed=no")) == 5
    assert listed(reviewer_client, "tag=follow+up") == [world["screened"]]
    assert listed(reviewer_client, "tag=unknown") == []


def test_text_search_covers_visitor_and_assistant_messages_case_insensitively(reviewer_client, world):
    assert listed(reviewer_client, "q=MESOTHERAPY") == [world["plain"]]
    assert listed(reviewer_client, "q=call+112") == [world["emergency"]]
    assert listed(reviewer_client, "q=nothing+like+this") == []
    ref = ref_of(reviewer_client, world["triaged"])
    assert listed(reviewer_client, f"q={ref}") == [world["triaged"]]  # by reference
    assert listed(reviewer_client, f"q={ref[:8]}") == [world["triaged"]]  # or its short label
    assert listed(reviewer_client, f"q={world['triaged']}") == []  # the sender id is nothing staff can search by


def test_search_treats_like_wildcards_literally(reviewer_client, world, console_url):
    store(console_url, Convo(T0 + 7 * DAY).turn("is 100% of my hair_loss curable", "ask_claim"))
    assert len(listed(reviewer_client, "q=%25")) == 1
    assert len(listed(reviewer_client, "q=_")) == 1
    assert listed(reviewer_client, "q=a%25b") == []


def test_filters_combine_and_survive_paging_links(reviewer_client, world, settings):
    assert listed(reviewer_client, "outcome=consultation&q=mornings") == [world["booked"]]
    assert listed(reviewer_client, "outcome=consultation&q=mesotherapy") == []
    settings.page_size = 1
    page = reviewer_client.get("/inbox?reviewed=no&q=o").text
    assert 'href="/inbox?reviewed=no&amp;q=o&amp;page=2"' in page


def test_new_events_show_up_without_restart(reviewer_client, world, console_url):
    assert len(listed(reviewer_client)) == 6
    late = Convo(T0 + 10 * DAY).turn("one more question", "ask_price")
    store(console_url, late)
    assert listed(reviewer_client)[0] == late.sender_id


def test_rows_show_first_message_name_flags_and_state(reviewer_client, world, console_url, reviewer):
    from console import audit
    from console.references import audit_target

    transcript.flag_message(console_url, world["lost"], "rita", _first_user_event(console_url, world["lost"]), "")
    audit.record(console_url, "rita", "transcript.view", audit_target(ref_of(reviewer_client, world["screened"])))
    transcript.set_reviewed(console_url, world["plain"], True, "rita")
    page = reviewer_client.get("/inbox").text
    rows = {
        sender: row for row in page.split("<tr") for sender in world.values() if ref_of(reviewer_client, sender) in row
    }
    assert "what is mesotherapy" in rows[world["plain"]]
    assert "I&#39;d like to book a consultation" in rows[world["booked"]]
    assert "Ann Example" in rows[world["booked"]] and "Ann Example" not in rows[world["plain"]]
    assert "1 flagged" in rows[world["lost"]] and "flagged" not in rows[world["plain"]]
    assert ">Reviewed<" in rows[world["plain"]]
    assert ">Opened<" in rows[world["screened"]]
    assert ">Unread<" in rows[world["booked"]]
    assert listed(reviewer_client, "reviewed=unread") == [
        world[k] for k in ("lost", "emergency", "triaged", "booked")
    ]


def _first_user_event(url, sender_id):
    import sqlalchemy as sa

    from console import db

    e = db.tables().events
    with db.session(url) as s:
        return s.scalar(sa.select(sa.func.min(e.c.id)).where(e.c.sender_id == sender_id, e.c.type_name == "user"))


def test_a_button_click_is_previewed_as_the_button(reviewer_client, console_url):
    clicked = Convo(T0).turn("/check_eligibility", "check_eligibility")
    store(console_url, clicked)
    page = reviewer_client.get("/inbox").text
    assert "Can I have it?" in page and "/check_eligibility" not in page


def test_several_outcomes_are_any_of(reviewer_client, world):
    both = listed(reviewer_client, "outcome=consultation&outcome=emergency")
    assert both == [world["emergency"], world["booked"]]
    page = reviewer_client.get("/inbox?outcome=consultation&outcome=emergency").text
    assert page.count("checked") >= 2
    assert 'name="outcome" value="consultation" checked' in page
    assert 'name="outcome" value="emergency" checked' in page


def test_test_conversations_are_hidden_unless_asked_for(reviewer_client, world, console_url):
    transcript.add_tag(console_url, world["booked"], "test")
    assert world["booked"] not in listed(reviewer_client)
    assert "5 conversations" in reviewer_client.get("/inbox").text
    assert world["booked"] in listed(reviewer_client, "show_test=1")
    assert listed(reviewer_client, "tag=test") == [world["booked"]]


SEARCHES = (
    "mesotherapy", "MESOTHERAPY", "call 112", "mornings", "patches", "100%", "_", "hair_loss", "a%b",
    "\\", "o", "ab", "it", "abîmés", "cheveux abîmés", "nothing like this", "blorp zzz",
)


def _searches(url: str, app) -> dict:
    """(rows in order, count) of every search alone, with an outcome, and on a second page."""
    summary.refresh(url)
    found = {}
    for q in SEARCHES:
        for extra in ({}, {"outcome": "consultation"}, {"page": "2"}):
            flt = inbox.InboxFilter.from_params({"q": q, **extra})
            result = inbox.page(url, flt, ZoneInfo("UTC"), 2, app.state.references)
            found[(q, tuple(extra.items()))] = ([r.sender_id for r in result.rows], result.total)
    return found


def _search_indexes(url: str) -> set:
    names = {i["name"] for i in sa.inspect(records_db.get_engine(url)).get_indexes("conversation_summary")}
    return names & {records_db.SEARCH_INDEX}


def test_text_search_finds_the_same_rows_and_counts_through_the_trigram_index(app, world, console_url):
    """PostgreSQL answers `LIKE '%word%'` from the pg_trgm index (migration 0008; SQLite has
    none): with the planner kept off sequential scans, the same rows, order and counts as
    the scan once the index is dropped."""
    booked_too = consultation(
        Convo(T0 + 10 * DAY).turn("book me for mornings", "book_consultation", "Mornings it is.")
    )
    store(
        console_url,
        Convo(T0 + 7 * DAY).turn("is 100% of my hair_loss curable", "ask_claim"),
        Convo(T0 + 8 * DAY).turn("Mes cheveux abîmés", "describe_hair_loss", "Mesotherapy may help."),
        Convo(T0 + 9 * DAY).turn("a path\\to\\file", "nlu_fallback", "Sorry?"),
        booked_too,
    )
    if records_db.get_engine(console_url).dialect.name != "postgresql":
        assert _search_indexes(console_url) == set()
        assert _searches(console_url, app)[("mornings", ())] == ([booked_too.sender_id, world["booked"]], 2)
        return
    assert _search_indexes(console_url) == {records_db.SEARCH_INDEX}

    records_db.dispose_engine(console_url)
    no_scan = records_db.get_engine(console_url)

    @sa.event.listens_for(no_scan, "connect")
    def _no_seqscan(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")

    s = console_db.tables().conversation_summary
    where = inbox.conditions(inbox.InboxFilter(q="mornings"), ZoneInfo("UTC"))
    count = sa.select(sa.func.count()).select_from(s).where(*where)
    with no_scan.connect() as connection:
        compiled = count.compile(connection)  # after connecting: the server's string escaping
        plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert f"Bitmap Index Scan on {records_db.SEARCH_INDEX}" in plan
    with_index = _searches(console_url, app)
    records_db.dispose_engine(console_url)

    with records_db.get_engine(console_url).begin() as connection:
        connection.execute(sa.text(f"DROP INDEX {records_db.SEARCH_INDEX}"))
    without_index = _searches(console_url, app)

    assert with_index == without_index
    assert with_index[("mornings", ())] == ([booked_too.sender_id, world["booked"]], 2)
    assert with_index[("mornings", (("outcome", "consultation"),))] == ([booked_too.sender_id, world["booked"]], 2)
    assert with_index[("mornings", (("page", "2"),))] == ([], 2)
    assert with_index[("abîmés", ())][1] == with_index[("100%", ())][1] == with_index[("\\", ())][1] == 1
