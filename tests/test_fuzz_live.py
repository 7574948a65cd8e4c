"""The REST-channel fuzz test (tests/channels/fuzz_strategies.py) against the real Rasa
with the trained model (``live_stack``): generated messages of every kind get no 5xx,
well-formed answers, and Rasa's memory stays flat. Fewer examples than the unit-level
test (tests/channels/test_fuzz.py, 2,000), which covers the channel in depth."""
from __future__ import annotations

import urllib.error
import urllib.request

from hypothesis import HealthCheck, given, settings

from channels.client import new_sender, post_json
from tests.channels.fuzz_strategies import check_answer, requests, rss_kib

EXAMPLES = 150
PER_SENDER = 40  # below the live stack's burst per sender (tests/fixtures/stack.py)


def test_generated_messages_through_the_real_rasa(live_stack):
    url = live_stack.rasa_url + "/webhooks/rest/webhook"
    rasa_pid = str(live_stack.procs["rasa"].pid)
    state = {"sender": new_sender(live_stack.rasa_url), "sent": 0, "statuses": set()}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=requests("SENDER"))
    def fuzz(data):
        if state["sent"] and state["sent"] % PER_SENDER == 0:
            state["sender"] = new_sender(live_stack.rasa_url)
        body = data.replace(b'"SENDER"', ('"%s"' % state["sender"]).encode())
        status, content_type, answer = post_json_raw(url, body)
        check_answer(status, content_type, answer, state["sender"])
        state["sent"] += 1
        state["statuses"].add(status)

    for text in ("hello", "what is mesotherapy?"):  # warm up
        post_json(url, {"sender": state["sender"], "message": text}, timeout=60)
    before = rss_kib(rasa_pid)
    fuzz()
    growth_mib = (rss_kib(rasa_pid) - before) / 1024
    assert state["sent"] >= EXAMPLES and 200 in state["statuses"]
    assert growth_mib < 150, f"Rasa's resident memory grew by {growth_mib:.0f} MiB over {state['sent']} messages"


def post_json_raw(url, body: bytes):
    """(status, content type, body) of a POST of raw bytes, for any status."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Content-Type", ""), error.read()
