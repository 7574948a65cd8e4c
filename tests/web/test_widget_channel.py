"""The widget against the real REST channel code (channels/rest.py, no model): signed sender
ids from the session route, a forged or forgotten id renewed once, the 429 text and its
Retry-After wait, all through Rasa's CORS set-up (preflights, error responses readable by
the page)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from channels import content
from tests.web.conftest import DESKTOP, PHONE_375, REPO_ROOT, free_port
from tests.web.test_widget_behaviour import UUID4

if "/session" not in (REPO_ROOT / "channels" / "rest.py").read_text(encoding="utf-8"):
    pytest.skip("channels/rest.py has no session route yet", allow_module_level=True)

SENDER_BURST = 4


def wait_for(url: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def servers(clinic_file, tmp_path_factory):
    rasa_port, web_port = free_port(), free_port()
    origin = f"http://localhost:{web_port}"
    logs = tmp_path_factory.mktemp("channel")
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        RASA_TELEMETRY_ENABLED="false",
        MESOGUIDE_SENDER_SECRET="channel-test-secret-" + "x" * 24,
        MESOGUIDE_RATE_PER_SENDER="0.01",
        MESOGUIDE_BURST_PER_SENDER=str(SENDER_BURST),
    )
    procs = []
    try:
        with open(logs / "channel.log", "wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "tests.web.channel_server", str(rasa_port), origin],
                                          cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", procs[0], logs / "channel.log")
        web_env = dict(env, WEB_HOST="127.0.0.1", WEB_PORT=str(web_port), RASA_URL=f"http://localhost:{rasa_port}",
                       MESOGUIDE_CLINIC_FILE=str(clinic_file), WEB_LOG_LEVEL="warning")
        with open(logs / "web.log", "wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "web"], cwd=REPO_ROOT, env=web_env, stdout=log, stderr=subprocess.STDOUT))
        wait_for(f"http://127.0.0.1:{web_port}/healthz", procs[1], logs / "web.log")
        yield origin
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_widget_with_the_real_channel(browser, servers, make_widget, size):
    phone = size == "phone"
    ctx = browser.new_context(viewport=PHONE_375 if phone else DESKTOP, is_mobile=phone, has_touch=phone)
    ctx.set_default_timeout(15_000)
    errors: list = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        widget = make_widget(page, servers)
        widget.goto()
        widget.open()
        widget.ask("hello")
        expect(widget.bot_messages.locator(".mg-bubble")).to_have_text(["echo: hello"])
        sender = widget.storage()["senderId"]
        assert not UUID4.match(sender) and len(sender) >= 32  # the server's signed id, not the widget's UUID

        # A forged (or forgotten) id: 403 unknown_session, a new id, the message sent once more.
        page.evaluate(
            "const s = JSON.parse(localStorage.getItem('mesoguide.chat.v1')); s.senderId = 'forged-' + 'a'.repeat(36);"
            "localStorage.setItem('mesoguide.chat.v1', JSON.stringify(s));"
        )
        page.reload()
        widget.open()
        widget.ask("second")
        expect(widget.bot_messages.locator(".mg-bubble")).to_have_text(["echo: hello", "echo: second"])
        renewed = widget.storage()["senderId"]
        assert renewed != sender and not renewed.startswith("forged")
        expect(widget.error).to_have_count(0)

        # The per-sender limit: the channel's friendly 429 text, not "can't reach", and a wait
        # as long as its Retry-After when the page may read it (CORS), else the widget's 15 s.
        refusals: list = []
        page.on("response", lambda r: refusals.append(r.headers) if r.status == 429 else None)
        for i in range(SENDER_BURST + 1):
            widget.send(f"message {i}")
            expect(widget.typing).to_be_hidden()
            if widget.error.count():
                break
        expect(widget.error).to_contain_text(content.message("rate_limited"))
        expect(widget.error).not_to_contain_text("Can't reach")
        expect(widget.error.get_by_role("button", name="Retry")).to_be_disabled()
        expect(page.locator(".mg-send")).to_be_disabled()
        assert len(refusals) == 1
        retry_after = int(refusals[0]["retry-after"])
        exposed = "retry-after" in refusals[0].get("access-control-expose-headers", "").lower()
        shown = int(re.search(r"(\d+) s", widget.error.locator(".mg-wait").inner_text()).group(1))
        expected = min(retry_after, 600) if exposed else 15
        assert expected - 1 <= shown <= expected, (refusals[0], shown)  # a second may have passed
        widget.send("during the wait")
        page.wait_for_timeout(500)
        assert len(refusals) == 1  # nothing reached the server
        expect(widget.input).to_have_value("during the wait")
        widget.screenshot(f"widget-channel-rate-limited-{size}.png")
        assert errors == []
    finally:
        ctx.close()
