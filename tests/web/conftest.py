"""Fixtures for the demo page and chat widget: the web server, headless Chromium, a fake Rasa REST channel."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import yaml

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

REPO_ROOT = Path(__file__).resolve().parents[2]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
PHONE_375 = {"width": 375, "height": 667}

TEST_CLINIC = {
    "name": "Northbridge Hair Clinic",
    "phone": "+44 20 7946 0000",
    "email": "hello@northbridge-hair.example",
    "hours": {"Monday to Friday": "09:00-18:00", "Saturday": "10:00-14:00"},
    "privacy_url": "/privacy.html",
    "emergency_number": "999",
    "urgent_care": "NHS 111 or your GP",
    "retention": "12 months",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def clinic_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("content") / "clinic.yml"
    path.write_text(yaml.safe_dump(TEST_CLINIC, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class DemoSite:
    url: str
    rasa_url: str
    clinic: dict


@pytest.fixture(scope="session")
def demo_site(clinic_file, tmp_path_factory):
    """`python -m web` on a free port; its RASA_URL points at a port nobody listens on."""
    port = free_port()
    rasa_url = f"http://localhost:{free_port()}"
    log_path = tmp_path_factory.mktemp("web") / "web.log"
    env = dict(
        os.environ,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        RASA_URL=rasa_url,
        MESOGUIDE_CLINIC_FILE=str(clinic_file),
        WEB_LOG_LEVEL="warning",
    )
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "web"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"python -m web exited with {proc.returncode}: {log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"python -m web did not answer within 30 s: {log_path.read_text()}")
            time.sleep(0.1)
        yield DemoSite(url=f"http://localhost:{port}", rasa_url=rasa_url, clinic=TEST_CLINIC)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class BrowserEvents:
    dialogs: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)


@pytest.fixture
def events() -> BrowserEvents:
    return BrowserEvents()


@pytest.fixture
def context(browser, events):
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(10_000)

    def on_dialog(dialog):
        events.dialogs.append(dialog.message)
        dialog.dismiss()

    ctx.on("dialog", on_dialog)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, events):
    tab = context.new_page()
    tab.on("pageerror", lambda error: events.page_errors.append(str(error)))
    yield tab
    assert events.page_errors == [], f"JavaScript errors on the page: {events.page_errors}"


class FakeRasa:
    """Rasa's REST channel as the browser sees it, answered by Playwright routing.

    `answers` maps a message (or button payload) to the replies Rasa would send;
    anything else is echoed back as "You said: ...". `failures` is a queue of
    outcomes for the next webhook requests: "abort" (connection refused), "http500",
    "http429" (rate limited, `{"text": ...}`), "http429list" (the same as a reply list,
    as channels/rest.py answers), "unknown_session" (403),
    "empty" (Rasa's `[]`) or "hold" (kept unanswered until `release()`).

    The session route (signed sender ids, channels/rest.py) hands out opaque ids;
    `session_mode` "404" plays a server without that route, "abort" one that is down.
    With `enforce_sessions` the webhook refuses senders it never issued (403
    unknown_session), as the signed-id server does.

    Every 429 (webhook or session route) carries `Retry-After: <retry_after>` (None: no
    header); with `expose_retry_after` the CORS headers let the page read it, without it
    the page can't (as with Rasa's CORS set-up, which exposes only "filename").
    """

    RATE_LIMIT_TEXT = "You are writing faster than I can read. Please wait a minute and try again."

    def __init__(self, rasa_url: str, origin: str) -> None:
        self.webhook = rasa_url + "/webhooks/rest/webhook"
        self.session_url = rasa_url + "/webhooks/rest/session"
        self.origin = origin
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.failures: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.held: list = []
        self.session_mode = "ok"  # "ok", "404", "abort" or "http429list"
        self.session_requests: list[Any] = []
        self.issued: list[str] = []
        self.enforce_sessions = False
        self.retry_after: Optional[str] = "1"
        self.expose_retry_after = True

    def attach(self, target) -> None:
        target.route(self.webhook, self._handle)
        target.route(self.session_url, self._handle_session)

    def replies_for(self, body: dict) -> list[dict[str, Any]]:
        message = body.get("message", "")
        replies = self.answers.get(message, [{"text": f"You said: {message}"}])
        return [{"recipient_id": body.get("sender"), **reply} for reply in replies]

    def release(self) -> None:
        route, body = self.held.pop(0)
        self._fulfill(route, 200, self.replies_for(body))

    def _fulfill(self, route, status: int, payload: Any) -> None:
        headers = {"Access-Control-Allow-Origin": self.origin}
        if status == 429 and self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
            if self.expose_retry_after:
                headers["Access-Control-Expose-Headers"] = "Retry-After"
        route.fulfill(status=status, content_type="application/json", headers=headers, body=json.dumps(payload))

    def _handle_session(self, route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        self.session_requests.append(json.loads(route.request.post_data or "null"))
        if self.session_mode == "404":
            self._fulfill(route, 404, {"description": "Not Found", "status": 404})
        elif self.session_mode == "abort":
            route.abort("connectionrefused")
        elif self.session_mode == "http429list":
            self._fulfill(route, 429, [{"recipient_id": None, "text": self.RATE_LIMIT_TEXT}])
        else:
            sender = "sess." + secrets.token_urlsafe(24)
            self.issued.append(sender)
            self._fulfill(route, 200, {"sender": sender})

    def _handle(self, route) -> None:
        body = json.loads(route.request.post_data or "{}")
        self.requests.append(body)
        outcome = self.failures.pop(0) if self.failures else None
        if outcome is None and self.enforce_sessions and body.get("sender") not in self.issued:
            outcome = "unknown_session"
        if outcome == "abort":
            route.abort("connectionrefused")
        elif outcome == "hold":
            self.held.append((route, body))
        elif outcome == "http500":
            self._fulfill(route, 500, {"error": "internal"})
        elif outcome == "http429":
            self._fulfill(route, 429, {"error": "rate_limited", "text": self.RATE_LIMIT_TEXT})
        elif outcome == "http429list":  # channels/rest.py's shape: a reply list
            self._fulfill(route, 429, [{"recipient_id": body.get("sender"), "text": self.RATE_LIMIT_TEXT}])
        elif outcome == "unknown_session":
            self._fulfill(route, 403, {"error": "unknown_session"})
        elif outcome == "empty":
            self._fulfill(route, 200, [])
        else:
            self._fulfill(route, 200, self.replies_for(body))


@pytest.fixture
def make_fake_rasa(demo_site) -> Callable[[Any], FakeRasa]:
    """Attach a new FakeRasa to a browser context (or page) showing the demo site."""

    def attach(target) -> FakeRasa:
        fake = FakeRasa(demo_site.rasa_url, demo_site.url)
        fake.attach(target)
        return fake

    return attach


@pytest.fixture
def fake_rasa(context, make_fake_rasa) -> FakeRasa:
    return make_fake_rasa(context)


class Widget:
    """The chat widget on a page, as a visitor uses it."""

    def __init__(self, page, base_url: str) -> None:
        from playwright.sync_api import expect

        self.page = page
        self.base_url = base_url.rstrip("/")
        self.expect = expect
        self.launcher = page.locator(".mg-launcher")
        self.panel = page.locator("#mg-panel")
        self.log = page.locator(".mg-log")
        self.input = page.locator("#mg-input")
        self.typing = page.locator(".mg-typing")
        self.error = page.locator(".mg-error")
        self.bot_messages = page.locator(".mg-msg-bot")
        self.user_messages = page.locator(".mg-msg-user")

    def goto(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)
        self.expect(self.launcher).to_be_visible()

    def open(self) -> None:
        self.launcher.click()
        self.expect(self.panel).to_be_visible()

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def ask(self, text: str, timeout: float = 10_000) -> None:
        """Send a message and wait until at least one more bot message is shown."""
        before = self.bot_messages.count()
        self.send(text)
        self.expect(self.bot_messages).not_to_have_count(before, timeout=timeout)
        self.expect(self.typing).to_be_hidden(timeout=timeout)

    def storage(self) -> Optional[dict]:
        raw = self.page.evaluate("localStorage.getItem('mesoguide.chat.v1')")
        return json.loads(raw) if raw else None

    def screenshot(self, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / name
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def make_widget() -> Callable[[Any, str], Widget]:
    return Widget


@pytest.fixture
def widget(page, demo_site, fake_rasa) -> Widget:
    return Widget(page, demo_site.url)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@pytest.fixture
def viewports() -> dict[str, dict[str, int]]:
    return {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def png_dimensions() -> Callable[[Path], tuple[int, int]]:
    return png_size
