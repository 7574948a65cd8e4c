"""Hypothesis strategies for what a visitor (or an attacker) can send to the REST channel,
and the check every answer must pass. Shared by the unit-level fuzz test
(tests/channels/test_fuzz.py) and the live one (tests/test_fuzz_live.py)."""
from __future__ import annotations

import json
from typing import Any, Optional

from hypothesis import strategies as st

# Scripts and symbols visitors really type, and the awkward parts of Unicode.
SAMPLES = [
    "what is mesotherapy?", "¿Qué es la mesoterapia?", "Что такое мезотерапия?", "什么是头皮注射", "ما هو",
    "मेसोथेरेपी", "メソセラピー", "😀🙏🏽👩‍⚕️💉", "🏳️‍🌈", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "</textarea><b>bold</b>", "{{7*7}} ${7*7} {clinic_name} %s %(x)s", "'; DROP TABLE events; --", "/restart",
    "/forget_me", "/book_consultation{\"x\": 1}", "\u202egnp.exe", "a\u0300\u0301\u0302" * 20, "\ufeffhello",
    "\u200b\u200c\u200d", "null", "undefined", "NaN", "\\u0000", "a\\nb", "  ", "\t\n\r", "",
]
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F)
ANY_CHAR = st.characters(blacklist_categories=())  # every category, lone surrogates included

texts = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(max_size=60),
    st.text(alphabet=ANY_CHAR, max_size=40),
    st.text(alphabet=CONTROL, max_size=20),
    st.builds(lambda a, b: a + b, st.sampled_from(SAMPLES), st.text(alphabet=ANY_CHAR, max_size=20)),
    st.integers(min_value=1, max_value=3000).map(lambda n: ("long text " * (n // 10 + 1))[:n]),
    st.text(min_size=1990, max_size=2010, alphabet="ab 😀"),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)
odd_messages = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))


@st.composite
def requests(draw, sender: str) -> bytes:
    """A request body: mostly a well-formed message from ``sender``, else JSON oddities,
    made-up senders, extra keys, broken JSON or raw bytes."""
    kind = draw(st.sampled_from(["message"] * 6 + ["odd_message", "odd_sender", "extra", "not_object", "raw", "nested"]))
    if kind == "message":
        return json.dumps({"sender": sender, "message": draw(texts)}, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == "odd_message":
        return json.dumps({"sender": sender, "message": draw(odd_messages)}).encode()
    if kind == "odd_sender":
        body = {"sender": draw(st.one_of(json_values, st.text(alphabet=ANY_CHAR, max_size=130))), "message": draw(texts)}
        return json.dumps(body).encode("utf-8", "surrogatepass")
    if kind == "extra":
        body = {"sender": sender, "message": draw(texts), "metadata": draw(json_values),
                "input_channel": draw(json_values), draw(st.text(max_size=8)): draw(json_values)}
        return json.dumps(body).encode("utf-8", "surrogatepass")
    if kind == "not_object":
        return json.dumps(draw(json_values)).encode()
    if kind == "nested":
        depth = draw(st.integers(min_value=100, max_value=20_000))
        return b"[" * depth + b"]" * draw(st.integers(min_value=0, max_value=depth))
    return draw(st.binary(max_size=200))


def check_answer(status: int, content_type: str, body: bytes, sender: str) -> Optional[Any]:
    """Asserts the channel's contract for one answer; returns the parsed body."""
    assert status in (200, 400, 403, 429), (status, body[:200])
    assert content_type.startswith("application/json"), content_type
    data = json.loads(body)
    if status == 200 or status == 429:
        assert isinstance(data, list), data
        for message in data:
            assert isinstance(message, dict) and message.get("recipient_id") == sender, message
            assert isinstance(message.get("text"), str) or isinstance(message.get("buttons"), list) \
                or message.get("custom") is not None or message.get("image"), message
            assert set(message) <= {"recipient_id", "text", "buttons", "image", "custom", "attachment"}, message
            for button in message.get("buttons") or []:
                assert isinstance(button.get("title"), str) and isinstance(button.get("payload"), str), button
    else:
        assert data in ({"error": "bad_request"}, {"error": "unknown_session"}), data
    return data


def rss_kib(pid: str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")
