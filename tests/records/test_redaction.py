"""Redaction of e-mail addresses and phone numbers (records.redaction)."""
import pytest

from records.redaction import EMAIL_PLACEHOLDER as E, PHONE_PLACEHOLDER as P, find_phones, redact, redact_text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail ann.o+hair@example.co.uk please", f"mail {E} please"),
        ("call +44 20 7946 0000 or (020) 7946-0000", f"call {P} or {P}"),
        ("07700900123", P),
        ("mobile: +33 6 12 34 56 78.", f"mobile: {P}."),
        ("555.123.4567!", f"{P}!"),
        ("it is 0044-20-7946-0000 ok", f"it is {P} ok"),
    ],
)
def test_contact_details_are_replaced(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I noticed it on 2024-05-01, or 01/05/2024",
        "2 years, 3 sessions of 20 min at 10:30, 20000 units",
        "message a1b2c3d4e5f61234567 and 123456",
        "no contact here @ all",
    ],
)
def test_ordinary_text_is_kept(text):
    assert redact_text(text) == text


def test_redact_walks_nested_values_and_keeps_identifiers():
    event = {
        "event": "user",
        "timestamp": 1700000000.5,
        "message_id": "0771234567890",
        "text": "ann@example.org",
        "parse_data": {"entities": [{"entity": "phone", "value": "07700 900123", "start": 0}]},
        "metadata": {"tags": ["ann@example.org", 7]},
    }

    redacted = redact(event)

    assert redacted == {
        "event": "user",
        "timestamp": 1700000000.5,
        "message_id": "0771234567890",
        "text": E,
        "parse_data": {"entities": [{"entity": "phone", "value": P, "start": 0}]},
        "metadata": {"tags": [E, 7]},
    }
    assert event["text"] == "ann@example.org"


def test_kept_contacts_stay_in_any_spelling_and_others_are_still_redacted():
    keep = ["+44 20 7946 0000", "Care@Clinic.example"]
    text = "Call us on +44 (0)20 7946 0000? no: 020 7946 0000 is ours as +44 20 7946 0000; care@clinic.example; me: ann@x.org 07700 900123"
    out = redact_text(text, keep)
    assert "+44 20 7946 0000;" in out and "care@clinic.example" in out
    assert out.endswith(f"me: {E} {P}")
    assert redact({"text": "ring 07700 900123 or +44 20 7946 0000"}, keep) == {"text": f"ring {P} or +44 20 7946 0000"}


def test_find_phones_gives_digits_and_skips_dates_and_short_numbers():
    assert find_phones("+44 7700 900123, 2024-05-01, 12345 or (020) 7946-0000") == [
        ("+44 7700 900123", "+447700900123"), ("(020) 7946-0000", "02079460000")]
