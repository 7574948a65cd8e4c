"""Follow-up list: contact details for staff only, status changes, admin CSV export, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from console import db
from tests.console.console_helpers import Convo, ref_of, store

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def requests_(console_url):
    convos = []
    for i, (name, email, phone, status) in enumerate(
        (
            ("Ann Example", "ann@example.com", None, "new"),
            ("Bob Example", None, "+44 7700 900001", "contacted"),
            ("Cy Example", "cy@example.com", None, "booked"),
        )
    ):
        c = Convo(BASE.timestamp() + i * 3600).turn("book a consultation", "book_consultation")
        created = BASE + dt.timedelta(hours=i)
        c.c.records.setdefault("consultation_request", []).append(
            dict(
                sender_id=c.sender_id,
                created_at=created,
                updated_at=created,
                kind="mesotherapy",
                name=name,
                email=email,
                phone=phone,
                time_window="mornings",
                consent_at=created,
                status=status,
                reason="likely_aga",
            )
        )
        convos.append(c)
    store(console_url, *convos)
    return convos


def audit_actions(url: str):
    log = db.tables().audit_log
    with db.session(url) as s:
        return [
            tuple(r)
            for r in s.execute(sa.select(log.c.username, log.c.action, log.c.detail).order_by(log.c.id))
        ]


def request_ids(url: str):
    cr = db.tables().consultation_request
    with db.session(url) as s:
        return dict(s.execute(sa.select(cr.c.name, cr.c.id)).all())


def test_list_shows_contacts_newest_first_and_is_audited(reviewer_client, requests_, console_url):
    page = reviewer_client.get("/followups").text
    names = re.findall(r"<td>(\w+ Example)</td>", page)
    assert names == ["Cy Example", "Bob Example", "Ann Example"]
    assert "ann@example.com" in page and "+44 7700 900001" in page
    assert "3 requests" in page
    assert ("rita", "followups.view", "status=any page=1 rows=3") in audit_actions(console_url)
    # clickable contacts, plain labels
    assert 'href="mailto:ann@example.com"' in page and 'href="tel:+447700900001"' in page
    assert "Mesotherapy consultation" in page and "Likely pattern hair loss" in page
    assert "likely_aga" not in page


def rows_by_name(page: str) -> dict:
    return {m: row for row in page.split("<tr")[1:] for m in re.findall(r"<td>(\w+ Example)</td>", row)}


def test_due_and_overdue_against_the_promised_contact_time(reviewer_client, requests_, console_url):
    from console import followups

    # Wednesday 09:00 + 2 working days = Friday 09:00; Friday + 2 = Tuesday (not the weekend)
    assert followups.due_at(BASE, 2) == BASE + dt.timedelta(days=2)
    friday = dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.timezone.utc)
    assert followups.due_at(friday, 2) == dt.datetime(2024, 5, 7, 10, 0, tzinfo=dt.timezone.utc)
    assert not followups.is_overdue(BASE, BASE + dt.timedelta(days=2))
    assert followups.is_overdue(BASE, BASE + dt.timedelta(days=2, seconds=1))
    assert not followups.is_overdue(BASE, BASE + dt.timedelta(days=9), status="contacted")
    assert followups.age(BASE, BASE + dt.timedelta(hours=5)) == "5 h"
    assert followups.age(BASE, BASE + dt.timedelta(days=3, hours=1)) == "3 days"

    rows = rows_by_name(reviewer_client.get("/followups").text)
    assert "Overdue" in rows["Ann Example"] and 'class="overdue"' in rows["Ann Example"]
    assert "Overdue" not in rows["Bob Example"] and "Overdue" not in rows["Cy Example"]
    assert "days ago" in rows["Ann Example"]
    only = reviewer_client.get("/followups?overdue=1").text
    assert list(rows_by_name(only)) == ["Ann Example"]
    # a fresh request is not overdue yet
    fresh = Convo(dt.datetime.now(dt.timezone.utc).timestamp() - 60).turn("book", "book_consultation")
    now = dt.datetime.now(dt.timezone.utc)
    fresh.record(
        "consultation_request", updated_at=now, kind="general", name="Dee Example", email="d@example.com",
        phone=None, time_window="any time", consent_at=now, status="new", reason=None,
    )
    store(console_url, fresh)
    rows = rows_by_name(reviewer_client.get("/followups").text)
    assert "Overdue" not in rows["Dee Example"] and "due " in rows["Dee Example"]


def test_status_history_and_place_kept(reviewer_client, requests_, console_url):
    ann = request_ids(console_url)["Ann Example"]
    response = reviewer_client.post(
        f"/followups/{ann}/status?status=new", data={"csrf_token": reviewer_client.csrf, "status": "contacted"}
    )
    assert response.headers["location"] == f"/followups?msg=status&status=new#st{ann}"
    reviewer_client.post(f"/followups/{ann}/status", data={"csrf_token": reviewer_client.csrf, "status": "booked"})
    row = rows_by_name(reviewer_client.get("/followups").text)["Ann Example"]
    history = row.split("<details")[1].split("</details>")[0]
    assert "New (requested by the visitor)" in history
    assert history.index("Contacted · rita") < history.index("Booked · rita")
    assert "Overdue" not in row


def test_status_filter(reviewer_client, requests_):
    page = reviewer_client.get("/followups?status=contacted").text
    assert re.findall(r"<td>(\w+ Example)</td>", page) == ["Bob Example"]


def test_status_change_by_a_reviewer(reviewer_client, requests_, console_url):
    ann = request_ids(console_url)["Ann Example"]
    response = reviewer_client.post(
        f"/followups/{ann}/status", data={"csrf_token": reviewer_client.csrf, "status": "booked"}
    )
    assert response.status_code == 303
    cr = db.tables().consultation_request
    with db.session(console_url) as s:
        assert s.scalar(sa.select(cr.c.status).where(cr.c.id == ann)) == "booked"
    assert ("rita", "followup.status", "booked") in audit_actions(console_url)
    bad = reviewer_client.post(
        f"/followups/{ann}/status", data={"csrf_token": reviewer_client.csrf, "status": "deleted"}
    )
    assert bad.status_code == 400
    missing = reviewer_client.post(
        "/followups/999999/status", data={"csrf_token": reviewer_client.csrf, "status": "closed"}
    )
    assert missing.status_code == 404


def test_export_is_for_admins_and_audited(client, admin, reviewer, requests_, console_url):
    from tests.console.console_helpers import signed_in

    signed_in(client, reviewer.username)
    assert "Export CSV" not in client.get("/followups").text
    assert client.get("/followups/export.csv").status_code == 403
    assert not [a for a in audit_actions(console_url) if a[1] == "followups.export"]
    client.cookies.clear()
    signed_in(client, admin.username)
    assert "Export CSV" in client.get("/followups").text
    response = client.get("/followups/export.csv?status=booked")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["name"] for r in rows] == ["Cy Example"]
    assert rows[0]["email"] == "cy@example.com" and rows[0]["kind"] == "mesotherapy"
    assert rows[0]["conversation"] == ref_of(client, requests_[2].sender_id)  # the reference, never the id
    full = list(csv.DictReader(io.StringIO(client.get("/followups/export.csv").text)))
    assert {r["phone"] for r in full} == {"", "'+44 7700 900001"}
    assert ("alice", "followups.export", "status=booked rows=1") in audit_actions(console_url)
    assert ("alice", "followups.export", "status=any rows=3") in audit_actions(console_url)


def names(page: str) -> list:
    return re.findall(r"<td>(\w+ Example)</td>", page)


def assignees(console_url) -> dict:
    t = db.tables()
    with db.session(console_url) as s:
        return dict(
            s.execute(
                sa.select(t.consultation_request.c.name, t.followup_assignment.c.assignee).join(
                    t.followup_assignment, t.followup_assignment.c.request_id == t.consultation_request.c.id
                )
            ).all()
        )


def test_a_request_is_assigned_shown_filtered_and_its_history_kept(
    reviewer_client, admin, requests_, console_url
):
    from console import accounts

    gone = accounts.create_user(console_url, "gone", "correct horse battery", "reviewer")
    accounts.update_user(console_url, gone.id, active=False)
    ids = request_ids(console_url)
    page = reviewer_client.get("/followups").text
    select = page.split(f'id="as{ids["Ann Example"]}"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', select) == ["", "alice", "rita"]  # active accounts only
    assert names(reviewer_client.get("/followups?assignee=mine").text) == []
    assert names(reviewer_client.get("/followups?assignee=none").text) == ["Cy Example", "Bob Example", "Ann Example"]

    response = reviewer_client.post(
        f"/followups/{ids['Ann Example']}/assignee?status=new",
        data={"csrf_token": reviewer_client.csrf, "assignee": "rita"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/followups?msg=assigned&status=new#as{ids['Ann Example']}"
    reviewer_client.post(
        f"/followups/{ids['Bob Example']}/assignee", data={"csrf_token": reviewer_client.csrf, "assignee": "alice"}
    )
    assert assignees(console_url) == {"Ann Example": "rita", "Bob Example": "alice"}
    assert names(reviewer_client.get("/followups?assignee=mine").text) == ["Ann Example"]
    assert names(reviewer_client.get("/followups?assignee=none").text) == ["Cy Example"]
    assert names(reviewer_client.get("/followups?assignee=mine&status=booked").text) == []
    row = rows_by_name(reviewer_client.get("/followups").text)["Ann Example"]
    assert '<option value="rita" selected>rita (me)</option>' in row

    # reassigned, then unassigned: each step in the history, with who did it
    reviewer_client.post(
        f"/followups/{ids['Ann Example']}/assignee", data={"csrf_token": reviewer_client.csrf, "assignee": "alice"}
    )
    reviewer_client.post(f"/followups/{ids['Ann Example']}/status", data={"csrf_token": reviewer_client.csrf, "status": "contacted"})
    reviewer_client.post(f"/followups/{ids['Ann Example']}/assignee", data={"csrf_token": reviewer_client.csrf, "assignee": ""})
    history = rows_by_name(reviewer_client.get("/followups").text)["Ann Example"].split("<details")[1]
    steps = ["Assigned to rita · rita", "Assigned to alice · rita", "Contacted · rita", "Unassigned · rita"]
    assert [history.index(step) for step in steps] == sorted(history.index(step) for step in steps)
    assert "Ann Example" not in assignees(console_url)
    ann, bob = (ref_of(reviewer_client, r.sender_id) for r in requests_[:2])
    log = db.tables().audit_log
    with db.session(console_url) as s:
        assigned = s.execute(
            sa.select(log.c.username, log.c.target, log.c.detail)
            .where(log.c.action == "followup.assign")
            .order_by(log.c.id)
        ).all()
    assert [tuple(r) for r in assigned] == [
        ("rita", f"conversation:ref:{ann}", "rita"),
        ("rita", f"conversation:ref:{bob}", "alice"),
        ("rita", f"conversation:ref:{ann}", "alice"),
        ("rita", f"conversation:ref:{ann}", ""),
    ]


def test_only_active_staff_can_be_assigned_and_unknown_requests_are_404(reviewer_client, requests_, console_url):
    ids = request_ids(console_url)
    for bad in ("mallory", "RITA", "rita "):
        response = reviewer_client.post(
            f"/followups/{ids['Ann Example']}/assignee", data={"csrf_token": reviewer_client.csrf, "assignee": bad}
        )
        if bad == "rita ":  # surrounding spaces are not part of a name
            assert response.headers["location"].startswith("/followups?msg=assigned")
            continue
        assert response.status_code == 303 and "err=assignee" in response.headers["location"], bad
    assert assignees(console_url) == {"Ann Example": "rita"}
    missing = reviewer_client.post("/followups/99999/assignee", data={"csrf_token": reviewer_client.csrf, "assignee": "rita"})
    assert missing.status_code == 404
    no_csrf = reviewer_client.post(f"/followups/{ids['Bob Example']}/assignee", data={"assignee": "rita"})
    assert no_csrf.status_code == 403 and "Bob Example" not in assignees(console_url)


def test_the_export_names_the_assignee_and_deletion_takes_the_assignment_along(admin_client, requests_, console_url):
    from records import store as records

    ids = request_ids(console_url)
    admin_client.post(f"/followups/{ids['Cy Example']}/assignee", data={"csrf_token": admin_client.csrf, "assignee": "alice"})
    rows = list(csv.DictReader(io.StringIO(admin_client.get("/followups/export.csv?assignee=mine").text)))
    assert [(r["name"], r["assignee"]) for r in rows] == [("Cy Example", "alice")]
    records.forget_sender(requests_[2].sender_id, url=console_url)
    t = db.tables().followup_assignment
    with db.session(console_url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(t)) == 0
