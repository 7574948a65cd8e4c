"""Fuzz test (issue 13): at least 2,000 generated requests through the REST channel
(signed ids, rate limits, input limit, the route itself) with a stand-in for Rasa that
echoes the text and answers with buttons: never a 5xx, every answer well-formed JSON
in the documented shape, memory flat. The same strategies run against the real Rasa
in tests/test_fuzz_live.py."""
from __future__ import annotations

import gc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.fuzz_strategies import check_answer, requests, rss_kib

WEBHOOK = "/webhooks/rest/webhook"
EXAMPLES = 2000


def test_2000_generated_requests_get_well_formed_answers_and_memory_stays_flat(channel_app):
    rasa = channel_app
    rasa.unlimited()
    rasa.mode = "echo"
    rasa.channel.max_chars = 2000  # the production limit (the other channel tests use 10)
    sender = rasa.new_sender()
    seen = {"count": 0, "statuses": set(), "reached_rasa": 0}

    def exchange(body: bytes):
        reply = rasa.post(WEBHOOK, body, headers={"Content-Type": "application/json"})
        check_answer(reply.status_code, reply.headers.get("content-type", ""), reply.content, sender)
        seen["count"] += 1
        seen["statuses"].add(reply.status_code)
        seen["reached_rasa"] += len(rasa.handed_to_rasa)
        for text in rasa.handed_to_rasa:
            assert isinstance(text, str) and len(text) <= rasa.channel.max_chars
            assert "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)
            text.encode("utf-8")  # storable as it is

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(body=requests(sender))
    def fuzz(body):
        exchange(body)

    # warm up (imports, caches, the allocator), then measure
    for text in ("hello", "😀", "x" * 3000):
        exchange(f'{{"sender": "{sender}", "message": "{text}"}}'.encode())
    gc.collect()
    before = rss_kib()
    try:
        fuzz()
    finally:
        rasa.mode = "answer"
        rasa.channel.max_chars = 10
    gc.collect()
    growth_mib = (rss_kib() - before) / 1024
    assert seen["count"] >= EXAMPLES
    assert {200, 400, 403} <= seen["statuses"]
    assert seen["reached_rasa"] > EXAMPLES // 3  # most generated requests were real messages
    assert growth_mib < 40, f"resident memory grew by {growth_mib:.1f} MiB over {seen['count']} requests"


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(["ok", "made-up", "limited"]), min_size=1, max_size=30))
def test_rate_limits_and_unknown_ids_never_break_the_answer_shape(channel_app, plan):
    rasa = channel_app
    rasa.limit("sender", 60, 3)
    sender = rasa.new_sender()
    try:
        for step in plan:
            body = {"sender": sender if step != "made-up" else "mg1.x.y", "message": "hi"}
            reply = rasa.post(WEBHOOK, body)
            check_answer(reply.status_code, reply.headers["content-type"], reply.content,
                         sender if step != "made-up" else None)
    finally:
        rasa.unlimited()
