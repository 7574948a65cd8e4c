"""How the widget behaves for a visitor: disclosure, failures, persistence, keyboard, layout, screenshots."""

import re

import pytest
from playwright.sync_api import expect

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

GREETING = [
    {
        "text": "Hello, I'm MesoGuide, the automated assistant of Northbridge Hair Clinic. What would you like to know?",
        "buttons": [
            {"title": "What is mesotherapy?", "payload": "/ask_what_is_mesotherapy"},
            {"title": "Does it work?", "payload": "/ask_evidence"},
            {"title": "Book a consultation", "payload": "/request_consultation"},
        ],
    }
]
MESOTHERAPY = [
    {
        "text": (
            "Mesotherapy for hair is a course of small **injections** of vitamins, amino acids or other "
            "substances into the scalp.\n\n"
            "- usually 4 to 6 sessions, a few weeks apart\n"
            "- studies are small and results vary\n"
            "- it is not a proven cure for hair loss"
        )
    }
]


def relative_luminance(rgb):
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground, background):
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


COLOURS_JS = """
(element) => {
  const parse = (value) => value.match(/[\\d.]+/g).map(Number);
  let node = element;
  let background = parse(getComputedStyle(node).backgroundColor);
  while ((background.length === 4 && background[3] === 0) && node.parentElement) {
    node = node.parentElement;
    background = parse(getComputedStyle(node).backgroundColor);
  }
  if (background.length === 4 && background[3] === 0) background = [255, 255, 255];
  return {fg: parse(getComputedStyle(element).color).slice(0, 3), bg: background.slice(0, 3)};
}
"""


