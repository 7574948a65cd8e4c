"""End to end through Rasa: what a real conversation leaves in the clinic's records."""
import sqlalchemy as sa

from channels.client import new_sender, send


def say(stack, sender, text):
    return "\n".join(m.get("text") or "" for m in send(stack.rasa_url, sender, text, timeout=60))


def rows(stack, sql, **params):
    engine = sa.create_engine(stack.db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).fetchall()
    finally:
        engine.dispose()


def test_consented_request_leaves_exactly_one_row_and_a_redacted_log(live_stack):
    sender = new_sender(live_stack.rasa_url)
    assert "What kind of consultation" in say(live_stack, sender, "/book_consultation")
    assert "Do you agree?" in say(live_stack, sender, "mesotherapy")
    for text in ("/affirm", "Robin Fox", "evenings", "robin.fox@example.com"):
        reply = say(live_stack, sender, text)
    assert "robin.fox@example.com" in reply  # the confirmation names the contact
    say(live_stack, sender, "/book_consultation")  # asking again updates, never duplicates
    for text in ("mesotherapy", "/affirm", "Robin Fox", "mornings", "+44 7700 900456"):
        say(live_stack, sender, text)
    found = rows(live_stack, "select name, email, phone, time_window from consultation_request where sender_id = :s", s=sender)
    assert len(found) == 1 and found[0][0] == "Robin Fox" and found[0][2] == "+447700900456"
    log = " ".join(r[0] for r in rows(live_stack, "select data from events where sender_id = :s", s=sender))
    assert "robin.fox@example.com" not in log and "7700 900456" not in log
    assert "[email redacted]" in log or "[contact redacted]" in log


def test_no_consent_leaves_no_row(live_stack):
    sender = new_sender(live_stack.rasa_url)
    say(live_stack, sender, "/book_consultation")
    say(live_stack, sender, "general")
    reply = say(live_stack, sender, "/deny")
    assert "haven't stored" in reply
    assert rows(live_stack, "select count(*) from consultation_request where sender_id = :s", s=sender)[0][0] == 0


def test_forget_me_removes_the_conversation_and_its_records(live_stack):
    sender = new_sender(live_stack.rasa_url)
    for text in ("/book_consultation", "general", "/affirm", "Sam Lee", "any time", "sam.lee@example.com"):
        say(live_stack, sender, text)
    assert rows(live_stack, "select count(*) from consultation_request where sender_id = :s", s=sender)[0][0] == 1
    assert "cannot be undone" in say(live_stack, sender, "please delete my data")
    # asking is not deleting: the request is still there until the visitor confirms
    assert rows(live_stack, "select count(*) from consultation_request where sender_id = :s", s=sender)[0][0] == 1
    assert "deleted" in say(live_stack, sender, "/forget_me")
    assert rows(live_stack, "select count(*) from consultation_request where sender_id = :s", s=sender)[0][0] == 0
    assert rows(live_stack, "select count(*) from events where sender_id = :s", s=sender)[0][0] == 0


def test_dont_keep_my_answers_leaves_no_answer_in_the_log_or_the_records(live_stack):
    """Issue 12 §4 through Rasa and the action server: the choice, then a finished screening."""
    sender = new_sender(live_stack.rasa_url)
    assert "Are you pregnant" in say(live_stack, sender, "can I have mesotherapy?")
    assert "breastfeeding" in say(live_stack, sender, "yes qzxprivate-pregnant")
    assert "won't be kept" in say(live_stack, sender, "Don't keep my answers")
    reply = ""
    for _ in range(8):
        reply = say(live_stack, sender, "no qzxprivate-no")
        if "You mentioned" in reply:
            break
    assert "You mentioned" in reply and "pregnan" in reply  # the visitor still hears the outcome
    log = " ".join(r[0] for r in rows(live_stack, "select data from events where sender_id = :s", s=sender))
    assert "qzxprivate" not in log and "You mentioned" not in log and "contraindication_reported" not in log
    assert "can I have mesotherapy?" in log  # the question before the questionnaire stays
    assert rows(live_stack, "select count(*) from screening_result where sender_id = :s", s=sender)[0][0] == 0
    # the conversation goes on: "yes" to the offered consultation still starts it
    reply = say(live_stack, sender, "/book_consultation")
    assert "What kind of consultation" in reply or "Do you agree" in reply, reply