def test_disclosure_is_shown_before_the_first_message(widget, demo_site):
    widget.goto()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    expect(widget.launcher).to_have_attribute("aria-controls", "mg-panel")
    expect(widget.panel).to_be_hidden()
    widget.open()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(widget.panel).to_have_attribute("role", "dialog")
    expect(widget.panel).to_have_accessible_name("MesoGuide")
    disclosure = widget.page.locator("#mg-disclosure")
    expect(disclosure).to_be_visible()
    expect(disclosure).to_contain_text("automated assistant of Northbridge Hair Clinic")
    expect(disclosure).to_contain_text("not a diagnosis")
    expect(disclosure).to_contain_text("Not for emergencies: call 999")
    expect(disclosure.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
    privacy = disclosure.get_by_role("link", name="Privacy notice")
    expect(privacy).to_have_attribute("href", demo_site.url + "/privacy.html")
    expect(widget.log).to_have_attribute("aria-live", "polite")
    expect(widget.input).to_have_accessible_name("Your message")
    expect(widget.bot_messages).to_have_count(0)
    expect(widget.user_messages).to_have_count(0)


def test_typing_indicator_while_the_bot_works(widget, fake_rasa):
    fake_rasa.failures.append("hold")
    widget.goto()
    widget.open()
    expect(widget.typing).to_be_hidden()
    widget.send("hello")
    expect(widget.typing).to_be_visible()
    expect(widget.typing).to_contain_text("MesoGuide is typing")
    expect(widget.page.locator(".mg-send")).to_be_disabled()
    expect(widget.user_messages).to_have_count(1)
    fake_rasa.release()
    expect(widget.typing).to_be_hidden()
    expect(widget.bot_messages.locator(".mg-bubble")).to_have_text("You said: hello")
    expect(widget.page.locator(".mg-send")).to_be_enabled()


def test_empty_reply_shows_a_message_and_retry(widget, fake_rasa):
    fake_rasa.failures.append("empty")
    widget.goto()
    widget.open()
    widget.send("what does it cost?")
    expect(widget.error).to_contain_text("The assistant couldn't answer that just now")
    expect(widget.error.get_by_role("link", name="+44 20 7946 0000")).to_have_attribute("href", "tel:+442079460000")
    expect(widget.error).to_have_attribute("role", "alert")
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text("what does it cost?")
    widget.error.get_by_role("button", name="Retry").click()
    expect(widget.bot_messages.locator(".mg-bubble")).to_have_text("You said: what does it cost?")
    expect(widget.error).to_have_count(0)
    expect(widget.user_messages).to_have_count(1)
    assert [r["message"] for r in fake_rasa.requests] == ["what does it cost?", "what does it cost?"]


def test_unreachable_assistant_then_retry(context, widget, demo_site, fake_rasa):
    context.unroute(fake_rasa.webhook)
    widget.goto()
    widget.open()
    widget.send("is it painful?")
    expect(widget.error).to_contain_text("Can't reach the assistant right now")
    expect(widget.error).to_contain_text("+44 20 7946 0000")
    expect(widget.typing).to_be_hidden()
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text("is it painful?")
    widget.error.get_by_role("button", name="Retry").click()
    expect(widget.error).to_contain_text("Can't reach the assistant right now")
    fake_rasa.attach(context)
    widget.error.get_by_role("button", name="Retry").click()
    expect(widget.bot_messages.locator(".mg-bubble")).to_have_text("You said: is it painful?")
    expect(widget.error).to_have_count(0)
    expect(widget.user_messages).to_have_count(1)


@pytest.mark.parametrize("failure", ["http500", "abort"])
def test_server_error_or_refused_connection_is_never_silent(widget, fake_rasa, failure):
    fake_rasa.failures.append(failure)
    widget.goto()
    widget.open()
    widget.send("hello")
    expect(widget.error).to_contain_text("Can't reach the assistant right now")
    widget.error.get_by_role("button", name="Retry").click()
    expect(widget.bot_messages).to_have_count(1)


def test_request_timeout_shows_unreachable(context, widget, demo_site, fake_rasa):
    def short_timeout(route):
        response = route.fetch()
        html = response.text().replace("data-rasa-url=", 'data-timeout-ms="600" data-rasa-url=', 1)
        route.fulfill(response=response, body=html)

    context.route(demo_site.url + "/", short_timeout)
    fake_rasa.failures.append("hold")
    widget.goto()
    widget.open()
    widget.send("hello")
    expect(widget.typing).to_be_visible()
    expect(widget.error).to_contain_text("Can't reach the assistant right now", timeout=5_000)
    expect(widget.typing).to_be_hidden()
    widget.error.get_by_role("button", name="Retry").click()
    expect(widget.bot_messages.locator(".mg-bubble")).to_have_text("You said: hello")


def test_conversation_survives_reload_and_navigation(widget, fake_rasa):
    fake_rasa.answers["hello"] = GREETING
    fake_rasa.answers["/ask_what_is_mesotherapy"] = MESOTHERAPY
    widget.goto()
    widget.open()
    widget.ask("hello")
    widget.log.get_by_role("button", name="What is mesotherapy?").click()
    expect(widget.bot_messages).to_have_count(2)
    sender = fake_rasa.requests[0]["sender"]
    assert sender == fake_rasa.issued[0] and len(fake_rasa.issued) == 1
    assert widget.storage()["senderId"] == sender
    transcript = widget.log.inner_text()

    widget.page.reload()
    widget.open()
    assert widget.log.inner_text() == transcript
    for button in widget.log.locator(".mg-quick-reply").all():
        expect(button).to_be_disabled()

    widget.page.get_by_role("link", name="About us").click()
    expect(widget.page).to_have_url(re.compile(r"/about\.html$"))
    widget.open()
    assert widget.log.inner_text() == transcript
    widget.ask("thanks")
    assert {r["sender"] for r in fake_rasa.requests} == {sender}


def test_restart_starts_a_new_conversation(widget, fake_rasa):
    widget.goto()
    widget.open()
    widget.ask("first conversation")
    old_sender = fake_rasa.requests[-1]["sender"]
    widget.page.get_by_role("button", name="Restart conversation").click()
    widget.page.get_by_role("button", name="Erase and restart").click()
    expect(widget.bot_messages).to_have_count(0)
    expect(widget.user_messages).to_have_count(0)
    expect(widget.log).to_contain_text("New conversation started.")
    expect(widget.input).to_be_focused()
    assert widget.storage() is None
    widget.ask("second conversation")
    new_sender = widget.storage()["senderId"]
    assert new_sender == fake_rasa.issued[-1] and new_sender != old_sender
    assert fake_rasa.requests[-1]["sender"] == new_sender
    widget.page.reload()
    widget.open()
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text(["second conversation"])


def test_second_tab_follows_the_conversation(context, widget, fake_rasa, make_widget):
    widget.goto()
    other = make_widget(context.new_page(), widget.base_url)
    other.goto("/about.html")
    other.open()
    widget.open()
    widget.ask("asked in the first tab")
    expect(other.bot_messages.locator(".mg-bubble")).to_have_text(["You said: asked in the first tab"])
    other.ask("asked in the second tab")
    assert {r["sender"] for r in fake_rasa.requests} == {widget.storage()["senderId"]}
    expect(widget.user_messages).to_have_count(2)


def test_sender_ids_without_the_session_route_are_random_per_browser(browser, demo_site, make_fake_rasa):
    """Fallback while the server has no session route (404): a random UUID4 per browser."""
    ids = set()
    for _ in range(2):
        ctx = browser.new_context()
        fake = make_fake_rasa(ctx)
        fake.session_mode = "404"
        tab = ctx.new_page()
        tab.goto(demo_site.url)
        expect(tab.locator(".mg-launcher")).to_be_visible()
        assert tab.evaluate("localStorage.getItem('mesoguide.chat.v1')") is None
        tab.locator(".mg-launcher").click()
        tab.locator("#mg-input").fill("hello")
        tab.locator("#mg-input").press("Enter")
        expect(tab.locator(".mg-msg-bot")).to_have_count(1)
        ids.add(tab.evaluate("JSON.parse(localStorage.getItem('mesoguide.chat.v1')).senderId"))
        assert fake.requests[0]["sender"] in ids and len(fake.session_requests) == 1
        ctx.close()
    assert len(ids) == 2 and all(UUID4.match(i) for i in ids)


def test_keyboard_only_use(widget, fake_rasa):
    fake_rasa.answers["hello"] = GREETING
    page = widget.page
    widget.goto()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('mg-launcher')"):
            break
    expect(widget.launcher).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(widget.bot_messages).to_have_count(1)
    page.keyboard.press("Tab")
    expect(page.locator(".mg-send")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(widget.log.get_by_role("button", name="Book a consultation")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(widget.user_messages.last.locator(".mg-bubble")).to_have_text("Does it work?")
    expect(widget.bot_messages).to_have_count(2)
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(widget.log.get_by_role("button", name="Book a consultation")).to_be_disabled()
    backwards = [
        widget.log,
        page.locator("#mg-disclosure").get_by_role("link", name="Privacy notice"),
        page.locator("#mg-disclosure").get_by_role("link", name="999"),
        page.get_by_role("button", name="Close chat"),
        page.get_by_role("button", name="Restart conversation"),
    ]
    for expected in backwards:
        page.keyboard.press("Shift+Tab")
        expect(expected).to_be_focused()


def test_text_contrast_is_at_least_4_5_to_1(widget, fake_rasa):
    fake_rasa.answers["hello"] = GREETING
    fake_rasa.answers["link"] = [{"text": "See https://example.org/evidence"}]
    fake_rasa.failures.extend([None, None, "empty"])
    widget.goto()
    widget.open()
    widget.ask("hello")
    widget.ask("link")
    widget.send("fail")
    expect(widget.error).to_be_visible()
    selectors = [
        ".mg-launcher", ".mg-title", ".mg-subtitle", ".mg-restart", ".mg-close", "#mg-disclosure p",
        "#mg-disclosure a", ".mg-msg-bot .mg-bubble", ".mg-msg-bot .mg-link", ".mg-msg-user .mg-bubble",
        ".mg-quick-reply", ".mg-input", ".mg-send", ".mg-error p", ".mg-error a", ".mg-retry",
    ]
    for selector in selectors:
        element = widget.page.locator(selector).first
        expect(element).to_be_visible()
        colours = element.evaluate(COLOURS_JS)
        ratio = contrast(colours["fg"], colours["bg"])
        assert ratio >= 4.5, f"{selector}: {colours} has contrast {ratio:.2f}"


def test_phone_layout_fills_the_screen(browser, demo_site, make_widget, viewports):
    phone = viewports["phone"]
    ctx = browser.new_context(viewport=phone, is_mobile=True, has_touch=True)
    try:
        widget = make_widget(ctx.new_page(), demo_site.url)
        widget.goto()
        assert widget.page.evaluate("document.documentElement.scrollWidth") <= phone["width"]
        box = widget.launcher.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= phone["width"]
        widget.open()
        box = widget.panel.bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, phone["width"], phone["height"])
        for part in (widget.input, widget.page.locator(".mg-send"), widget.page.locator(".mg-close")):
            part_box = part.bounding_box()
            assert part_box["x"] >= 0 and part_box["x"] + part_box["width"] <= phone["width"]
            assert part_box["y"] >= 0 and part_box["y"] + part_box["height"] <= phone["height"]
        widget.page.locator(".mg-close").click()
        expect(widget.panel).to_be_hidden()
        expect(widget.launcher).to_be_visible()
    finally:
        ctx.close()


def test_desktop_layout_keeps_the_page_usable(widget, viewports):
    desktop = viewports["desktop"]
    widget.goto()
    widget.open()
    box = widget.panel.bounding_box()
    assert 320 <= box["width"] <= 420
    assert box["x"] + box["width"] <= desktop["width"] and box["y"] >= 0
    assert box["y"] + box["height"] <= desktop["height"]
    expect(widget.launcher).to_be_visible()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots(browser, demo_site, make_widget, make_fake_rasa, png_dimensions, viewports, size):
    viewport = viewports[size]
    ctx = browser.new_context(viewport=viewport, device_scale_factor=1)
    try:
        fake = make_fake_rasa(ctx)
        fake.answers["hello"] = GREETING
        fake.answers["/ask_what_is_mesotherapy"] = MESOTHERAPY
        widget = make_widget(ctx.new_page(), demo_site.url)
        widget.goto()
        widget.open()
        widget.ask("hello")
        widget.log.get_by_role("button", name="What is mesotherapy?").click()
        expect(widget.bot_messages).to_have_count(2)
        expect(widget.typing).to_be_hidden()
        path = widget.screenshot(f"widget-{size}.png")
        assert png_dimensions(path) == (viewport["width"], viewport["height"])
    finally:
        ctx.close()
